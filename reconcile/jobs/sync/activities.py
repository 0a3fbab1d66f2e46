"""``reconcile sync activities`` (SPEC 5.5, hourly): every send, open and click of the
synchronized contacts becomes a GetResponse Activity record — message name, type, date, the
URL of clicks — linked to its GetResponse Contact record, its CRM contact and its GetResponse
Newsletter record, for newsletters sent from the CRM or from GetResponse.

A run reads one **window** — from the last run's end (less ``OVERLAP``) to now; the first
run, the retention period; ``--since`` chooses — out of GetResponse (a custom report, or the
activity endpoints: :mod:`.activity_sources`), looks at what the CRM holds for it
(:mod:`.activity_links`), decides (:mod:`.activity_plan`), writes in bulk, and removes the
records older than ``activities.retention_days``. Every activity has a deterministic id (its
record's alternate key), so re-reading a window writes nothing and ``reconcile listen`` and
the hourly run never make two records of one activity. The watermark moves only when the
whole window is written; a report GetResponse has not finished is waited for by the next run.

``--dry-run`` shows the records and the storage the window will add: from the report when
one is ready, else estimated from GetResponse's statistics (no report is asked for).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar

from reconcile.dataverse import query as q
from reconcile.errors import ServiceError
from reconcile.getresponse.errors import GetResponseError
from reconcile.getresponse.reports import unavailable
from reconcile.jobs.sync import activity_estimate as estimate
from reconcile.jobs.sync import activity_links as links
from reconcile.jobs.sync import activity_sources as sources
from reconcile.jobs.sync import records as r
from reconcile.jobs.sync.activity_model import (
    TABLE,
    Activity,
    Links,
    Spool,
    binds,
    body,
    describe_bytes,
)
from reconcile.jobs.sync.activity_plan import (
    ADOPT,
    AGGREGATE,
    DELETE,
    NEW,
    RELINK,
    UNSYNCED,
    Decided,
    Inputs,
    decide,
)
from reconcile.jobs.sync.common import Journal, Param, Plan, Report
from reconcile.jobs.sync.context import SyncContext

log = logging.getLogger("reconcile.sync")

NAME = "activities"
OVERLAP = dt.timedelta(hours=2)
STORAGE = "storage added, KB (estimate)"  # GetResponse may record an activity a little late


@dataclass
class ActivitiesPlan(Plan):
    sourced: sources.Sourced | None = None
    decided: Decided | None = None
    expired: Spool = field(default_factory=Spool)  # ids of records past the retention
    aggregate: bool = False


def window(ctx: SyncContext, retention_days: int) -> tuple[sources.Window, str]:
    """The window this run reads, and why it starts where it does."""
    end = ctx.now().astimezone(dt.UTC).replace(microsecond=0)
    oldest = end - dt.timedelta(days=retention_days)
    since = ctx.options.get("since")
    stored = ctx.watermark(NAME, "until")
    if since is not None:
        if not isinstance(since, dt.datetime):
            since = dt.datetime.combine(since, dt.time(), dt.UTC)
        start, why = since.astimezone(dt.UTC), "--since"
    elif stored is not None:
        start = dt.datetime.fromisoformat(stored.replace("Z", "+00:00")) - OVERLAP
        why = f"the last run read up to {stored} (less {OVERLAP.seconds // 3600} h overlap)"
    else:
        start = oldest
        why = "no watermark (first run, or --full): the whole retention period"
    if start < oldest:
        start, why = oldest, f"{why}, from the retention limit ({retention_days} days)"
    return sources.Window(min(start, end), end), why


def kinds_of(settings: Any) -> list[str]:
    return [k for k, on in (("send", settings.sends), ("open", settings.opens),
                            ("click", settings.clicks)) if on]  # fmt: skip


class ActivitiesJob:
    name: ClassVar[str] = NAME
    spec: ClassVar[str] = "SPEC 5.5, 8.4"
    summary: ClassVar[str] = "GetResponse sends, opens, clicks → GetResponse Activity records"
    help: ClassVar[str] = (
        "Bring every send, open and click of the synchronized contacts into the CRM as "
        "GetResponse Activity records (message, type, date, clicked URL), linked to the "
        "GetResponse Contact, the CRM contact and the newsletter. Reads GetResponse custom "
        "reports (or the activity endpoints) for the window since the last run; re-reading a "
        "window writes nothing twice; records older than activities.retention_days are "
        "removed. --dry-run shows the records and storage the window will add."
        "\n\n\b\nExample:\n  reconcile sync activities --dry-run\n"
        "  reconcile sync activities --since 2026-11-01 --json"
    )
    params: ClassVar[tuple[Param, ...]] = (
        Param("--since", "since", "Read from this day (UTC) instead of the last run's end.",
              metavar="DATE", kind="date"),
    )  # fmt: skip

    def plan(self, ctx: SyncContext, journal: Journal) -> ActivitiesPlan:
        settings = ctx.section("activities")
        plan = ActivitiesPlan(self.name, ctx.environment, aggregate=bool(settings.aggregate))
        win, why = window(ctx, settings.retention_days)
        kinds = kinds_of(settings)
        plan.notes.append(f"Window {win.describe()} ({why}); kept: {', '.join(kinds)}.")
        found = sources.messages(ctx, win, settings.retention_days)
        sourced = self._read(ctx, plan, win, found, kinds, settings)
        if sourced is not None and sourced.complete:
            self._decide(ctx, plan, sourced, settings)
            if sourced.window.end > win.start:
                plan.watermarks[ctx.watermark_name(NAME, "until")] = r.sync_time(sourced.window.end)
        elif sourced is not None:
            plan.notes.extend(sourced.notes)
        self._retention(ctx, plan, settings)
        return plan

    # -- reading ------------------------------------------------------------------------
    def _read(
        self,
        ctx: SyncContext,
        plan: ActivitiesPlan,
        win: sources.Window,
        found: list[Any],
        kinds: list[str],
        settings: Any,
    ) -> sources.Sourced | None:
        if not found:
            plan.notes.append("No newsletter was sent in the period: nothing to read.")
            return sources.Sourced(win, "none")
        plan.notes.append(f"{len(found):,} newsletters sent in the period can have activities.")
        choice = settings.source
        contacts = lambda campaigns: links.contacts_of_lists(ctx, campaigns)  # noqa: E731
        if ctx.dry_run:
            earlier = sources.pending_report(ctx)
            if earlier is None:
                estimate.plan_estimate(ctx, plan, win, found, kinds, bool(settings.aggregate))
                return None
            if choice != "api":
                return self._report(ctx, plan, win, found, kinds, settings, contacts)
        recent = win.start >= ctx.now() - dt.timedelta(days=sources.PER_MESSAGE_DAYS - 1)
        if choice == "auto" and recent and sources.pending_report(ctx) is None:
            totals = sources.volume(ctx, win, [m.newsletter_id for m in found])
            volume = sum(totals[k] for k in kinds)
            if volume <= sources.SMALL:
                plan.notes.append(
                    f"GetResponse counts {volume:,} activities in the window: read from the "
                    "activity endpoints (a custom report is not worth the wait)."
                )
                return sources.read_endpoints(ctx, win, found, kinds, contacts)
        if choice == "api":
            plan.notes.append("activities.source = api: read from the activity endpoints.")
            return sources.read_endpoints(ctx, win, found, kinds, contacts)
        return self._report(ctx, plan, win, found, kinds, settings, contacts)

    def _report(
        self,
        ctx: SyncContext,
        plan: ActivitiesPlan,
        win: sources.Window,
        found: list[Any],
        kinds: list[str],
        settings: Any,
        contacts: Any,
    ) -> sources.Sourced | None:
        try:
            sourced = sources.read_report(ctx, win, found, kinds, settings.report_wait)
        except GetResponseError as exc:
            if not unavailable(exc):
                raise
            if settings.source == "report":
                raise ServiceError(
                    f"GetResponse refused the custom report ({exc}): the account's plan has "
                    "no custom reports.",
                    hint='Set activities.source = "auto" (or "api") to read the activity '
                    "endpoints instead.",
                ) from exc
            plan.notes.append(
                "Custom reports are not available on this GetResponse plan "
                f"({exc.code or exc.http_status}): read from the activity endpoints instead."
            )
            return sources.read_endpoints(ctx, win, found, kinds, contacts)
        return sourced

    # -- deciding -----------------------------------------------------------------------
    def _decide(
        self, ctx: SyncContext, plan: ActivitiesPlan, sourced: sources.Sourced, settings: Any
    ) -> None:
        plan.sourced = sourced
        plan.notes.extend(sourced.notes)
        contact_ids: set[str] = set()
        emails: set[str] = set()
        message_ids: set[str] = set()
        for contact, email, message, *_ in sourced.spool:
            if contact:
                contact_ids.add(contact)
            elif email:
                emails.add(email)
            message_ids.add(str(message))
        log.info("%d activities read (%s) of %d contacts", sourced.spool.count, sourced.source,
                 len(contact_ids))  # fmt: skip
        contacts = links.contact_records(ctx, contact_ids)
        by_email = links.contacts_by_email(ctx, emails) if emails else {}
        newsletters = links.newsletter_records(ctx, message_ids)
        log.info("%d GetResponse Contact records, %d newsletter records", len(contacts),
                 len(newsletters))  # fmt: skip
        low, high = sourced.window.bounds
        aggregate = bool(settings.aggregate)
        existing = (
            links.Existing() if aggregate else links.existing(ctx, low, high, contacts, newsletters)
        )
        earlier = links.aggregates(ctx, message_ids) if aggregate else None
        log.info("%d records already in the window", existing.rows)
        source = {"report": "report", "messages": "messages"}.get(sourced.source, "contacts")
        decided = decide(
            Inputs(sourced, contacts, by_email, newsletters, existing, earlier, source)
        )
        plan.decided = decided
        log.info("decided: %s", dict(decided.actions))
        names = sourced.names
        for (message, kind), n in sorted(decided.added.items()):
            label = f"{names.get(message) or message} ({kind})"
            plan.add("add activities", label, f"{kind}s of message {message} in the window", n)
        updated = decided.actions[AGGREGATE] - sum(decided.added.values()) if aggregate else 0
        if updated > 0:
            plan.add("update counts", "aggregated activities", "later activities counted", updated)
        for action, what, why in (
            (ADOPT, "adopt callback records", "written by reconcile listen, dated on receipt"),
            (RELINK, "correct links", "the newsletter, GetResponse contact or CRM contact changed"),
            (DELETE, "delete duplicates", "a late callback of an activity already written"),
        ):
            if decided.actions[action]:
                plan.add(what, "activity records", why, decided.actions[action])
        for reason, n in decided.skipped.items():
            plan.add("skip activities", reason, "not kept", n)
        added = sum(decided.added.values())
        plan.notes.append(
            f"{sourced.spool.count:,} activities read ({sourced.source}); {added:,} new records,"
            f" about {describe_bytes(decided.storage)} of Dataverse storage; "
            f"{decided.already:,} already in the CRM."
        )
        if decided.skipped:  # a real run's text shows no plan: say here what was left and why
            plan.notes.append(
                "Not kept: "
                + "; ".join(f"{why}: {n:,}" for why, n in decided.skipped.most_common())
                + "."
            )
        if decided.skipped.get(UNSYNCED):
            plan.notes.append(
                "Activities are kept only for synchronized contacts: link them first "
                "(reconcile migrate apply, or reconcile sync lists), then read the window "
                "again with reconcile sync activities --since DAY (nothing is written twice)."
            )
        if sourced.outside:
            plan.notes.append(
                f"{sourced.outside:,} rows of the report fall outside the window (read again "
                "by the next run)."
            )
        if sourced.stats.skipped_kinds:
            other = ", ".join(f"{k or '?'} ({n:,})" for k, n in sourced.stats.skipped_kinds.items())
            plan.notes.append(f"Report rows of other types, not kept: {other}.")
        if sourced.stats.bad_dates:
            plan.notes.append(f"{sourced.stats.bad_dates:,} report rows with no readable date.")

    # -- retention ----------------------------------------------------------------------
    def _retention(self, ctx: SyncContext, plan: ActivitiesPlan, settings: Any) -> None:
        cutoff = ctx.now().astimezone(dt.UTC) - dt.timedelta(days=settings.retention_days)
        old = q.lt("grc_lastactivitydate", cutoff) | (
            q.eq("grc_lastactivitydate", None) & q.lt("grc_activitydate", cutoff)
        )
        query = q.Query(select=(TABLE.primary_id,), filter=old)
        for row in ctx.dv.query(TABLE.entity_set, query):
            plan.expired.add(str(row[TABLE.primary_id]).lower())
        if plan.expired.count:
            plan.add(
                "delete expired",
                "activity records",
                f"older than {settings.retention_days} days (activities.retention_days)",
                plan.expired.count,
            )

    # -- writing ------------------------------------------------------------------------
    def apply(self, plan: Plan, ctx: SyncContext, journal: Journal, report: Report) -> None:
        assert isinstance(plan, ActivitiesPlan)
        decided, sourced = plan.decided, plan.sourced
        if decided is not None and sourced is not None:
            names = sourced.names
            for mode, actions, kind, outcome in (
                ("upsert", (NEW, AGGREGATE), "activity", "activities added or counted"),
                ("update", (ADOPT, RELINK), "activity-update", "activity records corrected"),
                ("delete", (DELETE,), "activity-duplicate", "duplicate records deleted"),
            ):
                total = sum(decided.actions[a] for a in actions)
                if total:
                    writes = (_write(row, names) for row in decided.writes if row[0] in actions)
                    r.write(ctx, journal, report, TABLE, writes, mode=mode, kind=kind,
                            outcome=outcome, total=total, per_record=False)  # fmt: skip
            added = sum(decided.added.values())
            if added:  # a count too, so that reconcile status shows it with the run
                report.add(STORAGE, max(1, round(decided.storage / 1024)))
                report.notes.append(
                    f"{added:,} new activity records, about {describe_bytes(decided.storage)} "
                    "of Dataverse storage."
                )
        if plan.expired.count:
            gone = (r.Write(f"expired:{row[0]}", {TABLE.primary_id: row[0]}, "expired")
                    for row in plan.expired)  # fmt: skip
            r.write(ctx, journal, report, TABLE, gone, mode="delete", kind="activity-expired",
                    outcome="expired records deleted", total=plan.expired.count,
                    per_record=False)  # fmt: skip
        if sourced is not None:
            sources.resolve(ctx, sourced)


def _write(row: list[str | None], names: dict[str, str]) -> r.Write:
    """A spooled decision as the record write it stands for."""
    action, record_id = row[0], row[1]
    if action == DELETE:
        return r.Write(f"duplicate:{record_id}", {TABLE.primary_id: record_id}, "duplicate")
    if action == RELINK:
        assert row[2] is not None
        links_ = Links(row[2], row[3], row[4])
        return r.Write(f"relink:{record_id}", {TABLE.primary_id: record_id, **binds(links_)},
                       f"activity record {record_id}")  # fmt: skip
    contact, message, kind, at, url, record, crm, newsletter, source = row[2:11]
    assert contact
    assert message
    assert kind
    assert at
    assert record
    assert source
    activity = Activity(contact, message, kind, int(at), url)
    links_ = Links(record, crm, newsletter)
    label = f"{kind} of {names.get(message) or message} by {contact}"
    if action == AGGREGATE:
        from reconcile.jobs.sync.activity_model import aggregate_id

        total, last = int(row[11] or 1), int(row[12] or at)
        key = aggregate_id(contact, message, kind)
        data = body(activity, names.get(message), links_, source, key=key, count=total,
                    first=int(at), last=last)  # fmt: skip
        return r.Write(f"aggregate:{key}", data, label)
    data = body(activity, names.get(message), links_, source)
    if action == ADOPT:
        data[TABLE.primary_id] = record_id
        return r.Write(f"adopt:{record_id}", data, label)
    return r.Write(f"activity:{data['grc_getresponseid']}", data, label)


JOB = ActivitiesJob()
