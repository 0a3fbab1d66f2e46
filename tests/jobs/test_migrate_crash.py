"""The crash test: ``reconcile migrate apply`` killed with SIGKILL at many seeded-random points
of a few-thousand-contact run, run again until it finishes, must leave the CRM exactly as an
uninterrupted run does — no duplicate contact, no duplicate GetResponse Contact record, no
lost link.

The sandboxes live in this test process (they outlive the killed one). Kill points are
requests, not times: a switch in front of the Dataverse sandbox counts the run's requests and
kills the process at the chosen one — *before* the sandbox sees it (the journal says
"pending", nothing landed) or *after* the sandbox processed it but before the answer leaves
(it landed, the process never knew). No test sleeps; every kill point is reproducible.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import multiprocessing.process
import os
import random
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.config import SyncSettings
from reconcile.dataverse import BearerTokenAuth, DataverseClient, install_schema
from reconcile.jobs.demo_data import LISTS, bring_list_over, sample, seed_crm, seed_getresponse
from reconcile.jobs.migrate import make_plan
from reconcile.sandbox.dataverse import DataverseSandbox
from reconcile.sandbox.getresponse import GetResponseSandbox
from reconcile.sandbox.server import SandboxServer
from tests.jobs.migrate_env import crm_state
from tests.jobs.sync.kill_switch import KillSwitch

ROWS = 2500
ITERATIONS = 10
BATCH = 200  # records per bulk request: more requests, so more places to be killed at
API = "/api/data/"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    dv = DataverseSandbox(seed=None)
    gr = GetResponseSandbox(contact_delay=0)
    switch = KillSwitch()
    frame, crm = sample(ROWS, seed=11)
    seed_getresponse(gr, frame)
    campaigns = {name: row[0] for name, row in _campaigns(gr).items()}
    with SandboxServer(switch.wrap(dv.asgi_app, API)) as dvs, SandboxServer(gr.asgi_app) as grs:
        yield {
            "dv": dv, "gr": gr, "switch": switch, "dv_url": dvs.url, "gr_url": grs.url,
            "crm": crm, "campaigns": campaigns, "tmp": tmp_path_factory.mktemp("crash"),
        }  # fmt: skip
    dv.close()


def _campaigns(gr: GetResponseSandbox) -> dict[str, tuple[str]]:
    rows = gr.conn.execute("SELECT name, cid FROM campaigns").fetchall()
    return {name: (cid,) for name, cid in rows}


def _admin(world: dict[str, Any]) -> DataverseClient:
    info = world["dv"].connection_info(world["dv_url"])
    return DataverseClient(world["dv_url"], auth=BearerTokenAuth(info["token"]))


def _fresh_crm(world: dict[str, Any]) -> None:
    """The CRM as it was when the plan was made: same contacts, same list records.

    Built once over HTTP (seed, schema install, list brought over), then restored from the
    sandbox's snapshot: every iteration starts from exactly the same database, without paying
    for the schema install again (it was most of this test's time)."""
    dv = world["dv"]
    if "fresh" in world:
        dv.restore(world["fresh"])
        return
    dv.reset()
    seed_crm(dv, world["crm"])
    with _admin(world) as admin:
        install_schema(admin)
        ids = (str(uuid.UUID(int=1)), str(uuid.UUID(int=2)))
        bring_list_over(admin, world["campaigns"][LISTS[0]], LISTS[0], "Clients FR", ids=ids)
    world["fresh"] = dv.snapshot()


# Each run is a real process that SIGKILL ends, forked from a server process that imported the
# CLI once (multiprocessing's forkserver): the same command in a process of its own, without
# paying the interpreter start and the imports (pandas, httpx, calamine…) some thirty times.
PRELOAD = [
    "reconcile.cli",
    "reconcile.cli.migrate",
    "reconcile.jobs.migrate",
    "reconcile.dataverse.connect",
    "reconcile.workbooks.migration",
    "reconcile.workbooks.validate",
    "pandas",
]


def _command(environ: dict[str, str], args: list[str], log: str) -> None:
    """The child: exactly ``reconcile ARGS`` in the given environment, output to ``log``."""
    os.environ.clear()
    os.environ.update(environ)
    handle = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(handle, 1)
    os.dup2(handle, 2)
    sys.argv = ["reconcile", *args]
    from reconcile.cli import main

    main()


@pytest.fixture(scope="module")
def processes() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def _apply(
    world: dict[str, Any], review: Path, state: Path, context: Any
) -> multiprocessing.process.BaseProcess:
    info = world["dv"].connection_info(world["dv_url"])
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RECONCILE_")},
        "RECONCILE_DYNAMICS_ENVIRONMENT_URL": world["dv_url"],
        "RECONCILE_DYNAMICS_ACCESS_TOKEN": info["token"],
        "RECONCILE_CONFIG": "",
        "XDG_CONFIG_HOME": "/nonexistent",
    }
    args = [
        "migrate", "apply", str(review), "--state", str(state),
        "--report", str(state.with_suffix(".xlsx")), "--batch-size", str(BATCH), "-q",
    ]  # fmt: skip
    process = context.Process(target=_command, args=(env, args, str(state.with_suffix(".log"))))
    process.start()
    return process


def _run(
    world: dict[str, Any], review: Path, state: Path, at: int | None, after: bool, context: Any
) -> tuple[int, int]:
    """(exit code, Web API requests the process made)."""
    proc = _apply(world, review, state, context)
    switch = world["switch"]
    switch.arm(proc.pid, at, after)
    proc.join(timeout=120)
    seen = switch.seen
    switch.arm(None, None, False)
    code = proc.exitcode
    log = state.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    assert code in (-signal.SIGKILL, 0, 1), log[-2000:]
    return code, seen


@pytest.mark.slow
def test_killed_anywhere_it_finishes_exactly_like_an_uninterrupted_run(
    world: dict[str, Any], processes: Any
) -> None:
    _fresh_crm(world)
    review = world["tmp"] / "review.xlsx"
    sync = SyncSettings(send_custom_fields=True, send_tags=True)
    gr_info = world["gr"].connection_info(world["gr_url"])
    from reconcile.getresponse import ApiKeyAuth, GetResponseClient

    with (
        _admin(world) as admin,
        GetResponseClient(ApiKeyAuth(gr_info["api_key"]), base_url=gr_info["url"]) as gr,
    ):
        summary = make_plan(admin, review, gr=gr, sync=sync, accept_above=90)
    assert summary.plan["contacts_to_create"] > 100
    assert summary.plan["custom_field_values"] > 1000

    reference_code, requests = _run(
        world, review, world["tmp"] / "reference.sqlite3", None, False, processes
    )
    with _admin(world) as admin:
        reference = crm_state(admin)
    assert requests >= 30
    assert len(reference["records"]) == summary.plan["records_to_write"]

    rng = random.Random(2026)
    kills = 0
    for iteration in range(ITERATIONS):
        _fresh_crm(world)
        state = world["tmp"] / f"state-{iteration}.sqlite3"
        for _ in range(rng.choice((1, 1, 2, 3))):  # killed once, or again while resuming
            at, after = rng.randint(1, requests), rng.random() < 0.5
            if _run(world, review, state, at, after, processes)[0] == -signal.SIGKILL:
                kills += 1
        code, _ = _run(world, review, state, None, False, processes)
        assert code == reference_code
        with _admin(world) as admin:
            assert crm_state(admin) == reference, f"iteration {iteration}"
    assert kills >= ITERATIONS
