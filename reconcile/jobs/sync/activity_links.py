"""What the CRM already holds for a window of activities (Dataverse reads only).

- The **GetResponse Contact records** of the window's contacts (looked up by key, 10,000 to a
  request): an activity of a contact without one is not a synchronized contact's and is not
  kept; the record gives the CRM contact too (after a merge, the master: the contacts job
  re-points the records).
- The **GetResponse Newsletter records** of the window's messages (sent from the CRM, or from
  GetResponse and brought in by the newsletters job).
- The **Activity records already in the window** (closed start, open end, widened by the
  matching tolerance): their keys, so that nothing is written twice; the ones that came by a
  callback, so that the bulk path can adopt them (same activity, another time); and the ones
  whose links are out of date (a newsletter record that appeared later, a contact linked or
  merged since), so that they are corrected.
- In aggregated mode, the aggregate records of the window's messages and their counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.jobs.sync import records as r
from reconcile.jobs.sync.activity_model import (
    KIND_OF_VALUE,
    TABLE,
    TOLERANCE,
    Activity,
    Links,
    digest,
    epoch,
)
from reconcile.jobs.sync.context import SyncContext

CONTACT_LINK = "_grc_contactid_value"
RECORD_LINK = "_grc_getresponsecontactid_value"
NEWSLETTER_LINK = "_grc_newsletterid_value"
LIST_LINK = "_grc_getresponselistid_value"
EXISTING_COLUMNS = (
    TABLE.primary_id, "grc_getresponseid", "grc_source", "grc_contactgetresponseid",
    "grc_messageid", "grc_activitytype", "grc_url", "grc_activitydate", CONTACT_LINK,
    RECORD_LINK, NEWSLETTER_LINK,
)  # fmt: skip
AGGREGATE_COLUMNS = (
    TABLE.primary_id, "grc_getresponseid", "grc_count", "grc_activitydate",
    "grc_lastactivitydate",
)  # fmt: skip


def _id(value: Any) -> str | None:
    return str(value).lower() if value else None


@dataclass(frozen=True, slots=True)
class ContactRecord:
    record: str
    crm_contact: str | None


def contact_records(ctx: SyncContext, contact_ids: Iterable[str]) -> dict[str, ContactRecord]:
    """GetResponse contact id → its GetResponse Contact record (and CRM contact)."""
    keys = [s.getresponse_key(c) for c in dict.fromkeys(contact_ids)]
    select = (s.CONTACTS.primary_id, "grc_getresponseid", CONTACT_LINK)
    out: dict[str, ContactRecord] = {}
    for row in r.read_where_in(ctx, s.CONTACTS.entity_set, select, "grc_getresponseid", keys):
        key = row.get("grc_getresponseid")
        if key:
            out[s.getresponse_id(str(key))] = ContactRecord(
                str(row[s.CONTACTS.primary_id]).lower(), _id(row.get(CONTACT_LINK))
            )
    return out


def contacts_by_email(
    ctx: SyncContext, emails: Iterable[str]
) -> dict[tuple[str, str], tuple[str, ContactRecord]]:
    """(list id, email) → (GetResponse contact id, record): for report files that name a
    contact by its address only (a person is one GetResponse contact per list)."""
    wanted = sorted({e.lower() for e in emails if e})
    if not wanted:
        return {}
    lists = {
        str(row[s.LISTS.primary_id]).lower(): s.getresponse_id(str(row["grc_getresponseid"]))
        for row in r.read_all(ctx, s.LISTS, (s.LISTS.primary_id, "grc_getresponseid"))
        if row.get("grc_getresponseid")
    }
    select = (s.CONTACTS.primary_id, "grc_getresponseid", "grc_email", CONTACT_LINK, LIST_LINK)
    out: dict[tuple[str, str], tuple[str, ContactRecord]] = {}
    for row in r.read_where_in(ctx, s.CONTACTS.entity_set, select, "grc_email", wanted):
        campaign = lists.get(_id(row.get(LIST_LINK)) or "")
        if campaign and row.get("grc_getresponseid") and row.get("grc_email"):
            record = ContactRecord(
                str(row[s.CONTACTS.primary_id]).lower(), _id(row.get(CONTACT_LINK))
            )
            contact_id = s.getresponse_id(str(row["grc_getresponseid"]))
            out[(campaign, str(row["grc_email"]).lower())] = (contact_id, record)
    return out


def contacts_of_lists(ctx: SyncContext, campaign_ids: Iterable[str]) -> list[str]:
    """GetResponse contact ids of every GetResponse Contact record of these lists."""
    wanted = set(campaign_ids)
    lists = [
        row[s.LISTS.primary_id]
        for row in r.read_all(ctx, s.LISTS, (s.LISTS.primary_id, "grc_getresponseid"))
        if row.get("grc_getresponseid")
        and s.getresponse_id(str(row["grc_getresponseid"])) in wanted
    ]
    if not lists:
        return []
    rows = r.read_where_in(
        ctx, s.CONTACTS.entity_set, ("grc_getresponseid",), LIST_LINK, [q.as_guid(x) for x in lists]
    )
    return sorted(
        {s.getresponse_id(str(x["grc_getresponseid"])) for x in rows if x.get("grc_getresponseid")}
    )


def newsletter_records(ctx: SyncContext, message_ids: Iterable[str]) -> dict[str, str]:
    """GetResponse newsletter id → its GetResponse Newsletter record."""
    keys = [s.getresponse_key(m) for m in dict.fromkeys(message_ids)]
    select = (s.NEWSLETTERS.primary_id, "grc_getresponseid")
    return {
        s.getresponse_id(str(row["grc_getresponseid"])): str(row[s.NEWSLETTERS.primary_id]).lower()
        for row in r.read_where_in(ctx, s.NEWSLETTERS.entity_set, select, "grc_getresponseid", keys)
        if row.get("grc_getresponseid")
    }


@dataclass
class Candidate:
    """An activity record that came by a callback: the bulk path may adopt it."""

    record: str
    key: bytes
    at: int
    url: str | None
    matched: bool = False


@dataclass
class Existing:
    """The window's Activity records, compactly: a million keys take 16 bytes each."""

    keys: set[bytes] = field(default_factory=set)
    candidates: dict[tuple[str, str, str], list[Candidate]] = field(default_factory=dict)
    relink: list[tuple[str, Links]] = field(default_factory=list)  # (record, corrected links)
    rows: int = 0
    observed: dict[tuple[str, str, str], list[tuple[int, str | None]]] = field(default_factory=dict)

    def adopt(self, activity: Activity) -> Candidate | None:
        """The unmatched callback record nearest in time to ``activity`` (same contact,
        message and type, compatible URL, within TOLERANCE), now matched — or None."""
        group = (activity.contact_id, activity.message_id, activity.kind)
        best: Candidate | None = None
        for c in self.candidates.get(group, ()):
            if c.matched or abs(c.at - activity.at) > TOLERANCE:
                continue
            if c.url and activity.url and c.url != activity.url:
                continue
            if best is None or abs(c.at - activity.at) < abs(best.at - activity.at):
                best = c
        if best is not None:
            best.matched = True
        return best

    def observe(self, activity: Activity, key: bytes) -> None:
        """The bulk path saw ``activity``: its exact record is matched, and its time is kept
        for the duplicate check of the group's other callback records."""
        group = (activity.contact_id, activity.message_id, activity.kind)
        found = self.candidates.get(group)
        if found is None:
            return
        for c in found:
            if c.key == key:
                c.matched = True
        self.observed.setdefault(group, []).append((activity.at, activity.url))

    def duplicates(self) -> Iterator[Candidate]:
        """Callback records left unmatched although the bulk path saw the same activity (a
        callback delivered after the hourly run had written the report's record)."""
        for group, found in self.candidates.items():
            seen = self.observed.get(group, [])
            for c in found:
                if c.matched:
                    continue
                if any(
                    abs(at - c.at) <= TOLERANCE and not (c.url and url and c.url != url)
                    for at, url in seen
                ):
                    yield c


