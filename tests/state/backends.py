"""State stores of both kinds for the tests: a SQLite file, and a PostgreSQL schema of its own
on the server named by ``TEST_POSTGRESQL_URL`` (``.ci/run`` starts one and sets it).

Without that variable the PostgreSQL cases are skipped on a developer's machine — and fail
in CI (``CI`` set), where they must never be skipped. Each test gets a fresh schema
(``search_path`` in the URL), dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

ENV = "TEST_POSTGRESQL_URL"
BACKENDS = ("sqlite", "postgresql")


def server_url() -> str:
    url = os.environ.get(ENV, "")
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"{ENV} is not set: CI must run the PostgreSQL state tests (.ci/run)")
    pytest.skip(
        f"no PostgreSQL server: set {ENV} (apt-get install -y postgresql; pg_ctlcluster 15 "
        "main start; see .ci/run)"
    )


def with_schema(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


def postgresql_location() -> Iterator[str]:
    """A URL whose tables live in a new, empty schema; the schema is dropped afterwards."""
    import psycopg

    url = server_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def location(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield str(tmp_path / "state.sqlite3")
    else:
        yield from postgresql_location()
