"""What the lists job reads in Dynamics, each read as few requests as the API allows.

- the GetResponse List records with their marketing list expanded (one request);
- a marketing list's members: a static list's through one FetchXML query joined on
  ``listmember`` (5,000 contacts a page, where ``listmember`` then ``contacts`` by id would
  cost a request per 100), a dynamic list's by evaluating its own query as the service user;
- what changed since the last run: ``listmember`` rows created and contacts modified since
  the stored server time (``createdon`` / ``modifiedon ge``: a closed start, so the boundary
  rows are read again and recognised by their row version), one request each when nothing
  changed;
- the GetResponse Contact records of a list (all, or those of some contacts); lookups by id
  go 100 ids a query and 100 queries a ``$batch`` request (``records.read_where_in``).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from reconcile.dataverse import fetchxml
from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.dataverse.paging import fetch_rows
from reconcile.jobs.sync.context import SyncContext
from reconcile.jobs.sync.lists_decide import Linked, Member
from reconcile.jobs.sync.records import read_where_in

LISTS = s.LISTS
CONTACTS = s.CONTACTS
MARKETING_NAV = "grc_MarketingListId"
LIST_COLUMNS = (
    LISTS.primary_id,
    "grc_name",
    "grc_getresponseid",
    "grc_iscreatedingetresponse",
    "grc_synchronizationstatus",
    "grc_synchronizationerror",
)
MARKETING_COLUMNS = ("listid", "listname", "type", "createdfromcode", "query", "statecode",
                     "membercount", "modifiedon")  # fmt: skip
MEMBER_COLUMNS = ("contactid", "fullname", "firstname", "lastname", "emailaddress1", "statecode",
                  "donotbulkemail", "donotemail", "modifiedon")  # fmt: skip
RECORD_COLUMNS = (CONTACTS.primary_id, "grc_getresponseid", "_grc_contactid_value", "grc_email",
                  "grc_synchronizationstatus", "grc_synchronizationerror")  # fmt: skip


def list_records(ctx: SyncContext, names: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Every GetResponse List record (or those named), its marketing list expanded."""
    wanted = [n for n in names if n]
    condition = q.in_("grc_name", wanted) if wanted else None
    expand = f"{MARKETING_NAV}($select={','.join(MARKETING_COLUMNS)})"
    query = q.Query(select=LIST_COLUMNS, filter=condition, expand=(expand,))
    return list(ctx.dv.query(LISTS.entity_set, query))


def static_member_fetch(list_id: str) -> str:
    root = ET.Element("fetch")
    entity = ET.SubElement(root, "entity", name="contact")
    for column in MEMBER_COLUMNS:
        ET.SubElement(entity, "attribute", name=column)
    ET.SubElement(entity, "order", attribute="contactid")
    link = ET.SubElement(
        entity,
        "link-entity",
        {"name": "listmember", "from": "entityid", "to": "contactid", "link-type": "inner"},
    )
    where = ET.SubElement(link, "filter", type="and")
    ET.SubElement(where, "condition", attribute="listid", operator="eq", value=list_id)
    return ET.tostring(root, encoding="unicode")


def members(ctx: SyncContext, marketing: dict[str, Any]) -> Iterator[Member]:
    """Every member of the marketing list, now: a static list's ``listmember`` contacts, a
    dynamic list's query evaluated by Dataverse as the identity the job runs as."""
    if marketing.get("type"):
        query = marketing.get("query")
        if not query:
            return
        document = fetchxml.with_attributes(
            query, list(MEMBER_COLUMNS), source=f"marketing list {marketing.get('listname')!r}"
        )
    else:
        document = static_member_fetch(str(marketing["listid"]))
    for row in fetch_rows(ctx.dv, "contacts", document):
        yield Member.from_row(row)


def contacts(ctx: SyncContext, ids: Iterable[str]) -> Iterator[Member]:
    """The contacts with these ids (a subset of a list's members): 10,000 a request."""
    wanted = [uuid.UUID(i) for i in sorted(set(ids))]
    for row in read_where_in(ctx, "contacts", MEMBER_COLUMNS, "contactid", wanted):
        yield Member.from_row(row)


