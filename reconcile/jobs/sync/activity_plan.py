"""Deciding what a window of activities writes (pure: what was read in, decisions out).

One pass over the spooled activities, each looked at once (the same activity read twice is
counted once): an activity of a contact without a GetResponse Contact record is skipped
(not a synchronized contact); one whose record exists is left alone; one that a callback
brought earlier under a slightly different time is **adopted** — that record takes the
activity's id and time instead of a second record being made; the others are **new**. In
aggregated mode each contact × message × type is one record whose count grows by the
activities later than the last one it counted. Then the callback records the bulk path saw
again under another record are **duplicates** (a late callback), deleted, and records whose
links are out of date are **relinked**.

The decisions go to a spool file (a million of them stay on disk), with counts per message
and type for the plan, and the storage the new records will take.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from reconcile.jobs.sync.activity_links import Aggregate, ContactRecord, Existing
from reconcile.jobs.sync.activity_model import (
    Activity,
    Links,
    Spool,
    aggregate_id,
    body,
    digest,
    storage_bytes,
)
from reconcile.jobs.sync.activity_sources import Sourced

NEW, ADOPT, RELINK, DELETE, AGGREGATE = "new", "adopt", "relink", "delete", "aggregate"


@dataclass
class Decided:
    writes: Spool = field(default_factory=Spool)
    added: Counter[tuple[str, str]] = field(default_factory=Counter)  # (message, kind) → new
    actions: Counter[str] = field(default_factory=Counter)  # new, adopt, relink, delete …
    skipped: Counter[str] = field(default_factory=Counter)  # why → activities
    storage: int = 0  # bytes the new records take (estimated)
    already: int = 0  # activities whose record is there


@dataclass
class Inputs:
    sourced: Sourced
    contacts: dict[str, ContactRecord]
    by_email: dict[tuple[str, str], tuple[str, ContactRecord]]
    newsletters: dict[str, str]
    existing: Existing
    aggregates: dict[bytes, Aggregate] | None  # aggregated mode
    source: str  # report | messages | contacts | callback


def _links(inputs: Inputs, record: ContactRecord, message: str) -> Links:
    return Links(record.record, record.crm_contact, inputs.newsletters.get(message))


UNSYNCED = "not a synchronized contact (no GetResponse Contact record)"


def decide(inputs: Inputs) -> Decided:
    out = Decided()
    seen: set[bytes] = set()
    sums: dict[bytes, list] = {}  # aggregated mode: key → [activity, record, count, first, last]
    names = inputs.sourced.names
    for contact, email, message, kind, at_text, url in inputs.sourced.spool:
        assert message is not None
        assert kind is not None
        assert at_text is not None
        record = inputs.contacts.get(contact) if contact else None
        if record is None and contact is None and email:
            campaign = inputs.sourced.campaigns.get(message, "")
            match = inputs.by_email.get((campaign, email))
            if match is not None:
                contact, record = match
        if record is None or contact is None:
            out.skipped[UNSYNCED] += 1
            continue
        activity = Activity(contact, message, kind, int(at_text), url)
        key = activity.key
        d = digest(key)
        if d in seen:
            out.skipped["read twice in the window"] += 1
            continue
        seen.add(d)
        if inputs.aggregates is not None:
            _count(inputs, out, sums, activity, record)
            continue
        inputs.existing.observe(activity, d)
        if d in inputs.existing.keys:
            out.already += 1
            continue
        links = _links(inputs, record, message)
        adopted = inputs.existing.adopt(activity)
        fields = (contact, message, kind, activity.at, url, *_link_fields(links), inputs.source)
        if adopted is not None:
            out.writes.add(ADOPT, adopted.record, *fields)
            out.actions[ADOPT] += 1
            continue
        out.writes.add(NEW, "", *fields)
        out.actions[NEW] += 1
        out.added[(message, kind)] += 1
        out.storage += storage_bytes(body(activity, names.get(message), links, inputs.source))
    if inputs.aggregates is not None:
        _aggregate_writes(inputs, out, sums)
    for candidate in inputs.existing.duplicates():
        out.writes.add(DELETE, candidate.record)
        out.actions[DELETE] += 1
    for record_id, links in inputs.existing.relink:
        out.writes.add(RELINK, record_id, *_link_fields(links))
        out.actions[RELINK] += 1
    return out


def _link_fields(links: Links) -> tuple[str, str | None, str | None]:
    return links.contact_record, links.crm_contact, links.newsletter


def _count(
    inputs: Inputs, out: Decided, sums: dict[bytes, list], a: Activity, record: ContactRecord
) -> None:
    assert inputs.aggregates is not None
    d = digest(aggregate_id(a.contact_id, a.message_id, a.kind))
    earlier = inputs.aggregates.get(d)
    if earlier is not None and a.at <= earlier.last:
        out.already += 1  # counted by an earlier run
        return
    entry = sums.get(d)
    if entry is None:
        sums[d] = [a, record, 1, a.at, a.at]
        return
    entry[2] += 1
    entry[3], entry[4] = min(entry[3], a.at), max(entry[4], a.at)
    if a.at >= entry[4] and a.url:
        entry[0] = a  # the latest click's link


def _aggregate_writes(inputs: Inputs, out: Decided, sums: dict[bytes, list]) -> None:
    assert inputs.aggregates is not None
    for d, (a, record, count, first, last) in sums.items():
        earlier = inputs.aggregates.get(d)
        total = count + (earlier.count if earlier else 0)
        first = min(first, earlier.first) if earlier else first
        last = max(last, earlier.last) if earlier else last
        links = _links(inputs, record, a.message_id)
        out.writes.add(
            AGGREGATE, "", a.contact_id, a.message_id, a.kind, first, a.url,
            *_link_fields(links), inputs.source, total, last,
        )  # fmt: skip
        out.actions[AGGREGATE] += 1
        if earlier is None:
            out.added[(a.message_id, a.kind)] += 1
            key = aggregate_id(a.contact_id, a.message_id, a.kind)
            record_body = body(a, inputs.sourced.names.get(a.message_id), links, inputs.source,
                               key=key, count=total, first=first, last=last)  # fmt: skip
            out.storage += storage_bytes(record_body)
