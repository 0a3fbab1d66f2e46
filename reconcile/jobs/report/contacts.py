"""The contacts dashboard (SPEC 10): GetResponse contacts by synchronization status, linked or
not to a CRM contact, by list, by origin, by engagement score, created and deleted over time —
every figure a FetchXML count grouped by Dynamics (``dataverse/aggregates.py``)."""

from __future__ import annotations

from datetime import date

from reconcile.dataverse import schema as s
from reconcile.dataverse.aggregates import Aggregate, Condition, Partitioned
from reconcile.jobs.report import model as m
from reconcile.jobs.report.fields import (
    CONTACT,
    DRAWN,
    LIST,
    STATUS,
    P,
    day_text,
    status_name,
)  # fmt: skip
from reconcile.model import SyncStatus


# ------------------------------------------------------------------------------ contacts
def contacts_dashboard(
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
    from_since = (Condition(created_field, "ge", (day_text(since),)),) if since else ()
    created = contacts.run(Aggregate(contacts.entity, (f"{created_field}:day",), (), from_since))
    deleted_status = str(s.SYNC_STATUS_VALUES[SyncStatus.DELETED_IN_GETRESPONSE])
    deleted_since = (Condition("modifiedon", "ge", (day_text(since),)),) if since else ()
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
            [status_name(k) for k in status_keys],
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
