"""The two databases under the state store: where a location points, what a message may show
of it (never a password), what happens to a transaction cut short (nothing of it stays, the
store stays usable), and the errors an admin meets — a busy or corrupt SQLite file, a
PostgreSQL server that cannot be reached or goes away (exit 3: retry later, nothing lost)."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconcile.state import (
    StateError,
    StateStore,
    StateUnavailable,
    backends,
    has_password,
    is_postgresql,
    redact,
)
from tests.state.backends import postgresql_location


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("postgresql://reconcile:hunter2@db.example.com:5433/state", "postgresql://reconcile@db.example.com:5433/state"),
        ("postgres://u:hunter2:q@db/state?sslmode=require", "postgres://u@db/state?sslmode=require"),
        ("postgresql://db/state?sslmode=require&PASSWORD=hunter2&application_name=x", "postgresql://db/state?sslmode=require&application_name=x"),
        ("  POSTGRESQL://reconcile:hunter2@db/state", "postgresql://reconcile@db/state"),
        ("postgresql://reconcile@db/state#hunter", "postgresql://reconcile@db/state#hunter"),
        ("/var/lib/u:hunter2@state.sqlite3", "/var/lib/u:hunter2@state.sqlite3"),
    ],
)  # fmt: skip
def test_a_location_is_shown_without_its_password(location: str, shown: str) -> None:
    assert redact(location) == shown


def test_what_counts_as_a_postgresql_location() -> None:
    assert is_postgresql("postgresql://db/state")
    assert is_postgresql("postgres://db/state")
    assert is_postgresql("  PostgreSQL://db/state")
    assert not is_postgresql("state.sqlite3")
    assert not is_postgresql("/data/postgresql/state.sqlite3")
    assert has_password("postgresql://u:pw@db/state")
    assert has_password("postgresql://db/state?password=pw")
    assert not has_password("postgresql://u@db/state")
    assert not has_password("/tmp/u:pw@x.sqlite3")  # a file name, not a URL


def test_a_sqlite_store_makes_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "state.sqlite3"
    with StateStore(path) as store:
        assert store.dialect == "sqlite"
        store.advance_watermark("w", "1")
    assert path.is_file()


def test_a_folder_that_cannot_be_made_is_a_setting_to_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StateError) as refused:  # was a FileExistsError traceback, exit 1
        StateStore(blocker / "state.sqlite3")
    assert refused.value.exit_code == 2
    assert refused.value.message.startswith(f"cannot create the state database {blocker}")
    assert refused.value.hint is not None
    assert "--state" in refused.value.hint


def test_a_long_read_never_blocks_a_run_writing(tmp_path: Path) -> None:
    """``reconcile status`` reading while a run commits (WAL: readers and the writer do not
    wait for each other)."""
    path = tmp_path / "state.sqlite3"
    with StateStore(path) as store:
        store.advance_watermark("w", "1")
        reader = sqlite3.connect(path, isolation_level=None, timeout=0)
        try:
            reader.execute("BEGIN")
            assert reader.execute("SELECT value FROM watermarks").fetchall() == [("1",)]
            store.advance_watermark("w", "2")  # commits while the read is open
            assert reader.execute("SELECT value FROM watermarks").fetchall() == [("1",)]
            reader.execute("COMMIT")
        finally:
            reader.close()
        assert store.watermark("w") == "2"


@pytest.mark.parametrize("stop", [RuntimeError("a bug"), KeyboardInterrupt()])
def test_a_transaction_cut_short_leaves_nothing_and_the_store_usable(
    store: StateStore, stop: BaseException
) -> None:
    run = store.open_run("migrate", "k")

    def write_then_stop() -> None:
        with store._transaction():
            store._db.execute(
                "INSERT INTO journal (run_id, op_key, kind, state, seq, updated_at) "
                "VALUES (?, 'a', 'contact', 'pending', 1, 0)",
                (run,),
            )
            raise stop

    with pytest.raises(type(stop)):
        write_then_stop()
    assert store.entries(run) == []
    store.intend(run, [("b", "contact", {})])  # a next transaction starts cleanly
    assert list(store.states(run)) == ["b"]


def test_a_busy_or_corrupt_sqlite_file_says_what_to_do(tmp_path: Path) -> None:
    busy = backends._busy("/data/state.sqlite3", sqlite3.OperationalError("database is locked"))
    assert busy.message == (
        "the state database /data/state.sqlite3 stayed busy for 30 s (database is locked)"
    )
    assert busy.hint is not None
    assert "another reconcile process is writing to it" in busy.hint
    assert "PostgreSQL" in busy.hint
    also_busy = backends._busy("f", sqlite3.OperationalError("the database is busy"))
    assert also_busy.message.startswith("the state database f stayed busy")
    broken = backends._busy("f", sqlite3.DatabaseError("database disk image is malformed"))
    assert broken.message == "cannot use the state database f: database disk image is malformed"
    assert broken.hint == "point --state at another file, or move this one aside if it is corrupt"
    assert broken.exit_code == 2


def test_a_postgresql_server_that_refuses_is_exit_3_without_the_password() -> None:
    with pytest.raises(StateUnavailable) as refused:
        StateStore("postgresql://reconcile:hunter2@127.0.0.1:9/state?connect_timeout=5")
    assert refused.value.exit_code == 3
    assert refused.value.message.startswith(
        "cannot connect to the state database postgresql://reconcile@127.0.0.1:9/state"
    )
    assert "\n" not in refused.value.message  # psycopg's first line only
    assert "hunter2" not in str(refused.value)
    assert refused.value.hint is not None
    assert "PGPASSWORD or ~/.pgpass" in refused.value.hint


def test_without_psycopg_a_postgresql_store_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    with pytest.raises(StateError) as missing:
        StateStore("postgresql://db/state")
    assert missing.value.message == "a PostgreSQL state store needs the psycopg package"
    assert missing.value.hint is not None
    assert "pip install 'reconcile[postgresql]'" in missing.value.hint


def test_an_error_s_first_line_or_its_type() -> None:
    assert backends._first_line(RuntimeError("  first\nsecond")) == "first"
    assert backends._first_line(RuntimeError("")) == "RuntimeError"


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from postgresql_location()


def test_a_postgresql_server_going_away_is_exit_3_and_nothing_is_lost(pg_url: str) -> None:
    import psycopg

    with StateStore(pg_url) as store:
        run = store.open_run("migrate", "k")
        store.intend(run, [("a", "contact", {})])
        pid = store._db._db.info.backend_pid  # type: ignore[attr-defined]
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for call in (
            lambda: store.watermark("w"),  # a statement
            lambda: store.intend(run, [("b", "contact", {})]),  # a transaction
        ):
            with pytest.raises(StateUnavailable) as lost:
                call()
            assert lost.value.exit_code == 3
            assert lost.value.message.startswith(f"the state database {redact(pg_url)} failed: ")
            assert lost.value.hint is not None
            assert "nothing is lost, the run resumes from its journal" in lost.value.hint
    with StateStore(pg_url) as again:
        assert again.states(run) == {"a": "pending"}


def test_postgresql_keeps_times_to_the_microsecond_and_refuses_a_literal_percent(
    pg_url: str,
) -> None:
    with StateStore(pg_url) as store:
        store.add_pending("inbox", [("e", {})])
        store.resolve_pending("inbox", {"e": "done"})
        [(created, resolved)] = store._db.execute(
            "SELECT created_at, resolved_at FROM pending_async"
        ).fetchall()
        assert created != round(created)  # DOUBLE PRECISION, not PostgreSQL's 6-digit REAL
        assert 0 <= resolved - created < 60
        with pytest.raises(AssertionError, match="never holds a literal %"):
            store._db.execute("SELECT 'a' LIKE 'a%'")
