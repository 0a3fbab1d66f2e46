"""The runner: jobs run when due and only then, a missed slot once, an overrun never twice at a
time, an interrupted run resumed at once, one job at a time per environment, a stop after the
current chunk, a GetResponse API block that stops the run and keeps the account alone, and a
heartbeat that keeps leases through a long chunk. The state store is real (a SQLite file);
the clock is the test's."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from reconcile.jobs.runner import Heartbeat, Runner, next_due, runner_lease, schedule_key
from reconcile.jobs.sync import lease_name
from reconcile.state import LeaseHeld, StateStore
from tests.jobs.runner_env import ENV, T0, Events, FakeClock, FakeJob, cadences, context


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ran() -> list[tuple[str, datetime]]:
    return []


def runner(
    tmp_path: Path, clock: FakeClock, ran: list, **cadence_texts: str
) -> tuple[Runner, dict[str, FakeJob], Events]:
    texts = cadence_texts or {"newsletters": "1m", "templates": "5m", "lists": "1h"}
    jobs = {name: FakeJob(name, ran, clock) for name in texts}
    events = Events()
    ctx = context(tmp_path / "state.sqlite3", clock)
    made = Runner(ctx, jobs, cadences(**texts), log=events, clock=clock)
    return made, jobs, events


def names(ran: list[tuple[str, datetime]]) -> list[str]:
    return [name for name, _ in ran]


def test_every_job_runs_at_once_the_first_time_then_on_its_cadence(tmp_path, clock, ran) -> None:
    r, _, events = runner(tmp_path, clock, ran)
    r.once()
    assert sorted(names(ran)) == ["lists", "newsletters", "templates"]
    ran.clear()
    r.once()  # same moment: nothing is due
    assert ran == []
    assert events.texts("waiting")[-1].startswith("next: newsletters 2026-12-07T10:01:00Z")
    clock.advance(minutes=1)
    r.once()
    assert names(ran) == ["newsletters"]
    clock.advance(minutes=4)
    r.once()
    assert sorted(names(ran)) == ["newsletters", "newsletters", "templates"]
    state = r.ctx.state
    assert state.watermark(schedule_key("templates", ENV)) == "2026-12-07T10:05:00Z"


def test_a_missed_slot_runs_once_not_once_per_slot(tmp_path, clock, ran) -> None:
    r, _, _ = runner(tmp_path, clock, ran, lists="1h", contacts="0 * * * *")
    r.once()
    ran.clear()
    clock.advance(hours=10)  # the machine slept
    r.once()
    assert sorted(names(ran)) == ["contacts", "lists"]
    ran.clear()
    r.once()
    clock.advance(minutes=30)
    r.once()
    assert ran == []  # the next hourly one is an hour after that late run, not now


def test_a_job_that_overruns_its_cadence_runs_again_once_after_it(tmp_path, clock, ran) -> None:
    r, jobs, _ = runner(tmp_path, clock, ran, newsletters="1m")
    jobs["newsletters"].takes = timedelta(minutes=3, seconds=10)  # three slots long
    r.once()
    jobs["newsletters"].takes = timedelta(0)
    r.once()  # due since 10:01: once
    r.once()
    assert [t for _, t in ran] == [T0, T0 + timedelta(minutes=3, seconds=10)]


def test_one_job_at_a_time_per_environment(tmp_path, clock, ran) -> None:
    r, _, events = runner(tmp_path, clock, ran)
    other = StateStore(tmp_path / "state.sqlite3")
    other.acquire_lease(runner_lease(ENV), "other-host:7:abcd", 600)
    assert r.once() == []
    assert ran == []
    assert "another runner (other-host:7:abcd) is running a job" in events.texts("busy")[0]
    assert "waiting" not in events.texts("busy")[0]  # once() does not wait: it says so
    assert events.texts("busy")[0].endswith("left for later")
    other.release_lease(runner_lease(ENV), "other-host:7:abcd")
    r.once()
    assert len(ran) == 3


def test_a_job_held_by_a_one_shot_sync_is_skipped_not_doubled(tmp_path, clock, ran) -> None:
    r, _, _ = runner(tmp_path, clock, ran)
    r.ctx.state.acquire_lease(lease_name("templates", ENV), "admin-laptop:9:beef", 600)
    due = next_due(r.ctx.state, "templates", ENV, r.cadences["templates"], clock.now())
    assert due.held_by == "admin-laptop:9:beef"
    r.once()
    assert sorted(names(ran)) == ["lists", "newsletters"]


def test_a_stop_ends_the_run_after_its_chunk_and_the_next_start_resumes_it(
    tmp_path, clock, ran
) -> None:
    r, jobs, events = runner(tmp_path, clock, ran, lists="1h")
    jobs["lists"].stop = r.stop
    clock.stop_after_sleeps = 1
    r.forever()
    assert events.kinds()[0] == "runner started"
    assert events.kinds()[-1] == "runner stopped"
    [run] = r.ctx.state.runs("sync:lists", ENV)
    assert run.status == "running"  # interrupted, to be resumed
    assert run.report is not None
    assert run.report["interrupted"]
    jobs["lists"].stop = None
    fresh = Runner(
        context(tmp_path / "state.sqlite3", clock), jobs, r.cadences, log=Events(), clock=clock
    )
    due = fresh.dues()[0]
    assert due.reason == "its last run was interrupted: resume it"
    assert [rep.run_id for rep in fresh.once()] == [run.run_id]  # the same run, finished
    assert r.ctx.state.runs("sync:lists", ENV)[0].status == "finished"


def test_a_run_killed_without_a_report_is_resumed_at_once(tmp_path, clock, ran) -> None:
    r, _, _ = runner(tmp_path, clock, ran, lists="1h")
    r.once()
    state = r.ctx.state
    state.open_run("sync:lists", ENV)  # a later run that was killed: no report
    assert next_due(state, "lists", ENV, r.cadences["lists"], clock.now()).at == clock.now()


def test_a_service_failure_waits_for_the_next_slot(tmp_path, clock, ran) -> None:
    from reconcile.dataverse.errors import ServiceUnavailable

    r, jobs, _ = runner(tmp_path, clock, ran, templates="5m")

    def unavailable(*args: object) -> None:
        raise ServiceUnavailable("Dataverse answered 503 eight times")

    jobs["templates"].apply = unavailable  # type: ignore[method-assign]
    [report] = r.once()
    assert report.outcome == "aborted"
    assert report.aborted_by
    assert report.aborted_by["service"] == "dataverse"
    assert r.once() == []  # not retried in a tight loop
    clock.advance(minutes=5)
    assert len(r.once()) == 1


def test_a_getresponse_block_stops_the_run_and_leaves_the_account_alone(
    tmp_path, clock, ran
) -> None:
    r, jobs, events = runner(tmp_path, clock, ran, lists="1h", templates="5m", newsletters="1m")
    r.after_block = 3600
    jobs["lists"].blocked_code = 1016  # the first job of the round meets the block
    reports = r.once()
    assert [rep.job for rep in reports] == ["lists"]  # the others are not even tried
    assert reports[0].aborted_by == {
        "type": "AccessDenied", "service": "getresponse", "code": 1016, "http_status": 403
    }  # fmt: skip
    assert any("GetResponse blocked the API (code 1016)" in t for t in events.texts("blocked"))
    ran_before = list(ran)
    clock.advance(minutes=30)
    assert r.once() == []  # nothing calls the blocked account
    assert ran == ran_before
    assert all(d.reason.startswith("GetResponse blocked") for d in r.dues())
    jobs["lists"].blocked_code = None
    clock.advance(minutes=31)
    assert len(r.once()) == 3  # the hour is over: all due again, and they run
    assert r.ctx.state.incident(f"blocked:{ENV}") is None  # over


def test_the_heartbeat_keeps_the_leases_through_a_long_chunk(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = StateStore(path)
    store.acquire_lease("sync:lists:env", "me", 0.6)
    with Heartbeat(store, ["sync:lists:env"], "me", 0.6, Events()):
        time.sleep(1.5)  # a chunk two and a half leases long
        with pytest.raises(LeaseHeld):
            StateStore(path).acquire_lease("sync:lists:env", "other", 60)
    store.release_lease("sync:lists:env", "me")
    with Heartbeat(store, ["sync:lists:env"], "me", 0.3, Events()):
        time.sleep(0.5)  # beats after the release: they never take the lease back
    assert store.lease_holder("sync:lists:env") is None


def test_a_dead_runner_loses_its_lease_and_a_live_one_takes_over(tmp_path, clock, ran) -> None:
    r, _, _ = runner(tmp_path, clock, ran, lists="1h")
    store = r.ctx.state
    store.acquire_lease(runner_lease(ENV), "far-host:1:dead", 0.2)  # it stopped renewing
    store.acquire_lease(lease_name("lists", ENV), "far-host:1:dead", 0.2)
    assert r.once() == []
    time.sleep(0.3)
    assert len(r.once()) == 1


def test_forever_sleeps_until_the_next_job_is_due(tmp_path, clock, ran) -> None:
    r, _, _ = runner(tmp_path, clock, ran, templates="5m", lists="1h")
    clock.stop_after_sleeps = 6
    r.forever()
    assert clock.slept == [60.0] * 6  # at most a minute between looks at the store
    assert sorted(names(ran)) == ["lists", "templates", "templates"]  # at 10:00 and 10:05
    r2, _, _ = runner(tmp_path / "b", FakeClock(), [], newsletters="20s")
    r2.clock.stop_after_sleeps = 2  # type: ignore[attr-defined]
    r2.forever()
    assert r2.clock.slept == [20.0, 20.0]  # type: ignore[attr-defined]


def test_two_runners_in_threads_never_run_a_job_twice(tmp_path: Path) -> None:
    """Two runners on one SQLite file, their clocks in step, asked at once: each job runs once."""
    clock = FakeClock()
    ran: list[tuple[str, datetime]] = []
    texts = {"newsletters": "1m", "templates": "5m", "lists": "1h"}
    StateStore(tmp_path / "state.sqlite3").close()  # migrated: the threads race for leases
    barrier = threading.Barrier(2)

    def one_runner() -> None:
        jobs = {name: FakeJob(name, ran, clock) for name in texts}
        ctx = context(tmp_path / "state.sqlite3", clock)
        made = Runner(ctx, jobs, cadences(**texts), log=Events(), clock=clock)
        barrier.wait()
        made.once()
        ctx.state.close()

    threads = [threading.Thread(target=one_runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(names(ran)) == ["lists", "newsletters", "templates"]


def test_the_runner_line_and_status_say_what_to_do_about_the_first_failure() -> None:
    # `sync contacts` prints "→ Run `reconcile sync contacts --list x --full` once"; under
    # `reconcile run` the line and `status` dropped it, leaving the admin with the symptom only
    from reconcile.jobs.runner import summary
    from reconcile.jobs.status import run_summary
    from reconcile.jobs.sync import Report
    from reconcile.state import RunRecord

    report = Report("contacts", ENV)
    report.fail("list 'x'", "not read: no watermark", "Run `reconcile sync contacts --full` once")
    line = summary(report)
    assert line.endswith("first: list 'x': not read: no watermark → Run `reconcile sync " +
                         "contacts --full` once")  # fmt: skip
    run = RunRecord(1, "sync:contacts", ENV, 0.0, 1.0, "finished", "failed", report.as_dict())
    assert run_summary(run)["first_errors"] == [
        "list 'x': not read: no watermark → Run `reconcile sync contacts --full` once"
    ]
