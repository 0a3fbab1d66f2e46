"""The local state store: run journal, watermarks, pending asynchronous operations, locks.

Why local state at all: Dynamics holds the sync state (ids, statuses), but not what a run was
in the middle of when it died. The journal records each write *before* it is sent and again
*after* it is confirmed, so that a re-run after a crash (kill -9 included) knows exactly which
writes may or may not have happened and checks those against the service instead of
repeating them blindly. Watermarks only move forward, after the batch they cover is applied.

This module is the only code that opens the state database. It never stores secrets: callers
pass record ids and plain data only.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconcile.errors import EXIT_BAD_INPUT, Busy, ReconcileError

PENDING = "pending"
DONE = "done"
FAILED = "failed"

# Ordered migrations: index + 1 is the schema version. Append only; never edit a landed one.
MIGRATIONS = (
    """
    CREATE TABLE runs (
        run_id INTEGER PRIMARY KEY AUTOINCREMENT,
        job TEXT NOT NULL,
        input_key TEXT NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        status TEXT NOT NULL DEFAULT 'running'
    );
    CREATE INDEX runs_by_input ON runs (job, input_key, status);
    CREATE TABLE journal (
        run_id INTEGER NOT NULL REFERENCES runs (run_id),
        op_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}',
        result TEXT,
        error TEXT,
        seq INTEGER NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (run_id, op_key)
    );
    CREATE INDEX journal_by_state ON journal (run_id, state);
    CREATE TABLE watermarks (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE pending_async (
        service TEXT NOT NULL,
        key TEXT NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL,
        resolved_at REAL,
        outcome TEXT,
        PRIMARY KEY (service, key)
    );
    CREATE TABLE locks (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        acquired_at REAL NOT NULL
    );
    """,
    # intend() reads MAX(seq) of the run before each batch: without this index that is a scan
    # of the whole run's journal, quadratic over a 100,000-record migration.
    """
    CREATE INDEX journal_by_seq ON journal (run_id, seq);
    """,
    # The sync jobs: a lease per (job, environment) that expires, so that runners on several
    # hosts never run one job on one pair at once and a dead runner's lease is taken over;
    # each run's report, for `reconcile status`.
    """
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        acquired_at REAL NOT NULL,
        expires_at REAL NOT NULL
    );
    ALTER TABLE runs ADD COLUMN outcome TEXT;
    ALTER TABLE runs ADD COLUMN report TEXT;
    """,
)


class StateError(ReconcileError):
    """The state store is unusable (a setting to fix: exit 2) or busy (:class:`LockHeld`)."""

    exit_code = EXIT_BAD_INPUT


class LockHeld(Busy, StateError):
    """Another live run holds the lock: nothing was done (exit 4, not a failure)."""


class LeaseHeld(Busy, StateError):
    """Another runner holds the lease of this job on this environment, and it has not expired:
    nothing was done (exit 4, as for :class:`LockHeld`)."""

    def __init__(self, name: str, holder: str, expires_in: float) -> None:
        super().__init__(
            f"another reconcile run ({holder}) is already doing {name!r}",
            hint=f"wait for it to finish; if that runner is gone, its lease expires in "
            f"{max(expires_in, 0):.0f} s and the next run takes over",
        )
        self.name, self.holder = name, holder


@dataclass(frozen=True)
class RunRecord:
    """One run of a job as the store keeps it (for ``reconcile status``)."""

    run_id: int
    job: str
    input_key: str
    started_at: float
    finished_at: float | None
    status: str  # running | finished | aborted
    outcome: str | None
    report: dict[str, Any] | None


@dataclass(frozen=True)
class Entry:
    """One journaled write."""

    op_key: str
    kind: str
    state: str
    payload: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None


def default_path() -> Path:
    """Where the state lives unless told otherwise (XDG data dir)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "reconcile" / "state.sqlite3"


