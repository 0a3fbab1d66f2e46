from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from reconcile.state import DONE, FAILED, PENDING, StateError, StateStore


def test_journal_survives_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    script = f"""
import os, signal
from reconcile.state import StateStore
store = StateStore({str(path)!r})
run = store.open_run("migrate", "abc")
store.intend(run, [("contact:1", "create", {{"email": "a@x.fr"}}), ("contact:2", "create", {{}})])
store.mark(run, [("contact:1", "done", {{"id": "g1"}}, None)])
os.kill(os.getpid(), signal.SIGKILL)
"""
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == -9
    with StateStore(path) as store:
        run = store.open_run("migrate", "abc")
        assert store.states(run) == {"contact:1": DONE, "contact:2": PENDING}
        assert store.entries(run, state=DONE)[0].result == {"id": "g1"}


def test_reintending_keeps_state_and_a_finished_run_is_not_reopened() -> None:
    store = StateStore()
    run = store.open_run("migrate", "k")
    store.intend(run, [("a", "create", {})])
    store.mark(run, [("a", FAILED, None, "duplicate")])
    store.intend(run, [("a", "create", {}), ("b", "create", {})])
    assert store.states(run) == {"a": FAILED, "b": PENDING}
    assert store.entries(run, state=FAILED)[0].error == "duplicate"
    assert store.open_run("migrate", "k") == run
    store.finish_run(run)
    assert store.open_run("migrate", "k") != run
    assert store.open_run("migrate", "other") != run


def test_watermarks_only_move_forward() -> None:
    store = StateStore()
    assert store.watermark("contacts") is None
    assert store.advance_watermark("contacts", "2026-01-02T00:00:00Z") == "2026-01-02T00:00:00Z"
    assert store.advance_watermark("contacts", "2026-01-01T00:00:00Z") == "2026-01-02T00:00:00Z"
    assert store.watermark("contacts") == "2026-01-02T00:00:00Z"


def test_pending_async_operations() -> None:
    store = StateStore()
    store.add_pending("getresponse", [("a@x.fr|C1", {"campaign": "C1"}), ("b@x.fr|C1", {})])
    store.resolve_pending("getresponse", {"a@x.fr|C1": "appeared"})
    assert list(store.pending("getresponse")) == ["b@x.fr|C1"]


def test_lock_refuses_a_live_owner_and_takes_over_a_dead_one(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = StateStore(path)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        db = sqlite3.connect(path)
        db.execute(
            "INSERT INTO locks VALUES (?, ?, 0)", ("migrate", f"{os.uname().nodename}:{other.pid}")
        )
        db.commit()
        with pytest.raises(StateError, match="already doing"), store.lock("migrate"):
            pass
    finally:
        other.kill()
        other.wait()
    with store.lock("migrate"):  # the owner is dead now: taken over
        pass


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StateError, match="newer reconcile"):
        StateStore(path)


def test_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError, match="cannot use the state database"):
        StateStore(path)
