"""Members of static marketing lists: the rules every way of adding one shares
(``AddMemberList``, ``AddListMembersList``, ``CopyDynamicListToStatic``, ``$ref`` on
``listcontact_association``, the seed data).

Only static lists take members; an inactive list is read-only; a member's table must match
the list's ``createdfromcode``; adding an existing member is a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    return add_members(service, user, list_id, [(member_id, member_entity)])[0]


def add_members(
    service: Service,
    user: Principal,
    list_id: str,
    members: Sequence[tuple[str, Entity | None]],
) -> list[str]:
    """Add many rows to one static list (``AddListMembersList``); their member row ids.

    The list is checked once and its ``membercount`` recounted once, at the end: recounting
    after each member made adding n members cost n counts of a growing list, quadratic (45 %
    of ``migrate apply`` at 60,000 members, issue 14)."""
    store = service.store
    lists = store.catalog.entities["list"]
    row = store.get(lists, list_id)
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
    member_table = store.catalog.entities["listmember"]
    added: list[str] = []
    for member_id, member_entity in members:
        candidates = [member_entity.logical_name] if member_entity else list(MEMBER_TYPES)
        found_in = next(
            (n for n in candidates if store.exists(store.catalog.entities[n], member_id)), None
        )
        if found_in is None:
            raise DataverseError("ObjectDoesNotExist", entity=candidates[0], id=member_id)
        if found_in != wanted:
            raise DataverseError(
                "InvalidListOperation",
                message=f"The marketing list '{row.get('listname')}' has members of type "
                f"{wanted}; a {found_in} cannot be added to it.",
            )
        existing = store.id_by_key(member_table, {"listid": list_id, "entityid": member_id})
        if existing:
            added.append(existing)  # adding an existing member is a no-op, as on the service
            continue
        member_row_id = stable_guid("listmember", list_id, member_id)
        service.rows.create_values(
            user,
            member_table,
            {
                "listmemberid": member_row_id,
                "listid": list_id,
                "entityid": member_id,
                "entityid__target": found_in,
                "entitytype": found_in,
            },
        )
        added.append(member_row_id)
    service.rows.refresh_member_count(list_id)
    return added