class StateStore:
    """A SQLite file (or ``:memory:``) holding the journal, watermarks and locks."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a committed transaction survives the process being killed.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StateError(
                f"cannot use the state database {self.path}: {exc}",
                hint="point --state at another file, or move this one aside if it is corrupt",
            ) from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema -------------------------------------------------------------------------
    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StateError(
                f"the state database {self.path} was written by a newer reconcile "
                f"(schema {version}, this one knows {len(MIGRATIONS)})",
                hint="upgrade reconcile, or use another --state file",
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._transaction():
                for statement in script.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- runs ---------------------------------------------------------------------------
    def open_run(self, job: str, input_key: str) -> int:
        """The unfinished run of ``job`` on this input, or a new one. Returns its id."""
        row = self._db.execute(
            "SELECT run_id FROM runs WHERE job = ? AND input_key = ? AND status = 'running' "
            "ORDER BY run_id DESC LIMIT 1",
            (job, input_key),
        ).fetchone()
        if row:
            return int(row[0])
        cursor = self._db.execute(
            "INSERT INTO runs (job, input_key, started_at) VALUES (?, ?, ?)",
            (job, input_key, time.time()),
        )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, status: str = "finished") -> None:
        self._db.execute(
            "UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?",
            (status, time.time(), run_id),
        )

    def save_report(self, run_id: int, outcome: str, report: dict[str, Any]) -> None:
        """Keep what a run did (its report as JSON) and how it ended, for ``status``."""
        self._db.execute(
            "UPDATE runs SET outcome = ?, report = ? WHERE run_id = ?",
            (outcome, json.dumps(report, default=str), run_id),
        )

    def runs(
        self, job: str | None = None, input_key: str | None = None, *, limit: int = 20
    ) -> list[RunRecord]:
        """The latest runs, newest first, optionally of one job and input."""
        sql = (
            "SELECT run_id, job, input_key, started_at, finished_at, status, outcome, report "
            "FROM runs"
        )
        conditions, params = [], []
        if job is not None:
            conditions.append("job = ?")
            params.append(job)
        if input_key is not None:
            conditions.append("input_key = ?")
            params.append(input_key)
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        sql += " ORDER BY run_id DESC LIMIT ?"
        rows = self._db.execute(sql, [*params, limit]).fetchall()
        return [
            RunRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]) if r[7] else None)
            for r in rows
        ]

    def last_run(self, job: str, input_key: str) -> tuple[int, str] | None:
        row = self._db.execute(
            "SELECT run_id, status FROM runs WHERE job = ? AND input_key = ? "
            "ORDER BY run_id DESC LIMIT 1",
            (job, input_key),
        ).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    # --- journal ------------------------------------------------------------------------
    def intend(self, run_id: int, entries: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        """Record writes about to be sent (op_key, kind, payload), durably, before sending.

        An op already journaled keeps its state: re-intending after a crash is harmless.
        """
        now = time.time()
        with self._transaction():
            seq = self._db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM journal WHERE run_id = ?", (run_id,)
            ).fetchone()[0]
            self._db.executemany(
                "INSERT OR IGNORE INTO journal (run_id, op_key, kind, state, payload, seq, "
                "updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?)",
                [
                    (run_id, key, kind, json.dumps(payload, default=str), seq + i, now)
                    for i, (key, kind, payload) in enumerate(entries, start=1)
                ],
            )

    def mark(
        self,
        run_id: int,
        outcomes: Iterable[tuple[str, str, dict[str, Any] | None, str | None]],
    ) -> None:
        """Record what happened to sent writes: (op_key, DONE|FAILED, result, error)."""
        now = time.time()
        with self._transaction():
            self._db.executemany(
                "UPDATE journal SET state = ?, result = ?, error = ?, updated_at = ? "
                "WHERE run_id = ? AND op_key = ?",
                [
                    (
                        state,
                        None if result is None else json.dumps(result, default=str),
                        error,
                        now,
                        run_id,
                        key,
                    )
                    for key, state, result, error in outcomes
                ],
            )

    def entries(
        self, run_id: int, *, state: str | None = None, kind: str | None = None
    ) -> list[Entry]:
        sql = "SELECT op_key, kind, state, payload, result, error FROM journal WHERE run_id = ?"
        params: list[Any] = [run_id]
        if state:
            sql += " AND state = ?"
            params.append(state)
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        return [
            Entry(key, k, s, json.loads(p), json.loads(r) if r else None, e)
            for key, k, s, p, r, e in self._db.execute(sql + " ORDER BY seq", params)
        ]

    def states(self, run_id: int, kind: str | None = None) -> dict[str, str]:
        """op_key -> state, for a fast "what is left to do" check."""
        sql = "SELECT op_key, state FROM journal WHERE run_id = ?"
        params: list[Any] = [run_id]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        return dict(self._db.execute(sql, params).fetchall())

    # --- watermarks ---------------------------------------------------------------------
    def watermark(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM watermarks WHERE name = ?", (name,)).fetchone()
        return str(row[0]) if row else None

    def advance_watermark(self, name: str, value: str) -> str:
        """Move forward only: a smaller value than the stored one is ignored. Returns the stored
        value. Values must sort as strings in time order (ISO 8601 in UTC does)."""
        with self._transaction():
            current = self.watermark(name)
            if current is None or value > current:
                self._db.execute(
                    "INSERT INTO watermarks (name, value, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                    "updated_at = excluded.updated_at",
                    (name, value, time.time()),
                )
                return value
            return current

    # --- pending asynchronous operations (GetResponse's 202) ------------------------------
    def add_pending(self, service: str, items: Iterable[tuple[str, dict[str, Any]]]) -> None:
        now = time.time()
        with self._transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO pending_async (service, key, payload, created_at) "
                "VALUES (?, ?, ?, ?)",
                [(service, key, json.dumps(payload, default=str), now) for key, payload in items],
            )

    def pending(self, service: str) -> dict[str, dict[str, Any]]:
        rows = self._db.execute(
            "SELECT key, payload FROM pending_async WHERE service = ? AND resolved_at IS NULL",
            (service,),
        )
        return {key: json.loads(payload) for key, payload in rows}

    def resolve_pending(self, service: str, outcomes: dict[str, str]) -> None:
        now = time.time()
        with self._transaction():
            self._db.executemany(
                "UPDATE pending_async SET resolved_at = ?, outcome = ? "
                "WHERE service = ? AND key = ?",
                [(now, outcome, service, key) for key, outcome in outcomes.items()],
            )

    # --- locks --------------------------------------------------------------------------
    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Only one run of a job at a time; a lock left by a dead process is taken over."""
        owner = f"{socket.gethostname()}:{os.getpid()}"
        with self._transaction():
            row = self._db.execute("SELECT owner FROM locks WHERE name = ?", (name,)).fetchone()
            if row and row[0] != owner and _alive(str(row[0])):
                raise LockHeld(
                    f"another reconcile run ({row[0]}) is already doing {name!r}",
                    hint="wait for it to finish; if it is gone, run again (its lock is freed)",
                )
            self._db.execute(
                "INSERT OR REPLACE INTO locks (name, owner, acquired_at) VALUES (?, ?, ?)",
                (name, owner, time.time()),
            )
        try:
            yield
        finally:
            self._db.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))

    # --- leases (sync jobs; several runners, several hosts) ------------------------------
    def acquire_lease(self, name: str, holder: str, ttl: float) -> None:
        """Take the lease ``name`` for ``ttl`` seconds, or renew it if ``holder`` has it.

        Raises :class:`LeaseHeld` while another holder's lease has not expired; an expired
        lease (its runner died or hangs) is taken over. Expiry is what frees a lease held
        from another host; a holder on *this* host whose process is gone (killed, crashed)
        is taken over at once, so that re-running a killed job does not wait 10 minutes.
        """
        now = time.time()
        with self._transaction():
            row = self._db.execute(
                "SELECT holder, expires_at FROM leases WHERE name = ?", (name,)
            ).fetchone()
            if row and row[0] != holder and row[1] > now and _holder_alive(str(row[0])):
                raise LeaseHeld(name, str(row[0]), row[1] - now)
            self._db.execute(
                "INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                "acquired_at = CASE WHEN leases.holder = excluded.holder "
                "THEN leases.acquired_at ELSE excluded.acquired_at END, "
                "expires_at = excluded.expires_at",
                (name, holder, now, now + ttl),
            )

    def release_lease(self, name: str, holder: str) -> None:
        self._db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def lease_holder(self, name: str) -> tuple[str, float] | None:
        """(holder, expires_at) of a live lease, or None when free or expired."""
        row = self._db.execute(
            "SELECT holder, expires_at FROM leases WHERE name = ?", (name,)
        ).fetchone()
        if row is None or row[1] <= time.time():
            return None
        return str(row[0]), float(row[1])


def _holder_alive(holder: str) -> bool:
    """A lease holder is ``host:pid:random``; only a holder of this host can be found dead."""
    parts = holder.split(":")
    if len(parts) < 3:
        return True
    return _alive(":".join(parts[:-1]))


def _alive(owner: str) -> bool:
    """Whether the process named in a lock still runs (only checkable on this host)."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True
