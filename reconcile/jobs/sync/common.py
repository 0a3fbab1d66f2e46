"""The one contract every sync job follows (docs/sync.md), written once.

A job is an object with a ``name``, the SPEC sections it implements, its own options
(:class:`Param`), and two methods:

- ``plan(ctx, journal) -> Plan``: reads only, and decides every write and why. ``--dry-run``
  prints exactly this; ``--json`` emits it. The journal is there so that a plan made after a
  crash knows which writes of the interrupted run may have happened (``journal.pending()``)
  and checks those against the service instead of repeating them blindly.
- ``apply(plan, ctx, journal, report)``: writes in bulk, journaling every chunk before it is
  sent and after it is answered (:meth:`Journal.chunk`), calling ``ctx.checkpoint()`` between
  chunks, and counting outcomes and failures in the report.

:func:`run_job` does the rest the same way for every job: the lease (one runner per job and
environment), the run in the state store (resumed after a crash), the dry run, the
watermarks (stored only after the writes they cover, and never when the run was cut short),
the request counts, and the report kept for ``reconcile status``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Protocol

from reconcile.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SERVICE,
    ConfigError,
    InputError,
    ServiceError,
)
from reconcile.jobs.sync.context import Interrupted, SyncContext
from reconcile.state import DONE, FAILED, PENDING, Entry, StateStore

SHOWN = 20  # items of each kind a text plan or report shows (JSON has them all)


# --- what a job declares ------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One option of a job, as data: the CLI turns it into a click option."""

    flag: str  # "--list"
    dest: str  # "lists"
    help: str
    multiple: bool = False
    is_flag: bool = False
    metavar: str | None = None
    kind: str = "text"  # text | date | int


class Job(Protocol):
    name: ClassVar[str]  # "lists": ``reconcile sync lists``
    spec: ClassVar[str]  # "SPEC 4.1-4.6, 8.1"
    summary: ClassVar[str]  # one line for ``reconcile sync --help``
    help: ClassVar[str]  # the command's help, with an example
    params: ClassVar[tuple[Param, ...]]

    def plan(self, ctx: SyncContext, journal: Journal) -> Plan: ...

    def apply(self, plan: Plan, ctx: SyncContext, journal: Journal, report: Report) -> None: ...


# --- the plan -----------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanItem:
    """One decided write (or decided non-write), with the reason a person can read.

    ``count`` lets a job say "push 100,000 contacts of list X" as one item instead of
    100,000 when the individual records add nothing for the reader."""

    action: str  # "create list", "push contact", "skip member" …
    record: str  # the record, as an admin names it
    why: str
    count: int = 1


