"""Reads ``apply`` makes before it writes: the privileges the plan needs, contacts merged or
deactivated since the plan, and CRM contacts that already hold a new contact's email.

Each is a read (safe to do in a dry run) that decides what the writes will be.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconcile.dataverse import query as q
from reconcile.dataverse import roles as r
from reconcile.errors import ServiceError
from reconcile.jobs.migrate.plan import Plan

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient

_URL_BUDGET = 24_000  # characters of $filter per email check (Dataverse GETs: 32,768 at most)
PAGE = 5000


class MissingPrivileges(ServiceError):
    """The identity ``apply`` runs as may not write what the plan needs."""


def needed_role(plan: Plan) -> r.Role:
    """What ``apply`` needs for this plan, at Organization level, as a role to compare with
    what the identity holds (SPEC 2: checked before anything is written)."""
    org = r.Depth.ORGANIZATION
    why = "reconcile migrate apply"
    grants = [
        r.g("contact", [r.Privilege.READ, r.Privilege.APPEND_TO], org, why),
        r.g(
            "contacts",
            [r.Privilege.CREATE, r.Privilege.READ, r.Privilege.WRITE, r.Privilege.APPEND],
            org,
            why,
        ),
        r.g("lists", [r.Privilege.READ, r.Privilege.APPEND_TO], org, why),
    ]
    if plan.contacts:
        grants.append(r.g("contact", [r.Privilege.CREATE], org, why))
    if any(not x.exists for x in plan.lists):
        grants.append(r.g("lists", [r.Privilege.CREATE], org, why))
    if plan.sync.get("send_custom_fields"):
        grants.append(
            r.g(
                "custom_fields",
                [r.Privilege.CREATE, r.Privilege.READ, r.Privilege.WRITE, r.Privilege.APPEND],
                org,
                why,
            )
        )
        grants.append(r.g("contacts", [r.Privilege.APPEND_TO], org, why))
    if any(x.marketing_list_id for x in plan.lists):
        grants.append(r.g("list", [r.Privilege.READ, r.Privilege.APPEND_TO], org, why))
    return r.Role(
        "migrate", "reconcile migrate apply", "What applying this plan writes.", tuple(grants)
    )


def require_privileges(client: DataverseClient, plan: Plan) -> str:
    """The identity's user id; :class:`MissingPrivileges` naming every privilege it lacks."""
    from reconcile.dataverse.security import check_identity

    report = check_identity(client, needed_role(plan))
    if report.ok:
        return str(report.user_id)
    lines = "\n".join(f"  - {s}" for s in report.missing)
    raise MissingPrivileges(
        f"The identity {report.user_id} may not apply this plan; it lacks "
        f"{len(report.missing)} privilege(s):\n{lines}",
        hint="Nothing was written. Give it the 'GetResponse Service User' role plus Create on "
        "Contact (e.g. 'GetResponse Connection User'), or run as a System Administrator; "
        "`reconcile doctor` lists the roles.",
    )


@dataclass(frozen=True)
class Target:
    """Where a link to a CRM contact really goes."""

    contact_id: str | None
    note: str | None = None  # merged: followed to the master; or why there is no link


def resolve_targets(client: DataverseClient, ids: Iterable[str]) -> dict[str, Target]:
    """Link targets that are no longer active: a merged contact's link follows its master
    (SPEC 8.4, chains followed); a deactivated one has none. Active ids are not in the map.
    One paged read of the inactive contacts, whatever the number of links."""
    wanted = {i.lower() for i in ids}
    if not wanted:
        return {}
    query = q.Query(select=("contactid", "merged", "_masterid_value"), filter=q.eq("statecode", 1))
    master: dict[str, str | None] = {}
    for row in client.query("contacts", query, page_size=PAGE):
        target = row.get("_masterid_value")
        merged = bool(row.get("merged")) and target
        master[str(row["contactid"]).lower()] = str(target).lower() if merged else None
    out: dict[str, Target] = {}
    for cid in sorted(wanted & set(master)):
        current, seen = cid, {cid}
        while current in master and master[current] and master[current] not in seen:
            current = master[current]  # type: ignore[assignment]
            seen.add(current)
        if current in master and master[current] is None and current != cid:
            out[cid] = Target(None, f"merged into {current}, which is inactive too")
        elif current in master and master[current] is None:
            out[cid] = Target(
                None,
                f"the CRM contact {cid} is inactive (deactivated since the plan): reactivate it "
                "or choose another contact, then apply again",
            )
        else:
            out[cid] = Target(current, f"merged into {current}: linked to the master contact")
    return out


def _email_chunks(emails: Sequence[str]) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    used = 0
    for email in emails:
        cost = len(email) * 3 + 40  # percent-encoding can triple a character
        if chunks[-1] and used + cost > _URL_BUDGET:
            chunks.append([])
            used = 0
        chunks[-1].append(email)
        used += cost
    return [c for c in chunks if c]


def contacts_with_emails(client: DataverseClient, emails: Sequence[str]) -> dict[str, list[str]]:
    """Lower-cased email → ids of the active CRM contacts whose primary email it is
    (the service compares without case); as few requests as the URL length allows."""
    wanted = sorted({e.strip().lower() for e in emails if e and e.strip()})
    found: dict[str, list[str]] = {}
    for part in _email_chunks(wanted):
        condition = q.and_(q.eq("statecode", 0), q.in_("emailaddress1", part))
        query = q.Query(select=("contactid", "emailaddress1"), filter=condition)
        for row in client.query("contacts", query, page_size=PAGE):
            email = str(row.get("emailaddress1") or "").strip().lower()
            found.setdefault(email, []).append(str(row["contactid"]).lower())
    return found
