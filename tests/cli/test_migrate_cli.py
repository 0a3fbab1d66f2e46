"""``reconcile migrate plan|apply`` and ``reconcile demo`` through click, against both sandboxes:
output, JSON, the report workbook, exit codes (0, 1, 2, 3), and no secret in any output."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from reconcile.cli import cli
from reconcile.workbooks.safety import formula_cells
from tests.jobs import migrate_env
from tests.jobs.migrate_env import Env, crm_state, seed_small, set_decision


@pytest.fixture(scope="module")
def _servers() -> Iterator[Env]:
    yield from migrate_env.servers()


@pytest.fixture
def env(_servers: Env) -> Iterator[Env]:
    yield from migrate_env.fresh(_servers)


def run(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def secrets(env: Env) -> list[str]:
    info = env.dv_info
    return [
        env.gr_info["api_key"],
        *(i["token"] for i in info["identities"].values()),
        *(i["client_secret"] for i in info["identities"].values()),
    ]


@pytest.mark.parametrize("command", [["migrate", "plan"], ["migrate", "apply"], ["demo"]])
def test_help_has_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert f"reconcile {' '.join(command)}" in result.output


def test_plan_then_apply_from_the_command_line(env: Env, tmp_path: Path) -> None:
    seed_small(env)
    settings = {**env.settings_env(), "RECONCILE_SYNC_SEND_CUSTOM_FIELDS": "true"}
    review, state = tmp_path / "review.xlsx", tmp_path / "state.sqlite3"
    code, out, err = run(["migrate", "plan", "-o", str(review), "-q"], settings)
    assert code == 0, err
    assert "link             2  linked to an existing CRM contact" in out
    assert "Plan: create 2 CRM contacts, link 5 GetResponse contacts" in out
    assert f'reconcile migrate apply "{review}" --dry-run' in out
    code, out, err = run(
        ["migrate", "apply", str(review), "--dry-run", "--json", "--state", str(state)], settings
    )
    assert code == 0, err
    dry = json.loads(out)
    assert dry["dry_run"] is True
    assert dry["counts"]["contacts_created"] == 2
    assert len(list(tmp_path.glob("review-dry-run-report-*.xlsx"))) == 1
    code, out, err = run(["migrate", "apply", str(review), "--state", str(state), "-q"], settings)
    assert code == 0, err
    assert "CRM contacts created" in out
    (report,) = tmp_path.glob("review-report-*.xlsx")
    assert f"Report: {report}" in out
    book = openpyxl.load_workbook(report, read_only=True)
    assert book.sheetnames == [
        "Summary",
        "Failed",
        "Duplicates",
        "Created",
        "Linked",
        "Skipped",
        "Lists",
    ]
    assert len(list(book["Created"].iter_rows(min_row=2))) == 2
    assert formula_cells(report) == []
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["CRM contacts created"] == 2  # a number, not padded text
    assert summary["Environment"] == env.dv_url
    assert summary["Identity (Dataverse user id)"] == env.dv_info["identities"]["admin"]["user_id"]
    assert isinstance(summary["Run id"], int | float)  # a number (Excel keeps floats)
    assert isinstance(summary["Started (UTC)"], dt.datetime)
    created = list(book["Created"].iter_rows(values_only=True))
    assert created[0][-3:] == ("Review sheet", "Review row", "Outcome")
    assert isinstance(created[1][-2], int | float)
    book.close()
    code, out, _ = run(["migrate", "apply", str(review), "--state", str(state)], settings)
    assert code == 0
    assert out.startswith("Nothing to do:")
    assert len(list(tmp_path.glob("review-report-*.xlsx"))) == 2  # kept, not overwritten
    for secret in secrets(env):
        assert secret not in out + err


def test_a_broken_workbook_exits_2_and_writes_nothing(env: Env, tmp_path: Path) -> None:
    ids = seed_small(env)
    settings = env.settings_env()
    review = tmp_path / "review.xlsx"
    assert run(["migrate", "plan", "-o", str(review), "-q"], settings)[0] == 0
    zoe = ids["contacts"][("newsletter", "zoe.leroy@laposte.net")]
    set_decision(review, zoe, "maybe")
    anna = ids["contacts"][("clients_fr", "anna.martin@gmail.com")]
    set_decision(review, anna, "link", "00000000-0000-0000-0000-000000000001")
    before = crm_state(env.dataverse())
    code, _, err = run(["migrate", "apply", str(review), "--state", str(tmp_path / "s")], settings)
    assert code == 2
    assert "sheet 'Review', row " in err
    assert "column 'Decision': unknown decision 'maybe'" in err
    assert "was not a candidate for this contact" in err
    assert crm_state(env.dataverse()) == before
    assert not list(tmp_path.glob("review-report*.xlsx"))


def test_a_reviewed_decision_is_applied(env: Env, tmp_path: Path) -> None:
    ids = seed_small(env)
    settings = env.settings_env()
    review = tmp_path / "review.xlsx"
    run(["migrate", "plan", "-o", str(review), "-q"], settings)
    marie = ids["contacts"][("newsletter", "famille.roux@wanadoo.fr")]
    set_decision(review, marie, "link", ids["crm"]["famille.roux@wanadoo.fr"])
    code, out, _ = run(
        ["migrate", "apply", str(review), "--state", str(tmp_path / "s"), "--json"], settings
    )
    assert code == 0
    assert json.loads(out)["counts"]["linked_existing"] == 3
    record = migrate_env.records(env.dataverse())[marie]
    assert record["_grc_contactid_value"] == ids["crm"]["famille.roux@wanadoo.fr"]


def test_a_report_that_cannot_be_written_still_shows_what_was_applied(
    env: Env, tmp_path: Path
) -> None:
    seed_small(env)
    settings = env.settings_env()
    review, state = tmp_path / "review.xlsx", tmp_path / "state.sqlite3"
    assert run(["migrate", "plan", "-o", str(review), "-q"], settings)[0] == 0
    (tmp_path / "blocked").write_text("a file where the report's folder should be")
    unwritable = tmp_path / "blocked" / "report.xlsx"
    args = ["migrate", "apply", str(review), "--state", str(state), "-q"]
    code, out, err = run([*args, "--report", str(unwritable)], settings)
    assert code == 1
    assert "CRM contacts created" in out  # the writes were made: the admin sees them
    assert "Report:" not in out
    assert f"the run report {unwritable} could not be written" in err
    assert "Traceback" not in err
    code, out, _ = run(args, settings)  # the same command with a writable report
    assert code == 0
    assert out.startswith("Nothing to do:")
    assert len(list(tmp_path.glob("review-report-*.xlsx"))) == 1


def test_settings_and_services_map_to_exit_codes(env: Env, tmp_path: Path) -> None:
    seed_small(env)
    settings = env.settings_env()
    review = tmp_path / "review.xlsx"
    run(["migrate", "plan", "-o", str(review), "-q"], settings)
    no_token = {k: v for k, v in settings.items() if k != "RECONCILE_DYNAMICS_ACCESS_TOKEN"}
    code, _, err = run(["migrate", "apply", str(review), "--state", str(tmp_path / "s")], no_token)
    assert code == 2
    assert "Dynamics connection settings are missing" in err
    refused = {**settings, "RECONCILE_DYNAMICS_ACCESS_TOKEN": "not-a-token"}
    code, _, err = run(["migrate", "plan", "-o", str(tmp_path / "x.xlsx"), "-q"], refused)
    assert code == 3
    assert "not-a-token" not in err
    assert not (tmp_path / "x.xlsx").exists()
    no_key = {k: v for k, v in settings.items() if k != "RECONCILE_GETRESPONSE_API_KEY"}
    code, _, err = run(["migrate", "plan", "-o", str(tmp_path / "y.xlsx")], no_key)
    assert code == 2
    assert "No GetResponse API key" in err
    code, _, err = run(
        ["migrate", "plan", "--list", "nope", "-o", str(tmp_path / "z.xlsx")], settings
    )
    assert code == 2
    assert "no list called 'nope'" in err
    code, _, err = run(
        ["migrate", "apply", str(review), "--state", str(tmp_path / "s"), "-q"],
        env.settings_env("service"),
    )
    assert code == 3
    assert "prvCreateContact" in err


def test_demo_runs_the_migration_on_both_sandboxes(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        cli, ["demo", "--out", str(out), "--rows", "400", "-q"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert f"Review workbook: {(out / 'review.xlsx').resolve()}" in result.output
    assert f"Report workbook: {(out / 'review-report.xlsx').resolve()}" in result.output
    assert "Data cells that Excel would run as formulas (CSV injection check): none." in (
        result.output
    )
    assert "CRM contacts created" in result.output
    assert "Then reconcile sync lists:" in result.output
    lines = result.output.strip().splitlines()
    assert lines[-3] == f"Dashboards workbook: {(out / 'dashboards.xlsx').resolve()}"
    assert lines[-2] == f"Dashboards web page: {(out / 'dashboards.html').resolve()}"
    assert (out / "dashboards.xlsx").stat().st_size > 5000
    assert "<svg" in (out / "dashboards.html").read_text(encoding="utf-8")
    # the dashboards reach GetResponse's clock, which the demo moved on: every open of the
    # newsletter's table is in the time series too
    over_time = _table(out / "dashboards.xlsx", "Sends, opens and clicks over time")
    per_newsletter = _table(out / "dashboards.xlsx", "Open and click rate per newsletter")
    assert sum(r["Opens"] for r in over_time) == sum(r["Opens"] for r in per_newsletter) > 0
    assert sum(r["Sends"] for r in over_time) == sum(r["Sends"] for r in per_newsletter) > 0
    # the demo's draft has links: its recipients click, the top URLs are those links
    assert sum(r["Clicks"] for r in over_time) == sum(r["Clicks"] for r in per_newsletter) > 0
    assert [r["Newsletter"] for r in per_newsletter] == ["Demo newsletter"]  # not the copy's name
    urls = _table(out / "dashboards.xlsx", "Top clicked URLs")
    assert {r["URL"] for r in urls} <= {"https://shop.demo.example/new",
                                         "https://shop.demo.example/sale"}  # fmt: skip
    assert urls
    data = json.loads(
        CliRunner()
        .invoke(cli, ["demo", "--out", str(tmp_path / "d2"), "--rows", "400", "--json", "-q"])
        .stdout
    )
    assert data["run"]["counts"]["linked_existing"] > 200
    assert data["run"]["counts"]["contacts_created"] > 10
    assert data["run"]["counts"]["linked_master"] >= 1
    assert data["links_wrong"] <= 0.005 * data["links_checked"]
    assert data["run"]["aborted"] is None
    assert data["dashboards"].endswith("dashboards.xlsx")
    lists = next(step for step in data["sync"] if step["job"] == "lists")
    assert lists["report"]["exit_code"] == 0, lists["lines"]
    assert lists["report"]["counts"]["contacts created in GetResponse"] >= 150
    assert lists["report"]["counts"]["members not sent: no bulk email"] == 2
    activities = next(step for step in data["sync"] if step["job"] == "activities")
    assert activities["report"]["exit_code"] == 0, activities["lines"]
    # the demo newsletter's sends at least (opens and clicks are simulated on top)
    sent = next(s for s in data["sync"] if "Sent" in s["title"])
    assert activities["report"]["counts"]["activities added or counted"] >= 150, activities
    assert sent["report"]["exit_code"] == 0


def _table(workbook: Path, title: str) -> list[dict[str, Any]]:
    """The rows of one table of the dashboards' data sheet: its title, its header, its rows."""
    rows = list(openpyxl.load_workbook(workbook)["Activity data"].iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == title)
    header = [h for h in rows[start + 1] if h is not None]
    found = []
    for row in rows[start + 2 :]:
        if row[0] is None or not isinstance(row[1], int | float):
            break
        found.append(dict(zip(header, row, strict=False)))
    return found


