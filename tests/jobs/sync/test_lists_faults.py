"""``sync lists`` under faults: both sandboxes answer 10 % of their API requests with 429, a
5xx, or a dropped connection (before the service acts, or after it acted with the answer
lost). Runs stopped by a service that stays down (exit 3) are simply run again. The end
state in both services must equal that of a run without faults: no duplicate GetResponse
contact, no duplicate GetResponse Contact record, no member left out.

An injected 429 says the ten-minute time frame is used up, and the client rightly pauses
for the rest of it: the clients here wait on a virtual clock, and the GetResponse sandbox's
own real-time limiter is off (these are the faults under test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.jobs.sync import jobs, run_job
from reconcile.sandbox.faults import Fault
from reconcile.sandbox.getresponse.ratelimit import RateLimits
from tests.jobs.migrate_env import Env
from tests.jobs.sync import lists_env as le
from tests.jobs.sync.sync_env import Contexts

MEMBERS = 600
FAULTS = (  # 2.5 % each: about one request in ten meets one of them
    {"kind": "status", "status": 429},
    {"kind": "status", "status": 503},
    {"kind": "drop"},
    {"kind": "drop", "after": True},
)


@pytest.fixture
def env(_servers: Env) -> Iterator[Env]:
    yield _servers
    _servers.gr.limiter.limits = RateLimits()
    _servers.gr.faults.clear()
    _servers.dv.faults.clear()
    for client in _servers.clients:
        client.close()
    _servers.clients.clear()


def _arm(env: Env, seed: int) -> None:
    env.gr.limiter.limits = RateLimits(enabled=False)
    for n, spec in enumerate(FAULTS):
        for m, sandbox in enumerate((env.gr, env.dv)):
            fault = Fault.from_json({**spec, "probability": 0.025, "seed": seed * 100 + n * 2 + m})
            sandbox.faults.add(fault)


def _sync_until_done(contexts: Contexts) -> list[Any]:
    reports = []
    for _ in range(10):
        report = run_job(jobs()["lists"], contexts())
        reports.append(report)
        if report.exit_code == 0:
            return reports
        assert report.exit_code == 3, report.lines()  # a service stayed down: run again
    raise AssertionError(f"never finished: {reports[-1].lines()}")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_faults_on_both_services_end_like_a_clean_run(env: Env, tmp_path: Path, seed: int) -> None:
    le.two_lists(env, MEMBERS)
    _sync_until_done(Contexts(env, tmp_path / "clean.sqlite3"))
    reference = le.end_state(env)
    opted_out = len(range(0, MEMBERS, 97))
    assert len(reference["records"]) == MEMBERS - opted_out + 14

    le.two_lists(env, MEMBERS)
    _arm(env, seed)
    reports = _sync_until_done(Contexts(env, tmp_path / "faulty.sqlite3", virtual_time=True))
    fired = sum(f["fired"] for f in env.gr.faults.armed() + env.dv.faults.armed())
    sent = sum(sum(r.requests.values()) for r in reports)
    env.gr.faults.clear()
    env.dv.faults.clear()
    assert fired >= 2, f"the faults must really have fired ({fired} in {sent} requests)"
    assert le.end_state(env) == reference
    # A second run finds nothing to do: everything was done exactly once.
    again = run_job(jobs()["lists"], Contexts(env, tmp_path / "faulty.sqlite3")())
    assert again.exit_code == 0
    written = {"contacts created in GetResponse", "contact records synchronized"}
    assert not written & set(again.counts), (again.counts, [r.counts for r in reports])
    assert again.requests["getresponse"] == 1  # the account's lists: nothing pushed or checked
