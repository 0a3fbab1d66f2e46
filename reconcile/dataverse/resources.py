"""What the sync jobs read and write in Dynamics, one function per need, plain records out.

Contacts (active, by id, by email, changed since a watermark), marketing lists and their
members, campaigns, merged contacts resolved to their master, and the running identity.
Everything goes through :class:`~reconcile.dataverse.client.DataverseClient`, so paging,
retries and error mapping are the client's business, not this module's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from reconcile.dataverse import fetchxml
from reconcile.dataverse import query as q
from reconcile.dataverse.errors import (
    EXPIRED_VERSION_STAMP,
    DataverseError,
    NotSupported,
    ValidationFailed,
)
from reconcile.dataverse.paging import fetch_rows, pages

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient

CONTACT_COLUMNS = (
    "contactid",
    "firstname",
    "lastname",
    "fullname",
    "emailaddress1",
    "statecode",
    "createdon",
    "modifiedon",
    "merged",
    "_masterid_value",
)
_IDS_PER_READ = 100  # GUIDs per "$filter=contactid eq … or …" read
MEMBER_TYPE_CONTACT = 2  # list.createdfromcode: 1 Account, 2 Contact, 4 Lead
MEMBER_TYPES = {1: "Accounts", 2: "Contacts", 4: "Leads"}


# --- identity -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    user_id: str
    business_unit_id: str
    organization_id: str


def who_am_i(client: DataverseClient) -> Identity:
    data = client.who_am_i()
    return Identity(
        str(data.get("UserId", "")).lower(),
        str(data.get("BusinessUnitId", "")).lower(),
        str(data.get("OrganizationId", "")).lower(),
    )


def server_version(client: DataverseClient) -> str:
    """The organization's version (``RetrieveVersion``), e.g. ``9.2.24101.199``."""
    return str(client.function("RetrieveVersion").get("Version", ""))


# --- contacts -----------------------------------------------------------------------------


def active_contacts(
    client: DataverseClient, *, select: Iterable[str] = CONTACT_COLUMNS, page_size: int = 5000
) -> Iterator[dict[str, Any]]:
    """Every active contact (``statecode eq 0``), in pages of ``page_size``."""
    query = q.Query(select=tuple(select), filter=q.eq("statecode", 0))
    return client.query("contacts", query, page_size=page_size)


def contact(
    client: DataverseClient, contact_id: str | uuid.UUID, *, select: Iterable[str] = CONTACT_COLUMNS
) -> dict[str, Any]:
    return client.retrieve("contacts", contact_id, select=tuple(select))


def contacts_by_email(
    client: DataverseClient,
    email: str,
    *,
    active_only: bool = True,
    select: Iterable[str] = CONTACT_COLUMNS,
) -> list[dict[str, Any]]:
    """Contacts whose primary email equals ``email`` (the service compares case-blind)."""
    condition = q.eq("emailaddress1", email.strip())
    if active_only:
        condition = condition & q.eq("statecode", 0)
    return list(client.query("contacts", q.Query(select=tuple(select), filter=condition)))


def contacts_by_ids(
    client: DataverseClient, ids: Iterable[str], *, select: Iterable[str] = CONTACT_COLUMNS
) -> Iterator[dict[str, Any]]:
    """The contacts with these ids (missing ones are simply absent), 100 ids per request."""
    wanted = [str(q.as_guid(i)) for i in ids]
    columns = tuple(dict.fromkeys(["contactid", *select]))
    for start in range(0, len(wanted), _IDS_PER_READ):
        part = [uuid.UUID(i) for i in wanted[start : start + _IDS_PER_READ]]
        yield from client.query(
            "contacts", q.Query(select=columns, filter=q.in_("contactid", part))
        )


def change_tracking_enabled(client: DataverseClient, logical_name: str = "contact") -> bool:
    data = client.get_json(
        f"EntityDefinitions(LogicalName={q.literal(logical_name)})",
        params={"$select": "LogicalName,ChangeTrackingEnabled"},
        record=f"table {logical_name}",
    )
    return bool(data.get("ChangeTrackingEnabled"))


@dataclass(frozen=True)
class Watermark:
    """Where the last read of changes stopped: a change-tracking ``deltaLink``, or the
    greatest ``modifiedon`` seen (ISO 8601, UTC) when change tracking is off."""

    kind: str  # "delta" | "modifiedon"
    value: str

    def to_text(self) -> str:
        return f"{self.kind}:{self.value}"

    @classmethod
    def from_text(cls, text: str) -> Watermark:
        kind, _, value = text.partition(":")
        if kind not in ("delta", "modifiedon") or not value:
            raise ValueError(f"not a contacts watermark: {text!r}")
        return cls(kind, value)


@dataclass
class ContactChanges:
    changed: list[dict[str, Any]]
    deleted: list[str]  # ids (change tracking only; modifiedon cannot see deletions)
    watermark: Watermark


