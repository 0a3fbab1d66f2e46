"""The lists job's writes, list by list: one list's failure is recorded on it (and in the
report) and never stops the others; a service that stops answering stops the run, which
the next one resumes from the journal and the pending contacts."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from reconcile.dataverse import schema as s
from reconcile.errors import ServiceError
from reconcile.getresponse import AlreadyExists, create_campaign, delete_contact, find_campaign
from reconcile.getresponse.errors import ConnectionFailed as GrConnectionFailed
from reconcile.jobs.sync import lists_push as push
from reconcile.jobs.sync import records as r
from reconcile.jobs.sync.common import Journal, Report
from reconcile.jobs.sync.contacts import read_whole_next_time
from reconcile.jobs.sync.context import SyncContext
from reconcile.jobs.sync.lists_decide import (
    CREATED,
    DELETED,
    ERROR,
    LIVE,
    REMOVED_DELETED,
    REMOVED_MARK,
    UNSUBSCRIBED,
    Member,
    taken_elsewhere,
)
from reconcile.jobs.sync.lists_unsubscribe import unsubscribe
from reconcile.jobs.sync.lists_work import ListsPlan, ListWork

LISTS, CONTACTS = s.LISTS, s.CONTACTS
NEEDS_WRITE = (
    "The connector's identity needs Write on GetResponse List "
    "(prvWritegrc_GetResponseList): add it to its role, then run the job again."
)
FIX = "Correct what the message names, then run the job again: it retries."


def run(plan: ListsPlan, ctx: SyncContext, journal: Journal, report: Report) -> None:
    for work in plan.work:
        ctx.checkpoint()
        failures = len(report.failures)
        try:
            _one(ctx, journal, report, work)
        except ServiceError as exc:
            if _stops_run(exc):
                raise
            report.fail(work.label, getattr(exc, "message", str(exc)),
                        getattr(exc, "hint", "") or FIX)  # fmt: skip
        if len(report.failures) > failures and work.watermark is not None:
            name, value = work.watermark
            plan.watermarks[name] = value.rsplit(" ", 1)[0] + " dirty"  # evaluated in full next


def _stops_run(exc: ServiceError) -> bool:
    """Unreachable, throttled past the retries, down: the whole run stops (exit 3)."""
    return (
        bool(getattr(exc, "retriable", False))
        or isinstance(exc, GrConnectionFailed)
        or (type(exc).__name__ in ("ServiceUnavailable", "Throttled", "ConnectionFailed"))
    )


def _list_update(ctx: SyncContext, journal: Journal, report: Report, work: ListWork,
                 body: dict[str, Any], outcome: str) -> None:  # fmt: skip
    body = {LISTS.primary_id: work.record_id, "grc_lastsynchronizedon": r.sync_time(ctx.now()),
            **body}  # fmt: skip
    write = r.Write(f"list-record:{work.record_id}", body, work.label)
    r.write(ctx, journal, report, LISTS, [write], mode="update", kind="list-record",
            outcome=outcome,
            action=NEEDS_WRITE)  # fmt: skip


def _one(ctx: SyncContext, journal: Journal, report: Report, work: ListWork) -> None:
    if work.action == "error":  # a failure of the run too: exit 1 names the list
        report.fail(work.label, work.problem or "")
        _list_update(ctx, journal, report, work, {
            r.STATUS: ERROR, r.ERROR_TEXT: r.error_text(work.problem),
            "grc_iscreatedingetresponse": False}, "lists marked error")  # fmt: skip
        return
    if work.action == "deleted":
        _list_update(ctx, journal, report, work, {
            r.STATUS: DELETED, "grc_iscreatedingetresponse": False,
            r.ERROR_TEXT: "Deleted in GetResponse: the list no longer exists there. Set as New "
            "to create it again."}, "lists marked deleted")  # fmt: skip
        _records_update(ctx, journal, report, [(rid, {
            r.STATUS: DELETED, r.ERROR_TEXT: "Deleted in GetResponse with its list."})
            for rid in work.records_gone], "contact records marked deleted")  # fmt: skip
        return
    warning = r.error_text(" ".join(work.warnings)) if work.warnings else None
    if work.action in ("create", "adopt"):
        if not _ensure_list(ctx, journal, report, work):
            return
        read_whole_next_time(ctx, work.campaign_id or "")  # sync contacts: all of it, once
        _list_update(ctx, journal, report, work, {
            "grc_getresponseid": s.getresponse_key(work.campaign_id or ""),
            "grc_iscreatedingetresponse": True, r.STATUS: CREATED, r.ERROR_TEXT: warning},
            "lists created" if work.action == "create" else "lists adopted")  # fmt: skip
    elif warning != work.current_text and (warning or _our_warning(work.current_text)):
        _list_update(ctx, journal, report, work, {r.ERROR_TEXT: warning}, "lists flagged")
    _members(ctx, journal, report, work)


def _our_warning(text: str | None) -> bool:
    return bool(text) and "current user" in str(text)


def _ensure_list(ctx: SyncContext, journal: Journal, report: Report, work: ListWork) -> bool:
    """Create the GetResponse list (journaled); a name taken by another account is an Error
    of the list record (SPEC 4.4). Returns whether the list now exists here."""
    if work.campaign_id is not None:
        return True
    with journal.chunk("list", [(f"list:{work.record_id}", {"name": work.name})]) as outcomes:
        try:
            campaign = create_campaign(ctx.gr, work.name)
        except AlreadyExists:
            found = find_campaign(ctx.gr, work.name)
            if found is None:
                work.problem = taken_elsewhere(work.name)
                outcomes.failed(f"list:{work.record_id}", work.problem)
                report.fail(work.label, work.problem, "Rename the list, then Set as New again.")
                _list_update(ctx, journal, report, work, {
                    r.STATUS: ERROR, r.ERROR_TEXT: work.problem,
                    "grc_iscreatedingetresponse": False}, "lists marked error")  # fmt: skip
                return False
            campaign, work.action = found, "adopt"
        outcomes.done(f"list:{work.record_id}", {"campaign": campaign.campaign_id})
    work.campaign_id = campaign.campaign_id
    return True


def _members(ctx: SyncContext, journal: Journal, report: Report, work: ListWork) -> None:
    d, campaign = work.decision, work.campaign_id
    assert campaign is not None
    by_id: dict[str, Member] = {m.contact_id: m for m in d.push}
    outcome = push.Outcome(found=dict(work.already))
    sent = list(work.waiting)
    if d.push:
        first = push.send(ctx, journal, campaign, work.record_id, d.push)
        outcome.rejected.update(first.rejected)
        outcome.import_refusals.update(first.import_refusals)
        sent += [x for x in first.sent if x.contact_id not in first.rejected]
    if sent:
        push.confirm(ctx, journal, sent, outcome, started=work.started)
    for s_ in sent:
        by_id.setdefault(s_.contact_id, Member(s_.contact_id, s_.email, s_.name, True, False,
                                               False))  # fmt: skip
    new_ids = {m.contact_id for m in d.push}
    _link(ctx, journal, report, work, outcome, by_id)
    resolved = {push.pending_key(campaign, c): "found" for c in outcome.found}
    resolved |= {push.pending_key(campaign, c): "rejected" for c in outcome.rejected}
    if resolved:
        ctx.state.resolve_pending(push.SERVICE, resolved)
    report.add("contacts created in GetResponse", sum(1 for c in outcome.found if c in new_ids
                                                      and c not in work.already))  # fmt: skip
    report.add("contacts already on the list", len(work.already))
    report.add("queued contacts confirmed", sum(1 for c in outcome.found
                                                if c not in new_ids))  # fmt: skip
    report.add("contacts refused by GetResponse", len(outcome.rejected))
    if outcome.waiting:
        report.add("contacts still queued in GetResponse", len(outcome.waiting))
        report.notes.append(
            f"{work.label}: {len(outcome.waiting):,} contacts queued in "
            "GetResponse are not visible yet; the next run confirms them."
        )
    kinds = Counter(_kind(why) for _, why in d.skipped)
    for kind, n in sorted(kinds.items()):
        report.add(f"members not sent: {kind}", n)
    if d.email_changed:
        report.add("emails that differ in the CRM, not sent (SPEC 8.1)", len(d.email_changed))
        for member, record in d.email_changed[:5]:
            report.notes.append(
                f"{work.label}: CRM contact {member.contact_id} now has "
                f"{member.email}; its GetResponse contact keeps {record.email}."
            )
    _after_push(ctx, journal, report, work)


def _kind(why: str) -> str:
    for word, kind in (
        ("inactive", "inactive"),
        ("no email address", "no email"),
        ("not a valid", "invalid email"),
        ("bulk", "no bulk email"),
        ("allow email", "no email allowed"),
        ("shares", "email shared"),
    ):
        if word in why:
            return kind
    return "other"  # fmt: skip


def _link(ctx: SyncContext, journal: Journal, report: Report, work: ListWork,
          outcome: push.Outcome, members: dict[str, Member]) -> None:  # fmt: skip
    at = r.sync_time(ctx.now())
    list_bind = f"/{LISTS.entity_set}({work.record_id})"
    upserts = []
    for contact_id, contact in sorted(outcome.found.items()):
        member = members.get(contact_id)
        body = {
            "grc_getresponseid": s.getresponse_key(contact.contact_id),
            "grc_name": (contact.name or (member.name if member else None) or contact.email)[:200],
            "grc_email": contact.email, r.STATUS: LIVE, r.ERROR_TEXT: None,
            "grc_lastsynchronizedon": at, "grc_ContactId@odata.bind": f"/contacts({contact_id})",
            "grc_GetResponseListId@odata.bind": list_bind,
        }  # fmt: skip
        if contact.created_on is not None:
            body["grc_createdingetresponseon"] = r.sync_time(contact.created_on)
        upserts.append(r.Write(f"record:{contact.contact_id}", body, f"contact {contact.email}"))
    # upserts by key are safe to repeat whole: one journal entry per chunk of 1,000
    r.write(ctx, journal, report, CONTACTS, upserts, kind="record",
            outcome="contact records synchronized", per_record=False)  # fmt: skip
    creates = []
    for contact_id, reason in sorted(outcome.rejected.items()):
        member = members.get(contact_id)
        email = member.email if member else None
        planned = uuid.uuid5(uuid.NAMESPACE_URL, f"reconcile:lists:{work.record_id}:{contact_id}")
        body = {
            CONTACTS.primary_id: str(planned), "grc_name": ((member and member.name) or email
                                                            or contact_id)[:200],
            "grc_email": email, r.STATUS: ERROR, r.ERROR_TEXT: r.error_text(reason),
            "grc_lastsynchronizedon": at, "grc_ContactId@odata.bind": f"/contacts({contact_id})",
            "grc_GetResponseListId@odata.bind": list_bind,
        }  # fmt: skip
        creates.append(r.Write(f"rejected:{work.record_id}:{contact_id}", body,
                               f"contact {email}"))  # fmt: skip
        report.fail(f"contact {email} on {work.label}", reason,
                    "Check the address in the CRM (or GetResponse's blocklist); delete the "
                    "Error record to have the contact sent again.")  # fmt: skip
    r.write(ctx, journal, report, CONTACTS, creates, mode="create", kind="rejected",
            outcome="contact records in error")  # fmt: skip


def _records_update(ctx: SyncContext, journal: Journal, report: Report,
                    changes: list[tuple[str, dict[str, Any]]], outcome: str) -> None:  # fmt: skip
    at = r.sync_time(ctx.now())
    writes = [r.Write(f"record-update:{rid}:{outcome}",
                      {CONTACTS.primary_id: rid, "grc_lastsynchronizedon": at, **body},
                      f"GetResponse Contact record {rid}") for rid, body in changes]  # fmt: skip
    r.write(ctx, journal, report, CONTACTS, writes, mode="update", kind="record-update",
            outcome=outcome, per_record=False)  # fmt: skip


def _after_push(ctx: SyncContext, journal: Journal, report: Report, work: ListWork) -> None:
    """Removed members, opt-outs after the push, members back on the list."""
    d, settings = work.decision, ctx.section("lists")
    day = ctx.now().date().isoformat()
    changes: list[tuple[str, dict[str, Any]]] = []
    for record in d.removed:
        if settings.removed_members == "remove" and record.gr_id:
            delete_contact(ctx.gr, record.gr_id)
            changes.append((record.record_id, {r.STATUS: DELETED, r.ERROR_TEXT:
                f"{REMOVED_DELETED} on {day}; its GetResponse contact was deleted "
                "(lists.removed_members = \"remove\")."}))  # fmt: skip
        elif not record.marked_removed:
            changes.append((record.record_id, {r.ERROR_TEXT:
                f"{REMOVED_MARK} {(work.marketing or {}).get('listname')!r} since {day}; the "
                "GetResponse contact stays (lists.removed_members = \"mark\")."}))  # fmt: skip
    _records_update(ctx, journal, report, changes, "removed members handled")
    changes = [(record.record_id, {r.ERROR_TEXT: None}) for record in d.back]
    _records_update(ctx, journal, report, changes, "removal marks cleared")
    if not d.opted_out:
        return
    if not settings.unsubscribe_opted_out:
        report.add("opt-outs left subscribed (lists.unsubscribe_opted_out = false)",
                   len(d.opted_out))  # fmt: skip
        return
    changes = []
    for member, record in d.opted_out:
        ctx.checkpoint()
        how = unsubscribe(ctx, record.gr_id or "", work.campaign_id or "", member.email or "")
        changes.append((record.record_id, {r.STATUS: DELETED, r.ERROR_TEXT:
            f"{UNSUBSCRIBED} on {day} ({how}): the CRM contact no longer allows bulk "
            "email. Never re-subscribed automatically."}))  # fmt: skip
    _records_update(ctx, journal, report, changes, "contacts unsubscribed")
