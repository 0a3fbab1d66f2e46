"""What the state store gives back — crash recovery reads exactly this: journal entries with
their kind, state, payload, result and error in the order they were intended, the kind and
state filters, the last run of a job, where the store lives by default, and who may take over
a lock (only a dead process of this host; a lock from another host is never broken, and
checking a pid sends it nothing)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from reconcile.state import DONE, FAILED, PENDING, Entry, LockHeld, StateStore, default_path
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