@dataclass
class Plan:
    """What a run will do. Jobs subclass it to carry the data their ``apply`` needs."""

    job: str
    environment: str
    items: list[PlanItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings for the admin (SPEC 4.6 …)
    watermarks: dict[str, str] = field(default_factory=dict)  # stored after a complete apply

    def add(self, action: str, record: str, why: str, count: int = 1) -> None:
        self.items.append(PlanItem(action, record, why, count))

    def counts(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for item in self.items:
            totals[item.action] += item.count
        return dict(totals)

    def as_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "environment": self.environment,
            "counts": self.counts(),
            "items": [asdict(i) for i in self.items],
            "notes": list(self.notes),
            "watermarks": dict(self.watermarks),
        }

    def lines(self, shown: int = SHOWN) -> list[str]:
        """The plan as an admin reads it: counts, then the first items of each kind."""
        counts = self.counts()
        notes = [f"Note: {note}" for note in self.notes]
        if not counts:
            return ["Nothing to do.", *notes]
        out = count_lines(counts)
        by_action: dict[str, list[PlanItem]] = {}
        for item in self.items:
            by_action.setdefault(item.action, []).append(item)
        for action, items in by_action.items():
            out.append(f"{action}:")
            for item in items[:shown]:
                many = f" ({item.count:,})" if item.count != 1 else ""
                out.append(f"  - {item.record}{many}: {item.why}")
            if len(items) > shown:
                out.append(f"  … and {len(items) - shown:,} more (--json lists them all)")
        return out + notes


def count_lines(counts: Mapping[str, int]) -> list[str]:
    """One line per count, the numbers in one column however long the longest label."""
    width = max([34, *(len(label) + 2 for label in counts)])
    return [f"  {label:<{width}}{n:>10,}" for label, n in counts.items()]


# --- the report ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Failure:
    record: str  # which record, as an admin names it
    message: str  # what the service (or the check) said
    action: str = ""  # what to do about it


@dataclass
class Report:
    """What a run did: outcome counts, failures, notes, cost. Kept in the state store."""

    job: str
    environment: str
    dry_run: bool = False
    run_id: int | None = None
    resumed: bool = False  # an interrupted run's journal was taken over
    started_at: str = ""
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)
    watermarks: dict[str, str] = field(default_factory=dict)
    aborted: str | None = None
    interrupted: bool = False  # aborted because a stop was asked for (SIGTERM, Ctrl-C)
    # what cut the run short, for the runner and alerts: {"type": "AccessDenied", "code": 1016,
    # "service": "getresponse"} for a service error, {"type": "Interrupted"} for a stop
    aborted_by: dict[str, Any] | None = None
    aborted_exit: int = EXIT_SERVICE  # 2 when what stopped it is a setting (a wrong address)
    plan: dict[str, Any] | None = None  # the plan (dry run) or its counts (real run)

    def add(self, outcome: str, n: int = 1) -> None:
        if n:
            self.counts[outcome] = self.counts.get(outcome, 0) + n

    def fail(self, record: str, message: str, action: str = "") -> None:
        self.failures.append(Failure(record, message, action))

    @property
    def outcome(self) -> str:
        if self.aborted:
            return "aborted"
        return "failed" if self.failures else "ok"

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        if self.aborted:  # a setting to fix (a wrong address) is 2, like any bad setting
            return self.aborted_exit
        return EXIT_FAILED if self.failures else EXIT_OK

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"], data["exit_code"] = self.outcome, self.exit_code
        return data

    def lines(self, shown: int = SHOWN) -> list[str]:
        head = "Dry run of" if self.dry_run else "Ran"
        calls = ", ".join(f"{n:,} {service}" for service, n in self.requests.items())
        out = [f"{head} sync {self.job} in {self.seconds:.1f} s ({calls} requests)."]
        if self.resumed:
            out.append("  (an interrupted run was resumed from its journal)")
        if self.dry_run and self.plan is not None:
            plan = Plan(self.job, self.environment)
            plan.items = [PlanItem(**i) for i in self.plan["items"]]
            plan.notes = list(self.plan["notes"])
            return out + plan.lines(shown)
        out += count_lines(self.counts)
        if not self.counts and not self.failures and not self.aborted:
            out.append("  nothing to do")
        for failure in self.failures[:shown]:
            action = f" → {failure.action}" if failure.action else ""
            out.append(f"  failed: {failure.record}: {failure.message}{action}")
        if len(self.failures) > shown:
            out.append(f"  … and {len(self.failures) - shown:,} more failures (--json)")
        out += [f"Note: {note}" for note in self.notes]
        if self.interrupted:
            out.append(f"Stopped: {self.aborted}")
            out.append("Run the same command again: it resumes where this run stopped.")
        elif self.aborted:
            out.append(f"Stopped: {self.aborted}")
            out.append(
                "Once that is fixed (or the service answers again), run the same command "
                "again: it resumes where this run stopped."
            )
        return out


