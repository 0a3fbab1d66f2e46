"""The fixtures every sync-job test module shares: both sandboxes (one pair per module), made
fresh before each test, and contexts on them sharing one state file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.jobs.migrate_env import Env
from tests.jobs.sync import sync_env
from tests.jobs.sync.sync_env import Contexts


@pytest.fixture(scope="module")
def _servers() -> Iterator[Env]:
    yield from sync_env.servers()


@pytest.fixture
def env(_servers: Env) -> Iterator[Env]:
    yield from sync_env.fresh(_servers)


@pytest.fixture
def contexts(env: Env, tmp_path: Path) -> Contexts:
    return Contexts(env, tmp_path / "state.sqlite3")
