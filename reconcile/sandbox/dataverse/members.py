"""Members of static marketing lists: the rules every way of adding one shares
(``AddMemberList``, ``AddListMembersList``, ``CopyDynamicListToStatic``, ``$ref`` on
``listcontact_association``, the seed data).

Only static lists take members; an inactive list is read-only; a member's table must match
the list's ``createdfromcode``; adding an existing member is a no-op.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.models import Entity, stable_guid

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.api import Principal
    from reconcile.sandbox.dataverse.service import Service

MEMBER_TYPES = {"account": 1, "contact": 2, "lead": 4}


def add_member(
    service: Service,
    user: Principal,
    list_id: str,
    member_id: str,
    member_entity: Entity | None = None,
) -> str:
    """Add a row to a static marketing list; the member's table must match ``createdfromcode``."""
    lists = service.store.catalog.entities["list"]
    row = service.store.get(lists, list_id)
    if row is None:
        raise DataverseError("ObjectDoesNotExist", entity="list", id=list_id)
    service.security.require(user, "Write", lists)
    if row.get("type"):
        raise DataverseError(
            "InvalidListOperation",
            message="Members cannot be added to a dynamic marketing list; its query selects them.",
        )
    if row.get("statecode") == 1:
        raise DataverseError(
            "InvalidListOperation", message="The marketing list is inactive and cannot be modified."
        )
    wanted = {v: k for k, v in MEMBER_TYPES.items()}.get(row.get("createdfromcode") or 0)
    candidates = [member_entity.logical_name] if member_entity else list(MEMBER_TYPES)
    found_in = None
    for name in candidates:
        if service.store.exists(service.store.catalog.entities[name], member_id):
            found_in = name
            break
    if found_in is None:
        raise DataverseError("ObjectDoesNotExist", entity=candidates[0], id=member_id)
    if found_in != wanted:
        raise DataverseError(
            "InvalidListOperation",
            message=f"The marketing list '{row.get('listname')}' has members of type {wanted}; "
            f"a {found_in} cannot be added to it.",
        )
    members = service.store.catalog.entities["listmember"]
    existing = service.store.id_by_key(members, {"listid": list_id, "entityid": member_id})
    if existing:
        return existing  # adding an existing member is a no-op, as on the service
    member_row_id = stable_guid("listmember", list_id, member_id)
    service.rows.create_values(
        user,
        members,
        {
            "listmemberid": member_row_id,
            "listid": list_id,
            "entityid": member_id,
            "entityid__target": found_in,
            "entitytype": found_in,
        },
    )
    service.rows.refresh_member_count(list_id)
    return member_row_id
