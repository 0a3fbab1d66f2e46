"""What the state store gives back — crash recovery reads exactly this: journal entries with
their kind, state, payload, result and error in the order they were intended, the kind and
state filters, the last run of a job, runs and incidents with every field, values JSON cannot
hold kept as their text, where the store lives by default, and who may take over a lock (only
a dead process of this host; a lock from another host is never broken, and checking a pid
sends it nothing)."""

from __future__ import annotations

import os
import socket
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from reconcile.state import (
    DONE,
    FAILED,
    PENDING,
    Entry,
    Incident,
    LeaseHeld,
    LockHeld,
    RunRecord,
    StateStore,
    default_path,
    redact,
)
from reconcile.state import store as store_module


def test_the_journal_reads_back_every_field_in_intended_order(store: StateStore) -> None:
    run = store.open_run("migrate", "input-1")
    store.intend(
        run,
        [
            ("contact:b", "contact", {"email": "b@x.fr", "n": 2}),
            ("contact:a", "contact", {"email": "a@x.fr", "n": 1}),
            ("record:a", "record", {"link": None}),
        ],
    )
    store.intend(run, [("list:c", "list", {"name": "Clients"})])  # a later batch: after
    store.mark(
        run,
        [
            ("contact:b", DONE, {"outcome": "created"}, None),
            ("contact:a", FAILED, None, "duplicate of 1234"),
        ],
    )
    assert store.entries(run) == [
        Entry(
            "contact:b", "contact", DONE, {"email": "b@x.fr", "n": 2}, {"outcome": "created"}, None
        ),
        Entry(
            "contact:a", "contact", FAILED, {"email": "a@x.fr", "n": 1}, None, "duplicate of 1234"
        ),
        Entry("record:a", "record", PENDING, {"link": None}, None, None),
        Entry("list:c", "list", PENDING, {"name": "Clients"}, None, None),
    ]
    assert [e.op_key for e in store.entries(run, kind="contact")] == ["contact:b", "contact:a"]
    assert [e.op_key for e in store.entries(run, state=PENDING)] == ["record:a", "list:c"]
    assert [e.op_key for e in store.entries(run, state=FAILED, kind="contact")] == ["contact:a"]
    assert store.entries(run, state=DONE, kind="record") == []
    assert store.states(run) == {
        "contact:b": DONE,
        "contact:a": FAILED,
        "record:a": PENDING,
        "list:c": PENDING,
    }
    assert store.states(run, kind="list") == {"list:c": PENDING}
    other = store.open_run("migrate", "input-2")
    assert store.entries(other) == []  # one run's journal is its own


def test_last_run_is_the_newest_of_that_job_and_input(store: StateStore) -> None:
    assert store.last_run("migrate", "input-1") is None
    first = store.open_run("migrate", "input-1")
    store.finish_run(first)
    assert store.last_run("migrate", "input-1") == (first, "finished")
    second = store.open_run("migrate", "input-1")
    store.open_run("migrate", "input-2")
    store.open_run("sync:lists", "input-1")
    assert store.last_run("migrate", "input-1") == (second, "running")
    store.finish_run(second, "failed")
    assert store.last_run("migrate", "input-1") == (second, "failed")


def test_the_default_store_is_in_the_xdg_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / "reconcile" / "state.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / ".local" / "share" / "reconcile" / "state.sqlite3"


def _hold(store: StateStore, name: str, owner: str) -> None:
    store._db.execute(
        "INSERT INTO locks (name, owner, acquired_at) VALUES (?, ?, 0)", (name, owner)
    )


def test_a_lock_from_another_host_is_never_broken(store: StateStore) -> None:
    _hold(store, "migrate", "another-host.example:1")  # pid 1 is "dead" nowhere we can see
    with pytest.raises(LockHeld) as caught, store.lock("migrate"):
        pass
    assert caught.value.exit_code == 4
    assert "another-host.example:1" in caught.value.message


