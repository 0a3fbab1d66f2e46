"""SPEC 8.4: when CRM contacts are merged, their GetResponse Contact, Custom Field and
Activity records follow the master contact.

Dynamics moves a subordinate's child rows itself for the relationships whose
``CascadeConfiguration.Merge`` is Cascade — ``reconcile schema install`` creates the
connector's lookups to contact so. What it cannot move: records of a connector installed
without that cascade, and records written *after* the merge with the old contact (a review
made before it, a late job). This step finds those and re-points them.

A merge deactivates the subordinate and sets ``merged`` and ``masterid``, which changes its
``modifiedon``: one filtered read, ``merged eq true and modifiedon ge <watermark>`` (closed
start, with an overlap), finds the contacts merged since the last run — a quiet run costs one
request. Change tracking would see the merge too, but cannot be filtered (every changed
contact of the CRM would be read each hour) and its tokens expire after seven days; without a
watermark this read is simply every merged contact, which is cheap, so a lost watermark costs
nothing here. Chains (a master merged later into another) are followed to the survivor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.dataverse.resources import resolve_masters
from reconcile.jobs.sync import records as r
from reconcile.jobs.sync.context import SyncContext

TABLES = (s.CONTACTS, s.CUSTOM_FIELDS, s.ACTIVITIES)  # every connector table linked to contact
LINK = "_grc_contactid_value"
OVERLAP = dt.timedelta(minutes=10)


@dataclass
class Merges:
    masters: dict[str, str] = field(default_factory=dict)  # subordinate → surviving contact
    writes: dict[str, list[r.Write]] = field(default_factory=dict)  # table key → re-points

    @property
    def count(self) -> int:
        return sum(len(w) for w in self.writes.values())


def _time(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def plan_merges(ctx: SyncContext, since: str | None) -> Merges:
    """The contacts merged at or after ``since`` (every merged contact when None), and the
    connector records that still point at them."""
    condition = q.eq("merged", True)
    if since:
        condition = condition & q.ge("modifiedon", _time(since) - OVERLAP)
    rows = ctx.dv.query(
        "contacts", q.Query(select=("contactid", "_masterid_value"), filter=condition)
    )
    direct = {
        str(row["contactid"]).lower(): str(row["_masterid_value"]).lower()
        for row in rows
        if row.get("_masterid_value")
    }
    if not direct:
        return Merges()
    outside = sorted({m for m in direct.values() if m not in direct})
    final = resolve_masters(ctx.dv, outside) if outside else {}
    merges = Merges()
    for subordinate in direct:
        current, seen = subordinate, {subordinate}
        while current in direct and direct[current] not in seen:
            current = direct[current]
            seen.add(current)
        merges.masters[subordinate] = final.get(current, current)
    subordinates = [q.as_guid(i) for i in sorted(merges.masters)]
    for table in TABLES:
        writes = []
        select = (table.primary_id, LINK, "grc_name")
        for row in r.read_where_in(ctx, table.entity_set, select, LINK, subordinates):
            old = str(row[LINK]).lower()
            master = merges.masters[old]
            writes.append(
                r.Write(
                    f"merge:{table.key}:{row[table.primary_id]}",
                    {
                        table.primary_id: row[table.primary_id],
                        "grc_ContactId@odata.bind": f"/{q.record_path('contacts', master)}",
                    },
                    f"{table.display} {row.get('grc_name') or row[table.primary_id]}"
                    f" (CRM contact {old} merged into {master})",
                )
            )
        if writes:
            merges.writes[table.key] = writes
    return merges
