"""SQLite specifics: the journal's sequence numbers are found through an index (migration 2),
so journaling a large run stays linear; a database of schema 1 is migrated in place; a newer
or corrupt file is refused with a clear error."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from reconcile.state import MIGRATIONS, StateError, StateStore


def test_intend_reads_the_last_sequence_through_the_index(tmp_path: Path) -> None:
    with StateStore(tmp_path / "s.sqlite3") as store:
        run = store.open_run("migrate", "k")
        for chunk in range(3):
            store.intend(run, [(f"op{chunk}-{i}", "record", {}) for i in range(100)])
        assert [e.op_key for e in store.entries(run)][-1] == "op2-99"
        plan = store._db.execute(
            "EXPLAIN QUERY PLAN SELECT COALESCE(MAX(seq), 0) FROM journal WHERE run_id = ?",
            (run,),
        ).fetchall()
    assert "journal_by_seq" in " ".join(str(step) for step in plan)


def test_a_schema_1_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    db.execute("INSERT INTO runs (job, input_key, started_at) VALUES ('migrate', 'k', 0)")
    db.commit()
    db.close()
    with StateStore(path) as store:
        assert store._db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 5
        assert store.open_run("migrate", "k") == 1


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StateError) as refused:
        StateStore(path)
    assert refused.value.message == (
        f"the state database {path} was written by a newer reconcile "
        f"(schema 99, this one knows {len(MIGRATIONS)})"
    )
    assert refused.value.hint == "upgrade reconcile, or use another --state file"


def test_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError, match="cannot use the state database"):
        StateStore(path)
