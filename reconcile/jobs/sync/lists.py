"""``reconcile sync lists`` (SPEC 4, 8.1; hourly): CRM marketing lists → GetResponse.

For each GetResponse List record: a **New** one is checked (the connector's name rule, a
marketing list that targets contacts), then adopted when this GetResponse account has a
list of that name (SPEC 5.3) or created — a name taken by another account is an **Error**
with that reason; then its marketing list's members are pushed as GetResponse contacts and
each gets a GetResponse Contact record (linked to the CRM contact and the list,
**Synchronized**, upserted by GetResponse id). Later runs push added members, mark (or
remove) removed ones, unsubscribe members who stopped allowing bulk email, report CRM
email changes (never propagated, SPEC 8.1), and mark lists deleted in GetResponse.

A quiet run costs one GetResponse request (the account's lists) and three Dataverse
requests (the list records with their marketing lists, ``listmember`` rows created and
contacts modified since the last run), whatever the number of lists. See docs/sync.md.
"""

from __future__ import annotations

from typing import ClassVar

from reconcile.jobs.sync import lists_apply, lists_plan
from reconcile.jobs.sync.common import Journal, Param, Plan, Report
from reconcile.jobs.sync.context import SyncContext
from reconcile.jobs.sync.lists_work import ListsPlan


class ListsJob:
    name: ClassVar[str] = "lists"
    spec: ClassVar[str] = "SPEC 4.1-4.6, 5.3, 8.1"
    summary: ClassVar[str] = "CRM marketing lists → GetResponse lists and contacts"
    help: ClassVar[str] = (
        "Create (or adopt) in GetResponse every GetResponse List record set New, push its "
        "marketing list's members as GetResponse contacts and link each to a GetResponse "
        "Contact record; later runs push added members, handle removed ones "
        "(lists.removed_members), unsubscribe members who stopped allowing bulk email, and "
        "mark lists deleted in GetResponse.\n\n\b\nExample:\n  reconcile sync lists --dry-run"
        "\n  reconcile sync lists --list clients_fr --list prospects"
    )
    params: ClassVar[tuple[Param, ...]] = (
        Param("--list", "lists", "Only this GetResponse List (its name); repeatable.",
              multiple=True, metavar="NAME"),
    )  # fmt: skip

    def plan(self, ctx: SyncContext, journal: Journal) -> ListsPlan:
        return lists_plan.make(self, ctx, journal)

    def apply(self, plan: Plan, ctx: SyncContext, journal: Journal, report: Report) -> None:
        assert isinstance(plan, ListsPlan)
        lists_apply.run(plan, ctx, journal, report)


JOB = ListsJob()
