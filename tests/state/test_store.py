"""The state store's behaviour, the same on SQLite and on PostgreSQL (``state_url`` runs each
test on both): the journal survives kill -9, watermarks only move forward, locks and leases
let one holder in at a time — also when processes race for them — and expire, incidents are
opened once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from reconcile.state import DONE, FAILED, MIGRATIONS, PENDING, LeaseHeld, StateError, StateStore


def run_python(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_journal_survives_a_killed_process(state_url: str) -> None:
    proc = run_python(f"""
        import os, signal
        from reconcile.state import StateStore
        store = StateStore({state_url!r})
        run = store.open_run("migrate", "abc")
        store.intend(run, [("contact:1", "create", {{"email": "a@x.fr"}}),
                           ("contact:2", "create", {{}})])
        store.mark(run, [("contact:1", "done", {{"id": "g1"}}, None)])
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    assert proc.returncode == -9, proc.stderr
    with StateStore(state_url) as store:
        run = store.open_run("migrate", "abc")
        assert store.states(run) == {"contact:1": DONE, "contact:2": PENDING}
        assert store.entries(run, state=DONE)[0].result == {"id": "g1"}


def test_reintending_keeps_state_and_a_finished_run_is_not_reopened(store: StateStore) -> None:
    run = store.open_run("migrate", "k")
    store.intend(run, [("a", "create", {})])
    store.mark(run, [("a", FAILED, None, "duplicate")])
    store.intend(run, [("a", "create", {}), ("b", "create", {})])
    assert store.states(run) == {"a": FAILED, "b": PENDING}
    assert store.entries(run, state=FAILED)[0].error == "duplicate"
    assert [e.op_key for e in store.entries(run)] == ["a", "b"]  # in the order intended
    assert store.open_run("migrate", "k") == run
    store.finish_run(run)
    assert store.open_run("migrate", "k") != run
    assert store.open_run("migrate", "other") != run


def test_runs_keep_their_reports_and_are_listed_newest_first(store: StateStore) -> None:
    first = store.open_run("sync:lists", "env")
    store.save_report(first, "failed", {"counts": {"lists created": 1}})
    store.finish_run(first)
    second = store.open_run("sync:lists", "env")
    store.save_report(second, "ok", {"counts": {}})
    store.open_run("sync:contacts", "env")
    runs = store.runs("sync:lists", "env")
    assert [r.run_id for r in runs] == [second, first]
    assert runs[1].report == {"counts": {"lists created": 1}}
    assert (runs[1].status, runs[1].outcome) == ("finished", "failed")
    assert [r.run_id for r in store.runs("sync:lists", outcome="failed")] == [first]
    assert [r.run_id for r in store.runs("sync:lists", status="running")] == [second]
    assert store.inputs("sync:") == [("sync:contacts", "env"), ("sync:lists", "env")]
    assert store.runs(since=time.time() + 60) == []
    assert len(store.runs(limit=2)) == 2
    assert store.last_run("sync:lists", "env") == (second, "running")
    # Times are kept to the sub-second (PostgreSQL's REAL would round epochs to 6 digits).
    assert abs(runs[0].started_at - time.time()) < 60


def test_watermarks_only_move_forward(store: StateStore) -> None:
    assert store.watermark("contacts") is None
    assert store.advance_watermark("contacts", "2026-01-02T00:00:00Z") == "2026-01-02T00:00:00Z"
    assert store.advance_watermark("contacts", "2026-01-01T00:00:00Z") == "2026-01-02T00:00:00Z"
    assert store.advance_watermark("contacts", "2026-01-03T00:00:00Z") == "2026-01-03T00:00:00Z"
    assert store.watermark("contacts") == "2026-01-03T00:00:00Z"
    store.advance_watermark("sync:lists:env:x", "1")
    assert store.watermarks("sync:") == {"sync:lists:env:x": "1"}


def test_pending_items_come_oldest_first_and_resolved_ones_are_pruned(store: StateStore) -> None:
    store.add_pending("inbox", [(f"e{n}", {"n": n}) for n in range(5)])
    assert list(store.pending("inbox", limit=2)) == ["e0", "e1"]
    store.resolve_pending("inbox", {"e0": "written", "e1": "written"})
    store.add_pending("inbox", [("e0", {"n": "again"})])  # a redelivery: still known
    assert list(store.pending("inbox")) == ["e2", "e3", "e4"]
    assert store.prune_pending("inbox", time.time() - 3600) == 0  # resolved just now: kept
    assert store.prune_pending("inbox", time.time() + 1) == 2
    assert store.prune_pending("other", time.time() + 1) == 0
    assert len(store.pending("inbox")) == 3


def test_pending_async_operations(store: StateStore) -> None:
    store.add_pending("getresponse", [("a@x.fr|C1", {"campaign": "C1"}), ("b@x.fr|C1", {})])
    store.add_pending("getresponse", [("a@x.fr|C1", {"campaign": "again"})])  # kept as it was
    assert store.pending("getresponse")["a@x.fr|C1"] == {"campaign": "C1"}
    store.resolve_pending("getresponse", {"a@x.fr|C1": "appeared"})
    assert list(store.pending("getresponse")) == ["b@x.fr|C1"]


