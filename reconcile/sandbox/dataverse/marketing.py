"""Marketing lists, campaigns and merges: the Sales messages the sync relies on.

- ``AddMemberList`` (bound to a list, ``{"EntityId"}`` -> ``{"Id"}``), ``AddListMembersList``
  (unbound, ``{"List", "Members"}``), ``RemoveMemberList``, ``CopyDynamicListToStatic``;
- ``AddItemCampaign`` (``{"CampaignId", "EntityId", "EntityName"}`` -> ``{"CampaignItemId"}``);
- ``Merge`` (``{"Target", "Subordinate", "UpdateContent", "PerformParentingChecks"}``).

Rules follow the Sales documentation: only static lists take members, a member's table must
match the list's ``createdfromcode``, inactive lists are read-only; a merge moves the
subordinate's child rows to the target (relationships whose Merge cascade is Cascade), then
deactivates the subordinate with ``merged`` and ``masterid`` set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconcile.sandbox.dataverse.api import ApiRequest, ApiResponse, json_response, no_content
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.fetchxml import matching_ids
from reconcile.sandbox.dataverse.members import add_member, add_members
from reconcile.sandbox.dataverse.models import Entity, OneToMany, stable_guid
from reconcile.sandbox.dataverse.paths import GUID_RE, Segment
from reconcile.sandbox.dataverse.reads import representation

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.service import Service

MERGEABLE = ("account", "contact", "lead")


def _context(request: ApiRequest, name: str) -> str:
    return f"{request.api_root}/$metadata#Microsoft.Dynamics.CRM.{name}Response"


def _guid(value: Any, what: str) -> str:
    if not isinstance(value, str) or not GUID_RE.match(value.strip("{}")):
        raise DataverseError("InvalidArgument", message=f"{what} must be a GUID, not {value!r}.")
    return value.strip("{}").lower()


def _post_only(request: ApiRequest, name: str) -> None:
    if request.method != "POST":
        raise DataverseError("MethodNotAllowed", message=f"'{name}' is an action: use POST.")


def _entity_param(service: Service, value: Any, what: str) -> tuple[Entity, str]:
    """An entity-typed parameter: ``{"@odata.type": "Microsoft.Dynamics.CRM.x", "xid": ...}``."""
    if not isinstance(value, dict):
        raise DataverseError("InvalidArgument", message=f"{what} must be an object.")
    kind = value.get("@odata.type")
    if not isinstance(kind, str) or not kind.startswith(
        ("Microsoft.Dynamics.CRM.", "#Microsoft.Dynamics.CRM.")
    ):
        raise DataverseError(
            "InvalidArgument",
            message=(
                f'{what} needs "@odata.type": "Microsoft.Dynamics.CRM.<table>" so that the '
                "service knows its type."
            ),
        )
    entity = service.store.catalog.entity(kind.rsplit(".", 1)[-1])
    if entity is None:
        raise DataverseError("InvalidArgument", message=f"{what}: unknown type {kind}.")
    return entity, _guid(value.get(entity.primary_id), f"{what}.{entity.primary_id}")


# ------------------------------------------------------------------------- list actions
def add_member_list(
    service: Service, request: ApiRequest, entity: Entity, record_id: str, segment: Segment
) -> ApiResponse:
    _post_only(request, "AddMemberList")
    member_id = _guid(request.json().get("EntityId"), "EntityId")
    member_row = add_member(service, request.user, record_id, member_id)
    return json_response(
        200, {"@odata.context": _context(request, "AddMemberList"), "Id": member_row}
    )


def add_list_members_list(service: Service, request: ApiRequest, segment: Segment) -> ApiResponse:
    _post_only(request, "AddListMembersList")
    body = request.json()
    list_value = body.get("List")
    if isinstance(list_value, dict) and "@odata.type" not in list_value:
        list_value = {**list_value, "@odata.type": "Microsoft.Dynamics.CRM.list"}
    list_entity, list_id = _entity_param(service, list_value, "List")
    if list_entity.logical_name != "list":
        raise DataverseError(
            "InvalidArgument", message="List must be a Microsoft.Dynamics.CRM.list."
        )
    members = body.get("Members")
    if not isinstance(members, list) or not members:
        raise DataverseError("InvalidArgument", message="Members must be a non-empty list of rows.")
    parsed = [
        _entity_param(service, member, f"Members[{position}]")
        for position, member in enumerate(members)
    ]
    add_members(service, request.user, list_id, [(m, e) for e, m in parsed])
    return no_content()


def remove_member_list(
    service: Service, request: ApiRequest, entity: Entity, record_id: str, segment: Segment
) -> ApiResponse:
    _post_only(request, "RemoveMemberList")
    body = request.json()
    members = service.store.catalog.entities["listmember"]
    service.security.require(request.user, "Write", entity)
    if isinstance(body.get("ListMember"), dict):
        row_id = _guid(body["ListMember"].get("listmemberid"), "ListMember.listmemberid")
        found = service.store.get(members, row_id)
        found_id = row_id if found is not None and found.get("listid") == record_id else None
    else:
        member_id = _guid(body.get("EntityId"), "EntityId")
        found_id = service.store.id_by_key(members, {"listid": record_id, "entityid": member_id})
    if found_id is None:
        raise DataverseError("ObjectDoesNotExist", entity="listmember", id=body.get("EntityId"))
    service.store.delete(members, found_id)
    service.rows.refresh_member_count(record_id)
    return no_content()


def dynamic_members(service: Service, request: ApiRequest, list_row: dict[str, Any]) -> list[str]:
    query = list_row.get("query")
    if not query:
        return []
    _, ids = matching_ids(service.store, query, service.context(request))
    return ids


def copy_dynamic_list_to_static(
    service: Service, request: ApiRequest, entity: Entity, record_id: str, segment: Segment
) -> ApiResponse:
    _post_only(request, "CopyDynamicListToStatic")
    row = service.store.get(entity, record_id) or {}
    if not row.get("type"):
        raise DataverseError(
            "InvalidListOperation",
            message="Only a dynamic marketing list can be copied to a static one.",
        )
    service.security.require(request.user, "Create", entity)
    copy = {
        "listname": f"{row.get('listname')} (static copy)"[:128],
        "type": False,
        "createdfromcode": row.get("createdfromcode"),
        "purpose": row.get("purpose"),
        "source": row.get("source"),
    }
    created = service.rows.create(request.user, entity, copy, check=False)
    found = dynamic_members(service, request, row)
    add_members(service, request.user, created.record_id, [(m, None) for m in found])
    return json_response(200, representation(service, request, entity, created.record_id))


def add_item_campaign(service: Service, request: ApiRequest, segment: Segment) -> ApiResponse:
    _post_only(request, "AddItemCampaign")
    body = request.json()
    campaign_id = _guid(body.get("CampaignId"), "CampaignId")
    item_id = _guid(body.get("EntityId"), "EntityId")
    name = body.get("EntityName")
    catalog = service.store.catalog
    campaigns, items = catalog.entities["campaign"], catalog.entities["campaignitem"]
    target = catalog.entity(str(name)) if isinstance(name, str) else None
    if target is None or target.logical_name not in ("list", "product", "salesliterature"):
        raise DataverseError(
            "InvalidArgument", message=f"EntityName must be 'list' (got {name!r})."
        )
    if not service.store.exists(campaigns, campaign_id):
        raise DataverseError("ObjectDoesNotExist", entity="campaign", id=campaign_id)
    if not service.store.exists(target, item_id):
        raise DataverseError("ObjectDoesNotExist", entity=target.logical_name, id=item_id)
    service.security.require(request.user, "Write", campaigns)
    existing = service.store.id_by_key(items, {"campaignid": campaign_id, "entityid": item_id})
    if existing is None:
        existing = stable_guid("campaignitem", campaign_id, item_id)
        service.rows.create_values(
            request.user,
            items,
            {
                "campaignitemid": existing,
                "campaignid": campaign_id,
                "entityid": item_id,
                "entitytype": target.logical_name,
            },
        )
    return json_response(
        200, {"@odata.context": _context(request, "AddItemCampaign"), "CampaignItemId": existing}
    )


# -------------------------------------------------------------------------------- merge
def merge(service: Service, request: ApiRequest, segment: Segment) -> ApiResponse:
    _post_only(request, "Merge")
    body = request.json()
    target_entity, target_id = _entity_param(service, body.get("Target"), "Target")
    sub_entity, sub_id = _entity_param(service, body.get("Subordinate"), "Subordinate")
    if target_entity is not sub_entity:
        raise DataverseError(
            "InvalidArgument", message="Target and Subordinate must be rows of the same table."
        )
    entity = target_entity
    if entity.logical_name not in MERGEABLE:
        raise DataverseError(
            "InvalidArgument", message=f"Merge is not supported on '{entity.logical_name}'."
        )
    if target_id == sub_id:
        raise DataverseError("InvalidArgument", message="A row cannot be merged with itself.")
    store, security = service.store, service.security
    security.require(request.user, "Write", entity)
    target = store.get(entity, target_id)
    subordinate = store.get(entity, sub_id)
    if target is None:
        raise DataverseError("ObjectDoesNotExist", entity=entity.logical_name, id=target_id)
    if subordinate is None:
        raise DataverseError("ObjectDoesNotExist", entity=entity.logical_name, id=sub_id)
    if subordinate.get("merged"):
        raise DataverseError(
            "InvalidArgument", message="The subordinate record has already been merged."
        )
    update = body.get("UpdateContent")
    if isinstance(update, dict):
        content = {k: v for k, v in update.items() if k != "@odata.type" and k != entity.primary_id}
        service.rows.update(request.user, entity, target_id, content, check=False)
    _reparent(service, entity, sub_id, target_id)
    current = store.get(entity, sub_id) or {}
    service.rows.update_values(
        request.user,
        entity,
        current,
        {
            "statecode": 1,
            "statuscode": entity.default_status.get(1),
            "merged": 1,
            "masterid": target_id,
        },
    )
    return no_content()


def _reparent(service: Service, entity: Entity, old_id: str, new_id: str) -> None:
    """Point the subordinate's child rows at the target, for every 1:N relationship whose
    ``CascadeConfiguration.Merge`` is Cascade (NoCascade leaves them where they are)."""
    store = service.store
    for rel in store.catalog.one_to_many.values():
        if not isinstance(rel, OneToMany) or rel.referenced_entity != entity.logical_name:
            continue
        if rel.cascade_merge != "Cascade":
            continue
        if rel.referencing_attribute == "masterid" or rel.referencing_entity == "listmember":
            continue
        child, column, where, params = store.children_of(rel, entity, old_id)
        ids = store.child_ids(child, where, params)
        if not ids:
            continue
        first = store.next_version(len(ids))
        store.update_many(
            child,
            [column, "versionnumber", "modifiedon"],
            [(new_id, first + i, store.now(), rid) for i, rid in enumerate(ids)],
        )
