"""When a sync job is due on an environment, read from the state store alone.

Why from the store: runners on several hosts (a standby, one per environment) must agree on
what is due without talking to each other, and ``reconcile status`` must say it when no
runner is up. So a due time depends only on what any runner wrote there — the last start
(``schedule:<job>:<env>``), an interrupted run waiting to be resumed, a live lease, an open
GetResponse block — and on the cadence (:mod:`reconcile.schedule`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from reconcile.jobs.sync.common import lease_name
from reconcile.schedule import Cadence
from reconcile.state import StateStore


def schedule_key(job: str, environment: str) -> str:
    """The watermark holding when the last run of ``job`` on ``environment`` started."""
    return f"schedule:{job}:{environment}"


def runner_lease(environment: str) -> str:
    return f"runner:{environment}"


def block_key(environment: str) -> str:
    return f"blocked:{environment}"


@dataclass(frozen=True)
class Due:
    """When a job is next due on an environment, and why."""

    job: str
    at: datetime
    reason: str
    held_by: str | None = None  # another runner is doing it now (its lease)

    def is_due(self, now: datetime) -> bool:
        return self.at <= now and self.held_by is None


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def blocked_until(state: StateStore, environment: str) -> datetime | None:
    incident = state.incident(block_key(environment))
    return parse_time(incident.detail.get("until")) if incident else None


def next_due(
    state: StateStore,
    job: str,
    environment: str,
    cadence: Cadence,
    now: datetime,
    tz: tzinfo = UTC,
) -> Due:
    """When ``job`` is due on ``environment``, from what the state store says (module doc)."""
    holder = state.lease_holder(lease_name(job, environment))
    held_by = holder[0] if holder else None
    last = next(iter(state.runs(f"sync:{job}", environment, limit=1)), None)
    blocked = blocked_until(state, environment)
    if blocked is not None and blocked > now:
        return Due(job, blocked, "GetResponse blocked the API; waiting", held_by)
    if last is not None and last.status == "running" and _interrupted(last.report):
        return Due(job, now, "its last run was interrupted: resume it", held_by)
    started = parse_time(state.watermark(schedule_key(job, environment)))
    if started is None and last is not None:
        started = datetime.fromtimestamp(last.started_at, UTC)
    if started is None:
        return Due(job, now, "it never ran here", held_by)
    return Due(job, cadence.next_due(started, now, tz), cadence.describe(), held_by)


def _interrupted(report: dict[str, Any] | None) -> bool:
    """A run left unfinished by a kill (no report) or a stop — not one cut short by a service
    failure, which waits for its next slot instead of retrying at once."""
    if report is None:
        return True
    return (report.get("aborted_by") or {}).get("type") == "Interrupted"
