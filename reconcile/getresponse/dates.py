"""GetResponse's date-time format, and time-zone-aware datetimes on our side.

The API writes ``2017-03-02T07:30:49+0000``: ISO 8601, no fractional seconds, offset without
a colon, UTC unless the request sends ``X-Time-Zone`` (we never do). Query filters accept that
or a plain ``YYYY-MM-DD`` date. Inside reconcile every datetime is aware; a naive one is a bug
in the caller (whose clock is it?), so we refuse it instead of guessing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

API_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
SEND_ON_FORMAT = "%Y-%m-%dT%H:%M:%S"  # sendSettings.sendOn.date: wall time in a named zone
_fromisoformat = datetime.fromisoformat


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(
            f"{what} {value.isoformat()} has no time zone: pass an aware datetime "
            "(e.g. datetime(..., tzinfo=UTC) or .astimezone())"
        )


def format_datetime(value: datetime) -> str:
    """An aware datetime as the API writes it, in UTC: ``2017-03-02T07:30:49+0000``."""
    _require_aware(value, "datetime")
    return value.astimezone(UTC).strftime(API_FORMAT)


def format_query_value(value: date | datetime | str) -> str:
    """A date filter value: a ``date`` as ``YYYY-MM-DD``, a datetime in API format."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def parse_datetime(value: str | None) -> datetime | None:
    """An API date-time (or date) as an aware datetime; ``None``/empty stays ``None``.

    Accepts ``+0000``, ``+00:00``, ``Z`` and fractional seconds (some third-party tools and
    older endpoints write them); a value without an offset is UTC, the API's default zone.
    """
    if not value:
        return None
    try:
        parsed = _fromisoformat(value)  # the hot path: every contact has two dates
    except ValueError:
        try:
            parsed = _fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"not a GetResponse date-time: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def format_send_on(value: datetime, zone_name: str) -> str:
    """Wall-clock time of ``value`` in ``zone_name``, as ``sendOn.date`` wants it."""
    from zoneinfo import ZoneInfo

    _require_aware(value, "send time")
    return value.astimezone(ZoneInfo(zone_name)).strftime(SEND_ON_FORMAT)