def test_settings_file_profiles_and_sync_settings(env: Env, tmp_path: Path) -> None:
    seed_small(env)
    config = tmp_path / "reconcile.toml"
    config.write_text(
        "[dynamics]\n"
        f'environment_url = "{env.dv_url}"\n'
        "[getresponse]\n"
        f'api_url = "{env.gr_info["url"]}"\n'
        "[sync]\n"
        "send_custom_fields = true\n"
        'custom_fields = ["ville"]\n'
        "send_tags = true\n"
        "[profiles.quiet.sync]\n"
        "send_custom_fields = false\n"
        "send_tags = false\n",
        encoding="utf-8",
    )
    secrets_only = {
        "RECONCILE_DYNAMICS_ACCESS_TOKEN": env.dv_info["identities"]["admin"]["token"],
        "RECONCILE_GETRESPONSE_API_KEY": env.gr_info["api_key"],
        "XDG_CONFIG_HOME": "/nonexistent",
    }
    base = ["migrate", "plan", "--config", str(config), "--json", "-q"]
    code, out, err = run([*base, "-o", str(tmp_path / "a.xlsx")], secrets_only)
    assert code == 0, err
    full = json.loads(out)
    assert full["requests"]["getresponse"] == 6  # lists, pages, tags and one search per tag
    assert full["plan"]["custom_field_values"] == 2
    code, out, err = run(
        [*base, "--profile", "quiet", "-o", str(tmp_path / "b.xlsx")], secrets_only
    )
    assert code == 0, err
    quiet = json.loads(out)
    assert quiet["requests"]["getresponse"] == 3
    assert quiet["plan"]["custom_field_values"] == 0
    book = openpyxl.load_workbook(tmp_path / "a.xlsx", read_only=True)
    texts = {r[0]: r[2] for r in book["Plan"].iter_rows(min_row=2, values_only=True)}
    book.close()  # read-only workbooks keep their file open until closed
    assert texts["Tags"] == "sent (sync.send_tags)"
    assert texts["Custom field values to write"].endswith(": ville")


