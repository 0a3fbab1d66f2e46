"""Sending one CRM newsletter through GetResponse at most once, whatever crashes.

The steps, each durable before the next (docs/sync.md, "newsletters"):

1. **journal** the send (``send:<record id>``) in the local state store;
2. **claim** it in Dynamics: write what is being scheduled (the locked fields, the claim's
   holder and time) to the record with ``If-Match`` on the ETag the plan read — a second
   runner, even one with another state store, gets 412 and leaves it;
3. **ask GetResponse** first whenever an earlier attempt may have got further (a claim or a
   pending journal entry): every newsletter created since the claim whose name carries the
   record's marker (``… [crm:<record id>]``). A broadcast there *is* the send: it is adopted,
   never repeated. A draft there is the copy a lost answer left: it is reused;
4. **copy** the template draft (``POST /newsletters``, type draft, named with the marker) —
   ``send-draft`` may consume a draft, and a template must stay usable;
5. **send** the copy (``send-draft`` with ``sendOn``) to exactly the recipients;
6. mark the journal, then write the GetResponse id and the outcome to the record.

An uncertain failure at 4 or 5 (the answer lost) leaves the journal pending and stops the
run; the next run starts at 3. A definite refusal (400) is an Error on the record.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from reconcile.dataverse import schema as s
from reconcile.dataverse.errors import ConcurrencyConflict, RecordNotFound
from reconcile.getresponse.errors import (
    ConnectionFailed,
    GetResponseError,
    NotFound,
    RateLimited,
    ValidationError,
)
from reconcile.getresponse.newsletters import (
    copy_draft,
    delete_newsletter,
    iter_newsletters,
    send_draft,
)
from reconcile.getresponse.records import Newsletter
from reconcile.jobs.sync import newsletter_rules as rules
from reconcile.jobs.sync import records as r
from reconcile.jobs.sync.common import Journal, Plan, Report
from reconcile.jobs.sync.context import SyncContext
from reconcile.model import SyncStatus

TABLE = s.NEWSLETTERS


@dataclass
class Send:
    """One CRM newsletter the plan decided to send, with everything the steps need."""

    record_id: str
    label: str
    etag: str
    template_draft: str
    copy_name: str
    recipients: rules.Recipients
    send_on: dt.datetime | None  # None: at once (the time is now, or just passed)
    scheduled: dict[str, Any]  # the claim: locked fields, holder, time, recipients
    columns: dict[str, Any] = field(default_factory=dict)  # text, counts for the record
    check_first: bool = False  # an earlier attempt may have got further: ask GetResponse
    since: dt.datetime | None = None  # the earliest claim: where to look in GetResponse

    @property
    def key(self) -> str:
        return f"send:{self.record_id}"


@dataclass
class NewslettersPlan(Plan):
    """The newsletters job's plan: the sends it will make and the records it will write."""

    sends: list[Send] = field(default_factory=list)
    updates: list[r.Write] = field(default_factory=list)  # CRM records, by primary id
    upserts: list[r.Write] = field(default_factory=list)  # from GetResponse, by GetResponse id
    edits: list[tuple[str, str]] = field(default_factory=list)  # (record, what changed)


def send(ctx: SyncContext, journal: Journal, report: Report, item: Send) -> None:
    """Steps 1–6 for one newsletter; outcomes go to the report and the record."""
    ctx.checkpoint()
    now = ctx.now()
    claim = {**item.scheduled, "claimed_at": r.sync_time(now), "by": ctx.holder}
    payload = {"record": item.record_id, "name": item.copy_name, "claimed_at": claim["claimed_at"]}
    with journal.chunk("newsletter-send", [(item.key, payload)]) as outcomes:
        try:
            ctx.dv.update(
                TABLE.entity_set,
                item.record_id,
                {"grc_scheduled": rules.dump(claim), r.ERROR_TEXT: None, **item.columns},
                etag=item.etag,
            )
        except (ConcurrencyConflict, RecordNotFound) as exc:
            outcomes.failed(item.key, f"not claimed: {exc}")
            report.add("left to another runner or edit")
            report.notes.append(
                f"{item.label}: changed or claimed since it was read ({exc.__class__.__name__});"
                " the next run looks at it again."
            )
            return
        since = min(item.since or now, now) - dt.timedelta(days=1)
        sent, copy = _find(ctx, report, item, since) if item.check_first else (None, None)
        if sent is None:
            try:
                if copy is None:
                    copy = copy_draft(ctx.gr, item.template_draft, name=item.copy_name)
                sent = send_draft(
                    ctx.gr,
                    copy.newsletter_id,
                    campaign_ids=[item.recipients.campaign_id]
                    if item.recipients.campaign_id
                    else (),
                    contact_ids=() if item.recipients.campaign_id else item.recipients.contact_ids,
                    send_on=item.send_on,
                )
            except ConnectionFailed as exc:
                if exc.maybe_applied:
                    raise  # left pending: the next run asks GetResponse first
                return _refused(ctx, report, outcomes, item, str(exc))
            except (NotFound, ValidationError, RateLimited) as exc:
                return _refused(ctx, report, outcomes, item, _reason(exc))
            except GetResponseError as exc:
                if exc.http_status and 400 <= exc.http_status < 500:
                    return _refused(ctx, report, outcomes, item, _reason(exc))
                raise
            if copy.newsletter_id != sent.newsletter_id:
                _tidy(ctx, copy.newsletter_id)  # the draft stayed (the service kept it)
        else:
            report.add("found already sent")
        outcomes.done(item.key, {"newsletter": sent.newsletter_id})
    record_sent(ctx, journal, report, item.record_id, item.label, sent)


