"""Reading a window of activities out of GetResponse, onto a spool file.

**The bulk path** is a custom report of type ``message_activity_report`` (docs/sync.md,
"activities"): one report for the window's dates and the messages sent in the retention
period, polled until its files are ready (at most ``activities.report_wait`` per run), each
file streamed to disk and read row by row. The report is tracked in the state store
(``pending_async``) from *before* it is asked for: a run that is killed, or that stops waiting,
leaves it there, and the next run goes on with the same report instead of asking for another
(a report whose creation answer was lost is found again by its unique name).

**The fallback** reads the activity endpoints, every read naming its window (the per-contact
endpoint's default is the last 14 days, the per-message one's at most 30 days back):
``GET /newsletters/{id}/activities`` for windows within the last 30 days — its clicks have no
URL, so each clicking contact's ``GET /contacts/{id}/activities`` supplies it — and
``GET /contacts/{id}/activities`` for every synchronized contact of the messages' lists when
the window starts earlier. It is used when ``activities.source = "api"``, when the account's
plan has no custom reports, and (``auto``) for a window of the last 30 days that
GetResponse's statistics say holds no more than ``SMALL`` activities — a report would cost
more requests and minutes of waiting than reading them directly.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconcile.getresponse import reports as gr_reports
from reconcile.getresponse.contacts import iter_contact_activities
from reconcile.getresponse.errors import GetResponseError
from reconcile.getresponse.newsletters import iter_newsletter_activities, iter_sent_newsletters
from reconcile.getresponse.records import Newsletter
from reconcile.getresponse.report_files import FileStats, read_rows
from reconcile.jobs.sync.activity_model import Spool
from reconcile.jobs.sync.context import SyncContext
from reconcile.schedule import parse_duration

log = logging.getLogger("reconcile.sync")

SMALL = 500  # activities in a window below which "auto" reads the endpoints directly
PER_MESSAGE_DAYS = 30  # GET /newsletters/{id}/activities: "for last 30 days only"
REPORT_PREFIX = "reconcile activities"


@dataclass(frozen=True)
class Window:
    start: dt.datetime  # closed
    end: dt.datetime  # open

    @property
    def bounds(self) -> tuple[int, int]:
        return int(self.start.timestamp()), int(self.end.timestamp())

    def describe(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M} UTC"


@dataclass
class Sourced:
    """A window read from GetResponse (or not yet: ``complete`` False, see ``notes``)."""

    window: Window
    source: str  # report | messages | contacts | estimate
    spool: Spool = field(default_factory=Spool)  # contact id, email, message id, kind, at, url
    names: dict[str, str] = field(default_factory=dict)  # message id → name
    campaigns: dict[str, str] = field(default_factory=dict)  # message id → list (campaign) id
    notes: list[str] = field(default_factory=list)
    complete: bool = True
    outside: int = 0  # rows of the report outside the window (read again next time)
    stats: FileStats = field(default_factory=FileStats)
    report: tuple[str, str] | None = None  # (pending key, name) to resolve once applied
    estimate: dict[str, int] | None = None  # dry run: activities by kind, from statistics


def messages(ctx: SyncContext, window: Window, retention_days: int) -> list[Newsletter]:
    """Newsletters sent in the retention period before the window, up to its end: the messages
    whose activities the window can hold (sent from the CRM or from GetResponse alike)."""
    since = window.start - dt.timedelta(days=retention_days)
    return list(iter_sent_newsletters(ctx.gr, since=since, until=window.end))


def statistics(
    ctx: SyncContext, window: Window, message_ids: Sequence[str]
) -> dict[str, dict[str, int]]:
    """GetResponse's own counts for the window, per message: ``{id: {send, open, click,
    unique_open, unique_click}}`` (one request per message)."""
    out: dict[str, dict[str, int]] = {}
    for message_id in message_ids:
        params = {
            "query": {
                "groupBy": "total",
                "createdOn": {"from": window.start, "to": window.end},
            }
        }
        totals = {"send": 0, "open": 0, "click": 0, "unique_open": 0, "unique_click": 0}
        for item in ctx.gr.items(f"newsletters/{message_id}/statistics", params):
            totals["send"] += int(item.get("sent") or 0)
            totals["open"] += int(item.get("totalOpened") or 0)
            totals["click"] += int(item.get("totalClicked") or 0)
            totals["unique_open"] += int(item.get("uniqueOpened") or 0)
            totals["unique_click"] += int(item.get("uniqueClicked") or 0)
        out[message_id] = totals
    return out


def volume(ctx: SyncContext, window: Window, message_ids: Sequence[str]) -> dict[str, int]:
    """GetResponse's counts for the window, all messages together: ``{send, open, click}``
    (``GET /newsletters/statistics``, 50 messages a request)."""
    totals = {"send": 0, "open": 0, "click": 0}
    for start in range(0, len(message_ids), 50):
        params = {
            "query": {
                "newsletterId": ",".join(message_ids[start : start + 50]),
                "groupBy": "total",
                "createdOn": {"from": window.start, "to": window.end},
            }
        }
        for item in ctx.gr.items("newsletters/statistics", params):
            totals["send"] += int(item.get("sent") or 0)
            totals["open"] += int(item.get("totalOpened") or 0)
            totals["click"] += int(item.get("totalClicked") or 0)
    return totals


# --- the bulk path --------------------------------------------------------------------------
def pending_key(ctx: SyncContext) -> str:
    return f"getresponse-report:activities:{ctx.environment}"


def _report_name(window: Window) -> str:
    stamp = f"{window.start:%Y%m%d%H%M}-{window.end:%Y%m%d%H%M}"
    return f"{REPORT_PREFIX} {stamp} {uuid.uuid4().hex[:8]}"  # 49 characters, unique


def pending_report(ctx: SyncContext) -> tuple[str, dict[str, Any]] | None:
    """The report an earlier run asked for and did not finish with, if any."""
    found = ctx.state.pending(pending_key(ctx))
    named = {k: v for k, v in found.items() if not k.endswith("#id")}
    if not named:
        return None
    name = min(named, key=lambda k: named[k]["start"])
    payload = dict(named[name])
    created = found.get(f"{name}#id")
    if created:
        payload["report_id"] = created["report_id"]
    return name, payload


def read_report(
    ctx: SyncContext,
    window: Window,
    message_list: list[Newsletter],
    kinds: Sequence[str],
    wait: str,
) -> Sourced:
    """Ask for (or go on with) the window's custom report, wait for it, read its files.
    Raises :class:`GetResponseError` when the plan has no custom reports
    (:func:`reconcile.getresponse.reports.unavailable`)."""
    key = pending_key(ctx)
    earlier = pending_report(ctx)
    if earlier is not None:
        name, payload = earlier
        window = Window(
            dt.datetime.fromisoformat(payload["start"]), dt.datetime.fromisoformat(payload["end"])
        )
        kinds, message_ids = payload["kinds"], payload["messages"]
        note = f"went on with custom report {name!r} asked for by an earlier run"
    else:
        name = _report_name(window)
        message_ids = [m.newsletter_id for m in message_list]
        payload = {
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "kinds": list(kinds),
            "messages": message_ids,
        }
        ctx.state.add_pending(key, [(name, payload)])  # before asking: a kill finds it again
        note = ""
    sourced = Sourced(window, "report", report=(key, name))
    sourced.names = {m.newsletter_id: m.name or m.subject or "" for m in message_list}
    sourced.campaigns = {m.newsletter_id: m.campaign_id or "" for m in message_list}
    if note:
        sourced.notes.append(note)
    report_id = payload.get("report_id")
    if report_id is None:
        found = gr_reports.find_reports(ctx.gr, name) if earlier is not None else []
        if found:
            report_id = found[0]
        else:
            try:
                made = gr_reports.create_activity_report(
                    ctx.gr,
                    name=name,
                    start=window.start.date(),
                    end=(window.end - dt.timedelta(seconds=1)).date(),
                    kinds=kinds,
                    message_ids=message_ids,
                )
            except GetResponseError as exc:
                if gr_reports.unavailable(exc):
                    ctx.state.resolve_pending(key, {name: "unavailable"})
                raise
            report_id = made.report_id
        ctx.state.add_pending(key, [(f"{name}#id", {"report_id": report_id})])
    report = gr_reports.wait_for_report(
        ctx.gr, report_id, timeout=parse_duration(wait), stopped=lambda: ctx.stop.requested
    )
    if not report.ready and not report.failed:
        ctx.checkpoint()  # a stop while waiting: Interrupted; the next run goes on with it
    if report.failed:
        ctx.state.resolve_pending(key, {name: "failed", f"{name}#id": "failed"})
        sourced.complete = False
        sourced.notes.append(
            f"GetResponse could not generate custom report {name!r} ({report_id}); the next "
            "run asks for a new one for the same window."
        )
        return sourced
    if not report.ready:
        sourced.complete = False
        sourced.notes.append(
            f"GetResponse is still generating custom report {name!r} ({report_id}, asked for "
            f"{report.created_at:%Y-%m-%d %H:%M} UTC) for {window.describe()}; the next run goes "
            "on with it (activities.report_wait says how long a run waits)."
        )
        return sourced
    allowed = set(kinds)
    messages_wanted = set(message_ids)
    low, high = window.bounds
    for file in report.files:
        with tempfile.TemporaryFile() as raw:
            gr_reports.download_report_file(
                ctx.gr, report.report_id, file.file_id, raw, url=file.download_url
            )
            where = f"custom report {report.report_id} file {file.file_id}"
            for contact, email, message, name_, kind, at, url in read_rows(
                raw, where, sourced.stats
            ):
                if kind not in allowed or message not in messages_wanted:
                    continue
                if not low <= at < high:
                    sourced.outside += 1
                    continue
                if name_ and message not in sourced.names:
                    sourced.names[message] = name_
                sourced.spool.add(
                    contact, email, message, kind, at, url if kind == "click" else None
                )
    return sourced


def resolve(ctx: SyncContext, sourced: Sourced) -> None:
    """The report's activities are all written: forget it."""
    if sourced.report is not None:
        key, name = sourced.report
        ctx.state.resolve_pending(key, {name: "read", f"{name}#id": "read"})


