"""``reconcile sync contacts`` as an admin types it: ``--list``, ``--since``, ``--dry-run``,
``--json``, a list name that does not exist (exit 2), a lost watermark (exit 1, with the
command that fixes it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconcile.cli import cli
from tests.jobs.migrate_env import Env
from tests.jobs.sync import sync_env
from tests.jobs.sync.contacts_env import seed
from tests.jobs.sync.sync_env import Contexts


@pytest.fixture(scope="module")
def _servers() -> Iterator[Env]:
    yield from sync_env.servers()


@pytest.fixture
def env(_servers: Env) -> Iterator[Env]:
    yield from sync_env.fresh(_servers)


def run(args: list[str], env: Env, state: Path, **extra: str) -> tuple[int, str, str]:
    settings = {**env.settings_env("service"), "RECONCILE_STATE": str(state), **extra}
    result = CliRunner().invoke(cli, args, env=settings, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_sync_contacts_from_the_command_line(env: Env, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    world = seed(env, Contexts(env, state))
    fields = {"RECONCILE_SYNC_SEND_CUSTOM_FIELDS": "true", "RECONCILE_SYNC_SEND_TAGS": "true"}
    code, out, _ = run(["sync", "contacts", "--list", "clients_fr", "--dry-run", "-q"], env, state)
    assert code == 0
    assert "Dry run of sync contacts" in out
    assert "GetResponse contact anna.martin@gmail.com" in out
    assert world.records() == {}

    code, out, _ = run(["sync", "contacts", "--json", "-q"], env, state, **fields)
    assert code == 0, out
    data = json.loads(out)
    assert data["counts"] == {"contact records created": 5, "custom field values written": 3}
    assert data["exit_code"] == 0

    code, out, err = run(["sync", "contacts", "--list", "nope"], env, state)
    assert code == 2
    assert "no GetResponse List record Created in GetResponse is called 'nope'" in out + err
    assert "clients_fr, newsletter" in out + err

    lost = tmp_path / "other.sqlite3"
    code, out, _ = run(["sync", "contacts", "-q"], env, lost)
    assert code == 1
    assert "no watermark for this list" in out
    assert "reconcile sync contacts --list clients_fr --full" in out
    code, out, _ = run(["sync", "contacts", "--since", "2026-01-01", "-q"], env, lost, **fields)
    assert code == 0, out
    assert "nothing to do" in out
