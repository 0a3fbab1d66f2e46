"""``reconcile run`` and ``reconcile status`` as an admin meets them, against both sandboxes
over real HTTP: --once runs what is due and says what comes next, --dry-run writes and records
nothing, status shows each job (text and JSON) and exits 1 for a failed or stale job, a
GetResponse API block (403 / 1016) stops the run with an open incident, JSON log lines, and a
real `reconcile run` process stopped by SIGTERM exits 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from reconcile.cli import cli
from reconcile.jobs.sync import jobs
from reconcile.state import StateStore
from tests.jobs.migrate_env import Env
from tests.jobs.sync import sync_env
from tests.jobs.sync.test_templates import seed_drafts, templates


@pytest.fixture(scope="module")
def _servers() -> Iterator[Env]:
    yield from sync_env.servers()


@pytest.fixture
def env(_servers: Env) -> Iterator[Env]:
    yield from sync_env.fresh(_servers)


def settings(env: Env, state: Path) -> dict[str, str]:
    return {**env.settings_env("service"), "RECONCILE_STATE": str(state)}


def run(args: list[str], env: Env, state: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, env=settings(env, state), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", ["run", "status"])
def test_both_commands_have_an_example(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert f"reconcile {name}" in result.output


def test_run_once_runs_what_is_due_then_says_what_comes_next(env: Env, tmp_path: Path) -> None:
    seed_drafts(env, "MS CRM Welcome message")
    state = tmp_path / "state.sqlite3"
    code, out, _ = run(["run", "--once", "-q"], env, state)
    assert code == 0, out
    for name in jobs():
        assert f"{name}: started (it never ran here)" in out
    assert "templates: ok in " in out
    assert "templates written 1" in out
    assert len(templates(env)) == 1
    code, out, _ = run(["run", "--once", "-q"], env, state)
    assert code == 0
    assert "started" not in out
    assert "next: newsletters" in out  # the one-minute job comes first
    secrets = [env.gr_info["api_key"], env.dv_info["identities"]["service"]["token"]]
    assert not any(s in out for s in secrets)


def test_a_dry_run_prints_plans_and_records_nothing(env: Env, tmp_path: Path) -> None:
    seed_drafts(env, "MS CRM Welcome message")
    state = tmp_path / "state.sqlite3"
    code, out, _ = run(["run", "--dry-run", "--job", "templates", "-q"], env, state)
    assert code == 0
    assert "Dry run of sync templates" in out
    assert "create template:" in out
    assert templates(env) == {}
    with StateStore(state) as store:
        assert store.runs() == []
        assert store.watermarks() == {}


def test_an_unknown_job_is_a_settings_error(env: Env, tmp_path: Path) -> None:
    code, _, err = run(["run", "--once", "--job", "letters"], env, tmp_path / "s.sqlite3")
    assert code == 2
    assert "no sync job named 'letters'" in err
    assert "the jobs are: " in err


def test_status_shows_each_job_and_exits_1_when_one_failed(env: Env, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    code, out, _ = run(["status"], env, state)
    assert code == 0
    assert "last run    never" in out
    assert "next due    now (it never ran here)" in out
    # no store there yet: said (a typo in --state looks like "never ran"), and not created
    assert f"No state store at {state}" in out
    assert not state.exists()
    assert json.loads(run(["status", "--json"], env, state)[1])["notes"][0].startswith("No state")
    run(["run", "--once", "-q"], env, state)
    code, out, _ = run(["status"], env, state)
    assert code == 0, out
    assert "No state store" not in out
    assert "templates (every 5m)" in out
    assert f"Environment {env.dv_url} (GetResponse {env.gr_info['url']})" in out
    assert "next due    " in out
    assert "API calls   GetResponse" in out
    assert "Requests: GetResponse" in out
    code, out, _ = run(["status", "--json"], env, state)
    data = json.loads(out)
    assert (code, data["ok"], data["failed"]) == (0, True, [])
    [environment] = data["environments"]
    by_job = {j["job"]: j for j in environment["jobs"]}
    assert set(by_job) == set(jobs())
    assert by_job["templates"]["last_run"]["outcome"] == "ok"
    assert by_job["templates"]["requests"]["getresponse"]["limit"] == 30_000
    assert environment["usage"]["dataverse_day"]["limit"] == 100_000
    # A GetResponse API block on the next templates run: the run stops, the account is left
    # alone, status exits 1 and shows the incident.
    faults = env.gr_url.removesuffix("/v3") + "/__sandbox__/faults"
    httpx.post(faults, json={"kind": "status", "status": 403, "count": 50}).raise_for_status()
    code, out, _ = run(["run", "--once", "--job", "templates", "-q"], env, tmp_path / "b.sqlite3")
    assert code == 3
    assert "GetResponse blocked the API (code 1016)" in out
    code, out, _ = run(["status", "--json"], env, tmp_path / "b.sqlite3")
    data = json.loads(out)
    assert (code, data["ok"]) == (1, False)
    assert data["failed"] == [f"templates on {data['environments'][0]['environment']}"]
    kinds = {i["kind"] for i in data["environments"][0]["incidents"]}
    assert kinds == {"blocked", "failed"}
    code, out, _ = run(["run", "--once", "-q"], env, tmp_path / "b.sqlite3")
    assert "started" not in out  # no job calls the blocked account
    httpx.delete(faults).raise_for_status()


def test_status_exits_1_when_data_is_older_than_stale_after(env: Env, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    run(["run", "--once", "-q"], env, state)
    assert run(["status", "--stale-after", "1h"], env, state)[0] == 0
    time.sleep(1.2)
    code, out, _ = run(["status", "--stale-after", "1s"], env, state)
    assert code == 1
    assert "STALE" in out
    assert "Stale: " in out
    code, _, err = run(["status", "--stale-after", "soon"], env, state)
    assert code == 2
    assert "--stale-after: 'soon' is not a duration" in err


def test_a_runner_process_logs_json_lines_and_exits_0_on_sigterm(env: Env, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    child_env = {**os.environ, **settings(env, state), "RECONCILE_SCHEDULE_NEWSLETTERS": "2s"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from reconcile.cli import main; main()",
            "run",
            "--log-format",
            "json",
            "-q",
        ],
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[dict] = []
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:  # until newsletters ran twice: the cadence works
            lines.append(json.loads(raw))
            if sum(1 for e in lines if e["event"] == "finished" and e["job"] == "newsletters") > 1:
                break
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines += [json.loads(raw) for raw in rest.splitlines()]
    assert proc.returncode == 0, err
    assert lines[0]["event"] == "runner started"
    assert lines[-1]["event"] == "runner stopped"
    assert {"time", "event", "message"} <= set(lines[1])
    assert "Stopping after the current chunk" in err
