"""``reconcile sync JOB`` and ``reconcile sync all`` through click, against both sandboxes:
every job is a command with an example, text and JSON output, dry runs, exit codes, a run
held by another runner, and no secret in any output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconcile.cli import cli
from reconcile.jobs.sync import environment_key, jobs, lease_name
from reconcile.state import StateStore
from tests.jobs.migrate_env import Env
from tests.jobs.sync import sync_env
from tests.jobs.sync.lists_env import ERROR, list_record
from tests.jobs.sync.test_templates import seed_drafts, templates


@pytest.fixture(scope="module")
def _servers() -> Iterator[Env]:
    yield from sync_env.servers()


@pytest.fixture
def env(_servers: Env) -> Iterator[Env]:
    yield from sync_env.fresh(_servers)


def run(args: list[str], env: Env, state: Path) -> tuple[int, str, str]:
    settings = {**env.settings_env("service"), "RECONCILE_STATE": str(state)}
    result = CliRunner().invoke(cli, args, env=settings, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", [*jobs(), "all"])
def test_every_sync_command_has_an_example(name: str) -> None:
    result = CliRunner().invoke(cli, ["sync", name, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert f"reconcile sync {name}" in result.output
    assert "--dry-run" in result.output
    assert "--json" in result.output


def test_sync_templates_text_json_and_dry_run(env: Env, tmp_path: Path) -> None:
    seed_drafts(env, "MS CRM Welcome message")
    state = tmp_path / "state.sqlite3"
    code, out, _ = run(["sync", "templates", "--dry-run", "-q"], env, state)
    assert code == 0
    assert "Dry run of sync templates" in out
    assert "template 'MS CRM Welcome message'" in out
    assert templates(env) == {}
    code, out, _ = run(["sync", "templates", "--json", "-q"], env, state)
    assert code == 0
    data = json.loads(out)
    assert data["job"] == "templates"
    assert data["counts"] == {"templates written": 1}
    assert data["exit_code"] == 0
    assert data["outcome"] == "ok"
    assert len(templates(env)) == 1
    secrets = [env.gr_info["api_key"], env.dv_info["identities"]["service"]["token"]]
    assert not any(s in out for s in secrets)


def test_sync_all_runs_every_job_and_reports_each(env: Env, tmp_path: Path) -> None:
    code, out, _ = run(["sync", "all", "--json", "-q"], env, tmp_path / "state.sqlite3")
    assert code == 0
    assert [r["job"] for r in json.loads(out)] == list(jobs())


def test_a_getresponse_url_that_is_another_server_is_a_setting_to_fix(
    env: Env, tmp_path: Path
) -> None:
    # The Dataverse sandbox's URL given as getresponse.api_url: it answers a bare 404, which
    # is no GetResponse answer (theirs carry a JSON body), not "the record does not exist".
    settings = {
        **env.settings_env("service"),
        "RECONCILE_STATE": str(tmp_path / "state.sqlite3"),
        "RECONCILE_GETRESPONSE_API_URL": f"{env.dv_url}/v3",
    }
    result = CliRunner().invoke(cli, ["sync", "templates", "-q"], env=settings)
    assert result.exit_code == 2, result.output
    assert "not the GetResponse API" in result.stdout
    assert "getresponse.api_url" in result.stdout
    assert "does not exist" not in result.stdout
    # sync all stops at the first job cut short, and says which jobs did not run
    result = CliRunner().invoke(cli, ["sync", "all", "-q"], env=settings)
    assert result.exit_code == 2, result.output
    assert "Not run: contacts, activities, templates, newsletters" in result.stdout


def test_a_list_name_that_names_no_record_is_a_wrong_option(env: Env, tmp_path: Path) -> None:
    list_record(env, "clients_fr", None, status=ERROR)
    state = tmp_path / "state.sqlite3"
    code, out, err = run(["sync", "lists", "--list", "client_fr"], env, state)
    assert code == 2, out + err  # it said "nothing to do", exit 0
    assert "no GetResponse List record is named 'client_fr'" in err
    assert "(clients_fr)" in err  # the names there are
    code, out, _ = run(["sync", "lists", "--list", "client_fr", "--json"], env, state)
    assert (code, json.loads(out)["error"]["code"]) == (2, 2)
    code, out, err = run(["sync", "lists", "--list", "CLIENTS_FR"], env, state)
    assert code == 0, out + err  # Dataverse compares names in any case: that one is there


@pytest.mark.parametrize("job", ["contacts", "activities"])
def test_a_since_that_is_no_day_is_refused_in_words(job: str, env: Env, tmp_path: Path) -> None:
    code, out, err = run(["sync", job, "--since", "2026-02-30"], env, tmp_path / "s.sqlite3")
    assert code == 2
    assert "'2026-02-30' is not a date: write it YYYY-MM-DD" in err
    assert "%Y" not in err
    code, out, _ = run(["sync", job, "--since", "2026-02-30", "--json"], env, tmp_path / "s")
    assert (code, json.loads(out)["error"]["code"]) == (2, 2)


def test_a_job_held_by_another_runner_is_not_run(env: Env, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    with StateStore(state) as store:
        key = environment_key(env.dv_url, env.gr_info["url"])
        store.acquire_lease(lease_name("templates", key), "host-b:4242:ffff", 600)
    seed_drafts(env, "MS CRM Welcome message")
    code, _, err = run(["sync", "templates"], env, state)
    assert code == 4
    assert "host-b:4242:ffff" in err
    # the job and the services as an admin names them, not the lease's key
    assert f"sync templates on {env.dv_url} (GetResponse {env.gr_info['url']})" in err
    assert "|" not in err
    assert templates(env) == {}


def test_sync_callbacks_enables_and_disables_without_showing_the_secret(
    env: Env, tmp_path: Path
) -> None:
    secret = "cli-secret-do-not-print-0123456789"
    settings = {**env.settings_env("service"), "RECONCILE_LISTEN_SECRET": secret}
    args = ["sync", "callbacks", "--url", "https://hooks.example.com/", "--json"]
    result = CliRunner().invoke(cli, args, env=settings, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert secret not in result.output
    data = json.loads(result.stdout)
    assert data["url"] == "https://hooks.example.com/getresponse/***"
    assert data["actions"] == ["open", "click", "subscribe", "unsubscribe"]
    config = env.gr.callbacks.current()
    assert config["url"] == f"https://hooks.example.com/getresponse/{secret}"
    text = CliRunner().invoke(cli, ["sync", "callbacks", "--url", "http://hooks.example.com",
                                    "--action", "open"], env=settings)  # fmt: skip
    assert text.exit_code == 0
    assert "plain http" in text.stderr
    assert secret not in text.output
    off = CliRunner().invoke(cli, ["sync", "callbacks", "--disable"], env=settings)
    assert off.exit_code == 0
    assert "off" in off.stdout
    assert env.gr.callbacks.current() is None
    unset = CliRunner().invoke(cli, args, env=env.settings_env("service"))
    assert unset.exit_code == 2
    assert "listen.secret" in unset.output
