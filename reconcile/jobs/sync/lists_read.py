"""What the lists job reads in Dynamics, each read as few requests as the API allows.

- the GetResponse List records with their marketing list expanded (one request);
- a marketing list's members: a static list's through one FetchXML query joined on
  ``listmember`` (5,000 contacts a page, where ``listmember`` then ``contacts`` by id would
  cost a request per 100), a dynamic list's by evaluating its own query as the service user;
- what changed since the last run: ``listmember`` rows created and contacts modified since
  the stored server time (``createdon`` / ``modifiedon ge``: a closed start, so the boundary
  rows are read again and recognised by id), one request each when nothing changed;
- the GetResponse Contact records of a list (all, or those of some contacts).
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
IDS_PER_READ = 100  # GUIDs per "in (…)" condition: keeps the URL well under its limit
BOUNDARY_IDS = 200  # ids kept with a watermark to recognise the re-read boundary rows


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
    """The contacts with these ids (a subset of a list's members), 100 per request."""
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), IDS_PER_READ):
        part = [uuid.UUID(i) for i in wanted[start : start + IDS_PER_READ]]
        query = q.Query(select=MEMBER_COLUMNS, filter=q.in_("contactid", part))
        for row in ctx.dv.query("contacts", query):
            yield Member.from_row(row)


def records(
    ctx: SyncContext, list_record_id: str, contact_ids: Iterable[str] | None = None
) -> list[Linked]:
    """The GetResponse Contact records of one list (all, or those of ``contact_ids``)."""
    on_list = q.eq("_grc_getresponselistid_value", uuid.UUID(list_record_id))
    if contact_ids is None:
        query = q.Query(select=RECORD_COLUMNS, filter=on_list)
        return [Linked.from_row(r) for r in ctx.dv.query(CONTACTS.entity_set, query)]
    wanted, found = sorted(set(contact_ids)), []
    for start in range(0, len(wanted), IDS_PER_READ):
        part = [uuid.UUID(i) for i in wanted[start : start + IDS_PER_READ]]
        condition = on_list & q.in_("_grc_contactid_value", part)
        query = q.Query(select=RECORD_COLUMNS, filter=condition)
        found += [Linked.from_row(r) for r in ctx.dv.query(CONTACTS.entity_set, query)]
    return found


def memberships(ctx: SyncContext, contact_ids: Iterable[str]) -> list[tuple[str, str]]:
    """(marketing list id, contact id) of every static membership of these contacts."""
    wanted, found = sorted(set(contact_ids)), []
    for start in range(0, len(wanted), IDS_PER_READ):
        part = [uuid.UUID(i) for i in wanted[start : start + IDS_PER_READ]]
        query = q.Query(
            select=("_listid_value", "_entityid_value"), filter=q.in_("_entityid_value", part)
        )
        for row in ctx.dv.query("listmembers", query):
            found.append((str(row["_listid_value"]).lower(), str(row["_entityid_value"]).lower()))
    return found


# --- watermarks: the server's own time, plus the ids already seen at that time -------------
@dataclass(frozen=True)
class Since:
    """A closed-start window on a Dataverse time column: rows at ``time`` were read last
    time; those whose id is in ``seen`` are not new (``seen`` is None when there were too
    many to keep, then every boundary row counts as changed)."""

    time: str
    seen: frozenset[str] | None

    def text(self) -> str:
        ids = "*" if self.seen is None else ",".join(sorted(self.seen))
        return f"{self.time}|{ids}"

    @classmethod
    def parse(cls, text: str | None) -> Since | None:
        if not text:
            return None
        time, _, ids = text.partition("|")
        return cls(time, None if ids == "*" else frozenset(i for i in ids.split(",") if i))


def changes_since(
    ctx: SyncContext,
    entity_set: str,
    column: str,
    id_column: str,
    select: tuple[str, ...],
    since: Since | None,
) -> tuple[list[dict[str, Any]], Since]:
    """Rows whose ``column`` is at or after ``since`` (minus those already seen), and the
    next window. Without ``since``, no rows: only the next window's start (the newest time
    in the table, one request), because a first run evaluates every list in full anyway."""
    if since is None:
        newest = q.Query(select=(id_column, column), orderby=(f"{column} desc",), top=1)
        rows = list(itertools.islice(ctx.dv.query(entity_set, newest), 1))
        if not rows:
            return [], Since("1970-01-01T00:00:00Z", frozenset())
        # every row of that same second, so that the next run knows them all as seen
        latest = str(rows[0][column])
        at_latest = q.Query(select=(id_column, column), filter=q.ge(column, _moment(latest)))
        return [], _window(list(ctx.dv.query(entity_set, at_latest)), column, id_column, None)
    moment = _moment(since.time)
    query = q.Query(select=tuple(dict.fromkeys((id_column, column, *select))),
                    filter=q.ge(column, moment))  # fmt: skip
    rows = list(ctx.dv.query(entity_set, query))
    fresh = [
        r
        for r in rows
        if not (
            since.seen is not None
            and str(r.get(column)) == since.time
            and str(r[id_column]).lower() in since.seen
        )
    ]
    return fresh, _window(rows, column, id_column, since)


def _moment(text: str) -> Any:
    from datetime import UTC, datetime

    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _window(rows: list[dict[str, Any]], column: str, id_column: str, since: Since | None) -> Since:
    times = [str(r[column]) for r in rows if r.get(column)]
    if not times:
        return since or Since("1970-01-01T00:00:00Z", frozenset())
    latest = max(times)
    if since is not None and latest < since.time:
        return since
    ids = {str(r[id_column]).lower() for r in rows if str(r.get(column)) == latest}
    if since is not None and latest == since.time and since.seen is not None:
        ids |= since.seen
    return Since(latest, frozenset(ids) if len(ids) <= BOUNDARY_IDS else None)
