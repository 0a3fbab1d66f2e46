"""What the two dashboards show, asked of Dynamics through aggregates (SPEC 10).

Every number is a FetchXML ``count`` grouped in Dynamics (``dataverse/aggregates.py`` splits a
table too big for one aggregate); only small things are read as rows: the GetResponse lists
(their names), and the ten most engaged contacts. Snapshot figures (status, linked, list,
origin, score) describe the base as it is now; time series and activity figures cover
``since`` to ``until``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.dataverse.aggregates import Condition, Link, Partitioned
from reconcile.errors import InputError, Problem
from reconcile.jobs.report import model as m
from reconcile.jobs.report.activity import activity_dashboard
from reconcile.jobs.report.contacts import contacts_dashboard
from reconcile.jobs.report.fields import DATE, GR_CONTACT, LIST, P, day_text

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient


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
    from_since = (Condition(DATE, "ge", (day_text(since),)),) if since else ()
    activities = Partitioned(
        client, s.ACTIVITIES.entity_set, s.ACTIVITIES.logical_name, from_since, activity_links
    )
    contacts_board = contacts_dashboard(contacts, names, since, until)
    activity_board = activity_dashboard(client, contacts, activities, chosen, since, until)
    return m.Report(
        environment=environment,
        generated_at=now,
        since=since,
        until=until,
        lists=tuple(str(r.get(f"{P}_name")) for r in chosen),
        dashboards=[contacts_board, activity_board],
        queries=contacts.queries + activities.queries,
    )
