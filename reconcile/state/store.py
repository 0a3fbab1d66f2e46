"""The state store: run journal, watermarks, pending asynchronous operations, locks, leases,
run reports and open incidents — the same code over SQLite and PostgreSQL.

Why local state at all: Dynamics holds the sync state (ids, statuses), but not what a run was
in the middle of when it died. The journal records each write *before* it is sent and again
*after* it is confirmed, so that a re-run after a crash (kill -9 included) knows exactly which
writes may or may not have happened and checks those against the service instead of
repeating them blindly. Watermarks only move forward, after the batch they cover is applied.

Every statement here is written once with ``?`` placeholders in the SQL both databases share
(``INSERT … ON CONFLICT``, ``RETURNING``); :mod:`reconcile.state.backends` runs it. A decision
that reads then writes (a lease, a lock, a watermark) happens in one write transaction that
locks what it read, so that runners deciding at the same moment — two processes on one SQLite
file, or hosts sharing a PostgreSQL database — never both win. It never stores secrets:
callers pass record ids and plain data only.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconcile.state.backends import connect
from reconcile.state.schema import (
    DONE,
    FAILED,
    MIGRATIONS,
    PENDING,
    Entry,
    Incident,
    LeaseHeld,
    LockHeld,
    RunRecord,
    StateError,
)

__all__ = ["DONE", "FAILED", "PENDING", "StateStore"]

# Equivalent mutants (bench/mutation.py): the letter case of SQL text — keywords and the
# schema's names read the same in either case on both databases (the script counts them apart).
_RUN_COLUMNS = "run_id, job, input_key, started_at, finished_at, status, outcome, report"


class StateStore:
    """The journal, watermarks, leases and reports: a SQLite file (or ``:memory:``), or a
    PostgreSQL database given as a ``postgresql://`` URL."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._db = connect(self.path)
        self.where = self._db.where  # for messages: never a password
        try:
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    @property
    def dialect(self) -> str:
        return self._db.dialect

    def reopen(self) -> StateStore:
        """Another connection to the same store (for a thread of its own)."""
        return StateStore(self.path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema -------------------------------------------------------------------------
    def _migrate(self) -> None:
        if self._db.version() >= len(MIGRATIONS):
            self._refuse_newer(self._db.version())
            return
        with self._db.migrating(), self._db.transaction():
            version = self._db.version()  # again: another process may have migrated meanwhile
            self._refuse_newer(version)
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in script.split(";"):
                    if statement.strip():
                        self._db.execute(self._db.ddl(statement))
                self._db.set_version(number)

    def _refuse_newer(self, version: int) -> None:
        if version > len(MIGRATIONS):
            raise StateError(
                f"the state database {self.where} was written by a newer reconcile "
                f"(schema {version}, this one knows {len(MIGRATIONS)})",
                hint="upgrade reconcile, or use another --state file",
            )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._db.transaction():
            yield

    # --- runs ---------------------------------------------------------------------------
    def open_run(self, job: str, input_key: str) -> int:
        """The unfinished run of ``job`` on this input, or a new one. Returns its id."""
        with self._transaction():
            row = self._db.execute(
                "SELECT run_id FROM runs WHERE job = ? AND input_key = ? AND status = 'running' "
                "ORDER BY run_id DESC LIMIT 1",
                (job, input_key),
            ).fetchone()
            if row:
                return int(row[0])
            cursor = self._db.execute(
                "INSERT INTO runs (job, input_key, started_at) VALUES (?, ?, ?) RETURNING run_id",
                (job, input_key, time.time()),
            )
            return int(cursor.fetchone()[0])

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
        self,
        job: str | None = None,
        input_key: str | None = None,
        *,
        limit: int = 20,
        outcome: str | None = None,
        status: str | None = None,
        since: float | None = None,
    ) -> list[RunRecord]:
        """The latest runs, newest first, optionally of one job and input, with one outcome
        (``ok``, ``failed``, ``aborted``) or status (``running``, ``finished``), or started at
        or after ``since`` (epoch seconds)."""
        conditions: list[str] = []
        params: list[Any] = []
        filters = (("job", job), ("input_key", input_key), ("outcome", outcome), ("status", status))
        for column, value in filters:
            if value is not None:
                conditions.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            conditions.append("started_at >= ?")
            params.append(since)
        sql = f"SELECT {_RUN_COLUMNS} FROM runs"
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        sql += " ORDER BY run_id DESC LIMIT ?"
        rows = self._db.execute(sql, [*params, limit]).fetchall()
        return [
            RunRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]) if r[7] else None)
            for r in rows
        ]

    def inputs(self, job_prefix: str = "") -> list[tuple[str, str]]:
        """Every (job, input) pair that has runs, for ``reconcile status``."""
        rows = self._db.execute("SELECT DISTINCT job, input_key FROM runs").fetchall()
        return sorted((str(j), str(k)) for j, k in rows if str(j).startswith(job_prefix))

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
            last = self._db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM journal WHERE run_id = ?", (run_id,)
            ).fetchone()[0]
            # Equivalent mutant: a start further on (gaps in seq change no order).
            self._db.executemany(
                "INSERT INTO journal (run_id, op_key, kind, state, payload, seq, updated_at) "
                "VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (run_id, op_key) DO NOTHING",
                [
                    (run_id, key, kind, json.dumps(payload, default=str), seq, now)
                    for seq, (key, kind, payload) in enumerate(entries, start=last + 1)
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
                        json.dumps(result, default=str),  # None is kept as null
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
            for key, k, s, p, r, e in self._db.execute(sql + " ORDER BY seq", params).fetchall()
        ]

    def states(self, run_id: int, kind: str | None = None) -> dict[str, str]:
        """op_key -> state, for a fast "what is left to do" check."""
        sql = "SELECT op_key, state FROM journal WHERE run_id = ?"
        params: list[Any] = [run_id]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        rows = self._db.execute(sql + " ORDER BY seq", params).fetchall()
        return {str(k): str(s) for k, s in rows}

    # --- watermarks ---------------------------------------------------------------------
    def watermark(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM watermarks WHERE name = ?", (name,)).fetchone()
        return str(row[0]) if row else None

    def advance_watermark(self, name: str, value: str) -> str:
        """Move forward only: a smaller value than the stored one is ignored. Returns the stored
        value. Values must sort as strings in time order (ISO 8601 in UTC does); they are
        compared here, not by the database, whose collation may not sort them so."""
        now = time.time()
        with self._transaction():
            self._db.execute(
                "INSERT INTO watermarks (name, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                (name, value, now),
            )
            row = self._db.execute(
                "SELECT value FROM watermarks WHERE name = ?" + self._db.for_update, (name,)
            ).fetchone()
            current = str(row[0])
            # Equivalent mutant: >= (an equal value rewritten as it was; updated_at is read by
            # nothing).
            if value > current:
                self._db.execute(
                    "UPDATE watermarks SET value = ?, updated_at = ? WHERE name = ?",
                    (value, now, name),
                )
                return value
            return current

    def watermarks(self, prefix: str = "") -> dict[str, str]:
        """Every watermark whose name starts with ``prefix`` (for ``reconcile status``)."""
        rows = self._db.execute("SELECT name, value FROM watermarks ORDER BY name").fetchall()
        return {str(n): str(v) for n, v in rows if str(n).startswith(prefix)}

    # --- pending asynchronous operations (GetResponse's 202) ------------------------------
    def add_pending(self, service: str, items: Iterable[tuple[str, dict[str, Any]]]) -> None:
        now = time.time()
        with self._transaction():
            self._db.executemany(
                "INSERT INTO pending_async (service, key, payload, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (service, key) DO NOTHING",
                [(service, key, json.dumps(payload, default=str), now) for key, payload in items],
            )

    def pending(self, service: str, limit: int | None = None) -> dict[str, dict[str, Any]]:
        """The unresolved items of ``service``, oldest first (at most ``limit``)."""
        sql = (
            "SELECT key, payload FROM pending_async WHERE service = ? AND resolved_at IS NULL "
            "ORDER BY created_at, key"
        )
        params: tuple[Any, ...] = (service,)
        if limit is not None:
            sql += " LIMIT ?"
            params = (service, int(limit))
        rows = self._db.execute(sql, params).fetchall()
        return {str(key): json.loads(payload) for key, payload in rows}

    def prune_pending(self, service: str, resolved_before: float) -> int:
        """Forget the items of ``service`` resolved before ``resolved_before`` (epoch seconds);
        returns how many."""
        with self._transaction():
            return self._db.execute(
                "DELETE FROM pending_async WHERE service = ? AND resolved_at IS NOT NULL "
                "AND resolved_at < ?",
                (service, resolved_before),
            ).rowcount

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
            taken = self._db.execute(
                "INSERT INTO locks (name, owner, acquired_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                (name, owner, time.time()),
            ).rowcount
            if taken != 1:
                row = self._db.execute(
                    "SELECT owner FROM locks WHERE name = ?" + self._db.for_update, (name,)
                ).fetchone()
                if row and row[0] != owner and _alive(str(row[0])):
                    raise LockHeld(
                        f"another reconcile run ({row[0]}) is already doing {name!r}",
                        hint="wait for it to finish; if it is gone, run again (its lock is freed)",
                    )
                self._db.execute(
                    "UPDATE locks SET owner = ?, acquired_at = ? WHERE name = ?",
                    (owner, time.time(), name),
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

        One transaction decides, so two runners asking at the same moment never both get it:
        an upsert whose update only applies to our own or an expired lease, then, when it did
        not apply, a look at the holder. The upsert locked the row it left alone (PostgreSQL
        locks a conflicting row even when the update's WHERE is false; SQLite's BEGIN
        IMMEDIATE holds the whole file), so nobody changes the lease between that look and
        the takeover.
        """
        now = time.time()
        with self._transaction():
            won = self._db.execute(
                "INSERT INTO leases (name, holder, acquired_at, expires_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "holder = excluded.holder, "
                "acquired_at = CASE WHEN leases.holder = excluded.holder "
                "THEN leases.acquired_at ELSE excluded.acquired_at END, "
                "expires_at = excluded.expires_at "
                "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?",
                (name, holder, now, now + ttl, now),
            ).rowcount
            if won == 1:
                return
            current, expires_at = self._db.execute(
                "SELECT holder, expires_at FROM leases WHERE name = ?", (name,)
            ).fetchone()
            if _holder_alive(str(current)):
                raise LeaseHeld(name, str(current), float(expires_at) - now)
            # Its holder was a process of this host that is gone (killed, crashed).
            self._db.execute(
                "UPDATE leases SET holder = ?, acquired_at = ?, expires_at = ? WHERE name = ?",
                (holder, now, now + ttl, name),
            )

    def renew_lease(self, name: str, holder: str, ttl: float) -> bool:
        """Push our lease's expiry ``ttl`` seconds ahead; False when it is not ours any more
        (released, or expired and taken over). Never creates a lease: a heartbeat that
        outlives its run cannot take the lease back."""
        return (
            self._db.execute(
                "UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?",
                (time.time() + ttl, name, holder),
            ).rowcount
            == 1
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

    # --- incidents (alerts: once per incident, whichever runner sees it) -----------------
    def open_incident(self, key: str, kind: str, detail: dict[str, Any]) -> bool:
        """Record that ``key`` is wrong; True only for the caller that opened it (the one
        that notifies), False while it was already open."""
        return (
            self._db.execute(
                "INSERT INTO incidents (key, kind, detail, opened_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key) DO NOTHING",
                (key, kind, json.dumps(detail, default=str), time.time()),
            ).rowcount
            == 1
        )

    def update_incident(self, key: str, detail: dict[str, Any]) -> None:
        self._db.execute(
            "UPDATE incidents SET detail = ? WHERE key = ?", (json.dumps(detail, default=str), key)
        )

    def mark_notified(self, key: str) -> None:
        self._db.execute("UPDATE incidents SET notified_at = ? WHERE key = ?", (time.time(), key))

    def close_incident(self, key: str) -> Incident | None:
        """The incident ``key`` is over: returns it when it was open (the caller that closed
        it says so), None when there was none."""
        with self._transaction():
            found = self.incident(key, lock=True)
            if found is not None:
                self._db.execute("DELETE FROM incidents WHERE key = ?", (key,))
        return found

    def incident(self, key: str, *, lock: bool = False) -> Incident | None:
        sql = "SELECT key, kind, detail, opened_at, notified_at FROM incidents WHERE key = ?"
        row = self._db.execute(sql + (self._db.for_update if lock else ""), (key,)).fetchone()
        return _incident(row) if row else None

    def incidents(self, prefix: str = "") -> list[Incident]:
        rows = self._db.execute(
            "SELECT key, kind, detail, opened_at, notified_at FROM incidents ORDER BY opened_at"
        ).fetchall()
        return [_incident(r) for r in rows if str(r[0]).startswith(prefix)]


def _incident(row: Any) -> Incident:
    return Incident(str(row[0]), str(row[1]), json.loads(row[2]), float(row[3]), row[4])


def _holder_alive(holder: str) -> bool:
    """A lease holder is ``host:pid:random``; only a holder of this host can be found dead."""
    parts = holder.split(":")
    if len(parts) < 3:
        return True
    return _alive(":".join(parts[:-1]))


def _alive(owner: str) -> bool:
    """Whether the process named in a lock still runs (only checkable on this host)."""
    # Equivalent mutant: partition for rpartition (a host name never holds a ":").
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
