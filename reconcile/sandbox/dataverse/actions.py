"""Functions and actions: unbound (``WhoAmI``, ``Merge``, ``AddListMembersList`` …), bound to a
row (``lists(<id>)/Microsoft.Dynamics.CRM.AddMemberList``) or to a collection
(``contacts/Microsoft.Dynamics.CRM.CreateMultiple``, v9.2 only).

Functions answer GET and actions POST, as on the service; an unknown name, or a bulk message
on an API version that lacks it, is a 404 "Resource not found for the segment".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reconcile.sandbox.dataverse import bulk, marketing
from reconcile.sandbox.dataverse.api import ApiRequest, ApiResponse, json_response, no_content
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.models import Entity
from reconcile.sandbox.dataverse.paths import GUID_RE, Alias, Segment, parse_literal
from reconcile.sandbox.dataverse.security import DEPTHS
from reconcile.sandbox.dataverse.service import BULK_VERSIONS, PRODUCT_VERSIONS

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.service import Service

PREFIX = "Microsoft.Dynamics.CRM."
DEPTH_NAMES = {"Basic": 1, "Local": 2, "Deep": 4, "Global": 8, "0": 1, "1": 2, "2": 4, "3": 8}

Handler = Callable[..., ApiResponse]


def response_context(request: ApiRequest, name: str) -> str:
    return f"{request.api_root}/$metadata#Microsoft.Dynamics.CRM.{name}Response"


def _require_method(request: ApiRequest, name: str, function: bool) -> None:
    wanted = "GET" if function else "POST"
    if request.method != wanted:
        raise DataverseError(
            "MethodNotAllowed",
            message=f"The requested resource does not support http method '{request.method}'. "
            f"'{name}' is {'a function: use GET' if function else 'an action: use POST'}.",
        )


def function_args(request: ApiRequest, segment: Segment) -> dict[str, Any]:
    """Arguments of a function call, with ``@alias`` values looked up in the query string."""
    args = dict(segment.args or {})
    for name, value in list(args.items()):
        if isinstance(value, Alias):
            raw = request.param(value)
            if raw is None:
                raise DataverseError(
                    "ODataSyntax", message=f"The parameter alias '{value}' is missing."
                )
            args[name] = _alias_value(raw)
    return args


def _alias_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        pass
    try:
        return parse_literal(raw.strip())  # a GUID, 'text', a number
    except DataverseError:
        pass
    try:
        return json.loads(
            re.sub(r"'((?:[^']|'')*)'", lambda m: json.dumps(m.group(1).replace("''", "'")), raw)
        )
    except ValueError:
        raise DataverseError("ODataSyntax", message=f"Bad parameter value {raw!r}.") from None


# --------------------------------------------------------------------------- unbound
def who_am_i(service: Service, request: ApiRequest, segment: Segment) -> ApiResponse:
    _require_method(request, "WhoAmI", function=True)
    user = request.user
    return json_response(
        200,
        {
            "@odata.context": response_context(request, "WhoAmI"),
            "BusinessUnitId": user.business_unit_id,
            "UserId": user.user_id,
            "OrganizationId": user.organization_id,
        },
    )


def retrieve_version(service: Service, request: ApiRequest, segment: Segment) -> ApiResponse:
    _require_method(request, "RetrieveVersion", function=True)
    return json_response(
        200,
        {
            "@odata.context": response_context(request, "RetrieveVersion"),
            "Version": PRODUCT_VERSIONS[request.version],
        },
    )


def publish(service: Service, request: ApiRequest, segment: Segment) -> ApiResponse:
    _require_method(request, segment.name, function=False)
    service.security.require_named(request.user, "prvPublishCustomizations")
    body = request.json() if segment.name == "PublishXml" else {}
    if segment.name == "PublishXml" and not isinstance(body.get("ParameterXml"), str):
        raise DataverseError("InvalidArgument", message="PublishXml needs a ParameterXml string.")
    service.published.append(body.get("ParameterXml", "<all />"))
    return no_content()


def handle_unbound(service: Service, request: ApiRequest) -> ApiResponse:
    segments = request.path.segments
    segment = segments[0]
    name = segment.name[len(PREFIX) :] if segment.name.startswith(PREFIX) else segment.name
    entry = UNBOUND.get(name)
    if entry is None or len(segments) > 1:
        raise DataverseError("ResourceNotFound", segment=segment.text)
    handler, _ = entry
    return handler(service, request, segment)


# --------------------------------------------------------------------- bound to a row
def retrieve_user_privileges(
    service: Service, request: ApiRequest, entity: Entity, record_id: str, segment: Segment
) -> ApiResponse:
    _require_method(request, "RetrieveUserPrivileges", function=True)
    if record_id != request.user.user_id:
        service.security.require(request.user, "Read", entity)
    held = service.security.privileges_of(record_id)
    privileges = [
        {
            "BusinessUnitId": request.user.business_unit_id,
            "Depth": DEPTHS.get(depth, "Global"),
            "PrivilegeId": pid,
            "PrivilegeName": name,
        }
        for name, (pid, depth) in sorted(held.items())
    ]
    return json_response(
        200,
        {
            "@odata.context": response_context(request, "RetrieveUserPrivileges"),
            "RolePrivileges": privileges,
        },
    )


def retrieve_principal_access(
    service: Service, request: ApiRequest, entity: Entity, record_id: str, segment: Segment
) -> ApiResponse:
    from reconcile.sandbox.dataverse.api import Principal

    _require_method(request, "RetrievePrincipalAccess", function=True)
    target = function_args(request, segment).get("Target")
    reference = target.get("@odata.id") if isinstance(target, dict) else None
    if reference is None:
        raise DataverseError(
            "InvalidArgument",
            message="RetrievePrincipalAccess needs Target={'@odata.id':'<set>(<id>)'}.",
        )
    target_entity, _ = service.rows.parser.resolve_reference(reference)
    principal = Principal(record_id, request.user.business_unit_id, request.user.organization_id)
    rights = service.security.access_rights(principal, target_entity)
    return json_response(
        200,
        {
            "@odata.context": response_context(request, "RetrievePrincipalAccess"),
            "AccessRights": rights,
        },
    )


def _privilege_items(body: Any, key: str) -> list[tuple[str, int]]:
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise DataverseError(
            "InvalidArgument", message=f"The action needs a non-empty '{key}' list."
        )
    result = []
    for item in items:
        pid = str(item.get("PrivilegeId", "")).lower()
        depth = DEPTH_NAMES.get(str(item.get("Depth", "Global")))
        if not GUID_RE.match(pid) or depth is None:
            raise DataverseError(
                "InvalidArgument",
                message=f"Bad RolePrivilege {item!r}: PrivilegeId "
                "must be a GUID and Depth one of Basic, Local, Deep, Global.",
            )
        result.append((pid, depth))
    return result


def change_role_privileges(
    service: Service, request: ApiRequest, entity: Entity, record_id: str, segment: Segment
) -> ApiResponse:
    name = segment.name[len(PREFIX) :]
    _require_method(request, name, function=False)
    service.security.require(request.user, "Write", entity)
    body = request.json()
    privileges = service.store.catalog.entities["privilege"]
    if name == "RemovePrivilegeRole":
        pid = str(body.get("PrivilegeId", "")).lower()
        service.store.conn.execute(
            "DELETE FROM t_roleprivileges WHERE roleid = ? AND privilegeid = ?", (record_id, pid)
        )
        return no_content()
    items = _privilege_items(body, "Privileges")
    if name == "ReplacePrivilegesRole":
        service.store.conn.execute("DELETE FROM t_roleprivileges WHERE roleid = ?", (record_id,))
    for pid, depth in items:
        row = service.store.get(privileges, pid)
        if row is None:
            raise DataverseError("ObjectDoesNotExist", entity="privilege", id=pid)
        service.security.grant(record_id, row["name"], depth)
    return no_content()


def retrieve_role_privileges(
    service: Service, request: ApiRequest, segment: Segment
) -> ApiResponse:
    """Unbound, as on the service: ``RetrieveRolePrivilegesRole(RoleId=@p1)?@p1=<guid>``."""
    _require_method(request, "RetrieveRolePrivilegesRole", function=True)
    role_id = function_args(request, segment).get("RoleId")
    if not isinstance(role_id, str) or not GUID_RE.match(role_id):
        raise DataverseError(
            "InvalidArgument", message="RetrieveRolePrivilegesRole needs RoleId=<role id> (a GUID)."
        )
    entity = service.store.catalog.entities["role"]
    record_id = role_id.lower()
    service.security.require(request.user, "Read", entity)
    if not service.store.exists(entity, record_id):
        raise DataverseError("ObjectDoesNotExist", entity="role", id=record_id)
    rows = service.store.rows(
        "SELECT rp.privilegeid, p.name, rp.privilegedepthmask FROM t_roleprivileges rp "
        "JOIN t_privilege p ON p.privilegeid = rp.privilegeid WHERE rp.roleid = ? ORDER BY p.name",
        (record_id,),
    )
    items = [
        {
            "BusinessUnitId": request.user.business_unit_id,
            "Depth": DEPTHS.get(d or 8, "Global"),
            "PrivilegeId": pid,
            "PrivilegeName": name,
        }
        for pid, name, d in rows
    ]
    return json_response(
        200,
        {
            "@odata.context": response_context(request, "RetrieveRolePrivilegesRole"),
            "RolePrivileges": items,
        },
    )


UNBOUND: dict[str, tuple[Handler, bool]] = {
    "WhoAmI": (who_am_i, True),
    "RetrieveVersion": (retrieve_version, True),
    "PublishXml": (publish, False),
    "PublishAllXml": (publish, False),
    "RetrieveRolePrivilegesRole": (retrieve_role_privileges, True),
    "Merge": (marketing.merge, False),
    "AddListMembersList": (marketing.add_list_members_list, False),
    "AddItemCampaign": (marketing.add_item_campaign, False),
}


ENTITY_BOUND: dict[tuple[str, str], Handler] = {
    ("systemuser", "RetrieveUserPrivileges"): retrieve_user_privileges,
    ("systemuser", "RetrievePrincipalAccess"): retrieve_principal_access,
    ("team", "RetrievePrincipalAccess"): retrieve_principal_access,
    ("role", "AddPrivilegesRole"): change_role_privileges,
    ("role", "ReplacePrivilegesRole"): change_role_privileges,
    ("role", "RemovePrivilegeRole"): change_role_privileges,
    ("list", "AddMemberList"): marketing.add_member_list,
    ("list", "RemoveMemberList"): marketing.remove_member_list,
    ("list", "CopyDynamicListToStatic"): marketing.copy_dynamic_list_to_static,
}


def handle_entity_bound(
    service: Service, request: ApiRequest, entity: Entity, record_id: str, segment: Segment
) -> ApiResponse:
    name = segment.name[len(PREFIX) :]
    handler = ENTITY_BOUND.get((entity.logical_name, name))
    if handler is None or len(request.path.segments) > 2:
        raise DataverseError("ResourceNotFound", segment=segment.text)
    return handler(service, request, entity, record_id, segment)


def handle_collection_bound(
    service: Service, request: ApiRequest, entity: Entity, segment: Segment
) -> ApiResponse:
    name = segment.name[len(PREFIX) :]
    if name not in bulk.MESSAGES or request.version not in BULK_VERSIONS:
        raise DataverseError("ResourceNotFound", segment=segment.text)
    _require_method(request, name, function=False)
    return bulk.handle(service, request, entity, name)
