"""``reconcile sync contacts`` (SPEC 5.1-5.3, 8; hourly): what the CRM knows about each
GetResponse contact of the synchronized lists, kept current.

For every GetResponse List record **Created in GetResponse** (those the lists job created and
those the migration brought over): the list's contacts created or changed since the last run
(:mod:`.contact_reads`) become or refresh GetResponse Contact records — name, email,
engagement score, scoring points, origin, creation date, tags — and GetResponse Custom Field
records, as the SPEC 1.3 settings say (:mod:`.contact_records`). A new contact's record has no
CRM contact (SPEC 5.1: the job never creates one) unless ``contacts.link_by_email`` finds
the one active CRM contact with exactly that address. An email changed in GetResponse changes
the record only (8.2); nothing is ever written to GetResponse, so no CRM change reaches it
(8.1). Deletions are found by the list scans of :mod:`.contact_scan` (8.3), merges by
:mod:`.contact_merges` (8.4).

Costs: a quiet run reads one page per list and two Dataverse pages in all; a changed contact
costs a thousandth of a GetResponse request, and its record a hundredth of a Dataverse read
(looked up by key, 10,000 to a request) and a thousandth of a write. Nothing unchanged is
written. See docs/sync.md.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any, ClassVar

from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.errors import InputError, Problem
from reconcile.jobs.sync import contact_records as cr
from reconcile.jobs.sync import records as r
from reconcile.jobs.sync.callbacks import contact_events, contact_inbox
from reconcile.jobs.sync.common import Journal, Param, Plan, Report
from reconcile.jobs.sync.contact_merges import plan_merges
from reconcile.jobs.sync.contact_plan import STEPS, ContactsPlan, Linked, Planner
from reconcile.jobs.sync.contact_reads import list_size
from reconcile.jobs.sync.contact_scan import cadence
from reconcile.jobs.sync.context import SyncContext, watermark_name
from reconcile.state import StateStore

NAME = "contacts"
OVERLAP = dt.timedelta(minutes=10)  # each window re-reads this much of the previous one
CREATED = r.status_value(cr.SyncStatus.CREATED_IN_GETRESPONSE)
LIST_COLUMNS = (s.LISTS.primary_id, "grc_name", "grc_getresponseid", r.STATUS)


EPOCH = "1970-01-01T00:00:00Z"  # a list watermark saying "read this list whole next time"


def read_whole_next_time(ctx: SyncContext, campaign_id: str) -> None:
    """For a job that links a GetResponse list to the CRM (``sync lists`` creating or
    adopting one): the next contacts run reads that list whole — its contacts get every
    SPEC 5.2 value, and those that were already in an adopted list their records (5.3) —
    instead of refusing a list that has records but no watermark. A list the contacts job
    already reads keeps its watermark (watermarks only move forward)."""
    ctx.state.advance_watermark(ctx.watermark_name(NAME, f"list:{campaign_id}"), EPOCH)


def read_whole_at(state: StateStore, environment: str, campaign_id: str, moment: str) -> None:
    """For a job that read a list's contacts whole at ``moment`` and wrote their records
    (``migrate apply``, from the plan's read): the next contacts run reads only what changed
    in GetResponse since then, instead of refusing a list with records but no watermark."""
    state.advance_watermark(watermark_name(NAME, environment, f"list:{campaign_id}"), moment)


def _iso(moment: dt.datetime) -> str:
    return r.sync_time(moment)


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def linked_lists(ctx: SyncContext, names: tuple[str, ...] = ()) -> list[Linked]:
    """The GetResponse List records Created in GetResponse (``names``: only those)."""
    condition = q.eq(r.STATUS, CREATED) & q.ne("grc_getresponseid", None)
    rows = r.read_all(ctx, s.LISTS, LIST_COLUMNS, condition)
    found = [
        Linked(
            str(row[s.LISTS.primary_id]).lower(),
            s.getresponse_id(str(row["grc_getresponseid"])),
            str(row.get("grc_name") or ""),
        )
        for row in rows
    ]
    found.sort(key=lambda x: (x.name.casefold(), x.campaign_id))
    if not names:
        return found
    by_name = {x.name.casefold(): x for x in found}
    unknown = [n for n in names if n.casefold() not in by_name]
    if unknown:
        known = ", ".join(sorted(x.name for x in found)) or "none"
        raise InputError(
            [
                Problem(f"no GetResponse List record Created in GetResponse is called {n!r}")
                for n in unknown
            ],
            hint=f"Give list names as their GetResponse List records hold them ({known}).",
        )
    return [by_name[n.casefold()] for n in dict.fromkeys(names)]


class ContactsJob:
    name: ClassVar[str] = NAME
    spec: ClassVar[str] = "SPEC 5.1-5.3, 8"
    summary: ClassVar[str] = "GetResponse contacts → GetResponse Contact and Custom Field records"
    help: ClassVar[str] = (
        "Keep the GetResponse Contact records of every synchronized list current: contacts "
        "created or changed in GetResponse since the last run (name, email, engagement score, "
        "scoring, origin, created on, tags, custom field values, as the [sync] settings say), "
        "new contacts as records without CRM contact, contacts deleted in GetResponse marked "
        "'Deleted in GetResponse' (a daily id scan, contacts.deletion_scan), and the records "
        "of merged CRM contacts moved to the master. Never writes to GetResponse, never "
        "creates a CRM contact.\n\n\b\nExample:\n  reconcile sync contacts --dry-run\n"
        "  reconcile sync contacts --list clients_fr\n"
        "  reconcile sync contacts --full --json > full-run.json"
    )
    params: ClassVar[tuple[Param, ...]] = (
        Param("--list", "lists", "Only this GetResponse list (repeat for more).",
              multiple=True, metavar="NAME"),
        Param("--since", "since", "Read the contacts changed since this day (UTC), whatever "
              "the watermarks say.", metavar="YYYY-MM-DD", kind="date"),
    )  # fmt: skip

    def plan(self, ctx: SyncContext, journal: Journal) -> ContactsPlan:
        plan = ContactsPlan(self.name, ctx.environment)
        lists = linked_lists(ctx, tuple(ctx.options.get("lists") or ()))
        sync, settings = ctx.section("sync"), ctx.section("contacts")
        every = cadence(settings.deletion_scan)
        started = ctx.now()
        at = _iso(started)
        merges = plan_merges(ctx, ctx.watermark(NAME, "merges"))
        for key, writes in merges.writes.items():
            for w in writes:
                plan.write(f"repoint-{key}", w, "move to master", "the CRM contact was merged")
        plan.watermarks[ctx.watermark_name(NAME, "merges")] = at
        everything = (lambda: linked_lists(ctx)) if ctx.options.get("lists") else (lambda: lists)
        planner = Planner(ctx, plan, sync, settings, merges.masters, at, everything)
        for linked in lists:
            since = self._window(ctx, plan, linked)
            if since is False:
                continue
            server_time = planner.read(linked, since)
            plan.watermarks[ctx.watermark_name(NAME, f"list:{linked.campaign_id}")] = _iso(
                min(server_time or started, started)
            )
        planner.enrich()
        planner.decide()
        scanned_not: list[Linked] = []
        for linked in lists:
            last = ctx.watermark(NAME, f"scan:{linked.campaign_id}")
            due = ctx.full or (
                every is not None and (last is None or started - _time(last) >= every)
            )
            if due:
                planner.scan(linked)
                plan.watermarks[ctx.watermark_name(NAME, f"scan:{linked.campaign_id}")] = at
            else:
                scanned_not.append(linked)
        self._reported(ctx, planner, lists, scanned_not, everything)
        planner.finish()
        return plan

    @staticmethod
    def _reported(
        ctx: SyncContext,
        planner: Planner,
        lists: list[Linked],
        unscanned: list[Linked],
        everything: Any,
    ) -> None:
        """The subscribes and unsubscribes ``reconcile listen`` received since the last run.
        An unsubscribe from a list this run did not scan is checked now; a subscribe is a new
        or changed contact, which the list's incremental read has read. Events of lists the
        CRM does not synchronize are done with; those of lists left out by ``--list`` wait."""
        events = contact_events(ctx.state, ctx.environment)
        if not events:
            return
        plan = planner.plan
        selected = {x.campaign_id for x in lists}
        to_check = {x.campaign_id: x for x in unscanned}
        synchronized = {x.campaign_id for x in everything()}
        left: dict[str, set[str]] = {}
        for key, event in events.items():
            campaign = str(event.get("campaign_id") or "")
            if campaign not in synchronized:
                plan.inbox[key] = "list not synchronized"
            elif campaign not in selected:
                continue  # for the run that handles its list
            elif campaign in to_check and event.get("kind") == "unsubscribe":
                left.setdefault(campaign, set()).add(str(event.get("contact_id")))
                plan.inbox[key] = "checked"
            else:
                plan.inbox[key] = "read with the list's changes or its scan"
        for campaign, ids in sorted(left.items()):
            planner.reported(to_check[campaign], ids)

    def _window(self, ctx: SyncContext, plan: ContactsPlan, linked: Linked) -> Any:
        """Where this list's read starts: ``--since``, ``--full`` (None: everything), the
        watermark minus the overlap, everything for a list new to the job — or False when
        the watermark is missing for a list whose records exist (reported with its cost)."""
        since = ctx.options.get("since")
        if since is not None:
            return since
        if ctx.full:
            return None
        mark = ctx.watermark(NAME, f"list:{linked.campaign_id}")
        if mark == EPOCH:
            plan.notes.append(f"List {linked.name!r} was just linked to the CRM: read whole once.")
            return None
        if mark is not None:
            return _time(mark) - OVERLAP
        probe = q.Query(
            select=(cr.RECORDS.primary_id,),
            filter=q.eq(cr.LIST, q.as_guid(linked.record_id)),
            top=1,
        )
        if next(iter(ctx.dv.query(cr.RECORDS.entity_set, probe)), None) is None:
            plan.notes.append(
                f"List {linked.name!r} is new to this job: all its contacts are read."
            )
            return None
        size = list_size(ctx.gr, linked.campaign_id) or 0
        cost = -(-size // 1000)
        why = (
            f"no watermark for this list (first contacts run after the migration or the lists "
            f"job, or a new state store): reading it all costs about {cost:,} GetResponse "
            f"requests ({size:,} contacts)"
        )
        plan.add("skip list", f"list {linked.name!r}", why)
        plan.left_out.append(
            (
                f"list {linked.name!r}",
                f"not read: {why}",
                f"Run `reconcile sync contacts --list {linked.name} --full` once (or --since "
                "YYYY-MM-DD, the day of the migration); later runs read only what changed.",
            )
        )
        return False

    def apply(self, plan: Plan, ctx: SyncContext, journal: Journal, report: Report) -> None:
        assert isinstance(plan, ContactsPlan)
        for step, (table, mode, outcome, keys) in STEPS.items():
            writes = plan.writes.get(step)
            if not writes:
                continue
            failed: list[tuple[r.Write, str]] = []
            r.write(
                ctx, journal, report, table, writes, mode=mode, kind=step, outcome=outcome,
                key_columns=keys or ("grc_getresponseid",),
                on_failed=partial(_note_failure, failed) if step.startswith("record") else None,
            )  # fmt: skip
            if failed:
                self._mark_failed(ctx, journal, report, failed)
        for record, why, action in plan.left_out:
            report.fail(record, why, action)
        if plan.inbox:
            ctx.state.resolve_pending(contact_inbox(ctx.environment), plan.inbox)

    @staticmethod
    def _mark_failed(
        ctx: SyncContext, journal: Journal, report: Report, failed: list[tuple[r.Write, str]]
    ) -> None:
        """A record Dynamics refused keeps (or gets) status Error with the reason, so that the
        admin sees it on the record, not only in the run report."""
        bodies = []
        for w, error in failed:
            keep = ("grc_getresponseid", "grc_email", "grc_GetResponseListId@odata.bind")
            body = {k: w.body[k] for k in keep if k in w.body}
            body["grc_name"] = str(w.body.get("grc_name") or "")[:200] or None
            body[r.STATUS] = r.status_value(cr.SyncStatus.ERROR)
            body[r.ERROR_TEXT] = r.error_text(error)
            bodies.append(r.Write(f"record-error:{w.key}", body, w.record))
        r.write(ctx, journal, report, cr.RECORDS, bodies, kind="record-error",
                outcome="contact records marked Error")  # fmt: skip


def _note_failure(failed: list[tuple[r.Write, str]], write: r.Write, error: str) -> None:
    failed.append((write, error))


JOB = ContactsJob()
