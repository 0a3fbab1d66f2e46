"""Events received by ``reconcile listen``, written to the CRM like the bulk path writes them.

The receiver journals each event in the state store's inbox (``pending_async``, keyed by
the event's id) *before* it answers GetResponse, and wakes the writer; the writer runs
:class:`CallbacksJob` through :func:`run_job` (lease, run record, report, like every job):

- opens and clicks become Activity records with **the bulk path's ids** (contact, message,
  type, time, URL): a webhook carries GetResponse's own time, so the hourly run finds the
  record and writes nothing; a legacy callback carries none (it is dated on receipt), so
  the hourly run *adopts* its record (same contact, message and type within 10 minutes) —
  either way, one record per activity, and the hourly run fills in what a lost callback
  missed;
- subscribes and unsubscribes go to the contacts job's inbox
  (:func:`contact_events`): it checks those contacts at its next run instead of waiting for
  its deletion scan;
- an event is resolved in the inbox once its record is written (or when it is of nothing
  the CRM keeps): a redelivery of it is recognised by its key for ``KEEP_DAYS`` and not
  written again.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from reconcile.getresponse import callbacks as gr_callbacks
from reconcile.getresponse.callback_events import Event
from reconcile.getresponse.client import GetResponseClient
from reconcile.jobs.sync import activity_links as links
from reconcile.jobs.sync import records as r
from reconcile.jobs.sync.activity_model import (
    TABLE,
    Activity,
    Links,
    aggregate_id,
    body,
)
from reconcile.jobs.sync.common import Journal, Param, Plan, Report
from reconcile.jobs.sync.context import SyncContext

NAME = "callbacks"
BATCH = 10_000  # events written per run of the writer
KEEP_DAYS = 7  # resolved events are remembered this long (redeliveries are recognised)
PATH = "getresponse"  # the receiver's path: /getresponse/<secret>


def inbox(environment: str) -> str:
    return f"getresponse-callbacks:{environment}"


def contact_inbox(environment: str) -> str:
    return f"getresponse-contact-events:{environment}"


def event_key(event: Event) -> str:
    """The inbox key: the activity's own id for opens and clicks (so a redelivery, or the same
    activity by a webhook and a callback, is one entry); a hash of the event otherwise."""
    if event.is_activity and event.message_id:
        return _activity(event).key
    text = "\x1f".join(
        (event.kind, event.contact_id, event.campaign_id or "", event.at.isoformat())
    )
    return "e" + hashlib.sha256(text.encode()).hexdigest()[:31]


def _activity(event: Event) -> Activity:
    assert event.message_id is not None
    url = event.url if event.kind == "click" else None
    return Activity(event.contact_id, event.message_id, event.kind, int(event.at.timestamp()), url)


def journal_events(state: Any, environment: str, events: list[Event]) -> None:
    """Journal received events (durably: before they are acknowledged)."""
    state.add_pending(inbox(environment), [(event_key(e), e.as_json()) for e in events])


def contact_events(state: Any, environment: str) -> dict[str, dict[str, Any]]:
    """Subscribes and unsubscribes received and not yet handled by the contacts job:
    ``{key: event}`` (resolve them with ``state.resolve_pending(contact_inbox(env), …)``)."""
    return state.pending(contact_inbox(environment))


@dataclass
class CallbacksPlan(Plan):
    writes: list[r.Write] = field(default_factory=list)
    resolved: dict[str, str] = field(default_factory=dict)  # inbox key → outcome
    written: dict[str, str] = field(default_factory=dict)  # write key → inbox key
    forwarded: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class CallbacksJob:
    """The writer of ``reconcile listen`` (not a scheduled job)."""

    name: ClassVar[str] = NAME
    spec: ClassVar[str] = "SPEC 5.5 (near real time)"
    summary: ClassVar[str] = "events received by reconcile listen → GetResponse Activity records"
    help: ClassVar[str] = "Run by reconcile listen."
    params: ClassVar[tuple[Param, ...]] = ()

    def plan(self, ctx: SyncContext, journal: Journal) -> CallbacksPlan:
        plan = CallbacksPlan(self.name, ctx.environment)
        settings = ctx.section("activities")
        kept = {k for k, on in (("open", settings.opens), ("click", settings.clicks)) if on}
        received = ctx.state.pending(inbox(ctx.environment), limit=BATCH)
        events = {key: Event.from_json(data) for key, data in received.items()}
        activities: dict[str, tuple[Activity, Event]] = {}
        for key, event in events.items():
            if event.kind in ("subscribe", "unsubscribe"):
                plan.forwarded.append((key, event.as_json()))
                plan.resolved[key] = "to the contacts job"
            elif not event.is_activity or event.kind not in kept or not event.message_id:
                plan.resolved[key] = "not kept"
            else:
                activities[key] = (_activity(event), event)
        contacts = links.contact_records(ctx, {a.contact_id for a, _ in activities.values()})
        newsletters = links.newsletter_records(ctx, {a.message_id for a, _ in activities.values()})
        aggregate = bool(settings.aggregate)
        record_keys = {
            key: aggregate_id(a.contact_id, a.message_id, a.kind) if aggregate else a.key
            for key, (a, _) in activities.items()
        }
        found = {
            str(row["grc_getresponseid"]): row
            for row in r.read_where_in(
                ctx, TABLE.entity_set,
                ("grc_getresponseid", "grc_count", "grc_activitydate", "grc_lastactivitydate"),
                "grc_getresponseid", set(record_keys.values()),
            )
        }  # fmt: skip
        counted: dict[str, list[Any]] = {}  # aggregated: record key → [activity, event, n, last]
        for key, (activity, event) in activities.items():
            record = contacts.get(activity.contact_id)
            if record is None:
                plan.resolved[key] = "not a synchronized contact"
                continue
            target = record_keys[key]
            if not aggregate:
                if target in found:
                    plan.resolved[key] = "already in the CRM"
                    continue
                links_ = Links(
                    record.record, record.crm_contact, newsletters.get(activity.message_id)
                )
                data = body(activity, event.message_name, links_, "callback")
                plan.writes.append(r.Write(f"callback:{target}", data, _label(event)))
                plan.written[f"callback:{target}"] = key
                continue
            earlier = found.get(target)
            last = _epoch(earlier, "grc_lastactivitydate") if earlier else None
            if last is not None and activity.at <= last:
                plan.resolved[key] = "already counted"
                continue
            entry = counted.setdefault(target, [activity, event, 0, activity.at, []])
            entry[2] += 1
            entry[3] = max(entry[3], activity.at)
            entry[4].append(key)
        for target, (activity, event, n, last, keys) in counted.items():
            earlier = found.get(target)
            record = contacts[activity.contact_id]
            links_ = Links(record.record, record.crm_contact, newsletters.get(activity.message_id))
            first = _epoch(earlier, "grc_activitydate") if earlier else activity.at
            total = n + (int(earlier.get("grc_count") or 0) if earlier else 0)
            data = body(activity, event.message_name, links_, "callback", key=target,
                        count=total, first=first, last=last)  # fmt: skip
            plan.writes.append(r.Write(f"callback:{target}", data, _label(event)))
            for key in keys:
                plan.written[f"callback:{target}:{key}"] = key
        if plan.writes:
            plan.add("add activities", "received by callback", "opens and clicks", len(plan.writes))
        if plan.forwarded:
            plan.add("forward", "subscribes and unsubscribes", "to the contacts job",
                     len(plan.forwarded))  # fmt: skip
        return plan

    def apply(self, plan: Plan, ctx: SyncContext, journal: Journal, report: Report) -> None:
        assert isinstance(plan, CallbacksPlan)
        if plan.forwarded:
            ctx.state.add_pending(contact_inbox(ctx.environment), plan.forwarded)
        resolved = dict(plan.resolved)
        by_target: dict[str, list[str]] = {}
        for write_key, inbox_key in plan.written.items():
            target = ":".join(write_key.split(":")[:2])
            by_target.setdefault(target, []).append(inbox_key)

        def done(write: r.Write) -> None:
            for key in by_target.get(write.key, []):
                resolved[key] = "written"

        def failed(write: r.Write, error: str) -> None:
            for key in by_target.get(write.key, []):
                resolved[key] = f"refused: {error}"[:500]

        try:
            r.write(ctx, journal, report, TABLE, plan.writes, kind="callback",
                    outcome="activities written", on_done=done, on_failed=failed,
                    per_record=False)  # fmt: skip
        finally:
            if resolved:
                ctx.state.resolve_pending(inbox(ctx.environment), resolved)
        ctx.state.prune_pending(inbox(ctx.environment), time.time() - KEEP_DAYS * 86400)
        report.add("events handled", len(resolved))


def _epoch(row: dict[str, Any] | None, column: str) -> int | None:
    from reconcile.jobs.sync.activity_model import epoch

    value = (row or {}).get(column)
    return epoch(str(value)) if value else None


def _label(event: Event) -> str:
    return f"{event.kind} of {event.message_name or event.message_id} by {event.contact_id}"


JOB = CallbacksJob()


# --- configuring GetResponse ---------------------------------------------------------------
def callback_url(public_url: str, secret: str) -> str:
    """The address GetResponse calls: the reverse proxy's URL, the receiver's path, the
    secret."""
    return f"{public_url.rstrip('/')}/{PATH}/{secret}"


def redact(url: str, secret: str) -> str:
    return url.replace(secret, "***") if secret else url


def enable(
    gr: GetResponseClient, public_url: str, secret: str, actions: tuple[str, ...]
) -> gr_callbacks.Callbacks:
    return gr_callbacks.set_callbacks(gr, callback_url(public_url, secret), actions)


def configure(
    settings: Any, *, url: str | None, disable: bool, actions: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``reconcile sync callbacks``: enable callbacks to ``url`` (or ``listen.public_url``)
    with the secret, or turn them off; what is returned never holds the secret."""
    import re

    from reconcile.config import require_getresponse
    from reconcile.errors import ConfigError
    from reconcile.getresponse.connect import connect

    with connect(require_getresponse(settings)) as gr:
        if disable:
            changed = gr_callbacks.disable_callbacks(gr)
            return {"enabled": False, "changed": changed}
        public = url or settings.listen.public_url
        if not public or not re.match(r"^https?://[^/\s]+", public):
            given = f", not {public!r}" if public else ""
            raise ConfigError(
                "reconcile sync callbacks needs the http(s) address GetResponse can reach "
                f"reconcile listen at (--url or listen.public_url){given}.",
                hint="Give your HTTPS reverse proxy's address, e.g. --url https://hooks.example.com",
            )
        secret = settings.listen.secret
        if secret is None:
            raise ConfigError(
                "The callback URL needs a secret (listen.secret), and none is set.",
                hint="Set RECONCILE_LISTEN_SECRET (a long random string) or store it: keyring "
                f"set reconcile {settings.profile}/listen.secret — reconcile listen uses it too.",
            )
        wanted = actions or gr_callbacks.DEFAULT_ACTIONS
        made = enable(gr, public, secret.reveal(), tuple(wanted))
        out: dict[str, Any] = {
            "enabled": True,
            "changed": True,
            "url": redact(made.url, secret.reveal()),
            "actions": list(made.actions),
        }
        if public.startswith("http://"):
            out["warning"] = (
                "the callback URL is plain http: the secret travels in clear; use your HTTPS "
                "reverse proxy's address"
            )
        return out


__all__ = ["JOB", "CallbacksJob", "contact_events", "event_key", "inbox", "journal_events"]
