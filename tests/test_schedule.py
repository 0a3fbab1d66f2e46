"""Cadences: durations and cron lines, and the rules of when a job is due — a job that never
ran is due at once, a missed slot runs once (not N times), cron lines follow the time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.schedule import describe_duration, parse_cadence, parse_duration

NOW = datetime(2026, 12, 7, 10, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1m", 60), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("2d", 172800), ("90s", 90),
     ("1.5h", 5400), ("1H", 3600), ("1w", 604800)],
)  # fmt: skip
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "5 minutes", "-5m", "1h and 5m"])
def test_what_is_not_a_duration_says_what_one_looks_like(text: str) -> None:
    with pytest.raises(ValueError, match=r"30s, 5m, 1h30m"):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=10**7))
def test_describing_a_duration_gives_it_back(seconds: int) -> None:
    assert parse_duration(describe_duration(seconds)) == seconds


def test_a_zero_duration_is_refused() -> None:
    with pytest.raises(ValueError, match=r"longer than zero"):
        parse_duration("0s")


def test_a_duration_is_due_that_long_after_the_last_start() -> None:
    every_5m = parse_cadence("5m")
    assert every_5m.describe() == "every 5m"
    assert every_5m.next_due(None, NOW, UTC) == NOW  # never ran: due at once
    last = NOW - timedelta(minutes=2)
    assert every_5m.next_due(last, NOW, UTC) == last + timedelta(minutes=5)


def test_a_missed_slot_is_due_once_not_once_per_slot() -> None:
    """The machine slept 10 hours: an hourly job is due (in the past) — one run, after which
    the next is an hour after that run, not the nine slots that were missed."""
    hourly = parse_cadence("1h")
    slept_from = NOW - timedelta(hours=10)
    assert hourly.next_due(slept_from, NOW, UTC) < NOW
    assert hourly.next_due(NOW, NOW, UTC) == NOW + timedelta(hours=1)
    cron = parse_cadence("0 * * * *")
    assert cron.next_due(slept_from, NOW, UTC) < NOW
    assert cron.next_due(NOW, NOW, UTC) == datetime(2026, 12, 7, 11, 0, tzinfo=UTC)


def test_cron_lines_are_read_in_the_runner_time_zone() -> None:
    nightly = parse_cadence("0 2 * * *")
    assert nightly.describe() == "cron '0 2 * * *'"
    paris = ZoneInfo("Europe/Paris")  # UTC+1 in December
    due = nightly.next_due(NOW, NOW, paris)
    assert due.astimezone(UTC) == datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    assert parse_cadence("*/5 * * * *").next_due(NOW, NOW, UTC) == datetime(
        2026, 12, 7, 10, 5, tzinfo=UTC
    )


@pytest.mark.parametrize("text", ["every hour", "* * * *", "61 * * * *", "0 2 * * * *"])
def test_neither_a_duration_nor_a_cron_line(text: str) -> None:
    with pytest.raises(ValueError, match=r"neither a duration .* nor a cron line"):
        parse_cadence(text)
