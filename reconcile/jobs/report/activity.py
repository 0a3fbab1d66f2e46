"""The activity and sent emails dashboard (SPEC 10): newsletters sent, sends / opens / clicks
over time, open and click rates per newsletter, top clicked URLs, most engaged contacts —
counted by Dynamics' aggregates, one pass over the activities per range."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from typing import TYPE_CHECKING, Any

from reconcile.dataverse import schema as s
from reconcile.dataverse.aggregates import Aggregate, Condition, Counts, Partitioned
from reconcile.jobs.report import model as m
from reconcile.jobs.report.fields import (
    DATE,
    DRAWN,
    GR_CONTACT,
    SENT_STATUSES,
    STATUS,
    TOP,
    TYPE,
    TYPE_NAMES,
    P,
    day_text,
)  # fmt: skip
from reconcile.jobs.sync.newsletter_rules import shown_name
from reconcile.model import SyncStatus

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient


# ------------------------------------------------------------------------------ activity
def activity_dashboard(
    client: DataverseClient,
    contacts: Partitioned,
    activities: Partitioned,
    chosen: list[dict[str, Any]],
    since: date | None,
    until: date,
) -> m.Dashboard:
    message_id, message_name = f"{P}_messageid", f"{P}_name"
    # One pass over the activities: the URL is empty except on clicks, so grouping by it too
    # adds groups only where there are clicks.
    events = activities.run(
        Aggregate(activities.entity, (TYPE, message_id, message_name, f"{DATE}:day", f"{P}_url"))
    )
    click = s.ACTIVITY_TYPES["click"]
    urls: dict[str, int] = {}
    for key, values in events.rows.items():
        if key[0] == click and key[4]:
            urls[key[4]] = urls.get(key[4], 0) + values["n"]
    sent = _newsletters_sent(client, contacts, chosen, since)
    start, end = m.span([*(k[3] for k in events.rows), *sent.by(0)], since, until)
    axis, monthly = m.time_axis(start, end)
    by_type_day: dict[int, dict[date, int]] = {v: {} for v in TYPE_NAMES}
    per_message: dict[tuple[str, str], dict[int, int]] = {}
    for (kind, mid, name, day, _), values in events.rows.items():
        if kind in by_type_day and day is not None:
            by_type_day[kind][day] = by_type_day[kind].get(day, 0) + values["n"]
        slot = per_message.setdefault((str(mid or ""), shown_name(str(name or "(no name)"))), {})
        slot[kind] = slot.get(kind, 0) + values["n"]
    send, open_, click_v = (s.ACTIVITY_TYPES[k] for k in ("send", "open", "click"))
    messages = sorted(per_message.items(), key=lambda kv: (-kv[1].get(send, 0), kv[0][1]))
    url_rows = m.top({k: v for k, v in urls.items() if k}, TOP)
    engaged = _most_engaged(client, contacts, activities)
    label = "Month" if monthly else "Day"
    charts = [
        m.Chart(
            "newsletters_sent",
            "Newsletters sent over time",
            "column",
            label,
            axis,
            {"Newsletters": m.on_axis(sent.by(0), axis, monthly)},
            {"Newsletters": m.COUNT},
            note="Newsletters with status Sent or Synchronized, by scheduled send time.",
            by_month=monthly,
        ),
        m.Chart(
            "activity_over_time",
            "Sends, opens and clicks over time",
            "line",
            label,
            axis,
            {TYPE_NAMES[v] + "s": m.on_axis(by_type_day[v], axis, monthly) for v in TYPE_NAMES},
            {TYPE_NAMES[v] + "s": m.COUNT for v in TYPE_NAMES},
            by_month=monthly,
        ),
        m.Chart(
            "newsletter_rates",
            "Open and click rate per newsletter",
            "bar",
            "Newsletter",
            [name for (_, name), _ in messages],
            {
                "Open rate": [m.rate(c.get(open_, 0), c.get(send, 0)) for _, c in messages],
                "Click rate": [m.rate(c.get(click_v, 0), c.get(send, 0)) for _, c in messages],
            },
            {
                "Open rate": m.PERCENT,
                "Click rate": m.PERCENT,
                "Sends": m.COUNT,
                "Opens": m.COUNT,
                "Clicks": m.COUNT,
            },
            extra={
                "Sends": [c.get(send, 0) for _, c in messages],
                "Opens": [c.get(open_, 0) for _, c in messages],
                "Clicks": [c.get(click_v, 0) for _, c in messages],
                "GetResponse message ID": [mid for (mid, _), _ in messages],
            },
            note="Rates are opens (clicks) per email sent; GetResponse records every open. "
            f"The chart shows the {DRAWN} newsletters sent most; the table has them all.",
            drawn=DRAWN,
        ),
        m.Chart(
            "top_urls",
            "Top clicked URLs",
            "bar",
            "URL",
            [u for u, _ in url_rows],
            {"Clicks": [v for _, v in url_rows]},
            {"Clicks": m.COUNT},
        ),
        engaged,
    ]
    figures = [
        ("Newsletters sent", int(sum(charts[0].series["Newsletters"]))),
        *(
            (TYPE_NAMES[v] + "s", sum(by_type_day[v].values()) + _undated(events, v))
            for v in TYPE_NAMES
        ),
    ]
    return m.Dashboard("activity", "GetResponse — Activity and sent emails", charts, figures)


def _undated(events: Counts, kind: int) -> int:
    return sum(v["n"] for k, v in events.rows.items() if k[0] == kind and k[3] is None)


def _newsletters_sent(
    client: DataverseClient,
    contacts: Partitioned,
    chosen: list[dict[str, Any]],
    since: date | None,
) -> Counts:
    scheduled = f"{P}_scheduledon"
    statuses = tuple(str(s.SYNC_STATUS_VALUES[st]) for st in SENT_STATUSES)
    conditions = [Condition(STATUS, "in", statuses)]
    if since:
        conditions.append(Condition(scheduled, "ge", (day_text(since),)))
    if chosen:
        marketing = tuple(
            str(r[s.MARKETING_LIST.value_property])
            for r in chosen
            if r.get(s.MARKETING_LIST.value_property)
        ) or ("00000000-0000-0000-0000-000000000000",)
        conditions.append(Condition(s.MARKETING_LIST.logical_name, "in", marketing))
    newsletters = Partitioned(
        client, s.NEWSLETTERS.entity_set, s.NEWSLETTERS.logical_name, tuple(conditions)
    )
    counts = newsletters.run(Aggregate(newsletters.entity, (f"{scheduled}:day",)))
    contacts.queries += newsletters.queries
    return counts


def _most_engaged(
    client: DataverseClient, contacts: Partitioned, activities: Partitioned
) -> m.Chart:
    """The ten contacts with the highest GetResponse engagement score, with their opens and
    clicks in the period (one read of ten rows, one aggregate)."""
    table = s.CONTACTS
    score = f"{P}_engagementscore"
    deleted = s.SYNC_STATUS_VALUES[SyncStatus.DELETED_IN_GETRESPONSE]
    root = ET.Element("fetch", top=str(TOP))
    node = ET.SubElement(root, "entity", name=table.logical_name)
    for column in (table.primary_id, f"{P}_name", f"{P}_email", score):
        ET.SubElement(node, "attribute", name=column)
    ET.SubElement(node, "order", attribute=score, descending="true")
    ET.SubElement(node, "order", attribute=f"{P}_email")
    where = ET.SubElement(node, "filter", type="and")
    where.append(Condition(STATUS, "ne", (str(deleted),)).element())
    where.append(Condition(score, "not-null").element())
    for condition in contacts.conditions:  # the --list filter
        where.append(condition.element())
    rows = client.get_json(
        table.entity_set,
        params={"fetchXml": ET.tostring(root, encoding="unicode")},
        record="the most engaged GetResponse contacts",
    ).get("value", [])
    ids = tuple(str(r[table.primary_id]) for r in rows)
    counts: dict[tuple[str, int], int] = {}
    if ids:
        found = activities.run(
            Aggregate(
                activities.entity, (GR_CONTACT, TYPE), (), (Condition(GR_CONTACT, "in", ids),)
            )
        )
        counts = {(str(k[0]), int(k[1])): v["n"] for k, v in found.rows.items() if k[1] is not None}
    opens, clicks = s.ACTIVITY_TYPES["open"], s.ACTIVITY_TYPES["click"]
    return m.Chart(
        "most_engaged",
        "Most engaged contacts",
        "bar",
        "Contact",
        [str(r.get(f"{P}_name") or r.get(f"{P}_email") or "") for r in rows],
        {"Engagement score": [int(r.get(score) or 0) for r in rows]},
        {"Engagement score": "0", "Opens": m.COUNT, "Clicks": m.COUNT},
        extra={
            "Email": [str(r.get(f"{P}_email") or "") for r in rows],
            "Opens": [counts.get((i, opens), 0) for i in ids],
            "Clicks": [counts.get((i, clicks), 0) for i in ids],
        },
        note="The ten highest GetResponse engagement scores, with their opens and clicks "
        "in the period.",
    )
