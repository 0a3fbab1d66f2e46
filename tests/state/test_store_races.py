"""Runners that meet in the state store at the same moment, on SQLite and on PostgreSQL: a
reader never waits for a writer (``reconcile status`` while a run writes), processes that find
a dead runner's lease all at once let exactly one take it over, and an incident two runners
close together is told over once."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from reconcile.state import Incident, StateStore


def test_opening_an_up_to_date_store_waits_for_no_writer(state_url: str) -> None:
    StateStore(state_url).close()  # migrated
    with StateStore(state_url) as writer, writer._db.transaction():
        writer._db.execute(  # a run in the middle of a write transaction
            "INSERT INTO watermarks (name, value, updated_at) VALUES (?, ?, 0)",
            ("sync:lists:env", "2026-01-01"),
        )
        with StateStore(state_url) as reader:
            assert reader.watermark("sync:lists:env") is None  # not committed yet
    with StateStore(state_url) as reader:
        assert reader.watermark("sync:lists:env") == "2026-01-01"


def test_processes_finding_a_dead_holder_together_get_one_winner(state_url: str) -> None:
    """The lease of a runner killed on this host is taken over at once — by one of the eight
    processes that notice it at the same moment, never by two."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with StateStore(state_url) as store:
        store.acquire_lease("sync:lists:env", f"{socket.gethostname()}:{dead.pid}:0dead000", 600)
    start = time.time() + 1.5
    script = f"""
        import os, socket, sys, time
        from reconcile.state import LeaseHeld, StateStore
        store = StateStore({state_url!r})
        time.sleep(max(0, {start} - time.time()))
        try:
            store.acquire_lease(
                "sync:lists:env", f"{{socket.gethostname()}}:{{os.getppid()}}:{{sys.argv[1]}}", 600
            )
        except LeaseHeld as held:
            print("lost to", held.holder.rpartition(":")[2])
        else:
            print("won", sys.argv[1])
    """
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script), f"racer{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    outcomes = [p.communicate(timeout=60) for p in procs]
    said = [out.strip() for out, _ in outcomes]
    winners = [line.split()[1] for line in said if line.startswith("won ")]
    assert len(winners) == 1, [err for _, err in outcomes]
    assert sorted(said) == sorted([f"won {winners[0]}"] + [f"lost to {winners[0]}"] * 7)
    with StateStore(state_url) as store:
        holder = store.lease_holder("sync:lists:env")
        assert holder is not None
        assert holder[0].endswith(f":{winners[0]}")  # the winner holds it, the dead one not


def _pause_after(
    store: StateStore, monkeypatch: pytest.MonkeyPatch, starts: str, pause: Callable[[], None]
) -> None:
    """Make ``store`` call ``pause`` right after its first statement starting with ``starts``."""
    real = store._db.execute
    paused: list[bool] = []

    def execute(sql: str, params: Any = ()) -> Any:
        result = real(sql, params)
        if sql.startswith(starts) and not paused:
            paused.append(True)
            pause()
        return result

    monkeypatch.setattr(store._db, "execute", execute)


def test_an_incident_closed_by_two_runners_at_once_is_closed_once(
    state_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runner A is closing the incident (it has read it, not yet deleted it) when runner B
    looks at it and closes it too: B's look does not wait for A, B's close waits and finds
    nothing, so only A says the incident is over."""
    with StateStore(state_url) as setup:
        setup.open_incident("failed:lists:env", "failed", {"run": 3})
        incident = setup.incident("failed:lists:env")
    a_has_read, b_has_looked = threading.Event(), threading.Event()
    closed_by_a: list[Incident | None] = []

    def pause() -> None:
        a_has_read.set()
        b_has_looked.wait(timeout=10)

    def runner_a() -> None:  # its own thread, its own connection (SQLite wants both)
        with StateStore(state_url) as a:
            _pause_after(a, monkeypatch, "SELECT key, kind", pause)
            closed_by_a.append(a.close_incident("failed:lists:env"))

    thread = threading.Thread(target=runner_a)
    thread.start()
    try:
        assert a_has_read.wait(timeout=30)
        with StateStore(state_url) as b:
            looked = b.incident("failed:lists:env")
            b_has_looked.set()
            closed_by_b = b.close_incident("failed:lists:env")
    finally:
        b_has_looked.set()
        thread.join(timeout=60)
    assert looked == incident  # still open while A closes it
    assert closed_by_a == [incident]
    assert closed_by_b is None