# --- the journal --------------------------------------------------------------------------
class Journal:
    """The run's journal in the state store: each write intended before it is sent, marked
    after it is answered. A dry run gets a read-only journal (``run_id`` of the interrupted
    run, if any, and ``writable=False``)."""

    def __init__(self, state: StateStore, run_id: int | None, *, writable: bool = True) -> None:
        self.state, self.run_id, self.writable = state, run_id, writable
        entries = state.entries(run_id) if run_id is not None else []
        self._entries: dict[str, Entry] = {e.op_key: e for e in entries}
        self.resumed = bool(entries)

    def state_of(self, key: str) -> str | None:
        entry = self._entries.get(key)
        return entry.state if entry else None

    def done(self, key: str) -> bool:
        return self.state_of(key) == DONE

    def result(self, key: str) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        return entry.result if entry else None

    def pending(self, kind: str | None = None) -> list[Entry]:
        """Writes an earlier invocation sent (or was about to send) and never saw answered:
        each may or may not have happened; check it against the service before repeating."""
        return [
            e
            for e in self._entries.values()
            if e.state == PENDING and (kind is None or e.kind == kind)
        ]

    def intend(self, kind: str, items: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        rows = [(key, kind, dict(payload)) for key, payload in items]
        if self.writable and self.run_id is not None and rows:
            self.state.intend(self.run_id, rows)
        for key, _, payload in rows:
            if key not in self._entries:
                self._entries[key] = Entry(key, kind, PENDING, payload, None, None)

    def mark(self, outcomes: Mapping[str, tuple[str, dict[str, Any] | None, str | None]]) -> None:
        """(DONE | FAILED, result, error text) per op key."""
        if self.writable and self.run_id is not None and outcomes:
            self.state.mark(self.run_id, [(k, s, r, e) for k, (s, r, e) in outcomes.items()])
        for key, (state, result, error) in outcomes.items():
            old = self._entries.get(key)
            kind, payload = (old.kind, old.payload) if old else ("", {})
            self._entries[key] = Entry(key, kind, state, payload, result, error)

    @contextmanager
    def chunk(
        self, kind: str, items: Iterable[tuple[str, Mapping[str, Any]]]
    ) -> Iterator[ChunkOutcomes]:
        """Intend ``items`` (op key, payload), let the body send them and record what happened
        to each, then mark them. An op the body leaves unrecorded stays pending: the next run
        checks it. If the body raises, what it recorded is still marked."""
        keyed = list(items)
        self.intend(kind, keyed)
        outcomes = ChunkOutcomes()
        try:
            yield outcomes
        finally:
            self.mark(outcomes.recorded)


class ChunkOutcomes:
    """What happened to each op of a chunk, filled by the code that sent it."""

    def __init__(self) -> None:
        self.recorded: dict[str, tuple[str, dict[str, Any] | None, str | None]] = {}

    def done(self, key: str, result: dict[str, Any] | None = None) -> None:
        self.recorded[key] = (DONE, result or {}, None)

    def failed(self, key: str, error: str, result: dict[str, Any] | None = None) -> None:
        self.recorded[key] = (FAILED, result or {}, error)


# --- running a job ------------------------------------------------------------------------
def lease_name(job: str, environment: str) -> str:
    return f"sync:{job}:{environment}"


def run_job(job: Job, ctx: SyncContext) -> Report:
    """Plan and (unless ``ctx.dry_run``) apply ``job``: the same steps for every job.

    Raises ``LeaseHeld`` when another runner is doing this job on this environment, and lets
    settings and input errors through (exit 2, nothing written). A service failure in the
    middle ends the run early with ``report.aborted`` set (exit 3): what was done is kept and
    journaled, the watermarks stay where they were, and the next run resumes the journal.
    """
    started = time.perf_counter()
    before = ctx.requests()
    report = Report(job.name, ctx.environment, ctx.dry_run, started_at=ctx.now().isoformat())
    run_key = f"sync:{job.name}"
    if ctx.dry_run:
        last = ctx.state.last_run(run_key, ctx.environment)
        interrupted = last[0] if last is not None and last[1] == "running" else None
        journal = Journal(ctx.state, interrupted, writable=False)
        preview = job.plan(ctx, journal)
        report.plan, report.notes = preview.as_dict(), list(preview.notes)
        report.watermarks = dict(preview.watermarks)
        _close(report, ctx, started, before)
        return report
    lease = lease_name(job.name, ctx.environment)
    ctx.hold(lease)
    try:
        run_id = ctx.state.open_run(run_key, ctx.environment)
        journal = Journal(ctx.state, run_id)
        report.run_id, report.resumed = run_id, journal.resumed
        plan: Plan | None = None
        try:
            plan = job.plan(ctx, journal)
            report.plan = {"counts": plan.counts()}
            report.notes[:0] = plan.notes
            job.apply(plan, ctx, journal, report)
        except Interrupted:
            report.interrupted = True
            report.aborted = (
                "stopped on request after the current chunk; the next run goes on from there"
            )
            report.aborted_by = {"type": "Interrupted"}
        except ServiceError as exc:
            report.aborted = str(exc)
            report.aborted_by = _cause(exc)
            report.aborted_exit = getattr(exc, "exit_code", EXIT_SERVICE)
        except (InputError, ConfigError) as exc:
            # refused (an option or a setting to fix): the run ends with its reason on record,
            # so that `reconcile status` does not show it as killed, nor the runner resume it
            report.aborted = str(exc)
            report.aborted_by = {"type": type(exc).__name__}
            report.aborted_exit = exc.exit_code
            _close(report, ctx, started, before)
            ctx.state.save_report(run_id, report.outcome, report.as_dict())
            raise
        if report.aborted is None and plan is not None:
            for name, value in plan.watermarks.items():
                report.watermarks[name] = ctx.state.advance_watermark(name, value)
            ctx.state.finish_run(run_id)
        _close(report, ctx, started, before)
        ctx.state.save_report(run_id, report.outcome, report.as_dict())
    finally:
        ctx.release()
    return report


def _cause(exc: ServiceError) -> dict[str, Any]:
    module = type(exc).__module__
    service = next((s for s in ("getresponse", "dataverse") if f".{s}." in module), None)
    return {
        "type": type(exc).__name__,
        "service": service,
        "code": getattr(exc, "code", None),
        "http_status": getattr(exc, "http_status", None),
    }


def _close(report: Report, ctx: SyncContext, started: float, before: dict[str, int]) -> None:
    now = ctx.requests()
    report.requests = {service: now[service] - before[service] for service in now}
    report.seconds = round(time.perf_counter() - started, 2)
