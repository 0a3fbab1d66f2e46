"""The local state store: run journal, watermarks, pending asynchronous operations, locks,
leases, run reports and incidents (docs/runner.md, "Where the state lives").

Why local state at all: Dynamics holds the sync state (ids, statuses), but not what a run was
in the middle of when it died. The journal records each write *before* it is sent and again
*after* it is confirmed, so that a re-run after a crash (kill -9 included) knows exactly which
writes may or may not have happened and checks those against the service instead of
repeating them blindly. Watermarks only move forward, after the batch they cover is applied.

SQLite by default (a file, zero set-up); PostgreSQL when runners on several hosts share the
work (``state = "postgresql://…"``): the same schema, the same migrations, the same code
(:mod:`reconcile.state.store` over :mod:`reconcile.state.backends`). This package is the only
code that opens the state database. It never stores secrets.
"""

from __future__ import annotations

import os
from pathlib import Path

from reconcile.state.backends import has_password, is_postgresql, redact
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
    StateUnavailable,
)
from reconcile.state.store import StateStore


def default_path() -> Path:
    """Where the state lives unless told otherwise (XDG data dir)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "reconcile" / "state.sqlite3"


def locate(explicit: str | Path | None = None, configured: str | None = None) -> str:
    """Which state store a command uses: ``--state``, else ``RECONCILE_STATE``, else the
    settings' ``sync.state``, else the default SQLite file."""
    for candidate in (explicit, os.environ.get("RECONCILE_STATE"), configured):
        if candidate:
            return str(candidate)
    return str(default_path())


__all__ = [
    "DONE",
    "FAILED",
    "MIGRATIONS",
    "PENDING",
    "Entry",
    "Incident",
    "LeaseHeld",
    "LockHeld",
    "RunRecord",
    "StateError",
    "StateStore",
    "StateUnavailable",
    "default_path",
    "has_password",
    "is_postgresql",
    "locate",
    "redact",
]
