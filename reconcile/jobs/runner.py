"""``reconcile run``: every sync job on its cadence (SPEC 9), one job at a time per GetResponse
account × Dynamics environment, until stopped — or, with ``--once``, what is due now.

Why the state store decides everything: several runners (a standby, hosts sharing a
PostgreSQL store) must agree on what is due without talking to each other. So a job's due
time is computed from what the store says — when the last run started (``schedule:<job>:<env>``,
written by whichever runner started it), whether an interrupted run waits to be resumed,
whether another runner holds the job's lease — never from this process's memory:

- a job that never ran, or whose last run was interrupted (killed, stopped), is due at once;
- otherwise it is due at its cadence after the last start (:mod:`reconcile.schedule`): a job
  that overran its cadence is started again once it is over, never twice at a time (the
  lease), and a slot missed while the machine slept runs once;
- a GetResponse API block (codes 1016, 1017) stops the run with an alert and keeps every job
  of that account waiting ``schedule.after_block`` instead of hammering a blocked API.

While a job runs, the runner holds two leases in the store: ``runner:<env>`` (one job at a time
on the environment, whichever runner) and the job's own (``sync:<job>:<env>``, taken by
``run_job``); a :class:`Heartbeat` thread renews both, so a live runner never loses them during a
long chunk and a killed one's expire after ``schedule.lease``. Between jobs it sleeps until the
next one is due — no CPU spent, at most a minute between looks at the store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

from reconcile.errors import ReconcileError
from reconcile.jobs.alerts import Alerts
from reconcile.jobs.clocks import Clock, WallClock
from reconcile.jobs.due import (
    Due,
    next_due,
    runner_lease,
    schedule_key,
)
from reconcile.jobs.status import job_status
from reconcile.jobs.sync.common import Job, Report, lease_name, run_job
from reconcile.jobs.sync.context import StopSignal, SyncContext
from reconcile.schedule import Cadence
from reconcile.state import LeaseHeld, StateError, StateStore

LOOK_AGAIN = 60.0  # the longest a waiting runner goes without reading the store
BLOCK_CODES = frozenset({1016, 1017})  # GetResponse: temporary and permanent API blocks


class Log(Protocol):
    """Where the runner says what it does (the CLI prints lines or JSON objects)."""

    def event(self, kind: str, text: str, **fields: Any) -> None: ...


class Heartbeat:
    """Renews leases from a thread of its own while a job runs, so that a chunk longer than
    the checkpoints' renewals (a slow bulk request, a long wait for the rate limit) never
    loses them. It only extends leases that are still ours (``renew_lease``): it can never
    take one back after the run released it or another runner took it over."""

    def __init__(
        self, state: StateStore, names: Iterable[str], holder: str, ttl: float, log: Log
    ) -> None:
        self.state, self.names, self.holder, self.ttl = state, list(names), holder, ttl
        self.log = log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        if self.state.path != ":memory:":  # another connection would see another database
            self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        store: StateStore | None = None
        try:
            while not self._stop.wait(self.ttl / 3):
                try:
                    store = store or self.state.reopen()
                    for name in self.names:
                        store.renew_lease(name, self.holder, self.ttl)
                except StateError as exc:  # the database is away: the next beat tries again
                    self.log.event("heartbeat failed", f"could not renew the leases: {exc}")
                    if store is not None:
                        store.close()
                    store = None
        finally:
            if store is not None:
                store.close()


class Runner:
    """Runs the registered jobs on one environment when they are due (see the module doc)."""

    def __init__(
        self,
        ctx: SyncContext,
        registry: Mapping[str, Job],
        cadences: Mapping[str, Cadence],
        *,
        log: Log,
        clock: Clock | None = None,
        tz: tzinfo = UTC,
        after_block: float = 3600.0,
        alerts: Alerts | None = None,
        stale_after: float | None = None,
        on_report: Callable[[Job, Report], None] | None = None,
        look_again: float = LOOK_AGAIN,
    ) -> None:
        missing = [name for name in registry if name not in cadences]
        if missing:
            raise ValueError(f"no cadence for {', '.join(missing)}")
        self.ctx, self.registry, self.cadences = ctx, dict(registry), dict(cadences)
        self.log, self.clock, self.tz = log, clock or WallClock(), tz
        self.after_block, self.on_report, self.look_again = after_block, on_report, look_again
        self.ctx.now = self.clock.now  # the jobs' windows and the cadences on one clock
        self.alerts = alerts or Alerts(ctx.state, [], log, now=self.clock.now)
        self.stale_after = stale_after

    @property
    def stop(self) -> StopSignal:
        return self.ctx.stop

    @property
    def environment(self) -> str:
        return self.ctx.environment

    def dues(self) -> list[Due]:
        now = self.clock.now()
        return [
            next_due(self.ctx.state, name, self.environment, self.cadences[name], now, self.tz)
            for name in self.registry
        ]

    # -- one job -------------------------------------------------------------------------
    def run_one(self, name: str) -> Report | None:
        """Run ``name`` now if no other runner is busy on this environment; None when one is."""
        job, state, holder = self.registry[name], self.ctx.state, self.ctx.holder
        if self.ctx.dry_run:  # plans only: no lease, nothing recorded
            report = run_job(job, self.ctx)
            self.log.event(
                "planned",
                f"{name}: planned (dry run)",
                job=name,
                counts=(report.plan or {}).get("counts", {}),
            )
            return report
        env_lease = runner_lease(self.environment)
        try:
            state.acquire_lease(env_lease, holder, self.ctx.lease_seconds)
        except LeaseHeld as exc:
            self.log.event(
                "busy",
                f"{name}: another runner ({exc.holder}) is running a job on this "
                "environment (one at a time); left for later",  # --once does not wait
                job=name,
                holder=exc.holder,
            )
            return None
        try:
            # Re-read once the environment is ours: another runner may have just run it.
            due = next_due(
                state, name, self.environment, self.cadences[name], self.clock.now(), self.tz
            )
            if not due.is_due(self.clock.now()):
                return None
            started = self.clock.now()
            state.advance_watermark(schedule_key(name, self.environment), _iso(started))
            self.log.event(
                "started", f"{name}: started ({due.reason})", job=name, reason=due.reason
            )
            names = (env_lease, lease_name(name, self.environment))
            with Heartbeat(state, names, holder, self.ctx.lease_seconds, self.log):
                report = run_job(job, self.ctx)
        except LeaseHeld as exc:  # a one-shot `reconcile sync` is doing it
            self.log.event("busy", f"{name}: {exc.message}; skipped", job=name, holder=exc.holder)
            return None
        finally:
            state.release_lease(env_lease, holder)
        self._after(job, report)
        return report

    def _after(self, job: Job, report: Report) -> None:
        self.log.event(
            "finished",
            f"{job.name}: {summary(report)}",
            job=job.name,
            outcome=report.outcome,
            seconds=report.seconds,
            counts=report.counts,
            requests=report.requests,
            failures=len(report.failures),
            aborted=report.aborted,
            run_id=report.run_id,
        )
        cause = report.aborted_by or {}
        if _blocked(report):
            until = _iso(self.clock.now() + timedelta(seconds=self.after_block))
            self.alerts.blocked(self.environment, cause.get("code"), until, report.aborted or "")
            self.log.event(
                "blocked",
                f"GetResponse blocked the API (code {cause.get('code')}): "
                f"no job calls it before {until}",
                until=until,
                code=cause.get("code"),
            )
        elif report.aborted_by is None:
            self.alerts.unblocked(self.environment)
        self.alerts.after_run(job.name, self.environment, report)
        if self.on_report is not None:
            self.on_report(job, report)

    # -- rounds ----------------------------------------------------------------------------
    def once(self) -> list[Report]:
        """Every job due now, each once, earliest due first; then return their reports."""
        reports = []
        for due in sorted(self.dues(), key=lambda d: d.at):
            if self.stop.requested:
                break
            if not due.is_due(self.clock.now()):
                continue
            try:
                report = self.run_one(due.job)
            except ReconcileError as exc:  # a job's settings or input: the others still run
                self.log.event("error", f"{due.job}: {exc}", job=due.job, error=str(exc))
                continue
            if report is not None:
                reports.append(report)
                if _blocked(report):
                    break  # the account is blocked: the other jobs would be too
        self.check()
        if not reports and not self.stop.requested:
            self._say_next()
        return reports

    def _say_next(self) -> None:
        """One line when what comes next changes ("next: newsletters at 10:01:00Z")."""
        now = self.clock.now()
        upcoming = min(self.dues(), key=lambda d: d.at, default=None)
        if upcoming is None:
            return
        when = "now" if upcoming.at <= now else _iso(upcoming.at)
        text = f"next: {upcoming.job} {when} ({upcoming.reason})"
        if upcoming.held_by:
            text = f"next: {upcoming.job}, running on {upcoming.held_by}"
        if text != getattr(self, "_said", None):
            self._said = text
            self.log.event("waiting", text, job=upcoming.job, at=when)

    def check(self) -> None:
        """Stale data opens an incident (and a fresh run closes it); undelivered alerts are
        tried again."""
        if self.stale_after is not None:
            now = self.clock.now()
            lags = []
            for name in self.registry:
                found = job_status(
                    self.ctx.state,
                    name,
                    self.environment,
                    self.cadences[name],
                    now,
                    tz=self.tz,
                    stale_after=self.stale_after,
                )
                lags.append((name, found.lag_seconds, found.stale))
            self.alerts.staleness(self.environment, lags, self.stale_after)
        self.alerts.retry()

    def forever(self) -> None:
        """Rounds until stopped; between them, sleep until the next job is due."""
        listed = ", ".join(f"{n} {self.cadences[n].describe()}" for n in self.registry)
        self.log.event(
            "runner started",
            f"runner {self.ctx.holder} started: {listed}",
            holder=self.ctx.holder,
            jobs=list(self.registry),
        )
        while not self.stop.requested:
            try:
                self.once()
                wait = self.seconds_to_next()
            except StateError as exc:  # the store is away (PostgreSQL restarting): wait
                self.log.event("state error", f"the state store failed: {exc}", error=str(exc))
                wait = self.look_again
            if self.stop.requested:
                break
            self.clock.sleep(wait, self.stop)
        self.log.event("runner stopped", f"runner {self.ctx.holder} stopped")

    def seconds_to_next(self) -> float:
        now = self.clock.now()
        waits = [(d.at - now).total_seconds() for d in self.dues()]
        soonest = min(waits, default=self.look_again)
        return min(max(soonest, 0.5), self.look_again)


def _blocked(report: Report) -> bool:
    cause = report.aborted_by or {}
    return cause.get("service") == "getresponse" and cause.get("code") in BLOCK_CODES


def summary(report: Report) -> str:
    counts = ", ".join(f"{outcome} {n:,}" for outcome, n in report.counts.items()) or "nothing"
    calls = ", ".join(f"{n:,} {service}" for service, n in report.requests.items())
    text = f"{report.outcome} in {report.seconds:.1f} s: {counts} ({calls} requests)"
    if report.failures:
        first = report.failures[0]
        text += f"; {len(report.failures):,} failed, first: {first.record}: {first.message}"
        text += f" → {first.action}" if first.action else ""  # what to do, as sync JOB says
    if report.aborted:
        text += f"; stopped: {report.aborted}"
    return text


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