def test_a_lock_held_by_another_run_is_exit_4_and_a_json_error(env: Env, tmp_path: Path) -> None:
    import socket

    from reconcile.state import StateStore

    seed_small(env)
    settings = env.settings_env()
    review, state = tmp_path / "review.xlsx", tmp_path / "state.sqlite3"
    run(["migrate", "plan", "-o", str(review), "-q"], settings)
    with StateStore(state) as store:  # another live process (pid 1) holds the lock
        store._db.execute(
            "INSERT INTO locks (name, owner, acquired_at) VALUES (?, ?, 0)",
            (f"migrate:{env.dv_url}", f"{socket.gethostname()}:1"),
        )
    before = crm_state(env.dataverse())
    code, out, err = run(
        ["migrate", "apply", str(review), "--state", str(state), "--json", "-q"], settings
    )
    assert code == 4
    error = json.loads(out)["error"]
    assert (error["code"], error["type"]) == (4, "LockHeld")
    assert "already doing 'migrate:" in error["message"]
    assert "wait for it to finish" in error["hint"]
    assert "already doing" in err
    assert crm_state(env.dataverse()) == before


def test_ctrl_c_during_apply_says_how_to_resume_and_the_same_command_does(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconcile.jobs.migrate import steps

    seed_small(env)
    settings = env.settings_env()
    review, state = tmp_path / "review.xlsx", tmp_path / "state.sqlite3"
    run(["migrate", "plan", "-o", str(review), "-q"], settings)
    real = steps.create_many

    def interrupted(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt  # the admin's Ctrl+C while the contacts are being created

    monkeypatch.setattr(steps, "create_many", interrupted)
    args = ["migrate", "apply", str(review), "--state", str(state), "-q"]
    code, out, err = run(args, settings)
    assert code == 130
    assert "Error: interrupted (Ctrl+C)" in err
    assert "run the same command again: it resumes" in err
    assert "Traceback" not in err
    monkeypatch.setattr(steps, "create_many", real)
    code, out, err = run(args, settings)
    assert code == 0, err
    assert "Resumed run" in out
    assert "CRM contacts created" in out
