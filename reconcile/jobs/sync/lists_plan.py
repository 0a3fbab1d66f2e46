"""The lists job's plan: reads both services, decides every write and why.

What a list costs depends on what changed since its last run (its watermark keeps the
marketing list's member count and modification time as Dataverse last showed them):

- a **New** list, a list without a watermark, or ``--full``: every member is evaluated;
- a static list whose member count or definition changed: every member (that is how a
  removal is seen); otherwise only the members added since (``listmember`` ``createdon``)
  and the members among the contacts modified since (``modifiedon``);
- a dynamic list: every member when any contact was modified, the list's query changed, or
  the query depends on time or other tables; otherwise nothing;
- a list with contacts queued by an earlier run: those are confirmed.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from reconcile.dataverse import schema as s
from reconcile.dataverse.resources import MarketingList, dynamic_list_warnings
from reconcile.errors import InputError, Problem
from reconcile.getresponse import iter_campaigns
from reconcile.jobs.sync import lists_read as rd
from reconcile.jobs.sync.common import Journal
from reconcile.jobs.sync.context import SyncContext
from reconcile.jobs.sync.lists_decide import CREATED, NEW, Member, decide_members, list_problem
from reconcile.jobs.sync.lists_push import SERVICE, Sent, on_list
from reconcile.jobs.sync.lists_work import ListsPlan, ListWork

# A dynamic list whose query depends on time or on other tables can change without any
# contact changing: it is evaluated in full every run.
_VOLATILE = re.compile(r"<link-entity|operator=[\"'][^\"']*(last|next|this|older|today|yester"
                       r"|tomorrow|fiscal|-x-)", re.IGNORECASE)  # fmt: skip


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


def make(job: Any, ctx: SyncContext, journal: Journal) -> ListsPlan:
    plan = ListsPlan(job.name, ctx.environment)
    names = [n for n in ctx.options.get("lists") or () if n]
    rows = rd.list_records(ctx, names)
    held = {str(r.get("grc_name") or "").casefold() for r in rows}  # Dataverse: any case
    unknown = [n for n in names if n.casefold() not in held]
    if unknown:  # a typo is a wrong option (exit 2, like contacts and report), not "done"
        known = ", ".join(sorted(str(r.get("grc_name")) for r in rd.list_records(ctx))) or "none"
        raise InputError(
            [Problem(f"--list {n}: no GetResponse List record is named {n!r}") for n in unknown],
            hint=f"Give list names as their GetResponse List records hold them ({known}).",
        )
    by_name, ids = campaigns(ctx)
    queued = waiting(ctx, journal)
    windows = _windows(ctx, plan, partial=bool(names))
    added, changed, memberships = windows
    for row in rows:
        work = _work(ctx, row, by_name, ids, queued, added, changed, memberships)
        if work is None:
            continue
        plan.work.append(work)
        _describe(plan, work)
        if work.watermark is not None:
            plan.watermarks[work.watermark[0]] = work.watermark[1]
    return plan


def _windows(
    ctx: SyncContext, plan: ListsPlan, *, partial: bool
) -> tuple[dict[str, set[str]], dict[str, Member], dict[str, set[str]]]:
    """Members added and contacts modified since the last run, and the static lists the
    modified contacts are on. A run limited with --list reads them but does not move the
    windows (the other lists have not seen them yet)."""
    since_members = rd.Since.parse(ctx.watermark("lists", "members"))
    since_contacts = rd.Since.parse(ctx.watermark("lists", "contacts"))
    added_rows, next_members = rd.changes_since(
        ctx, "listmembers", "createdon", "listmemberid", ("_listid_value", "_entityid_value"),
        since_members,
    )  # fmt: skip
    changed_rows, next_contacts = rd.changes_since(
        ctx, "contacts", "modifiedon", "contactid", rd.MEMBER_COLUMNS, since_contacts
    )
    if not partial:
        plan.watermarks[ctx.watermark_name("lists", "members")] = next_members.text()
        plan.watermarks[ctx.watermark_name("lists", "contacts")] = next_contacts.text()
    added: dict[str, set[str]] = {}
    for row in added_rows:
        added.setdefault(str(row["_listid_value"]).lower(), set()).add(
            str(row["_entityid_value"]).lower()
        )
    changed = {m.contact_id: m for m in map(Member.from_row, changed_rows)}
    memberships: dict[str, set[str]] = {}
    if changed:
        for list_id, contact_id in rd.memberships(ctx, changed):
            memberships.setdefault(list_id, set()).add(contact_id)
    return added, changed, memberships


def _work(
    ctx: SyncContext,
    row: dict[str, Any],
    by_name: dict[str, Any],
    ids: set[str],
    queued: dict[str, list[Any]],
    added: dict[str, set[str]],
    changed: dict[str, Member],
    memberships: dict[str, set[str]],
) -> ListWork | None:
    record_id = str(row[s.LISTS.primary_id]).lower()
    name = str(row.get("grc_name") or "")
    status = row.get("grc_synchronizationstatus")
    marketing = row.get(rd.MARKETING_NAV)
    gr_key = row.get("grc_getresponseid")
    started = ctx.now().astimezone(dt.UTC).isoformat(timespec="microseconds")
    work = ListWork(record_id, name, "quiet", marketing=marketing,
                    current_text=row.get("grc_synchronizationerror"), started=started)  # fmt: skip
    if status == NEW:
        work.problem = list_problem(row, marketing)
        if work.problem is not None:
            work.action = "error"
            return work
        existing = by_name.get(name.casefold())
        work.action = "adopt" if existing is not None else "create"
        work.campaign_id = existing.campaign_id if existing is not None else None
    elif status == CREATED and gr_key:
        work.campaign_id = s.getresponse_id(gr_key)
        if work.campaign_id not in ids:
            work.action = "deleted"
            work.records_gone = [r.record_id for r in rd.records(ctx, record_id) if r.live]
            return work
        work.action = "sync"
    else:
        return None  # Error or Deleted: waiting for the admin to Set as New again
    if marketing is None:
        return None  # a list the migration brought over without a marketing list: no members
    work.warnings = dynamic_list_warnings(MarketingList.from_row(marketing))
    work.waiting = [
        sent for sent in queued.get(work.campaign_id or "", []) if sent.list_record == record_id
    ]
    pending = {sent.contact_id for sent in work.waiting}
    list_id = str(marketing["listid"]).lower()
    if work.action != "sync" or _needs_full(ctx, work, marketing, bool(changed)):
        members = list(rd.members(ctx, marketing))
        records = rd.records(ctx, record_id) if work.action != "create" else []
        evaluate(ctx, work, members, records, complete=True, pending=pending)
        _list_mark(ctx, work, marketing, ok=True)
        return work
    subset = set() if marketing.get("type") else added.get(list_id, set())
    subset |= memberships.get(list_id, set())
    if not subset and not work.waiting:
        return work if work.warnings else None
    known = [changed[c] for c in subset if c in changed]
    members = known + list(rd.contacts(ctx, subset - set(changed)))
    records = rd.records(ctx, record_id, subset) if subset else []
    evaluate(ctx, work, members, records, complete=False, pending=pending)
    _list_mark(ctx, work, marketing, ok=True)
    return work


def _describe(plan: ListsPlan, work: ListWork) -> None:
    label, d = work.label, work.decision
    if work.action == "error":
        plan.add("mark list error", label, work.problem or "")
        return
    if work.action == "deleted":
        plan.add("mark list deleted", label, "its GetResponse list no longer exists (SPEC 4.5)")
        if work.records_gone:
            plan.add("mark contacts deleted", label, "their GetResponse list was deleted",
                     count=len(work.records_gone))  # fmt: skip
        return
    if work.action == "create":
        plan.add("create list", label, "no list of that name in this GetResponse account")
    elif work.action == "adopt":
        plan.add("adopt list", label, "this GetResponse account has a list of that name (SPEC "
                 "5.3): its contacts are linked by email, none is created twice")  # fmt: skip
    for warning in work.warnings:
        plan.notes.append(warning)
    if d.push:
        plan.add("push contacts", label, "members not yet on the GetResponse list",
                 count=len(d.push))  # fmt: skip
    if work.already:
        plan.add("link contacts", label, "already on the GetResponse list (found by email)",
                 count=len(work.already))  # fmt: skip
    if work.waiting:
        plan.add("confirm queued contacts", label, "sent by an earlier run, not seen yet",
                 count=len(work.waiting))  # fmt: skip
    for member, why in d.skipped:
        plan.add("skip member", f"contact {member.contact_id} ({member.email or 'no email'}) "
                 f"of {label}", why)  # fmt: skip
    for member, record in d.email_changed:
        plan.add("report email change", f"contact {member.contact_id} of {label}",
                 f"the CRM email is now {member.email}; GetResponse keeps {record.email} "
                 "(SPEC 8.1: CRM email changes are not sent)")  # fmt: skip
    for member, _ in d.opted_out:
        plan.add("unsubscribe contact", f"contact {member.contact_id} ({member.email}) of "
                 f"{label}", "no longer allows bulk email")  # fmt: skip
    for record in d.removed:
        plan.add("handle removed member", f"contact {record.contact_id} ({record.email}) of "
                 f"{label}", "no longer on the marketing list")  # fmt: skip
    for record in d.back:
        plan.add("clear removal mark", f"contact {record.contact_id} of {label}",
                 "on the marketing list again")  # fmt: skip
