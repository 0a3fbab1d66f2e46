"""Cadences and durations: when a job is next due, as a pure function of its last start.

Why pure: whether a job is due depends only on its cadence, when it last started and the time
now, so the rules that matter — a missed slot (the machine was asleep) runs once, not N times;
a job that never ran is due at once — are tested without a clock or a database. The runner
(``reconcile.jobs.runner``) supplies the clock and the last starts from the state store.

A cadence is a duration (``"1m"``, ``"5m"``, ``"1h"``, ``"1h30m"``, ``"1d"``: every so long
after the last start) or a cron line (``"*/5 * * * *"``, ``"0 2 * * *"``: at those times, in
the runner's time zone), parsed by croniter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[smhdw]\s*)+$", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """``"90s"``, ``"5m"``, ``"1h30m"``, ``"2d"`` → seconds. Raises ValueError saying what a
    duration looks like."""
    if not isinstance(text, str) or not _WHOLE.match(text):
        raise ValueError(
            f"{text!r} is not a duration: write a number and a unit, s m h d or w "
            "(e.g. 30s, 5m, 1h30m, 2d)"
        )
    seconds = sum(float(n) * UNITS[u.lower()] for n, u in _PART.findall(text))
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a duration: it must be longer than zero")
    return seconds


def describe_duration(seconds: float) -> str:
    """3600 → ``"1h"``, 5400 → ``"1h30m"``, 45 → ``"45s"`` (the inverse of parse_duration)."""
    seconds = round(seconds)
    if seconds <= 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = UNITS[unit]
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


@dataclass(frozen=True)
class Cadence:
    """How often a job runs: every ``seconds`` after its last start, or at the times of a
    ``cron`` line."""

    text: str
    seconds: float | None = None
    cron: str | None = None

    def next_due(self, last_start: datetime | None, now: datetime, tz: tzinfo) -> datetime:
        """When the job is due next. Never started: now. A duration: the last start plus the
        duration. A cron line: its first time after the last start. Either way a due time in
        the past means "due now, once": slots missed while nothing ran are not made up."""
        if last_start is None:
            return now
        if self.seconds is not None:
            return last_start + timedelta(seconds=self.seconds)
        from croniter import croniter

        assert self.cron is not None
        following = croniter(self.cron, last_start.astimezone(tz)).get_next(datetime)
        assert isinstance(following, datetime)
        return following

    def describe(self) -> str:
        if self.seconds is not None:
            return f"every {describe_duration(self.seconds)}"
        return f"cron {self.cron!r}"


def parse_cadence(text: str) -> Cadence:
    """A duration or a five-field cron line; ValueError naming both forms otherwise."""
    stripped = (text or "").strip()
    try:
        return Cadence(stripped, seconds=parse_duration(stripped))
    except ValueError:
        pass
    from croniter import croniter

    fields = stripped.split()
    if len(fields) == 5 and croniter.is_valid(stripped):
        return Cadence(stripped, cron=stripped)
    raise ValueError(
        f"{text!r} is neither a duration (30s, 5m, 1h, 1d) nor a cron line of five fields "
        "(minute hour day-of-month month day-of-week, e.g. '*/5 * * * *' or '0 2 * * *')"
    )
