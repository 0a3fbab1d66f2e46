"""The crash test of ``reconcile sync lists``: the job killed with SIGKILL at seeded request
points of a few-thousand-member run (in either service, before the service sees the request
or after it acted and before the answer leaves), run again until it finishes, must leave both
services exactly as an uninterrupted run does — no duplicate GetResponse contact, no
duplicate GetResponse Contact record, no member left out.

The sandboxes live in this test process; the job runs as the real CLI in a subprocess.
``RECONCILE_CRASH_ITERATIONS`` runs more kill points (the bench does); CI runs a few.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.sandbox.dataverse import DataverseSandbox
from reconcile.sandbox.getresponse import GetResponseSandbox
from reconcile.sandbox.server import SandboxServer
from tests.jobs.migrate_env import Env
from tests.jobs.sync import lists_env as le
from tests.jobs.sync.kill_switch import KillSwitch

MEMBERS = int(os.environ.get("RECONCILE_CRASH_MEMBERS", "2100"))
ITERATIONS = int(os.environ.get("RECONCILE_CRASH_ITERATIONS", "3"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    dv, gr = DataverseSandbox(seed=None), GetResponseSandbox(contact_delay=0)
    switch = KillSwitch()
    with (
        SandboxServer(switch.wrap(dv.asgi_app, "/api/data/")) as dvs,
        SandboxServer(switch.wrap(gr.asgi_app, "/v3/")) as grs,
    ):
        yield {"env": Env(dv, gr, dvs.url, grs.url), "switch": switch,
               "tmp": tmp_path_factory.mktemp("lists-crash")}  # fmt: skip
    dv.close()


def _fresh(world: dict[str, Any]) -> None:
    le.two_lists(world["env"], MEMBERS)


def _state(world: dict[str, Any]) -> dict[str, Any]:
    return le.end_state(world["env"])


def _run(world: dict[str, Any], state: Path, at: int | None, after: bool) -> tuple[int, int]:
    env: Env = world["env"]
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RECONCILE_")},
        **env.settings_env("service"),
    }
    command = [sys.executable, "-c", "from reconcile.cli import main; main()",
               "sync", "lists", "--state", str(state), "-q"]  # fmt: skip
    proc = subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    switch: KillSwitch = world["switch"]
    switch.arm(proc.pid, at, after)
    out, err = proc.communicate(timeout=300)
    seen = switch.seen
    switch.arm(None, None, False)
    assert proc.returncode in (-signal.SIGKILL, 0, 3), (out + err).decode()[-3000:]
    return proc.returncode, seen


@pytest.mark.slow
def test_killed_anywhere_sync_lists_ends_like_an_uninterrupted_run(world: dict[str, Any]) -> None:
    _fresh(world)
    code, requests = _run(world, world["tmp"] / "reference.sqlite3", None, False)
    assert code == 0
    reference = _state(world)
    opted_out = len(range(0, MEMBERS, 97))
    assert len(reference["records"]) == MEMBERS - opted_out + 14
    assert len(reference["gr"]) == len(set(reference["gr"])) == len(reference["records"])
    assert requests >= 10
    rng = random.Random(2026)
    kills = 0
    for iteration in range(ITERATIONS):
        _fresh(world)
        state = world["tmp"] / f"state-{iteration}.sqlite3"
        for _ in range(rng.choice((1, 1, 2))):  # killed once, or again while resuming
            at, after = rng.randint(1, requests), rng.random() < 0.5
            if _run(world, state, at, after)[0] == -signal.SIGKILL:
                kills += 1
        for _ in range(3):  # a run stopped by a lost answer (exit 3) is simply run again
            code, _ = _run(world, state, None, False)
            if code == 0:
                break
        assert code == 0
        assert _state(world) == reference, f"iteration {iteration}"
    assert kills >= ITERATIONS
