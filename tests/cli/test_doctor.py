"""`reconcile doctor`, `reconcile schema install|check` and `reconcile init` through click's
runner, against both sandboxes on 127.0.0.1; secrets never reach the output."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconcile.cli import cli
from reconcile.dataverse import roles as r


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Any]]:
    from reconcile.sandbox.dataverse import DataverseSandbox
    from reconcile.sandbox.getresponse import GetResponseSandbox
    from reconcile.sandbox.server import SandboxServer

    dataverse = DataverseSandbox(seed=None)
    getresponse = GetResponseSandbox(api_key="gr-KEY-" + uuid.uuid4().hex)
    with SandboxServer(dataverse.asgi_app) as dv, SandboxServer(getresponse.asgi_app) as gr:
        yield {"dataverse": dataverse, "dv_url": dv.url, "gr": getresponse.connection_info(gr.url)}
    dataverse.close()


@pytest.fixture
def env(servers: dict[str, Any]) -> dict[str, str]:
    servers["dataverse"].reset()
    info = servers["dataverse"].connection_info(servers["dv_url"])
    servers["info"] = info
    return {
        "RECONCILE_DYNAMICS_ENVIRONMENT_URL": info["url"],
        "RECONCILE_DYNAMICS_API_VERSION": "v9.1",
        "RECONCILE_DYNAMICS_ACCESS_TOKEN": info["identities"]["admin"]["token"],
        "RECONCILE_GETRESPONSE_API_URL": servers["gr"]["url"],
        "RECONCILE_GETRESPONSE_API_KEY": servers["gr"]["api_key"],
        "RECONCILE_CONFIG": "",
        "XDG_CONFIG_HOME": "/nonexistent",
    }


def run(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def secrets_of(env: dict[str, str], servers: dict[str, Any]) -> list[str]:
    info = servers["info"]
    return [
        env["RECONCILE_DYNAMICS_ACCESS_TOKEN"],
        env["RECONCILE_GETRESPONSE_API_KEY"],
        *(i["client_secret"] for i in info["identities"].values()),
        *(i["token"] for i in info["identities"].values()),
    ]


def test_doctor_json_before_and_after_installing_the_tables(
    env: dict[str, str], servers: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["doctor", "--json"], env)
    assert code == 1
    report = json.loads(out)
    status = {c["name"]: c["status"] for c in report["checks"]}
    assert status == {
        "dynamics.connection": "ok",
        "dynamics.tables": "failed",
        "dynamics.roles": "failed",
        "dynamics.service_user": "failed",
        "dynamics.change_tracking": "ok",
        "getresponse.connection": "ok",
    }
    assert report["versions"]["dynamics_api"] == "v9.1"
    assert report["versions"]["dynamics"].startswith("9.")
    tables = next(c for c in report["checks"] if c["name"] == "dynamics.tables")
    assert "grc_getresponselist: table GetResponse List missing" in tables["details"]
    service = next(c for c in report["checks"] if c["name"] == "dynamics.service_user")
    assert service["hint"].startswith("Run `reconcile schema install` first")
    assert all("grc_" in d for d in service["details"])  # the admin holds every CRM privilege
    service = next(c for c in report["checks"] if c["name"] == "dynamics.service_user")
    assert service["hint"].startswith("Run `reconcile schema install` first")
    assert all("grc_" in d for d in service["details"])  # the admin holds every CRM privilege
    roles = next(c for c in report["checks"] if c["name"] == "dynamics.roles")
    assert f"role {r.SERVICE_USER.name!r} is missing" in roles["details"]
    assert report["settings"]["dynamics"]["access_token"].startswith("set (environment")
    for secret in secrets_of(env, servers):
        assert secret not in out + err

    code, out, _ = run(["schema", "install", "--no-roles", "-q"], env)
    assert code == 0, out
    created = [line for line in out.splitlines() if line.startswith("created ")]
    assert len(created) == 10  # the first ten; the rest in a file, not a flood
    assert all(not line.endswith(" missing") for line in created)  # not "created … missing"
    full = (tmp_path / "reconcile-schema-install.txt").read_text(encoding="utf-8").splitlines()
    assert len(full) > 50
    assert "created grc_getresponseactivity: key grc_getresponseidkey" in full
    assert f"… and {len(full) - 10:,} more: all {len(full):,} are in " in out
    servers["dataverse"].reset()
    code, out, _ = run(["schema", "install", "--no-roles", "--json", "-q"], env)
    assert code == 0, out
    assert len(json.loads(out)["tables"]["created"]) > 50
    code, out, _ = run(["schema", "install", "--no-roles", "--json"], env)
    assert json.loads(out)["tables"]["created"] == []
    code, out, err = run(["doctor"], env)
    assert (
        "[ok  ] dynamics.tables: The six GetResponse tables and the two dashboards with their "
        "charts are installed and complete." in out
    )
    assert "[ok  ] dynamics.service_user" in out
    assert "[ok  ] dynamics.service_user" in out
    assert "[FAIL] dynamics.roles" in out
    assert "→ Run `reconcile schema install`" in out
    assert code == 1


def test_doctor_lists_exactly_what_the_service_identity_lacks(
    env: dict[str, str], servers: dict[str, Any]
) -> None:
    run(["schema", "install", "--no-roles", "-q"], env)
    service = dict(
        env, RECONCILE_DYNAMICS_ACCESS_TOKEN=(servers["info"]["identities"]["service"]["token"])
    )
    code, out, _ = run(["doctor", "--json", "--skip-getresponse"], service)
    assert code == 1
    check = next(c for c in json.loads(out)["checks"] if c["name"] == "dynamics.service_user")
    assert check["status"] == "failed"
    assert len(check["details"]) == len(r.SERVICE_USER.required())
    assert "prvReadContact (Read on Contact, Organization level): not held" in check["details"]
    assert "GetResponse Service User" in check["hint"]


def test_doctor_before_schema_install_shows_a_screen_and_writes_every_detail_to_a_file(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["doctor"], env)
    assert code == 1  # nothing refused: things are missing
    lines = out.splitlines()
    assert len(lines) < 45, out  # was ~130 lines of privileges of roles not created yet
    assert "         - … and " in out
    full = (tmp_path / "reconcile-doctor.txt").read_text(encoding="utf-8")
    assert f"Every detail is in {tmp_path / 'reconcile-doctor.txt'}." in out
    assert "prvReadContact (Read on Contact, Organization level): not held" in full
    assert len(full.splitlines()) > len(lines)


def test_doctor_with_msal_settings_from_a_file_and_a_secret_from_the_environment(
    env: dict[str, str], servers: dict[str, Any], tmp_path: Path
) -> None:
    info = servers["info"]
    admin = info["identities"]["admin"]
    config = tmp_path / "reconcile.toml"
    config.write_text(
        "[dynamics]\n"
        f'environment_url = "{info["url"]}"\n'
        f'client_id = "{admin["client_id"]}"\n'
        f'authority = "{info["authority"]}"\n'
        f'ca_file = "{info["ca_file"]}"\n'
        "[profiles.other.dynamics]\n"
        'environment_url = "http://127.0.0.1:9"\n',
        encoding="utf-8",
    )
    msal_env = {k: v for k, v in env.items() if "DYNAMICS" not in k}
    msal_env["RECONCILE_DYNAMICS_CLIENT_SECRET"] = admin["client_secret"]
    code, out, err = run(
        ["doctor", "--config", str(config), "--json", "--skip-getresponse"], msal_env
    )
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert checks["dynamics.connection"]["status"] == "ok"
    assert admin["user_id"] in checks["dynamics.connection"]["summary"]
    # another profile: a closed port on loopback, reported and the rest skipped; unreachable
    # is exit 3 (a service), not 1 (something missing)
    code, out, err = run(
        ["doctor", "--config", str(config), "--profile", "other", "--skip-getresponse"], msal_env
    )
    assert code == 3
    assert "[FAIL] dynamics.connection" in out
    assert "[skip] dynamics.tables: not connected" in out
    wrong = dict(msal_env, RECONCILE_DYNAMICS_CLIENT_SECRET="not-the-secret-" + uuid.uuid4().hex)
    code, out2, err2 = run(["doctor", "--config", str(config), "--skip-getresponse"], wrong)
    assert code == 3  # refused credentials: the service said no
    assert "[FAIL] dynamics.connection" in out2
    for secret in [admin["client_secret"], wrong["RECONCILE_DYNAMICS_CLIENT_SECRET"]]:
        assert secret not in out + err + out2 + err2


def test_bad_settings_exit_2_and_init_writes_a_template(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, _, err = run(["doctor", "--config", str(tmp_path / "missing.toml")], env)
    assert code == 2
    assert "does not exist" in err
    target = tmp_path / "reconcile.toml"
    code, out, _ = run(["init", str(target)], env)
    assert code == 0
    assert target.exists()
    code, _, err = run(["init", str(target)], env)
    assert code == 2
    assert "--force" in err
    bad = tmp_path / "bad.toml"
    bad.write_text('[getresponse]\napi_key = "leaked"\n', encoding="utf-8")
    code, out, err = run(["schema", "check", "--config", str(bad)], env)
    assert code == 2
    assert "secrets are not read from files" in err
    assert "leaked" not in out + err


def test_schema_check_and_dry_run(env: dict[str, str]) -> None:
    code, out, _ = run(["schema", "install", "--dry-run"], env)
    assert code == 0
    assert "would create table GetResponse List on grc_getresponselist" in out
    assert f"would create role {r.SERVICE_USER.name!r} with its privileges" in out
    code, out, _ = run(["schema", "check", "--json"], env)
    assert code == 1
    assert json.loads(out)["ok"] is False
    code, out, _ = run(["schema", "check"], env)
    assert "Tables: 8 problem(s):" in out
    assert "  - GetResponse Service User: missing" in out


@pytest.mark.parametrize(
    "command", [["doctor"], ["schema", "check"], ["schema", "install"], ["init"]]
)
def test_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_a_refused_getresponse_key_is_reported_without_the_key(
    env: dict[str, str], servers: dict[str, Any]
) -> None:
    wrong = "gr-WRONG-" + uuid.uuid4().hex
    code, out, err = run(["doctor", "--json"], dict(env, RECONCILE_GETRESPONSE_API_KEY=wrong))
    assert code == 3  # refused key (3) outranks the tables not installed yet (1)
    assert json.loads(out)["exit_code"] == 3
    check = next(c for c in json.loads(out)["checks"] if c["name"] == "getresponse.connection")
    assert check["status"] == "failed"
    assert wrong not in out + err
    no_key = {k: v for k, v in env.items() if k != "RECONCILE_GETRESPONSE_API_KEY"}
    code, out, _ = run(["doctor"], no_key)
    assert code == 2  # a missing setting outranks everything: fix it first
    assert "[FAIL] getresponse.connection: No GetResponse API key or OAuth token is set." in out


def test_install_then_assign_the_service_role_and_doctor_passes(
    env: dict[str, str], servers: dict[str, Any]
) -> None:
    code, out, _ = run(["schema", "install", "--json", "-q"], env)
    assert code == 0, out
    report = json.loads(out)
    assert report["ok"] is True
    assert [c for c in report["roles"]["created"] if c.startswith("role ")] == [
        f"role {role.name}" for role in r.ROLES
    ]
    code, out, _ = run(["schema", "check"], env)
    assert code == 0
    assert "Roles: the four GetResponse security roles exist with their privileges." in out
    servers["dataverse"].load({"identity_roles": {"service": [r.SERVICE_USER.name]}})
    service = dict(
        env, RECONCILE_DYNAMICS_ACCESS_TOKEN=(servers["info"]["identities"]["service"]["token"])
    )
    code, out, _ = run(["doctor"], service)
    assert code == 0, out
    assert "[ok  ] dynamics.service_user: The connector's identity holds everything" in out
    # the service role alone may not read table definitions or roles: not checked, no failure
    assert "[warn] dynamics.tables: Not checked: this identity may not read it" in out
    assert "administrator's settings" in out
    assert out.rstrip().endswith("No check failed; 3 warning(s).")
    admin_code, admin_out, _ = run(["doctor"], env)
    assert admin_code == 0, admin_out
    assert admin_out.rstrip().endswith("All checks passed.")
