"""What the two dashboards show, asked of Dynamics through aggregates (SPEC 10).

Every number is a FetchXML ``count`` grouped in Dynamics (``dataverse/aggregates.py`` splits a
table too big for one aggregate); only small things are read as rows: the GetResponse lists
(their names), and the ten most engaged contacts. Snapshot figures (status, linked, list,
origin, score) describe the base as it is now; time series and activity figures cover
``since`` to ``until``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.dataverse.aggregates import Aggregate, Condition, Counts, Link, Partitioned
from reconcile.errors import InputError, Problem
from reconcile.jobs.report import model as m
from reconcile.model import SyncStatus

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient

P = s.PUBLISHER.prefix
STATUS = f"{P}_synchronizationstatus"
LIST = f"{P}_getresponselistid"
CONTACT = f"{P}_contactid"
GR_CONTACT = f"{P}_getresponsecontactid"
TYPE = f"{P}_activitytype"
DATE = f"{P}_activitydate"
TYPE_NAMES = {value: name.capitalize() for name, value in s.ACTIVITY_TYPES.items()}
SENT_STATUSES = (SyncStatus.SENT, SyncStatus.SYNCHRONIZED)
TOP = 10
DRAWN = 15  # bars a chart draws at most (its table has every row)


def _status_name(value: Any) -> str:
    status = s.SYNC_STATUS_BY_VALUE.get(int(value)) if value is not None else None
    return status.value if status else "(none)"


def _day(when: date) -> str:
    return datetime.combine(when, time(), tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_lists(client: DataverseClient) -> list[dict[str, Any]]:
    """Every GetResponse List: id, name, marketing list (a few hundred at most)."""
    table = s.LISTS
    return list(
        client.query(
            table.entity_set,
            q.Query(
                select=(
                    table.primary_id,
                    f"{P}_name",
                    s.MARKETING_LIST.value_property,
                )
            ),
        )
    )


def choose_lists(lists: list[dict[str, Any]], names: tuple[str, ...]) -> list[dict[str, Any]]:
    """The lists named by ``--list`` (case-insensitive, as Dataverse compares names)."""
    by_name = {str(r.get(f"{P}_name") or "").lower(): r for r in lists}
    missing = [n for n in names if n.lower() not in by_name]
    if missing:
        known = ", ".join(sorted(str(r.get(f"{P}_name")) for r in lists)[:20]) or "none"
        raise InputError(
            Problem(
                f"--list {', '.join(missing)}: no GetResponse List has that name in Dynamics "
                f"(lists: {known})"
            )
        )
    return [by_name[n.lower()] for n in names]


def gather(
    client: DataverseClient,
    *,
    environment: str,
    since: date | None = None,
    list_names: tuple[str, ...] = (),
    now: datetime | None = None,
) -> m.Report:
    now = now or datetime.now(UTC)
    until = now.date()
    lists = read_lists(client)
    chosen = choose_lists(lists, list_names) if list_names else []
    list_ids = tuple(str(r[s.LISTS.primary_id]) for r in chosen)
    names = {str(r[s.LISTS.primary_id]): str(r.get(f"{P}_name") or "") for r in lists}
    in_lists = (Condition(LIST, "in", list_ids),) if list_ids else ()
    contacts = Partitioned(client, s.CONTACTS.entity_set, s.CONTACTS.logical_name, in_lists)
    activity_links = (
        (Link(s.CONTACTS.logical_name, s.CONTACTS.primary_id, GR_CONTACT, in_lists),)
        if list_ids
        else ()
    )
    from_since = (Condition(DATE, "ge", (_day(since),)),) if since else ()
    activities = Partitioned(
        client, s.ACTIVITIES.entity_set, s.ACTIVITIES.logical_name, from_since, activity_links
    )
    contacts_board = _contacts(contacts, names, since, until)
    activity_board = _activity(client, contacts, activities, chosen, since, until)
    return m.Report(
        environment=environment,
        generated_at=now,
        since=since,
        until=until,
        lists=tuple(str(r.get(f"{P}_name")) for r in chosen),
        dashboards=[contacts_board, activity_board],
        queries=contacts.queries + activities.queries,
    )


# ------------------------------------------------------------------------------ contacts
def _contacts(
    contacts: Partitioned, names: dict[str, str], since: date | None, until: date
) -> m.Dashboard:
    origin = f"{P}_origin"
    base = contacts.run(Aggregate(contacts.entity, (STATUS, LIST, origin), (CONTACT,)))
    total, linked = base.total(), base.total(f"has_{CONTACT}")
    statuses = base.by(0)
    by_list = base.by(1)
    origins = base.by(2)
    scores = contacts.run(Aggregate(contacts.entity, (f"{P}_engagementscore",))).by(0)
    created_field = f"{P}_createdingetresponseon"
    from_since = (Condition(created_field, "ge", (_day(since),)),) if since else ()
    created = contacts.run(Aggregate(contacts.entity, (f"{created_field}:day",), (), from_since))
    deleted_status = str(s.SYNC_STATUS_VALUES[SyncStatus.DELETED_IN_GETRESPONSE])
    deleted_since = (Condition("modifiedon", "ge", (_day(since),)),) if since else ()
    deleted = contacts.run(
        Aggregate(
            contacts.entity,
            ("modifiedon:day",),
            (),
            (Condition(STATUS, "eq", (deleted_status,)), *deleted_since),
        )
    )
    start, end = m.span([*created.by(0), *deleted.by(0)], since, until)
    axis, monthly = m.time_axis(start, end)
    status_order = [st for st in SyncStatus if s.SYNC_STATUS_VALUES[st] in statuses]
    status_keys = [s.SYNC_STATUS_VALUES[st] for st in status_order]
    status_keys += [k for k in statuses if k not in status_keys]
    list_counts: dict[str, int] = {}
    for key, value in by_list.items():
        label = names.get(str(key), "(unknown list)") if key else "(no list)"
        list_counts[label] = list_counts.get(label, 0) + value
    list_rows = sorted(list_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    origin_rows = sorted(
        ((str(k) if k else "(not set)", v) for k, v in origins.items()), key=lambda kv: -kv[1]
    )
    score_labels, score_counts = m.score_buckets(scores)
    charts = [
        m.Chart(
            "contacts_by_status",
            "GetResponse contacts by synchronization status",
            "pie",
            "Status",
            [_status_name(k) for k in status_keys],
            {"Contacts": [statuses[k] for k in status_keys]},
            {"Contacts": m.COUNT},
        ),
        m.Chart(
            "contacts_linked",
            "Linked to a CRM contact",
            "pie",
            "Link",
            ["With CRM contact", "Without CRM contact"],
            {"Contacts": [linked, total - linked]},
            {"Contacts": m.COUNT},
        ),
        m.Chart(
            "contacts_by_list",
            "GetResponse contacts by list",
            "bar",
            "List",
            [k for k, _ in list_rows],
            {"Contacts": [v for _, v in list_rows]},
            {"Contacts": m.COUNT},
            note=f"The chart shows the {DRAWN} largest lists; the table has them all."
            if len(list_rows) > DRAWN
            else "",
            drawn=DRAWN,
        ),
        m.Chart(
            "contacts_by_origin",
            "GetResponse contacts by origin",
            "bar",
            "Origin",
            [k for k, _ in origin_rows],
            {"Contacts": [v for _, v in origin_rows]},
            {"Contacts": m.COUNT},
        ),
        m.Chart(
            "engagement_scores",
            "Engagement score distribution",
            "column",
            "Engagement score",
            score_labels,
            {"Contacts": score_counts},
            {"Contacts": m.COUNT},
        ),
        m.Chart(
            "new_contacts",
            "New contacts over time (created in GetResponse)",
            "line",
            "Month" if monthly else "Day",
            axis,
            {"New contacts": m.on_axis(created.by(0), axis, monthly)},
            {"New contacts": m.COUNT},
            by_month=monthly,
        ),
        m.Chart(
            "deleted_contacts",
            "Deleted in GetResponse over time",
            "line",
            "Month" if monthly else "Day",
            axis,
            {"Deleted": m.on_axis(deleted.by(0), axis, monthly)},
            {"Deleted": m.COUNT},
            note="Dated by the record's last change: a deleted contact is not synchronized again.",
            by_month=monthly,
        ),
    ]
    figures = [
        ("GetResponse contacts", total),
        ("With CRM contact", linked),
        ("Without CRM contact", total - linked),
        ("Deleted in GetResponse", statuses.get(int(deleted_status), 0)),
    ]
    return m.Dashboard("contacts", "GetResponse — Contacts", charts, figures)


# ------------------------------------------------------------------------------ activity
def _activity(
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
        slot = per_message.setdefault((str(mid or ""), str(name or "(no name)")), {})
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
        conditions.append(Condition(scheduled, "ge", (_day(since),)))
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
