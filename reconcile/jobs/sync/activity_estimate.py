"""What a window will add, estimated for ``--dry-run`` without asking GetResponse for a report
(which would be a write, and take minutes).

GetResponse's statistics of each message for the window (``GET
/newsletters/{id}/statistics?query[groupBy]=total&query[createdOn]…``: sent, opened,
clicked — or, aggregated, the unique openers and clickers) are scaled by the share of the
message's list that is synchronized (GetResponse Contact records over the list's size), less
the records already in the window. The test compares this with what the real run writes.
"""

from __future__ import annotations

from typing import Any

from reconcile.dataverse import query as q
from reconcile.jobs.sync import activity_links as links
from reconcile.jobs.sync import activity_sources as sources
from reconcile.jobs.sync.activity_model import (
    TABLE,
    TOLERANCE,
    Activity,
    Links,
    body,
    describe_bytes,
    storage_bytes,
)
from reconcile.jobs.sync.context import SyncContext

SAMPLE_URL = "https://www.example.com/a-typical-link?utm_source=getresponse"


def list_size(ctx: SyncContext, campaign_id: str) -> int:
    """How many contacts the GetResponse list has (one request: its ``TotalCount``)."""
    page = next(ctx.gr.pages(f"campaigns/{campaign_id}/contacts", {"fields": "contactId"},
                             per_page=1))  # fmt: skip
    return int(page.total_count if page.total_count is not None else len(page.items))


def existing_count(ctx: SyncContext, window: sources.Window, aggregate: bool) -> int:
    low, high = window.bounds
    condition = q.ge("grc_activitydate", links._when(low - TOLERANCE)) & q.lt(
        "grc_activitydate", links._when(high + TOLERANCE)
    )
    query = q.Query(select=("grc_getresponseid",), filter=condition)
    return sum(
        1
        for row in ctx.dv.query(TABLE.entity_set, query)
        if str(row.get("grc_getresponseid") or "").startswith("ag") == aggregate
    )


def plan_estimate(
    ctx: SyncContext,
    plan: Any,
    window: sources.Window,
    found: list[Any],
    kinds: list[str],
    aggregate: bool,
) -> None:
    """Add the estimated records (per message and type) and storage to ``plan``."""
    stats = sources.statistics(ctx, window, [m.newsletter_id for m in found])
    share: dict[str, float] = {}
    for campaign in {m.campaign_id for m in found if m.campaign_id}:
        size = list_size(ctx, campaign)
        synced = len(links.contacts_of_lists(ctx, [campaign]))
        share[campaign] = min(1.0, synced / size) if size else 0.0
    wanted: dict[tuple[str, str], float] = {}
    for message in found:
        counts = stats.get(message.newsletter_id, {})
        fraction = share.get(message.campaign_id or "", 0.0)
        for kind in kinds:
            n = float(counts.get(f"unique_{kind}" if aggregate and kind != "send" else kind, 0))
            if n:
                wanted[(message.newsletter_id, kind)] = n * fraction
    total = sum(wanted.values())
    already = existing_count(ctx, window, aggregate) if total else 0
    scale = max(0.0, total - already) / total if total else 0.0
    storage = 0.0
    names = {m.newsletter_id: m.name or m.subject or m.newsletter_id for m in found}
    for (message, kind), n in sorted(wanted.items()):
        records = round(n * scale)
        if not records:
            continue
        sample = Activity("a" * 8, message, kind, int(window.start.timestamp()),
                          SAMPLE_URL if kind == "click" else None)  # fmt: skip
        each = storage_bytes(
            body(sample, names[message], Links("0" * 36, "0" * 36, None), "report")
        )
        storage += records * each
        plan.add("add activities (estimate)", f"{names[message]} ({kind})",
                 "GetResponse statistics for the window × synchronized share", records)  # fmt: skip
    plan.notes.append(
        f"Estimated from GetResponse's statistics (no report is asked for in a dry run): about "
        f"{round(total * scale):,} new records, {describe_bytes(storage)} of Dataverse storage; "
        f"{already:,} records already in the window."
    )
