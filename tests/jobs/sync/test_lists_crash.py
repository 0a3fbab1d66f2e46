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
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.jobs.sync import lists_env as le
from tests.jobs.sync.kill_switch import kill_then_finish, killable_sandboxes, run_sync

MEMBERS = int(os.environ.get("RECONCILE_CRASH_MEMBERS", "2100"))
ITERATIONS = int(os.environ.get("RECONCILE_CRASH_ITERATIONS", "3"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with killable_sandboxes() as (env, switch):
        yield {"env": env, "switch": switch, "tmp": tmp_path_factory.mktemp("lists-crash")}


def _fresh(world: dict[str, Any]) -> None:
    le.two_lists(world["env"], MEMBERS)


def _state(world: dict[str, Any]) -> dict[str, Any]:
    return le.end_state(world["env"])


def _run(world: dict[str, Any], state: Path, at: int | None, after: bool) -> tuple[int, int]:
    return run_sync(world["switch"], world["env"], "lists", state, at, after)


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
        kills += kill_then_finish(partial(_run, world, state), requests, rng)
        assert _state(world) == reference, f"iteration {iteration}"
    assert kills >= ITERATIONS
