"""Sending a list's members to GetResponse, and following GetResponse's asynchronous
creation to the end (SPEC 4.3).

GetResponse queues new contacts (202, empty body) and shows them minutes later — or never,
when it rejects them late (invalid domain, blocklisted, unsubscribed before). So a push is:

1. **intend** each contact durably (the run's journal, and the state store's
   ``pending_async`` table, which outlives the run) *before* anything is sent;
2. **send** by the cheapest path: one import for a large push (one request for up to 20 MB
   of rows), batches of 1,000 for a medium one, single ``POST /contacts`` for a handful;
3. **confirm** by looking for the contacts on the list (exact lookups for a few, one paged
   scan of the contacts created since the push for many), at growing intervals;
4. what is still missing is **explained** (``search-contacts`` of removed contacts, with
   GetResponse's reason) or **re-sent one by one**: ``POST /contacts`` answers 409 for an
   address already on the list or queued for it, and 400 / 1002 with the reason for one
   GetResponse refuses — so a contact is never created twice, even after a crash between
   sending and confirming.

A contact still not visible after the waits stays pending: the next run confirms it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconcile.getresponse import (
    AlreadyExists,
    ConnectionFailed,
    Contact,
    CreateOutcome,
    ForbiddenState,
    NewContact,
    RateLimited,
    ValidationError,
    create_contact,
    create_import,
    explain_missing,
    find_contacts_by_email,
    iter_contacts,
    submit_batch,
    wait_for_import,
)
from reconcile.getresponse.contacts import BATCH_SIZE
from reconcile.jobs.sync.common import Journal
from reconcile.jobs.sync.context import SyncContext
from reconcile.jobs.sync.lists_decide import Member

SERVICE = "getresponse"  # the pending_async service name
SINGLE_MAX = 20  # up to this many contacts, single calls (exact, with a reason each)
IMPORT_MIN = 2000  # from this many, one import instead of batches
LOOKUP_MAX = 20  # up to this many emails, exact lookups beat a scan of the list
POLLS = (0.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)  # GetResponse's own guide: ~10 minutes
SCAN_MARGIN = dt.timedelta(minutes=10)  # clocks differ: scan from a little before the push


def pending_key(campaign_id: str, contact_id: str) -> str:
    return f"lists:{campaign_id}:{contact_id}"


@dataclass(frozen=True)
class Sent:
    """A contact submitted to a list and not yet seen there (a ``pending_async`` row)."""

    campaign_id: str
    list_record: str
    contact_id: str
    email: str
    name: str | None
    at: str  # when it was submitted (ISO 8601, UTC)
    via: str = "single"

    def payload(self) -> dict[str, Any]:
        return {"campaign": self.campaign_id, "list": self.list_record,
                "contact": self.contact_id, "email": self.email, "name": self.name,
                "at": self.at, "via": self.via}  # fmt: skip

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Sent:
        return cls(data["campaign"], data["list"], data["contact"], data["email"],
                   data.get("name"), data["at"], data.get("via", "single"))  # fmt: skip


@dataclass
class Outcome:
    found: dict[str, Contact] = field(default_factory=dict)  # contact id → on the list
    rejected: dict[str, str] = field(default_factory=dict)  # contact id → GetResponse's reason
    waiting: list[Sent] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)  # submitted by this call
    # campaign → why its import refused rows: the import's statistics account for every
    # row, so a contact it was given that is not on the list after it finished was refused.
    import_refusals: dict[str, str] = field(default_factory=dict)


def on_list(ctx: SyncContext, campaign_id: str, members: Sequence[Member]) -> dict[str, Contact]:
    """Which of ``members`` already are contacts of the list (by email): exact lookups for a
    few, else one scan of the list."""
    wanted = {m.email: m for m in members if m.email}
    if not wanted:
        return {}
    found: dict[str, Contact] = {}
    if len(wanted) <= LOOKUP_MAX:
        for email in wanted:
            for contact in find_contacts_by_email(ctx.gr, email, campaign_id=campaign_id):
                found[email] = contact
        return found
    for contact in iter_contacts(ctx.gr, campaign_id=campaign_id):
        key = contact.email.casefold()
        if key in wanted:
            found[key] = contact
    return found


def _new(member: Member) -> NewContact:
    assert member.email is not None
    return NewContact(email=member.email, name=(member.name or None) and member.name[:128])


def send(
    ctx: SyncContext,
    journal: Journal,
    campaign_id: str,
    list_record: str,
    members: Sequence[Member],
    *,
    allow_import: bool = True,
) -> Outcome:
    """Submit ``members`` (not on the list) and return what GetResponse refused at once;
    the accepted ones are pending until :func:`confirm` sees them."""
    out = Outcome()
    at = ctx.now().astimezone(dt.UTC).isoformat(timespec="microseconds")
    big = allow_import and len(members) >= IMPORT_MIN
    if big and _send_import(ctx, journal, campaign_id, list_record, members, at, out):
        return out
    if len(members) > SINGLE_MAX:
        for start in range(0, len(members), BATCH_SIZE):
            ctx.checkpoint()
            chunk = members[start : start + BATCH_SIZE]
            _send_batch(ctx, journal, campaign_id, list_record, chunk, at, out)
        return out
    _send_singles(ctx, journal, campaign_id, list_record, members, at, out)
    return out


def _intend(ctx: SyncContext, sent: list[Sent]) -> list[tuple[str, dict[str, Any]]]:
    """Record the contacts as submitted-maybe in the state store (it outlives the run);
    returns the journal items of the same contacts."""
    items = [(pending_key(s.campaign_id, s.contact_id), s.payload()) for s in sent]
    if not ctx.dry_run:
        ctx.state.add_pending(SERVICE, items)
    return [(f"push:{k[len('lists:') :]}", p) for k, p in items]


def _sent(
    campaign_id: str, list_record: str, members: Iterable[Member], at: str, via: str
) -> list[Sent]:
    return [
        Sent(campaign_id, list_record, m.contact_id, m.email or "", m.name, at, via)
        for m in members
    ]


def _send_import(
    ctx: SyncContext,
    journal: Journal,
    campaign_id: str,
    list_record: str,
    members: Sequence[Member],
    at: str,
    out: Outcome,
) -> bool:
    sent = _sent(campaign_id, list_record, members, at, "import")
    out.sent += sent
    with journal.chunk("push", _intend(ctx, sent)) as outcomes:
        rows = [[m.email or "", (m.name or "")[:128]] for m in members]
        try:
            job = create_import(ctx.gr, campaign_id, ["email", "name"], rows)
        except (AlreadyExists, RateLimited):
            del out.sent[-len(sent) :]
            return False  # another import runs for this list, or the daily quota is used
        except ConnectionFailed:
            return True  # maybe created: the confirmation finds what arrived
        for s in sent:
            outcomes.done(f"push:{s.campaign_id}:{s.contact_id}", {"import": job.import_id})
    finished = wait_for_import(
        ctx.gr, job.import_id, expected_rows=len(rows), stopped=lambda: ctx.stop.requested
    )
    if finished.status == "finished" and finished.statistics.get("invalid"):
        errors = ", ".join(f"{k} {v}" for k, v in finished.error_statistics.items() if v)
        out.import_refusals[campaign_id] = (
            f"GetResponse import {job.import_id} refused it ({errors or 'no reason given'})"
        )
    return True


def _send_batch(
    ctx: SyncContext,
    journal: Journal,
    campaign_id: str,
    list_record: str,
    members: Sequence[Member],
    at: str,
    out: Outcome,
) -> None:
    sent = _sent(campaign_id, list_record, members, at, "batch")
    with journal.chunk("push", _intend(ctx, sent)) as outcomes:
        try:
            result = submit_batch(ctx.gr, campaign_id, [_new(m) for m in members])
        except ConnectionFailed:
            out.sent += sent
            return  # maybe queued: confirmed (or re-sent one by one) later
        except (ValidationError, AlreadyExists):
            result = None  # one contact spoils the batch: find it one by one
        if result is None or result is CreateOutcome.ALREADY_EXISTS:
            outcomes.recorded.clear()
        else:
            for s in sent:
                outcomes.done(f"push:{s.campaign_id}:{s.contact_id}", {"via": "batch"})
            out.sent += sent
            return
    _send_singles(ctx, journal, campaign_id, list_record, members, at, out)


def _send_singles(
    ctx: SyncContext,
    journal: Journal,
    campaign_id: str,
    list_record: str,
    members: Sequence[Member],
    at: str,
    out: Outcome,
) -> None:
    sent = _sent(campaign_id, list_record, members, at, "single")
    out.sent += sent
    with journal.chunk("push", _intend(ctx, sent)) as outcomes:
        for member, s in zip(members, sent, strict=True):
            key = f"push:{s.campaign_id}:{s.contact_id}"
            try:
                create_contact(ctx.gr, campaign_id, _new(member))
            except (ForbiddenState, ValidationError) as exc:
                reason = _reason(exc)
                out.rejected[member.contact_id] = reason
                outcomes.failed(key, reason)
                continue
            outcomes.done(key, {"via": "single"})


def _reason(exc: Exception) -> str:
    context = getattr(exc, "context", None) or {}
    why = context.get("reason") if isinstance(context, dict) else None
    message = getattr(exc, "api_message", None) or str(exc)
    return f"GetResponse refused the contact: {message}" + (f" ({why})" if why else "")


def confirm(
    ctx: SyncContext, journal: Journal, sent: Sequence[Sent], out: Outcome, *, started: str
) -> None:
    """Wait (at growing intervals) until every submitted contact is on its list, refused
    with a reason, or the waits are over.

    Contacts submitted by an earlier invocation (before ``started``: a crash, a lost answer)
    and not found by the first look are sent again at once — a 409 then means "there, or
    queued", so nothing is created twice; those of this invocation that neither appeared
    nor were explained are re-sent once, one by one, after the first waits."""
    waiting = {s.contact_id: s for s in sent if s.contact_id not in out.rejected}
    _look(ctx, waiting, out)
    old = [s for s in waiting.values() if s.at < started]
    if old:
        _resend_many(ctx, journal, old, waiting, out)
        _look(ctx, waiting, out)
    resent = False
    for delay in POLLS[1:]:
        if not waiting:
            break
        ctx.gr.wait(delay, lambda: ctx.stop.requested)  # minutes: a stop ends it at once
        ctx.checkpoint()
        _look(ctx, waiting, out)
        if not waiting:
            break
        reasons = _explain(ctx, waiting)
        for s in waiting.values():
            refusal = out.import_refusals.get(s.campaign_id)
            if s.via == "import" and refusal and s.contact_id not in reasons:
                reasons[s.contact_id] = refusal
        for contact_id, reason in reasons.items():
            out.rejected[contact_id] = reason
            del waiting[contact_id]
        if waiting and not resent and delay >= POLLS[2]:
            resent = True
            _resend(ctx, journal, waiting, out)
    out.waiting = list(waiting.values())


def _resend_many(
    ctx: SyncContext, journal: Journal, old: list[Sent], waiting: dict[str, Sent], out: Outcome
) -> None:
    groups: dict[tuple[str, str], list[Sent]] = {}
    for s in old:
        groups.setdefault((s.campaign_id, s.list_record), []).append(s)
    for (campaign_id, list_record), items in groups.items():
        members = [Member(s.contact_id, s.email, s.name, True, False, False) for s in items]
        again = send(ctx, journal, campaign_id, list_record, members, allow_import=False)
        for contact_id, reason in again.rejected.items():
            out.rejected[contact_id] = reason
            waiting.pop(contact_id, None)


def _look(ctx: SyncContext, waiting: dict[str, Sent], out: Outcome) -> None:
    by_campaign: dict[str, dict[str, Sent]] = {}
    for s in waiting.values():
        by_campaign.setdefault(s.campaign_id, {})[s.email.casefold()] = s
    for campaign_id, emails in by_campaign.items():
        found: list[Contact] = []
        if len(emails) <= LOOKUP_MAX:
            for email in emails:
                found += find_contacts_by_email(ctx.gr, email, campaign_id=campaign_id)
        else:
            since = min(dt.datetime.fromisoformat(s.at) for s in emails.values()) - SCAN_MARGIN
            found = list(iter_contacts(ctx.gr, campaign_id=campaign_id, created_from=since))
        for contact in found:
            sent = emails.get(contact.email.casefold())
            if sent is not None and sent.contact_id in waiting:
                out.found[sent.contact_id] = contact
                del waiting[sent.contact_id]


def _explain(ctx: SyncContext, waiting: dict[str, Sent]) -> dict[str, str]:
    reasons: dict[str, str] = {}
    by_campaign: dict[str, list[Sent]] = {}
    for s in waiting.values():
        by_campaign.setdefault(s.campaign_id, []).append(s)
    for campaign_id, items in by_campaign.items():
        found = explain_missing(ctx.gr, campaign_id, [s.email for s in items])
        for s in items:
            if s.email in found:
                reasons[s.contact_id] = f"GetResponse did not add the contact: {found[s.email]}"
    return reasons


def _resend(ctx: SyncContext, journal: Journal, waiting: dict[str, Sent], out: Outcome) -> None:
    for s in list(waiting.values()):
        ctx.checkpoint()
        member = Member(s.contact_id, s.email, s.name, True, False, False)
        try:
            creation = create_contact(ctx.gr, s.campaign_id, _new(member))
        except (ForbiddenState, ValidationError) as exc:
            out.rejected[s.contact_id] = _reason(exc)
            del waiting[s.contact_id]
            continue
        if creation.outcome is CreateOutcome.ALREADY_EXISTS:
            for contact in find_contacts_by_email(ctx.gr, s.email, campaign_id=s.campaign_id):
                out.found[s.contact_id] = contact
                del waiting[s.contact_id]
                break
