"""``reconcile report`` as a user runs it: files written where it says, figures printed,
``--json``, ``--dry-run``, and the exit code 2 with a clear message for an unknown list or a
bad date."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconcile.cli import cli
from reconcile.dataverse import BearerTokenAuth, DataverseClient, install_schema
from reconcile.dataverse import schema as s


@pytest.fixture(scope="module")
def env() -> Iterator[dict[str, str]]:
    from reconcile.sandbox.dataverse import DataverseSandbox
    from reconcile.sandbox.server import SandboxServer

    sandbox = DataverseSandbox(seed=None)
    with SandboxServer(sandbox.asgi_app) as server:
        info = sandbox.connection_info(server.url)
        token = info["identities"]["admin"]["token"]
        with DataverseClient(info["url"], auth=BearerTokenAuth(token)) as client:
            install_schema(client)
            listed = client.create(s.LISTS.entity_set, {"grc_name": "clients_fr"})
            for i in range(3):
                client.create(
                    s.CONTACTS.entity_set,
                    {
                        "grc_name": f"P{i}",
                        "grc_GetResponseListId@odata.bind": f"/{s.LISTS.entity_set}({listed})",
                    },
                )
        yield {
            "RECONCILE_DYNAMICS_ENVIRONMENT_URL": info["url"],
            "RECONCILE_DYNAMICS_ACCESS_TOKEN": token,
            "RECONCILE_CONFIG": "",
            "XDG_CONFIG_HOME": "/nonexistent",
        }
    sandbox.close()


def run(args: list[str], env: dict[str, str]) -> Any:
    return CliRunner().invoke(cli, ["report", *args], env=env, catch_exceptions=False)


def test_writes_both_files_and_says_where(env: dict[str, str], tmp_path: Path) -> None:
    book, page = tmp_path / "d.xlsx", tmp_path / "d.html"
    result = run(["-o", str(book), "--html", str(page), "--list", "clients_fr"], env)
    assert result.exit_code == 0, result.output
    assert "GetResponse contacts 3" in result.stdout
    assert f"Workbook: {book.resolve()}" in result.stdout
    assert f"Web page: {page.resolve()}" in result.stdout
    assert book.stat().st_size > 5000
    assert "<svg" in page.read_text(encoding="utf-8")


def test_json_and_dry_run(env: dict[str, str], tmp_path: Path) -> None:
    result = run(["--json", "--dry-run", "-o", str(tmp_path / "x.xlsx")], env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["figures"]["contacts"]["GetResponse contacts"] == 3
    assert data["workbook"] is None
    assert not (tmp_path / "x.xlsx").exists()


def test_bad_input_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    unknown = run(["--list", "nope", "-o", str(tmp_path / "x.xlsx")], env)
    assert unknown.exit_code == 2
    assert "--list nope: no GetResponse List has that name" in unknown.output
    assert "clients_fr" in unknown.output
    bad = run(["--since", "31/12/2025"], env)
    assert bad.exit_code == 2
    assert "is not a date: write it YYYY-MM-DD" in bad.output