def record_sent(
    ctx: SyncContext, journal: Journal, report: Report, record_id: str, label: str, sent: Newsletter
) -> None:
    """Step 6: the GetResponse id and status on the record (repeatable)."""
    body = {
        TABLE.primary_id: record_id,
        "grc_getresponseid": s.getresponse_key(sent.newsletter_id),
        r.STATUS: r.status_value(status_of(sent)),
        r.ERROR_TEXT: None,
        "grc_lastsynchronizedon": r.sync_time(ctx.now()),
    }
    if sent.send_on is not None:
        body["grc_scheduledon"] = r.sync_time(sent.send_on)
    r.write(
        ctx,
        journal,
        report,
        TABLE,
        [r.Write(f"newsletter-record:{record_id}", body, label)],
        mode="update",
        kind="newsletter-record",
        outcome="newsletters scheduled",
    )


def status_of(newsletter: Newsletter) -> SyncStatus:
    return SyncStatus.SENT if newsletter.send_status == "finished" else SyncStatus.SCHEDULED


def _find(
    ctx: SyncContext, report: Report, item: Send, since: dt.datetime
) -> tuple[Newsletter | None, Newsletter | None]:
    """The broadcast already made for this record, else a copy draft left by a lost answer."""
    found = [
        n
        for n in iter_newsletters(ctx.gr, created_from=since.date())
        if rules.record_of(n.name) == item.record_id.lower()
    ]
    broadcasts = sorted((n for n in found if not n.is_draft), key=_created)
    drafts = sorted((n for n in found if n.is_draft), key=_created)
    if len(broadcasts) > 1:
        report.notes.append(
            f"{item.label}: {len(broadcasts)} GetResponse newsletters carry its mark "
            f"({', '.join(n.newsletter_id for n in broadcasts)}); the first is recorded."
        )
    if broadcasts:
        for spare in drafts:
            _tidy(ctx, spare.newsletter_id)
        return broadcasts[0], None
    for spare in drafts[1:]:
        _tidy(ctx, spare.newsletter_id)
    return None, drafts[0] if drafts else None


def _created(newsletter: Newsletter) -> tuple[str, str]:
    return (str(newsletter.created_on or ""), newsletter.newsletter_id)


def _tidy(ctx: SyncContext, draft_id: str) -> None:
    """Delete a copy draft nobody needs (best effort: a left-over draft is harmless)."""
    with contextlib.suppress(GetResponseError):
        delete_newsletter(ctx.gr, draft_id)


def _refused(ctx: SyncContext, report: Report, outcomes: Any, item: Send, reason: str) -> None:
    """GetResponse refused it for certain: nothing was sent. Error on the record."""
    outcomes.failed(item.key, reason)
    text = f"Not sent: GetResponse refused it: {reason}"
    report.fail(item.label, text, "Correct it, then Set as ready for realization again.")
    ctx.dv.update(
        TABLE.entity_set,
        item.record_id,
        {r.STATUS: r.status_value(SyncStatus.ERROR), r.ERROR_TEXT: r.error_text(text)},
    )


def _reason(exc: GetResponseError) -> str:
    if isinstance(exc, RateLimited):
        return (
            "GetResponse's limit of newsletters a day through its API is reached "
            f"({exc}); it can be scheduled again after midnight UTC"
        )
    if isinstance(exc, NotFound) or getattr(exc, "code", None) == 1001:
        return f"the template's draft no longer exists in GetResponse ({exc})"
    return str(exc)
