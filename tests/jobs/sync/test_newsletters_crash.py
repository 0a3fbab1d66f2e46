"""At most once, whatever crashes (SPEC 7, issue 15): ``sync newsletters`` killed with
SIGKILL at every step of a send, then run again; two runners started at once (sharing a
state store, or each with its own). Every CRM newsletter leads to exactly one GetResponse
newsletter, sent to exactly its recipients."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reconcile.jobs.sync import SyncContext, environment_key, jobs, lease_name, run_job
from reconcile.model import SyncStatus
from reconcile.sandbox.faults import Fault
from reconcile.state import LeaseHeld, StateStore
from tests.jobs.migrate_env import Env
from tests.jobs.sync import newsletter_env as ne
from tests.jobs.sync.sync_env import Contexts

JOB = jobs()["newsletters"]
ROOT = Path(__file__).resolve().parents[3]
EVERYONE = [f"person{i}@example.com" for i in range(5)]


@pytest.fixture
def world(env: Env, tmp_path: Path) -> ne.World:
    return ne.world(env, Contexts(env, tmp_path / "state.sqlite3"))


def killed_run(world: ne.World, step: str) -> None:
    """The newsletters job in a child process, SIGKILLed at ``step``."""
    env = world.env
    variables = {
        **os.environ,
        "CRASH_DV_URL": env.dv_url,
        "CRASH_DV_TOKEN": env.dv_info["identities"]["service"]["token"],
        "CRASH_GR_URL": env.gr_info["url"],
        "CRASH_GR_KEY": env.gr_info["api_key"],
        "CRASH_STATE": str(world.contexts.state_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.jobs.sync.crash_runner", step],
        cwd=ROOT,
        env=variables,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr


def expire_lease(world: ne.World) -> None:
    """What the lease's expiry does for a killed runner (without waiting 10 minutes)."""
    ctx = world.ctx()
    name = lease_name(JOB.name, ctx.environment)
    holder = ctx.state.lease_holder(name)
    assert holder is not None, "the killed runner held the lease"
    ctx.state.release_lease(name, holder[0])


def in_thread(world: ne.World, state: StateStore) -> SyncContext:
    """A context whose state store was opened in the calling thread (SQLite's rule)."""
    env = world.env
    return SyncContext(
        dv=env.dataverse("service"),
        gr=env.getresponse(),
        state=state,
        environment=environment_key(env.dv_url, env.gr_info["url"]),
        settings=ne.settings(env),
    )


def exactly_once(world: ne.World, record: str, recipients: list[str] = EVERYONE) -> None:
    (broadcast,) = world.broadcasts()
    found = world.record(record)
    assert found["grc_getresponseid"].split("~")[0] == broadcast["newsletterId"]
    assert found["grc_synchronizationstatus"] == ne.STATUS[SyncStatus.SCHEDULED]
    world.env.gr.advance(2 * 3600)
    assert world.sends(broadcast["newsletterId"]) == recipients
    assert world.env.getresponse().get(f"newsletters/{world.draft}")["type"] == "draft"


@pytest.mark.parametrize("keep", [False, True], ids=["draft-consumed", "draft-kept"])
@pytest.mark.parametrize("step", ["after-claim", "before-send", "after-send", "before-record"])
def test_killed_at_any_step_then_rerun_sends_exactly_once(
    world: ne.World, step: str, keep: bool
) -> None:
    world.env.gr.sending.rules.keep_drafts = keep
    record = world.newsletter()
    killed_run(world, step)
    expected = 0 if step in ("after-claim", "before-send") else 1
    assert len(world.broadcasts()) == expected
    expire_lease(world)
    report = run_job(JOB, world.ctx())
    assert report.exit_code == 0, report.lines()
    assert report.resumed
    exactly_once(world, record)
    assert run_job(JOB, world.ctx()).counts.get("newsletters scheduled") is None
    drafts = world.env.getresponse().get("newsletters", {"query": {"type": "draft"}})
    assert [d["name"] for d in drafts] == ["MS CRM Welcome"]  # no copy left behind


def test_lost_answers_are_checked_not_repeated(world: ne.World) -> None:
    """The answer to send-draft is lost on the wire: the next run asks GetResponse."""
    record = world.newsletter()
    world.env.gr.faults.add(
        Fault.from_json(
            {"kind": "drop", "after": True, "path": "/v3/newsletters/send-draft", "method": "POST"}
        )
    )
    first = run_job(JOB, world.ctx())
    assert first.aborted, first.lines()
    assert len(world.broadcasts()) == 1  # it was sent; the job did not see the answer
    again = run_job(JOB, world.ctx())
    assert again.exit_code == 0, again.lines()
    assert again.counts.get("found already sent") == 1
    exactly_once(world, record)


def test_two_runners_sharing_a_state_store(world: ne.World) -> None:
    records = [world.newsletter(f"News {i}") for i in range(3)]
    results: list[object] = []

    def runner() -> None:
        with StateStore(world.contexts.state_path) as state:
            try:
                results.append(run_job(JOB, in_thread(world, state)))
            except LeaseHeld as exc:
                results.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    by_record = {b["name"].rsplit("[crm:", 1)[1].rstrip("]"): b for b in world.broadcasts()}
    assert sorted(by_record) == sorted(records)


def test_two_runners_each_with_its_own_state_store(world: ne.World, tmp_path: Path) -> None:
    """Misconfigured hosts (no shared lease): the If-Match claim on the record decides."""
    records = [world.newsletter(f"News {i}") for i in range(3)]
    barrier = threading.Barrier(2)
    reports: list[object] = []

    def runner(path: Path) -> None:
        with StateStore(path) as state:  # a SQLite connection stays in its thread
            ctx = in_thread(world, state)
            barrier.wait()
            reports.append(run_job(JOB, ctx))

    paths = (world.contexts.state_path, tmp_path / "other.sqlite3")
    threads = [threading.Thread(target=runner, args=(p,)) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = sorted(b["name"] for b in world.broadcasts())
    assert len(names) == 3, names
    for record in records:
        assert world.record(record)["grc_getresponseid"]
    world.env.gr.advance(2 * 3600)
    for broadcast in world.broadcasts():
        assert world.sends(broadcast["newsletterId"]) == EVERYONE
