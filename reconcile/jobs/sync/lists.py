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

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from reconcile.getresponse import iter_campaigns
from reconcile.jobs.sync.common import Journal, Param, Plan, Report
from reconcile.jobs.sync.context import SyncContext
from reconcile.jobs.sync.lists_decide import (
    CREATED,
    DELETED,
    NEW,
    Member,
    MemberDecision,
    decide_members,
)
from reconcile.jobs.sync.lists_push import SERVICE, Sent, on_list

# A dynamic list whose query depends on time or on other tables can change without any
# contact changing: it is evaluated in full every run.
_VOLATILE = re.compile(r"<link-entity|operator=[\"'][^\"']*(last|next|this|older|today|yester"
                       r"|tomorrow|fiscal|-x-)", re.IGNORECASE)  # fmt: skip


@dataclass
class ListWork:
    """One GetResponse List record, and what this run does with it."""

    record_id: str
    name: str
    action: str  # create | adopt | sync | error | deleted | quiet
    marketing: dict[str, Any] | None = None
    campaign_id: str | None = None
    problem: str | None = None
    complete: bool = False  # members were evaluated in full
    decision: MemberDecision = field(default_factory=MemberDecision)
    already: dict[str, Any] = field(default_factory=dict)  # contact id → GetResponse contact
    waiting: list[Sent] = field(default_factory=list)  # queued by an earlier run
    records_gone: list[str] = field(default_factory=list)  # record ids, list deleted in GR
    warnings: list[str] = field(default_factory=list)
    current_text: str | None = None  # the record's Synchronization error now
    started: str = ""  # when this invocation planned (ISO 8601 UTC): older pushes are retried
    watermark: tuple[str, str] | None = None

    @property
    def label(self) -> str:
        return f"list {self.name!r}"


@dataclass
class ListsPlan(Plan):
    work: list[ListWork] = field(default_factory=list)


def _list_mark(ctx: SyncContext, work: ListWork, marketing: dict[str, Any], ok: bool) -> None:
    count = marketing.get("membercount") if not marketing.get("type") else "-"
    value = f"{ctx.now().isoformat(timespec='seconds')} {count} {marketing.get('modifiedon')}"
    work.watermark = (ctx.watermark_name("lists", f"list:{work.record_id}"),
                      f"{value} {'ok' if ok else 'dirty'}")  # fmt: skip


def _needs_full(ctx: SyncContext, work: ListWork, marketing: dict[str, Any], changed: bool) -> bool:
    stored = ctx.watermark("lists", f"list:{work.record_id}")
    if stored is None:
        return True
    _, count, modified, flag = [*stored.split(" "), "", "", ""][:4]
    if flag != "ok" or modified != str(marketing.get("modifiedon")):
        return True
    if marketing.get("type"):
        return changed or bool(_VOLATILE.search(marketing.get("query") or ""))
    return count != str(marketing.get("membercount"))


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
        from reconcile.jobs.sync import lists_plan

        return lists_plan.make(self, ctx, journal)

    def apply(self, plan: Plan, ctx: SyncContext, journal: Journal, report: Report) -> None:
        from reconcile.jobs.sync import lists_apply

        assert isinstance(plan, ListsPlan)
        lists_apply.run(plan, ctx, journal, report)


def campaigns(ctx: SyncContext) -> tuple[dict[str, Any], set[str]]:
    """The account's lists by lower-cased name, and their ids (one request per 1,000)."""
    by_name: dict[str, Any] = {}
    ids: set[str] = set()
    for campaign in iter_campaigns(ctx.gr):
        by_name[campaign.name.casefold()] = campaign
        ids.add(campaign.campaign_id)
    return by_name, ids


def waiting(ctx: SyncContext, journal: Journal) -> dict[str, list[Sent]]:
    """Contacts submitted by earlier runs (or by the interrupted one) and not yet seen on
    their list, by campaign: they are confirmed, never sent again blindly."""
    found: dict[str, Sent] = {}
    for key, payload in ctx.state.pending(SERVICE).items():
        if key.startswith("lists:"):
            found[key] = Sent.from_payload(payload)
    for entry in journal.pending("push"):
        key = "lists:" + entry.op_key.removeprefix("push:")
        if key not in found and entry.payload.get("campaign"):
            found[key] = Sent.from_payload(entry.payload)
    by_campaign: dict[str, list[Sent]] = {}
    for sent in found.values():
        by_campaign.setdefault(sent.campaign_id, []).append(sent)
    return by_campaign


def evaluate(
    ctx: SyncContext,
    work: ListWork,
    members: list[Member],
    records: list[Any],
    *,
    complete: bool,
    pending: set[str],
) -> None:
    settings = ctx.section("lists")
    work.complete = complete
    work.decision = decide_members(
        members,
        records,
        send_inactive=settings.send_inactive,
        send_opted_out=settings.send_opted_out,
        pending=pending,
        complete=complete,
    )
    if settings.removed_members == "mark":  # marked once is enough
        work.decision.removed = [r for r in work.decision.removed if not r.marked_removed]
    if work.campaign_id and work.decision.push and work.action != "create":
        found = on_list(ctx, work.campaign_id, work.decision.push)
        if found:
            work.already = {m.contact_id: found[m.email] for m in work.decision.push
                            if m.email in found}  # fmt: skip
            work.decision.push = [m for m in work.decision.push if m.contact_id not in work.already]


JOB = ListsJob()
STATUS_NAMES = {NEW: "New", CREATED: "Created in GetResponse", DELETED: "Deleted in GetResponse"}