def _when(moment: int) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def existing(
    ctx: SyncContext,
    low: int,
    high: int,
    contacts: dict[str, ContactRecord],
    newsletters: dict[str, str],
) -> Existing:
    """The Activity records dated in [low − TOLERANCE, high + TOLERANCE) (5,000 a page)."""
    found = Existing()
    condition = q.ge("grc_activitydate", _when(low - TOLERANCE)) & q.lt(
        "grc_activitydate", _when(high + TOLERANCE)
    )
    query = q.Query(select=EXISTING_COLUMNS, filter=condition)
    for row in ctx.dv.query(TABLE.entity_set, query):
        key = str(row.get("grc_getresponseid") or "")
        if not key or key.startswith("ag"):
            continue
        found.rows += 1
        found.keys.add(digest(key))
        contact_id = row.get("grc_contactgetresponseid")
        message_id = row.get("grc_messageid")
        kind = KIND_OF_VALUE.get(int(row.get("grc_activitytype") or 0))
        if row.get("grc_source") == "callback" and contact_id and message_id and kind:
            candidate = Candidate(
                str(row[TABLE.primary_id]).lower(), digest(key),
                epoch(str(row["grc_activitydate"])), row.get("grc_url"),
            )  # fmt: skip
            found.candidates.setdefault((contact_id, message_id, kind), []).append(candidate)
        record = contacts.get(str(contact_id)) if contact_id else None
        wanted_newsletter = newsletters.get(str(message_id)) if message_id else None
        if record is None:
            continue
        current = (
            _id(row.get(RECORD_LINK)),
            _id(row.get(CONTACT_LINK)),
            _id(row.get(NEWSLETTER_LINK)),
        )
        # links are corrected, never emptied (a record whose link went is left as it is)
        wanted = (record.record, record.crm_contact or current[1], wanted_newsletter or current[2])
        if current != wanted:
            found.relink.append((str(row[TABLE.primary_id]).lower(), Links(*wanted)))
    return found


@dataclass(frozen=True, slots=True)
class Aggregate:
    record: str
    count: int
    first: int
    last: int


def aggregates(ctx: SyncContext, message_ids: Iterable[str]) -> dict[bytes, Aggregate]:
    """The aggregate records of these messages, by key digest."""
    out: dict[bytes, Aggregate] = {}
    condition = q.startswith("grc_getresponseid", "ag")
    rows = r.read_where_in(
        ctx, TABLE.entity_set, AGGREGATE_COLUMNS, "grc_messageid", list(message_ids),
        condition=condition,
    )  # fmt: skip
    for row in rows:
        first = row.get("grc_activitydate")
        last = row.get("grc_lastactivitydate") or first
        if not first:
            continue
        out[digest(str(row["grc_getresponseid"]))] = Aggregate(
            str(row[TABLE.primary_id]).lower(), int(row.get("grc_count") or 0),
            epoch(str(first)), epoch(str(last)),
        )  # fmt: skip
    return out
