"""``reconcile sync newsletters`` (SPEC 7, every minute): CRM newsletters set *Ready for
realization* are checked and scheduled in GetResponse, each sent at most once; scheduled
ones are followed to *Sent*; newsletters created in GetResponse appear as records too.

A quiet run (nothing Ready, nothing scheduled, nothing new in GetResponse) costs two
requests: the CRM newsletters that need attention, and GetResponse's broadcasts created
since the last run. Scheduled newsletters add one listing for all of them (by send date).
The rules are in ``newsletter_rules.py``, the send in
``newsletter_send.py``, the reads for Ready newsletters in ``newsletter_reads.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.getresponse.errors import NotFound
from reconcile.getresponse.newsletters import get_newsletter, iter_newsletters
from reconcile.getresponse.records import Newsletter
from reconcile.jobs.sync import newsletter_reads as reads
from reconcile.jobs.sync import newsletter_rules as rules
from reconcile.jobs.sync import newsletter_send as sending
from reconcile.jobs.sync import records as r
from reconcile.jobs.sync.common import Journal, Param, Plan, Report
from reconcile.jobs.sync.context import SyncContext
from reconcile.jobs.sync.newsletter_send import NewslettersPlan
from reconcile.model import SyncStatus

TABLE = s.NEWSLETTERS
V = {status: r.status_value(status) for status in SyncStatus}
COLUMNS = (
    TABLE.primary_id,
    "grc_name",
    "grc_getresponseid",
    "grc_scheduledon",
    "grc_createdingetresponse",
    "grc_scheduled",
    r.STATUS,
    r.ERROR_TEXT,
    "_grc_templateid_value",
    "_grc_marketinglistid_value",
    "_grc_campaignid_value",
    "modifiedon",
)
OVERLAP = dt.timedelta(minutes=5)


class NewslettersJob:
    name: ClassVar[str] = "newsletters"
    spec: ClassVar[str] = "SPEC 7.1-7.3"
    summary: ClassVar[str] = "CRM newsletters Ready for realization → scheduled, sent once"
    help: ClassVar[str] = (
        "Check every GetResponse Newsletter record set 'Ready for realization' (template "
        "active, marketing list of contacts with GetResponse contacts, send time, GetResponse's "
        "limits) and schedule it in GetResponse to exactly the list's contacts who allow bulk "
        "email now — at most once, whatever crashes; follow scheduled ones to 'Sent'; show "
        "newsletters created in GetResponse as records. Sends only from the Dynamics "
        "environments listed in [newsletters] send_environments.\n\n\b\nExample:\n"
        "  reconcile sync newsletters --dry-run\n  reconcile sync newsletters --json"
    )
    params: ClassVar[tuple[Param, ...]] = ()

    def plan(self, ctx: SyncContext, journal: Journal) -> NewslettersPlan:
        plan = NewslettersPlan(self.name, ctx.environment)
        started = ctx.now()
        modified = ctx.watermark(self.name, "crm_modified")
        records = list(
            ctx.dv.query(TABLE.entity_set, q.Query(select=COLUMNS, filter=_wanted(modified)))
        )
        plan.watermarks[ctx.watermark_name(self.name, "crm_modified")] = r.sync_time(
            started - OVERLAP
        )
        self._from_getresponse(ctx, plan, started)
        ready = [x for x in records if x.get(r.STATUS) == V[SyncStatus.READY_FOR_REALIZATION]]
        others = [x for x in records if x not in ready]
        in_getresponse = _scheduled(ctx, others)
        for record in others:
            self._follow(ctx, plan, record, in_getresponse)
        if ready:
            reads.plan_ready(ctx, journal, plan, ready)
        return plan

    def apply(self, plan: Plan, ctx: SyncContext, journal: Journal, report: Report) -> None:
        assert isinstance(plan, NewslettersPlan)
        for item in plan.sends:
            sending.send(ctx, journal, report, item)
        for record, what in plan.edits:
            report.fail(
                record,
                f"{what} changed after it was scheduled; GetResponse sends what was scheduled.",
                "To send the change, cancel the newsletter in GetResponse and create a new "
                "GetResponse Newsletter record.",
            )
        r.write(ctx, journal, report, TABLE, plan.updates, mode="update",
                kind="newsletter-update", outcome="newsletter records updated")  # fmt: skip
        r.write(ctx, journal, report, TABLE, plan.upserts, kind="newsletter-from-getresponse",
                outcome="newsletters from GetResponse")  # fmt: skip

    # -- newsletters created in GetResponse (SPEC 7.3) ----------------------------------------
    def _from_getresponse(self, ctx: SyncContext, plan: NewslettersPlan, now: dt.datetime) -> None:
        mark = ctx.watermark(self.name, "gr_created")
        since = rules.parse_utc(mark)
        listed = iter_newsletters(
            ctx.gr,
            type="broadcast",
            created_from=(since - dt.timedelta(days=1)).date() if since else None,
        )
        new = [
            n
            for n in listed
            if rules.record_of(n.name) is None
            and (since is None or (n.created_on and n.created_on > since))
        ]
        latest = max((n.created_on for n in new if n.created_on), default=since)
        if latest is not None:
            plan.watermarks[ctx.watermark_name(self.name, "gr_created")] = r.sync_time(latest)
        if not new:
            return
        lists = reads.marketing_lists_of(ctx, {n.campaign_id for n in new if n.campaign_id})
        at = r.sync_time(now)
        for n in new:
            body: dict[str, Any] = {
                "grc_getresponseid": s.getresponse_key(n.newsletter_id),
                "grc_name": (n.name or n.subject or n.newsletter_id)[:200],
                "grc_subject": (n.subject or "")[:400] or None,
                "grc_createdingetresponse": True,
                "grc_scheduledon": r.sync_time(n.send_on) if n.send_on else None,
                r.STATUS: V[sending.status_of(n)],
                "grc_lastsynchronizedon": at,
            }
            marketing_list = lists.get(n.campaign_id or "")
            if marketing_list:
                body["grc_MarketingListId@odata.bind"] = f"/lists({marketing_list})"
            label = f"newsletter {n.name!r} (created in GetResponse)"
            plan.add("add newsletter from GetResponse", label, f"broadcast {n.newsletter_id}")
            plan.upserts.append(r.Write(f"from-getresponse:{n.newsletter_id}", body, label))

    # -- scheduled ones, followed to Sent; edits after Ready, reported -------------------------
    def _follow(
        self,
        ctx: SyncContext,
        plan: NewslettersPlan,
        record: dict[str, Any],
        in_getresponse: dict[str, Newsletter | None],
    ) -> None:
        label = f"newsletter {record.get('grc_name')!r}"
        record_id = record[TABLE.primary_id]
        body: dict[str, Any] = {}
        scheduled = rules.load(record.get("grc_scheduled"))
        if scheduled and not record.get("grc_createdingetresponse"):
            changed = rules.edits(scheduled, record)
            text = (
                f"Changed after it was scheduled ({', '.join(changed)}): not applied — "
                "GetResponse sends what was scheduled (see 'As scheduled')."
                if changed
                else None
            )
            if changed and record.get(r.ERROR_TEXT) != text:
                plan.add("report edit", label, ", ".join(changed) + " changed after scheduling")
                plan.edits.append((label, ", ".join(changed)))
                body[r.ERROR_TEXT] = text
        gr_id = record.get("grc_getresponseid")
        if record.get(r.STATUS) == V[SyncStatus.SCHEDULED] and gr_id:
            newsletter = in_getresponse.get(s.getresponse_id(gr_id))
            if newsletter is None:
                body[r.STATUS] = V[SyncStatus.DELETED_IN_GETRESPONSE]
                plan.add("mark newsletter deleted", label, "no longer in GetResponse")
            elif sending.status_of(newsletter) is SyncStatus.SENT:
                body[r.STATUS] = V[SyncStatus.SENT]
                plan.add("mark newsletter sent", label, f"GetResponse finished {gr_id}")
        if body:
            body[TABLE.primary_id] = record_id
            body["grc_lastsynchronizedon"] = r.sync_time(ctx.now())
            plan.updates.append(r.Write(f"newsletter-follow:{record_id}", body, label))


def _scheduled(ctx: SyncContext, records: list[dict[str, Any]]) -> dict[str, Newsletter | None]:
    """The GetResponse newsletters of the Scheduled records, by id (None: not in GetResponse).

    One listing serves them all: ``GET /newsletters`` of the newsletters whose ``sendOn``
    falls within the records' send times, a day wider each side (the filter takes dates, in
    a zone the API does not state), 100 a page. A newsletter it does not show (moved to
    another day in GetResponse's web app, deleted) is read by id, where 404 means deleted —
    so following n scheduled newsletters costs one request instead of n."""
    wanted: set[str] = set()
    times: list[dt.datetime] = []
    for record in records:
        gr_id = record.get("grc_getresponseid")
        if record.get(r.STATUS) != V[SyncStatus.SCHEDULED] or not gr_id:
            continue
        wanted.add(s.getresponse_id(gr_id))
        when = rules.parse_utc(record.get("grc_scheduledon"))
        if when is not None:
            times.append(when)
    found: dict[str, Newsletter | None] = {}
    if times:
        day = dt.timedelta(days=1)
        listed = iter_newsletters(
            ctx.gr, send_from=(min(times) - day).date(), send_to=(max(times) + day).date()
        )
        found = {n.newsletter_id: n for n in listed if n.newsletter_id in wanted}
    for newsletter_id in sorted(wanted - found.keys()):
        try:
            found[newsletter_id] = get_newsletter(ctx.gr, newsletter_id)
        except NotFound:
            found[newsletter_id] = None
    return found


def _wanted(modified: str | None) -> q.Filter:
    """Ready and Scheduled records; Sent ones only when changed since the last run (an edit
    after the send, to report)."""
    attention = q.in_(r.STATUS, [V[SyncStatus.READY_FOR_REALIZATION], V[SyncStatus.SCHEDULED]])
    if modified:
        since = rules.parse_utc(modified)
        attention = attention | (q.eq(r.STATUS, V[SyncStatus.SENT]) & q.gt("modifiedon", since))
    return q.eq("statecode", 0) & attention


JOB = NewslettersJob()