def contacts_changed_since(
    client: DataverseClient,
    watermark: Watermark | None,
    *,
    select: Iterable[str] = CONTACT_COLUMNS,
    use_change_tracking: bool | None = None,
    page_size: int = 5000,
) -> ContactChanges:
    """Contacts created, changed (and, with change tracking, deleted) since ``watermark``.

    The first read (no watermark) asks for change tracking (``Prefer: odata.track-changes``):
    when the Contact table has it, the answer ends with a delta link and each later read
    returns only what changed, deletions included. When it does not, the same rows give a
    ``modifiedon`` watermark and later reads select ``modifiedon >= watermark`` (a closed
    start: the boundary is re-read, so the caller de-duplicates by id). No table metadata is
    read, so the service user needs no metadata privilege for this.
    """
    columns = tuple(dict.fromkeys(["contactid", "modifiedon", *select]))
    if watermark is not None and watermark.kind == "delta":
        try:
            changes = _delta(client, columns, start=watermark.value, page_size=page_size)
        except DataverseError as exc:
            if exc.code != EXPIRED_VERSION_STAMP:
                raise
            raise _delta_lost("The contacts change-tracking token has expired.") from exc
        if changes.watermark.kind != "delta":
            raise _delta_lost(
                "Dataverse no longer returns a change-tracking delta link for contacts."
            )
        return changes
    if watermark is None and use_change_tracking is not False:
        return _delta(client, columns, start=None, page_size=page_size)
    since = watermark.value if watermark is not None else None
    condition = q.ge("modifiedon", _parse_time(since)) if since else None
    query = q.Query(select=columns, filter=condition, orderby=("modifiedon asc", "contactid asc"))
    changed = list(client.query("contacts", query, page_size=page_size))
    return ContactChanges(changed, [], _modifiedon_watermark(changed, since))


def _delta_lost(message: str) -> NotSupported:
    return NotSupported(
        message,
        record="contacts",
        hint="Change tracking may have been turned off or the token expired (7 days "
        "by default): reset the contacts watermark to read everything once more.",
    )


def _modifiedon_watermark(rows: list[dict[str, Any]], since: str | None) -> Watermark:
    latest = max((str(r["modifiedon"]) for r in rows if r.get("modifiedon")), default=since)
    return Watermark("modifiedon", latest or _epoch())


def _delta(
    client: DataverseClient, columns: tuple[str, ...], *, start: str | None, page_size: int
) -> ContactChanges:
    changed: list[dict[str, Any]] = []
    deleted: list[str] = []
    delta_link: str | None = None
    for page in pages(
        client,
        "contacts",
        q.Query(select=columns),
        page_size=page_size,
        track_changes=True,
        start=start,
    ):
        for row in page.rows:
            if row.get("reason") == "deleted" or "$deletedEntity" in str(
                row.get("@odata.context", "")
            ):
                deleted.append(str(row.get("id", "")).lower())
            else:
                changed.append(row)
        delta_link = page.delta_link or delta_link
    if not delta_link:  # change tracking is off for contacts: fall back to modifiedon
        return ContactChanges(changed, deleted, _modifiedon_watermark(changed, None))
    return ContactChanges(changed, deleted, Watermark("delta", delta_link))


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _epoch() -> str:
    return "1970-01-01T00:00:00Z"


# --- merged contacts (SPEC 8.4) ------------------------------------------------------------


def resolve_masters(client: DataverseClient, contact_ids: Iterable[str]) -> dict[str, str]:
    """Map each id to the contact that finally survived its merges (itself if unmerged).

    A merged contact is deactivated with ``merged = true`` and ``masterid`` pointing at the
    contact it was merged into — which may itself be merged later, so chains are followed
    (a cycle, which Dynamics should never produce, stops at the first repeat).
    """
    ids = [str(q.as_guid(i)) for i in contact_ids]
    master: dict[str, str | None] = {}
    pending = set(ids)
    while pending:
        found = {
            str(row["contactid"]).lower(): row
            for row in contacts_by_ids(
                client, sorted(pending), select=("merged", "_masterid_value")
            )
        }
        pending = set()
        for cid, row in found.items():
            target = row.get("_masterid_value")
            master[cid] = str(target).lower() if row.get("merged") and target else None
            if master[cid] and master[cid] not in master:
                pending.add(master[cid])  # type: ignore[arg-type]
    result: dict[str, str] = {}
    for cid in ids:
        current, seen = cid, {cid}
        while master.get(current):
            nxt = master[current]
            assert nxt is not None
            if nxt in seen:
                break
            seen.add(nxt)
            current = nxt
        result[cid] = current
    return result


# --- marketing lists ----------------------------------------------------------------------

LIST_COLUMNS = (
    "listid",
    "listname",
    "type",
    "createdfromcode",
    "query",
    "statecode",
    "membercount",
    "purpose",
)


@dataclass(frozen=True)
class MarketingList:
    id: str
    name: str
    dynamic: bool
    member_type: int  # createdfromcode
    query: str | None
    active: bool

    @property
    def targets_contacts(self) -> bool:
        return self.member_type == MEMBER_TYPE_CONTACT

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> MarketingList:
        return cls(
            id=str(row["listid"]).lower(),
            name=str(row.get("listname") or ""),
            dynamic=bool(row.get("type")),
            member_type=int(row.get("createdfromcode") or 0),
            query=row.get("query"),
            active=row.get("statecode", 0) == 0,
        )


