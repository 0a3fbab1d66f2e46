"""The contract every sync job runs on (``run_job``): leases, resumable runs, dry runs that
write nothing, watermarks that move only after a complete apply, graceful stops, reports kept
for ``reconcile status``. A small job stands in for the real ones; the state store is real."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest

from reconcile.dataverse.errors import ServiceUnavailable
from reconcile.errors import InputError, Problem
from reconcile.getresponse.errors import WrongAddress
from reconcile.jobs.status import run_summary
from reconcile.jobs.sync import Journal, Param, Plan, Report, SyncContext, lease_name, run_job
from reconcile.jobs.sync.context import StopSignal
from reconcile.state import DONE, PENDING, LeaseHeld, StateStore


@dataclass
class Counter:
    requests: int = 0


@dataclass
class FakeGetResponse:
    stats: Counter = field(default_factory=Counter)


@dataclass
class FakeDataverse:
    requests_sent: int = 0


class ChunkedJob:
    """Writes ``items`` in chunks of two into ``self.written``; can fail or stop midway."""

    name: ClassVar[str] = "demo"
    spec: ClassVar[str] = "SPEC 0"
    summary: ClassVar[str] = "a job for the tests"
    help: ClassVar[str] = "a job for the tests"
    params: ClassVar[tuple[Param, ...]] = ()

    def __init__(
        self, items: list[str], *, fail_at: str | None = None, error: Exception | None = None
    ) -> None:
        self.items, self.fail_at = items, fail_at
        self.error = error or ServiceUnavailable("Dataverse answered 503 five times")
        self.notes: list[str] = []
        self.written: list[str] = []
        self.pending_seen: list[str] = []
        self.stop_after_first: StopSignal | None = None

    def plan(self, ctx: SyncContext, journal: Journal) -> Plan:
        self.pending_seen = [e.op_key for e in journal.pending("item")]
        plan = Plan(self.name, ctx.environment, watermarks={"wm": "2026-12-07T10:00:00Z"})
        plan.notes = list(self.notes)
        for item in self.items:
            if not journal.done(f"item:{item}"):
                plan.add("write item", item, "it is new")
        return plan

    def apply(self, plan: Plan, ctx: SyncContext, journal: Journal, report: Report) -> None:
        todo = [i.record for i in plan.items]
        for start in range(0, len(todo), 2):
            ctx.checkpoint()
            chunk = todo[start : start + 2]
            with journal.chunk("item", [(f"item:{i}", {"i": i}) for i in chunk]) as outcomes:
                for item in chunk:
                    if item == self.fail_at:
                        raise self.error
                    ctx.dv.requests_sent += 1
                    self.written.append(item)
                    outcomes.done(f"item:{item}")
            report.add("items written", len(chunk))
            if self.stop_after_first is not None:
                self.stop_after_first.request()


def context(path: Path, **kwargs: Any) -> SyncContext:
    return SyncContext(
        dv=FakeDataverse(),  # type: ignore[arg-type]
        gr=FakeGetResponse(),  # type: ignore[arg-type]
        state=StateStore(path),
        environment="https://crm.example|https://api.getresponse.com/v3",
        **kwargs,
    )


def test_a_complete_run_stores_its_watermarks_and_report(tmp_path: Path) -> None:
    job = ChunkedJob(["a", "b", "c"])
    ctx = context(tmp_path / "s.db")
    report = run_job(job, ctx)
    assert (report.exit_code, report.counts, job.written) == (0, {"items written": 3}, list("abc"))
    assert report.requests == {"getresponse": 0, "dataverse": 3}
    assert ctx.state.watermark("wm") == "2026-12-07T10:00:00Z"
    [run] = ctx.state.runs("sync:demo")
    assert (run.status, run.outcome) == ("finished", "ok")
    assert run.report is not None
    assert run.report["counts"] == {"items written": 3}
    assert ctx.state.lease_holder(lease_name("demo", ctx.environment)) is None  # released


def test_a_service_failure_keeps_the_watermark_and_the_next_run_resumes(tmp_path: Path) -> None:
    failing = ChunkedJob(["a", "b", "c", "d"], fail_at="d")
    ctx = context(tmp_path / "s.db")
    report = run_job(failing, ctx)
    assert report.exit_code == 3
    assert report.aborted
    assert "503" in report.aborted
    assert "run the same command again: it resumes" in report.lines()[-1]
    assert "  nothing to do" not in report.lines()
    assert ctx.state.watermark("wm") is None
    [run] = ctx.state.runs("sync:demo")
    assert (run.status, run.outcome) == ("running", "aborted")
    # c was recorded done before d failed in the same chunk; d stays pending.
    assert ctx.state.states(run.run_id) == {
        "item:a": DONE, "item:b": DONE, "item:c": DONE, "item:d": PENDING
    }  # fmt: skip

    again = ChunkedJob(["a", "b", "c", "d"])
    report = run_job(again, context(tmp_path / "s.db"))
    assert report.resumed
    assert report.run_id == run.run_id
    assert again.pending_seen == ["item:d"]  # the plan is told what may have happened
    assert again.written == ["d"]
    assert ctx.state.watermark("wm") == "2026-12-07T10:00:00Z"


def test_another_runner_holding_the_lease_stops_the_run_before_it_reads(tmp_path: Path) -> None:
    ctx = context(tmp_path / "s.db")
    ctx.state.acquire_lease(lease_name("demo", ctx.environment), "other-host:12:ab", 600)
    job = ChunkedJob(["a"])
    with pytest.raises(LeaseHeld, match="other-host:12:ab") as raised:
        run_job(job, ctx)
    assert raised.value.exit_code == 4  # busy: nothing was done
    assert job.written == []
    assert ctx.state.runs() == []


def test_an_expired_lease_is_taken_over(tmp_path: Path) -> None:
    ctx = context(tmp_path / "s.db")
    ctx.state.acquire_lease(lease_name("demo", ctx.environment), "dead-host:1:aa", -1)
    assert run_job(ChunkedJob(["a"]), ctx).exit_code == 0


def test_a_dry_run_plans_and_writes_nothing(tmp_path: Path) -> None:
    job = ChunkedJob(["a", "b"])
    ctx = context(tmp_path / "s.db", dry_run=True)
    report = run_job(job, ctx)
    assert report.plan is not None
    assert report.plan["counts"] == {"write item": 2}
    assert job.written == []
    assert ctx.state.runs() == []
    assert ctx.state.watermark("wm") is None
    assert any(line.startswith("  - a: it is new") for line in report.lines())


def test_a_stop_request_ends_the_run_after_the_current_chunk(tmp_path: Path) -> None:
    job = ChunkedJob(["a", "b", "c", "d"])
    ctx = context(tmp_path / "s.db")
    job.stop_after_first = ctx.stop
    report = run_job(job, ctx)
    assert job.written == ["a", "b"]
    assert report.aborted
    assert "stopped on request" in report.aborted
    assert report.exit_code == 130  # interrupted, as Ctrl-C anywhere else
    assert ctx.state.watermark("wm") is None


def test_a_wrong_address_stops_the_run_as_a_setting_to_fix(tmp_path: Path) -> None:
    wrong = WrongAddress("GetResponse has no GET /v2/campaigns: the API path is wrong")
    report = run_job(ChunkedJob(["a"], fail_at="a", error=wrong), context(tmp_path / "s.db"))
    assert report.exit_code == 2  # bad settings, as the README's table says
    lines = report.lines()
    assert "  nothing to do" not in lines  # it stopped before it could know
    assert lines[-2].startswith("Stopped: GetResponse has no GET /v2/campaigns")
    assert lines[-1].startswith("Once that is fixed")


def test_a_dry_run_with_nothing_to_do_still_shows_its_notes(tmp_path: Path) -> None:
    job = ChunkedJob([])
    job.notes = ["No GetResponse List record is set New."]
    report = run_job(job, context(tmp_path / "s.db", dry_run=True))
    assert report.lines()[1:] == ["Nothing to do.", "Note: No GetResponse List record is set New."]


def test_counts_stay_in_one_column_whatever_the_labels_length() -> None:
    report = Report("demo", "env")
    report.add("lists created")
    report.add("linked contacts whose CRM email differs from GetResponse's (not sent)", 316)
    first, second = report.lines()[1:3]
    assert len(first) == len(second)
    assert second.endswith(" 316")
    assert "(not sent) " in second


def test_full_ignores_the_stored_watermark(tmp_path: Path) -> None:
    ctx = context(tmp_path / "s.db")
    ctx.state.advance_watermark(ctx.watermark_name("demo", "contacts"), "2026-01-01")
    assert ctx.watermark("demo", "contacts") == "2026-01-01"
    full = context(tmp_path / "s.db", full=True)
    assert full.watermark("demo", "contacts") is None


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    ctx = context(tmp_path / "state.sqlite3")
    lease = lease_name("demo", ctx.environment)
    ctx.state.acquire_lease(lease, f"{socket.gethostname()}:{gone.stdout.strip()}:aa", 600)
    report = run_job(ChunkedJob(["a"]), ctx)
    assert report.exit_code == 0
    alive = f"{socket.gethostname()}:{os.getpid()}:bb"
    ctx.state.acquire_lease(lease, alive, 600)
    with pytest.raises(LeaseHeld):
        run_job(ChunkedJob(["a"]), context(tmp_path / "state.sqlite3"))


class RefusingJob(ChunkedJob):
    """Its plan refuses an option, as ``sync lists --list <a name that is not there>`` does."""

    def plan(self, ctx: SyncContext, journal: Journal) -> Plan:
        raise InputError(Problem("--list nosuch: no GetResponse List record is named 'nosuch'"),
                         hint="The lists are: clients_fr")  # fmt: skip


def test_a_run_refused_for_an_option_is_on_record_as_stopped_not_killed(tmp_path: Path) -> None:
    ctx = context(tmp_path / "s.db")
    with pytest.raises(InputError):  # the CLI says it, exit 2
        run_job(RefusingJob([]), ctx)
    [run] = ctx.state.runs("sync:demo")
    assert run.outcome == "aborted"
    assert run.report is not None
    assert "--list nosuch: no GetResponse List record" in run.report["aborted"]
    assert "The lists are: clients_fr" in run.report["aborted"]
    assert run.report["exit_code"] == 2
    assert run.report["aborted_by"] == {"type": "InputError"}
    summary = run_summary(run)
    assert summary["first_errors"][0].startswith("stopped: ")
    assert summary["outcome"] == "aborted"  # not "running … the run was killed"
    assert ctx.state.lease_holder(lease_name("demo", ctx.environment)) is None