def test_lock_refuses_a_live_owner_and_takes_over_a_dead_one(store: StateStore) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        store._db.execute(
            "INSERT INTO locks (name, owner, acquired_at) VALUES (?, ?, 0)",
            ("migrate", f"{os.uname().nodename}:{other.pid}"),
        )
        with pytest.raises(StateError, match="already doing"), store.lock("migrate"):
            pass
    finally:
        other.kill()
        other.wait()
    with store.lock("migrate"):  # the owner is dead now: taken over
        assert (
            store._db.execute("SELECT owner FROM locks").fetchone()[0].endswith(f":{os.getpid()}")
        )
    assert store._db.execute("SELECT COUNT(*) FROM locks").fetchone()[0] == 0


def test_a_lease_has_one_holder_until_it_expires(store: StateStore) -> None:
    store.acquire_lease("sync:lists:env", "a", 60)
    store.acquire_lease("sync:lists:env", "a", 60)  # renewing one's own
    with pytest.raises(LeaseHeld, match="another reconcile run \\(a\\)") as held:
        store.acquire_lease("sync:lists:env", "b", 60)
    assert held.value.holder == "a"
    holder = store.lease_holder("sync:lists:env")
    assert holder is not None
    assert holder[0] == "a"
    assert store.renew_lease("sync:lists:env", "a", -1)  # expired now
    assert store.lease_holder("sync:lists:env") is None
    store.acquire_lease("sync:lists:env", "b", 60)  # taken over
    assert not store.renew_lease("sync:lists:env", "a", 60)  # a lost it and cannot renew
    store.release_lease("sync:lists:env", "a")  # a no longer holds it: nothing happens
    assert store.lease_holder("sync:lists:env") == ("b", pytest.approx(time.time() + 60, abs=5))
    store.release_lease("sync:lists:env", "b")
    assert store.lease_holder("sync:lists:env") is None
    assert not store.renew_lease("sync:lists:env", "b", 60)  # a heartbeat after release


def test_a_lease_whose_holder_died_on_this_host_is_taken_over_at_once(store: StateStore) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    here = os.uname().nodename
    store.acquire_lease("sync:lists:env", f"{here}:{dead.pid}:ab12cd34", 600)
    store.acquire_lease("sync:lists:env", f"{here}:{os.getpid()}:ef56ab78", 600)
    holder = store.lease_holder("sync:lists:env")
    assert holder is not None
    assert holder[0].endswith(":ef56ab78")
    # A holder on another host may be alive: only its expiry frees the lease.
    store.acquire_lease("sync:contacts:env", "elsewhere:1:ab12cd34", 600)
    with pytest.raises(LeaseHeld):
        store.acquire_lease("sync:contacts:env", f"{here}:{os.getpid()}:ef56ab78", 600)


def test_processes_racing_for_a_lease_get_one_winner(state_url: str) -> None:
    """Eight processes start together and ask for the same lease: exactly one gets it."""
    StateStore(state_url).close()  # migrated once, so the racers race for the lease only
    start = time.time() + 1.5
    script = f"""
        import sys, time
        from reconcile.state import LeaseHeld, StateStore
        store = StateStore({state_url!r})
        time.sleep(max(0, {start} - time.time()))
        try:
            store.acquire_lease("sync:newsletters:env", sys.argv[1], 60)
        except LeaseHeld:
            print("lost")
        else:
            print("won")
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
    said = sorted(out.strip() for out, _ in outcomes)
    assert said == ["lost"] * 7 + ["won"], [err for _, err in outcomes]


def test_processes_racing_to_migrate_a_new_store_migrate_it_once(state_url: str) -> None:
    script = f"""
        from reconcile.state import StateStore
        store = StateStore({state_url!r})
        print(store.open_run("sync:lists", "env"))
    """
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outcomes]
    with StateStore(state_url) as store:
        assert len(store.runs()) >= 1
        if store.dialect == "postgresql":
            versions = store._db.execute("SELECT version FROM reconcile_schema").fetchall()
            assert versions == [(len(MIGRATIONS),)]


def test_an_incident_is_opened_once_and_closed_once(store: StateStore) -> None:
    assert store.open_incident("failed:lists:env", "failed", {"run": 3})
    assert not store.open_incident("failed:lists:env", "failed", {"run": 4})
    store.update_incident("failed:lists:env", {"run": 5})
    store.mark_notified("failed:lists:env")
    [incident] = store.incidents("failed:")
    assert (incident.kind, incident.detail) == ("failed", {"run": 5})
    assert incident.notified_at is not None
    closed = store.close_incident("failed:lists:env")
    assert closed is not None
    assert closed.detail == {"run": 5}
    assert store.close_incident("failed:lists:env") is None
    assert store.incidents() == []


def test_reopening_gives_a_second_connection_to_the_same_store(store: StateStore) -> None:
    other = store.reopen()
    other.advance_watermark("w", "1")
    assert store.watermark("w") == "1"
    other.close()