def records(
    ctx: SyncContext, list_record_id: str, contact_ids: Iterable[str] | None = None
) -> list[Linked]:
    """The GetResponse Contact records of one list (all, or those of ``contact_ids``, 10,000
    contacts a request)."""
    on_list = q.eq("_grc_getresponselistid_value", uuid.UUID(list_record_id))
    if contact_ids is None:
        query = q.Query(select=RECORD_COLUMNS, filter=on_list)
        return [Linked.from_row(r) for r in ctx.dv.query(CONTACTS.entity_set, query)]
    wanted = [uuid.UUID(i) for i in sorted(set(contact_ids))]
    rows = read_where_in(ctx, CONTACTS.entity_set, RECORD_COLUMNS, "_grc_contactid_value",
                         wanted, condition=on_list)  # fmt: skip
    return [Linked.from_row(r) for r in rows]


def memberships(ctx: SyncContext, contact_ids: Iterable[str]) -> list[tuple[str, str]]:
    """(marketing list id, contact id) of every static membership of these contacts (10,000
    contacts a request)."""
    wanted = [uuid.UUID(i) for i in sorted(set(contact_ids))]
    rows = read_where_in(ctx, "listmembers", ("_listid_value", "_entityid_value"),
                         "_entityid_value", wanted)  # fmt: skip
    return [(str(r["_listid_value"]).lower(), str(r["_entityid_value"]).lower()) for r in rows]


# --- watermarks: the server's own time, plus the row version read at that time -----------
VERSION = "versionnumber"  # every table's row version: one counter per database, never reused


@dataclass(frozen=True)
class Since:
    """A closed-start window on a Dataverse time column. The rows at ``time`` (the boundary
    second, read again because the filter is ``ge``) were read last time up to row version
    ``version``: every write takes the database's next ``versionnumber`` (a SQL Server
    rowversion), so a boundary row at or below it is unchanged since it was read, and one
    written again in that same second is above it. ``version`` is None for a watermark kept
    before versions were (then every boundary row counts as changed, once)."""

    time: str
    version: int | None

    def text(self) -> str:
        return f"{self.time}|v{self.version}" if self.version is not None else f"{self.time}|*"

    @classmethod
    def parse(cls, text: str | None) -> Since | None:
        if not text:
            return None
        time, _, rest = text.partition("|")
        if rest.startswith("v") and rest[1:].isdigit():
            return cls(time, int(rest[1:]))
        return cls(time, None)  # "*" or the ids an older version kept

    def seen(self, row: dict[str, Any], column: str) -> bool:
        """Whether ``row`` was read by the run that stored this window, as it is now."""
        version = row.get(VERSION)
        return (
            self.version is not None
            and version is not None
            and str(row.get(column)) == self.time
            and int(version) <= self.version
        )


def changes_since(
    ctx: SyncContext,
    entity_set: str,
    column: str,
    id_column: str,
    select: tuple[str, ...],
    since: Since | None,
) -> tuple[list[dict[str, Any]], Since]:
    """Rows whose ``column`` is at or after ``since`` (minus the boundary rows already read
    unchanged), and the next window. Without ``since``, no rows: only the next window's start
    (the newest time in the table, one request), because a first run evaluates every list in
    full anyway. However many rows share the boundary second (an import, a bulk update), none
    of them counts as changed again: the cost of a quiet run is one page per 5,000 of them."""
    if since is None:
        newest = q.Query(select=(id_column, column), orderby=(f"{column} desc",), top=1)
        rows = list(itertools.islice(ctx.dv.query(entity_set, newest), 1))
        if not rows:
            return [], Since("1970-01-01T00:00:00Z", 0)
        # the rows of that same second, so that the next run knows them all as read
        latest = str(rows[0][column])
        at_latest = q.Query(select=(id_column, column, VERSION),
                            filter=q.ge(column, _moment(latest)))  # fmt: skip
        return [], _window(list(ctx.dv.query(entity_set, at_latest)), column, None)
    query = q.Query(select=tuple(dict.fromkeys((id_column, column, VERSION, *select))),
                    filter=q.ge(column, _moment(since.time)))  # fmt: skip
    rows = list(ctx.dv.query(entity_set, query))
    fresh = [r for r in rows if not since.seen(r, column)]
    return fresh, _window(rows, column, since)


def _moment(text: str) -> Any:
    from datetime import UTC, datetime

    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _window(rows: list[dict[str, Any]], column: str, since: Since | None) -> Since:
    times = [str(r[column]) for r in rows if r.get(column)]
    if not times:
        return since or Since("1970-01-01T00:00:00Z", 0)
    latest = max(times)
    if since is not None and latest < since.time:
        return since
    versions = [r.get(VERSION) for r in rows if str(r.get(column)) == latest]
    if None in versions:
        return Since(latest, None)
    version = max(int(str(v)) for v in versions)
    if since is not None and latest == since.time and since.version is not None:
        version = max(version, since.version)
    return Since(latest, version)
