"""The state store's schema: ordered migrations, the records it returns, and its errors.

The migrations are written once, in the SQL both databases share; each backend translates the
few words that differ (``backends.py``). Append only: index + 1 is the schema version, and a
landed migration is never edited, so that every existing store can be brought up to date.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconcile.errors import EXIT_BAD_INPUT, EXIT_SERVICE, Busy, ReconcileError

PENDING = "pending"
DONE = "done"
FAILED = "failed"

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
    # Alerts (`[alerts]`): one row per open incident (a failed job, stale data, a GetResponse
    # API block), so that every runner sharing the store notifies once per incident, not once
    # per minute, and says when it is over.
    """
    CREATE TABLE incidents (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}',
        opened_at REAL NOT NULL,
        notified_at REAL
    );
    CREATE INDEX runs_by_job ON runs (job, input_key, run_id);
    """,
    # reconcile listen journals every received event as a pending item before acknowledging
    # it: the unresolved ones of a service are read often, the resolved ones kept a while
    # (a redelivery is recognised) and then pruned.
    """
    CREATE INDEX pending_by_service ON pending_async (service, resolved_at, created_at);
    """,
)


class StateError(ReconcileError):
    """The state store is unusable (a setting to fix: exit 2) or busy (:class:`LockHeld`)."""

    exit_code = EXIT_BAD_INPUT


class StateUnavailable(StateError):
    """The PostgreSQL server cannot be reached or went away: retry later (exit 3)."""

    exit_code = EXIT_SERVICE


class LockHeld(Busy, StateError):
    """Another live run holds the lock: nothing was done (exit 4, not a failure)."""


def describe_lease(name: str) -> str:
    """A lease as an admin names it: ``sync:lists:<dynamics>|<getresponse>`` is "sync lists
    on <dynamics> (GetResponse <getresponse>)"; any other name is quoted as it is."""
    kind, _, rest = name.partition(":")
    job, _, environment = rest.partition(":")
    if kind != "sync" or not job or not environment:
        return repr(name)
    dynamics, _, getresponse = environment.partition("|")
    return f"sync {job} on {dynamics}" + (f" (GetResponse {getresponse})" if getresponse else "")


class LeaseHeld(Busy, StateError):
    """Another runner holds the lease of this job on this environment, and it has not expired."""

    def __init__(self, name: str, holder: str, expires_in: float) -> None:
        super().__init__(
            f"another reconcile run ({holder}) is already doing {describe_lease(name)}",
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


@dataclass(frozen=True)
class Incident:
    """An open incident (``[alerts]``): what it is about, since when, and whether it was told."""

    key: str
    kind: str
    detail: dict[str, Any]
    opened_at: float
    notified_at: float | None