def test_checking_a_local_owner_sends_it_no_signal(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int]] = []

    def kill(pid: int, sig: int) -> None:  # os.kill(pid, 0) only asks whether pid exists
        calls.append((pid, sig))
        if pid == 424242:
            raise ProcessLookupError

    monkeypatch.setattr(store_module.os, "kill", kill)
    host = socket.gethostname()
    _hold(store, "alive", f"{host}:4242")
    with pytest.raises(LockHeld), store.lock("alive"):
        pass
    _hold(store, "dead", f"{host}:424242")
    with store.lock("dead"):  # its process is gone: taken over
        pass
    assert calls == [(4242, 0), (424242, 0)]


def test_an_owner_we_may_not_signal_is_alive_and_a_garbled_one_is_not(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def kill(pid: int, sig: int) -> None:
        raise PermissionError  # another user's process: it exists

    monkeypatch.setattr(store_module.os, "kill", kill)
    host = socket.gethostname()
    _hold(store, "theirs", f"{host}:77")
    with pytest.raises(LockHeld), store.lock("theirs"):
        pass
    _hold(store, "garbled", f"{host}:not-a-pid")
    with store.lock("garbled"):
        pass


def test_our_own_lock_is_ours_to_take_again(store: StateStore) -> None:
    _hold(store, "mine", f"{socket.gethostname()}:{os.getpid()}")  # left by this process
    with store.lock("mine"):
        pass
    assert store._db.execute("SELECT COUNT(*) FROM locks").fetchone()[0] == 0


def test_pending_items_read_back_per_service_with_their_payloads(store: StateStore) -> None:
    store.add_pending("getresponse", [("a@x.fr", {"list": "L1", "n": 1}), ("b@x.fr", {"n": 2})])
    store.add_pending("other", [("a@x.fr", {"n": 9})])
    store.add_pending("getresponse", [("a@x.fr", {"list": "changed"})])  # known: kept as was
    assert store.pending("getresponse") == {"a@x.fr": {"list": "L1", "n": 1}, "b@x.fr": {"n": 2}}
    store.resolve_pending("getresponse", {"a@x.fr": "created"})
    assert store.pending("getresponse") == {"b@x.fr": {"n": 2}}
    assert store.pending("other") == {"a@x.fr": {"n": 9}}  # another service's item untouched
    assert store.pending("getresponse", limit=0) == {}
    assert store.prune_pending("getresponse", 0) == 0  # resolved after the epoch: kept
    assert store.prune_pending("other", 2**40) == 0  # not resolved: never pruned


def test_watermarks_read_back_by_prefix_in_name_order(store: StateStore) -> None:
    store.advance_watermark("sync:lists:b", "2026-01-02")
    store.advance_watermark("sync:lists:a", "2026-01-01")
    store.advance_watermark("sync:contacts:a", "2026-01-03")
    assert list(store.watermarks()) == ["sync:contacts:a", "sync:lists:a", "sync:lists:b"]
    assert store.watermarks("sync:lists:") == {
        "sync:lists:a": "2026-01-01",
        "sync:lists:b": "2026-01-02",
    }
    assert store.watermark("sync:lists:a") == "2026-01-01"
    assert store.watermark("nothing") is None


def test_runs_read_back_every_field_and_filter_by_start(store: StateStore) -> None:
    before = time.time()
    first = store.open_run("sync:lists", "env-a")
    store.save_report(first, "failed", {"counts": {"lists created": 1}})
    store.finish_run(first)
    second = store.open_run("sync:contacts", "env-b")
    newest, oldest = store.runs()
    assert newest == RunRecord(
        second, "sync:contacts", "env-b", newest.started_at, None, "running", None, None
    )
    assert oldest == RunRecord(
        first,
        "sync:lists",
        "env-a",
        oldest.started_at,
        oldest.finished_at,
        "finished",
        "failed",
        {"counts": {"lists created": 1}},
    )
    assert oldest.finished_at is not None
    assert before <= oldest.started_at <= oldest.finished_at <= time.time()
    # "started at or after": a run that started at that very moment is in
    assert [r.run_id for r in store.runs(since=before)] == [second, first]
    assert [r.run_id for r in store.runs(since=newest.started_at)] == [second]
    assert [r.run_id for r in store.runs(input_key="env-a")] == [first]
    assert store.inputs() == [("sync:contacts", "env-b"), ("sync:lists", "env-a")]


def test_runs_lists_the_latest_twenty_unless_told(store: StateStore) -> None:
    opened = []
    for n in range(22):
        opened.append(store.open_run("migrate", f"input-{n}"))
    assert [r.run_id for r in store.runs()] == opened[::-1][:20]
    assert len(store.runs(limit=22)) == 22


def test_incidents_read_back_every_field(store: StateStore) -> None:
    before = time.time()
    assert store.open_incident("stale:contacts:env", "stale", {"lag": 3})
    assert store.open_incident("failed:lists:env", "failed", {"run": 7})
    stale = store.incident("stale:contacts:env")
    assert stale == Incident("stale:contacts:env", "stale", {"lag": 3}, stale.opened_at, None)
    assert before <= stale.opened_at <= time.time()
    assert store.incident("blocked:env") is None
    store.mark_notified("failed:lists:env")
    failed = store.incident("failed:lists:env")
    assert failed is not None
    assert failed.notified_at is not None
    assert failed.opened_at <= failed.notified_at <= time.time()
    assert store.incidents() == [stale, failed]  # every one, oldest first
    assert store.incidents("failed:") == [failed]


def test_values_json_cannot_hold_are_kept_as_their_text(store: StateStore) -> None:
    """A payload or report holding a datetime, a uuid or a Decimal is journaled, never a crash
    of the run that writes it."""
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    run = store.open_run("migrate", "input-1")
    store.intend(run, [("contact:1", "contact", {"at": when, "id": ident, "n": Decimal("1.5")})])
    store.mark(run, [("contact:1", DONE, {"created": when}, None)])
    [entry] = store.entries(run)
    assert entry.payload == {"at": "2026-01-02 03:04:05+00:00", "id": str(ident), "n": "1.5"}
    assert entry.result == {"created": "2026-01-02 03:04:05+00:00"}
    store.save_report(run, "ok", {"finished": when})
    assert store.runs()[0].report == {"finished": "2026-01-02 03:04:05+00:00"}
    store.add_pending("getresponse", [("a@x.fr", {"since": when})])
    assert store.pending("getresponse") == {"a@x.fr": {"since": "2026-01-02 03:04:05+00:00"}}
    store.open_incident("blocked:env", "blocked", {"until": when})
    found = store.incident("blocked:env")
    assert found is not None
    assert found.detail == {"until": "2026-01-02 03:04:05+00:00"}
    store.update_incident("blocked:env", {"until": ident})
    found = store.incident("blocked:env")
    assert found is not None
    assert found.detail == {"until": str(ident)}


def test_a_mark_without_result_reads_back_none(store: StateStore) -> None:
    run = store.open_run("migrate", "input-1")
    store.intend(run, [("a", "contact", {}), ("b", "contact", {})])
    store.mark(run, [("a", DONE, None, None), ("b", FAILED, None, "refused")])
    assert [(e.result, e.error) for e in store.entries(run)] == [(None, None), (None, "refused")]


def test_the_store_names_where_it_lives_without_a_password(
    store: StateStore, state_url: str
) -> None:
    assert store.where == redact(state_url)
    assert store.path == state_url


def test_the_default_store_is_in_memory_and_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with StateStore() as one, StateStore() as two:
        one.advance_watermark("w", "1")
        assert two.watermark("w") is None
        assert one.where == ":memory:"
    assert list(tmp_path.iterdir()) == []  # no file written


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def test_a_lease_is_over_at_its_expiry_instant(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock(1_000_000.0)
    monkeypatch.setattr(store_module, "time", clock)
    store.acquire_lease("sync:lists:env", "a", 60)
    clock.now += 15
    with pytest.raises(LeaseHeld) as held:
        store.acquire_lease("sync:lists:env", "b", 60)
    assert held.value.name == "sync:lists:env"
    assert held.value.message == "another reconcile run (a) is already doing sync lists on env"
    assert held.value.hint is not None
    assert "its lease expires in 45 s" in held.value.hint
    assert store.lease_holder("sync:lists:env") == ("a", 1_000_060.0)
    clock.now += 45  # the expiry instant: free for anyone, and lease_holder says so too
    assert store.lease_holder("sync:lists:env") is None
    store.acquire_lease("sync:lists:env", "b", 60)
    assert store.lease_holder("sync:lists:env") == ("b", 1_000_120.0)