# --- the fallback ---------------------------------------------------------------------------
def read_endpoints(
    ctx: SyncContext,
    window: Window,
    message_list: list[Newsletter],
    kinds: Sequence[str],
    contacts_of_lists: Callable[[Iterable[str]], list[str]],
) -> Sourced:
    """The window from the activity endpoints (see the module docstring)."""
    allowed = set(kinds)
    by_id = {m.newsletter_id: m for m in message_list}
    recent = ctx.now() - dt.timedelta(days=PER_MESSAGE_DAYS) + dt.timedelta(hours=1)
    low, high = window.bounds
    if window.start >= recent:
        sourced = Sourced(window, "messages")
        clickers: set[str] = set()
        for message in message_list:
            for a in iter_newsletter_activities(
                ctx.gr, message.newsletter_id, since=window.start, until=window.end
            ):
                at = int(a.created_on.timestamp()) if a.created_on else None
                if a.contact_id is None or at is None or not low <= at < high:
                    continue
                if a.activity == "click" and "click" in allowed:
                    clickers.add(a.contact_id)
                elif a.activity in allowed and a.activity != "click":
                    sourced.spool.add(
                        a.contact_id, a.email, message.newsletter_id, a.activity, at, None
                    )
        contacts, wanted = sorted(clickers), {"click"}
    else:
        sourced = Sourced(window, "contacts")
        campaigns = {m.campaign_id for m in message_list if m.campaign_id}
        contacts, wanted = contacts_of_lists(campaigns), allowed
        sourced.notes.append(
            f"The window starts more than {PER_MESSAGE_DAYS} days ago: read contact by contact "
            f"({len(contacts):,} synchronized contacts, a request each at least)."
        )
    for contact_id in contacts:
        for c in iter_contact_activities(
            ctx.gr, contact_id, since=window.start, until=window.end, kinds=wanted
        ):
            at = int(c.created_on.timestamp()) if c.created_on else None
            if c.resource_id not in by_id or at is None or not low <= at < high:
                continue
            url = c.url if c.activity == "click" else None
            sourced.spool.add(contact_id, None, c.resource_id, c.activity, at, url)
    sourced.names = {m.newsletter_id: m.name or m.subject or "" for m in message_list}
    sourced.campaigns = {m.newsletter_id: m.campaign_id or "" for m in message_list}
    return sourced
