"""The crash test of ``reconcile sync activities``: the job, run as the real CLI in a
subprocess, killed with SIGKILL at seeded request points of a few-thousand-activity window
(in either service, before the service sees the request or after it acted and before the
answer leaves — the custom report's creation included), then run again until it finishes,
must leave exactly the records an uninterrupted run leaves: every activity once.

``RECONCILE_CRASH_ITERATIONS`` runs more kill points (the bench does); CI runs a few.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from reconcile.dataverse import install_roles, install_schema
from reconcile.dataverse import schema as s
from reconcile.dataverse.roles import SERVICE_USER
from tests.jobs.migrate_env import Env, rows
from tests.jobs.sync import activities_env as ae
from tests.jobs.sync.kill_switch import kill_then_finish, killable_sandboxes, run_sync

CONTACTS = int(os.environ.get("RECONCILE_CRASH_CONTACTS", "750"))
ITERATIONS = int(os.environ.get("RECONCILE_CRASH_ITERATIONS", "2"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with killable_sandboxes() as (env, switch):
        env.dv.reset()
        admin = env.dataverse()
        install_schema(admin)
        install_roles(admin)
        env.dv.load({"identity_roles": {"service": [SERVICE_USER.name]}})
        yield {"env": env, "switch": switch, "snapshot": env.dv.snapshot(),
               "now": dt.datetime.now(dt.UTC).replace(microsecond=0),
               "tmp": tmp_path_factory.mktemp("activities-crash")}  # fmt: skip


def _fresh(world: dict[str, Any]) -> ae.Volume:
    """The same scenario each time (the sandbox's activities are seeded per newsletter)."""
    env: Env = world["env"]
    env.dv.restore(world["snapshot"])
    env.gr.reset()
    env.gr.reports.rules.update({"pending_seconds": 0, "generation_seconds": 1})
    volume = ae.seed_volume(env, contacts=CONTACTS, newsletters=2, now=world["now"])
    for client in env.clients:
        client.close()
    env.clients.clear()
    return volume


def _records(world: dict[str, Any]) -> list[tuple[Any, ...]]:
    admin = world["env"].dataverse()
    found = sorted(
        (r["grc_getresponseid"], r["grc_contactgetresponseid"], r["grc_messageid"],
         r["grc_activitytype"], r["grc_activitydate"], r["grc_url"],
         r["_grc_getresponsecontactid_value"] is not None,
         r["_grc_newsletterid_value"] is not None)
        for r in rows(admin, s.ACTIVITIES.entity_set)
    )  # fmt: skip
    admin.close()
    return found


def _run(world: dict[str, Any], state: Path, at: int | None, after: bool) -> tuple[int, int]:
    return run_sync(world["switch"], world["env"], "activities", state, at, after,
                    {"RECONCILE_ACTIVITIES_SOURCE": "report"})  # fmt: skip


@pytest.mark.slow
def test_killed_anywhere_every_activity_is_written_exactly_once(world: dict[str, Any]) -> None:
    volume = _fresh(world)
    code, requests = _run(world, world["tmp"] / "reference.sqlite3", None, False)
    assert code == 0
    reference = _records(world)
    assert len(reference) == volume.activities > 2000  # three chunks and more
    assert len({r[0] for r in reference}) == len(reference)
    assert requests >= 8
    rng = random.Random(2026)
    kills = 0
    for iteration in range(ITERATIONS):
        _fresh(world)
        state = world["tmp"] / f"state-{iteration}.sqlite3"
        kills += kill_then_finish(partial(_run, world, state), requests, rng)
        found = _records(world)
        assert len({r[0] for r in found}) == len(found), f"iteration {iteration}: duplicates"
        assert found == reference, f"iteration {iteration}"
        reports = world["env"].gr.conn.execute("SELECT count(*) FROM custom_reports").fetchone()
        assert reports[0] <= 2, "a killed run's report is taken up again, not asked twice"
    assert kills >= ITERATIONS