def marketing_lists(
    client: DataverseClient, *, contacts_only: bool = False, active_only: bool = True
) -> list[MarketingList]:
    conditions = []
    if active_only:
        conditions.append(q.eq("statecode", 0))
    if contacts_only:
        conditions.append(q.eq("createdfromcode", MEMBER_TYPE_CONTACT))
    query = q.Query(
        select=LIST_COLUMNS,
        filter=q.and_(*conditions) if conditions else None,
        orderby=("listname asc",),
    )
    return [MarketingList.from_row(r) for r in client.query("lists", query)]


def marketing_list(client: DataverseClient, list_id: str | uuid.UUID) -> MarketingList:
    return MarketingList.from_row(client.retrieve("lists", list_id, select=LIST_COLUMNS))


def require_contact_list(mlist: MarketingList) -> None:
    """SPEC 4.1: only marketing lists that target Contacts can be linked to GetResponse."""
    if not mlist.targets_contacts:
        target = MEMBER_TYPES.get(mlist.member_type, f"member type {mlist.member_type}")
        raise ValidationFailed(
            f"Marketing list {mlist.name!r} ({mlist.id}) targets {target}, not Contacts.",
            record=f"lists({mlist.id})",
            hint="Link the GetResponse list to a marketing list whose 'Targeted At' is Contact.",
        )


def dynamic_list_warnings(mlist: MarketingList) -> list[str]:
    """SPEC 4.6: conditions such as "Owner equals current user" select the *service user's*
    records when the connector evaluates the list; say which ones a list has."""
    if not mlist.dynamic or not mlist.query:
        return []
    return [
        f"Dynamic marketing list {mlist.name!r} filters on {c} (the current user): the "
        f"connector runs as its service user, so this condition selects the service user's "
        f"records. Use a named owner instead (Owner equals <person>)."
        for c in fetchxml.current_user_conditions(mlist.query, source=f"list {mlist.name!r}")
    ]


def list_members(
    client: DataverseClient,
    mlist: MarketingList,
    *,
    select: Iterable[str] = CONTACT_COLUMNS,
    page_size: int = 5000,
) -> Iterator[dict[str, Any]]:
    """The contacts on a marketing list: a static list's ``listmember`` rows, a dynamic
    list's FetchXML ``query`` evaluated now."""
    require_contact_list(mlist)
    columns = tuple(dict.fromkeys(["contactid", *select]))
    if mlist.dynamic:
        if not mlist.query:
            return
        document = fetchxml.with_attributes(
            mlist.query,
            [c for c in columns if not c.startswith("_")],
            source=f"list {mlist.name!r}",
        )
        yield from fetch_rows(client, "contacts", document, page_size=page_size)
        return
    member_query = q.Query(
        select=("_entityid_value",), filter=q.eq("_listid_value", q.as_guid(mlist.id))
    )
    ids: list[str] = []
    for row in client.query("listmembers", member_query, page_size=page_size):
        ids.append(str(row["_entityid_value"]))
        if len(ids) >= page_size:
            yield from contacts_by_ids(client, ids, select=columns)
            ids = []
    if ids:
        yield from contacts_by_ids(client, ids, select=columns)


def add_members(
    client: DataverseClient, mlist: MarketingList, contact_ids: Iterable[str], *, chunk: int = 1000
) -> int:
    """Add contacts to a static marketing list (``AddListMembersList``, 1000 per request);
    contacts already on the list are left as they are. Returns how many were sent."""
    require_contact_list(mlist)
    if mlist.dynamic:
        raise ValidationFailed(
            f"Marketing list {mlist.name!r} is dynamic: its members come from its query.",
            record=f"lists({mlist.id})",
            hint="Change the list's query in Dynamics, or use a static list.",
        )
    ids = [str(q.as_guid(i)) for i in contact_ids]
    for start in range(0, len(ids), chunk):
        members = [
            {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": i}
            for i in ids[start : start + chunk]
        ]
        client.action(
            "AddListMembersList",
            {
                "List": {"@odata.type": "Microsoft.Dynamics.CRM.list", "listid": mlist.id},
                "Members": members,
            },
            idempotent=True,
            record=f"{len(members)} members of marketing list {mlist.name!r}",
        )
    return len(ids)


# --- campaigns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    active: bool


def campaigns(client: DataverseClient, *, active_only: bool = True) -> list[Campaign]:
    query = q.Query(
        select=("campaignid", "name", "statecode"),
        filter=q.eq("statecode", 0) if active_only else None,
        orderby=("name asc",),
    )
    return [
        Campaign(str(r["campaignid"]).lower(), str(r.get("name") or ""), r.get("statecode") == 0)
        for r in client.query("campaigns", query)
    ]


def campaign(client: DataverseClient, campaign_id: str | uuid.UUID) -> Campaign:
    r = client.retrieve("campaigns", campaign_id, select=("campaignid", "name", "statecode"))
    return Campaign(str(r["campaignid"]).lower(), str(r.get("name") or ""), r.get("statecode") == 0)
