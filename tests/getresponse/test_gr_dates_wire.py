from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.getresponse.dates import (
    format_datetime,
    format_query_value,
    format_send_on,
    parse_datetime,
)
from reconcile.getresponse.wire import encode_params, path, wait_hint


def test_formats_like_the_api_in_utc_without_colon() -> None:
    warsaw = datetime(2017, 3, 2, 8, 30, 49, tzinfo=ZoneInfo("Europe/Warsaw"))
    assert format_datetime(warsaw) == "2017-03-02T07:30:49+0000"


def test_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        format_datetime(datetime(2017, 3, 2, 7, 30))


@pytest.mark.parametrize(
    "text",
    [
        "2017-03-02T07:30:49+0000",
        "2017-03-02T07:30:49+00:00",
        "2017-03-02T07:30:49Z",
        "2017-03-02T09:30:49+0200",
        "2017-03-02T07:30:49.000+0000",
        "2017-03-02T07:30:49",
    ],
)
def test_parses_every_variant_to_the_same_aware_instant(text: str) -> None:
    parsed = parse_datetime(text)
    assert parsed is not None
    assert parsed.tzinfo is not None
    assert parsed == datetime(2017, 3, 2, 7, 30, 49, tzinfo=UTC)


def test_parse_keeps_none_and_rejects_garbage() -> None:
    assert parse_datetime(None) is None
    assert parse_datetime("") is None
    with pytest.raises(ValueError, match="not a GetResponse date-time"):
        parse_datetime("yesterday")


@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone.min]),
    )
)
def test_round_trip_is_exact_to_the_second(value: datetime) -> None:
    assert parse_datetime(format_datetime(value)) == value.replace(microsecond=0)


def test_query_values_dates_and_datetimes() -> None:
    assert format_query_value(date(2024, 1, 31)) == "2024-01-31"
    assert format_query_value(datetime(2024, 1, 31, 12, tzinfo=UTC)) == "2024-01-31T12:00:00+0000"
    assert format_query_value("2024-01-31") == "2024-01-31"


def test_send_on_is_wall_time_in_the_named_zone() -> None:
    instant = datetime(2024, 7, 14, 5, 0, tzinfo=UTC)
    assert format_send_on(instant, "Europe/Warsaw") == "2024-07-14T07:00:00"
    assert format_send_on(instant, "UTC") == "2024-07-14T05:00:00"


def test_encode_params_flattens_brackets_and_drops_none() -> None:
    params = encode_params(
        {
            "query": {
                "email": "a+b@example.com",
                "name": None,
                "createdOn": {"from": date(2024, 1, 1), "to": None},
            },
            "sort": {"createdOn": "ASC"},
            "fields": ["email", "name"],
            "additionalFlags": "exactMatch",
            "empty": [],
            "flag": True,
            "page": 2,
        }
    )
    assert list(params.multi_items()) == [
        ("query[email]", "a+b@example.com"),
        ("query[createdOn][from]", "2024-01-01"),
        ("sort[createdOn]", "ASC"),
        ("fields", "email,name"),
        ("additionalFlags", "exactMatch"),
        ("flag", "true"),
        ("page", "2"),
    ]
    url = httpx.URL("https://api.test/v3/contacts", params=params)
    assert "query%5Bemail%5D=a%2Bb%40example.com" in str(url)  # '+' must not become a space


def _response(status: int, body: object = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_wait_hint_prefers_the_refusal_body_then_retry_after_then_window() -> None:
    body = {"code": 1015, "context": {"currentLimit": 30000, "timeToReset": "100 seconds"}}
    both = _response(429, body, **{"Retry-After": "3", "X-RateLimit-Reset": "432 seconds"})
    assert wait_hint(both) == 100.0
    per_second = _response(429, {"code": 1015}, **{"Retry-After": "1", "X-RateLimit-Reset": "1"})
    assert wait_hint(per_second) == 1.0
    window_only = _response(429, {}, **{"X-RateLimit-Reset": "432 seconds"})
    assert wait_hint(window_only) == 432.0
    assert wait_hint(httpx.Response(429, text="busy")) is None


def test_wait_hint_ignores_the_window_reset_on_other_statuses() -> None:
    assert wait_hint(_response(503, {}, **{"X-RateLimit-Reset": "432 seconds"})) is None


def test_ids_in_paths_are_escaped_and_never_empty() -> None:
    assert path("contacts", "pV3r", "tags") == "contacts/pV3r/tags"
    assert path("contacts", "../accounts?x=1") == "contacts/..%2Faccounts%3Fx%3D1"
    with pytest.raises(ValueError, match="empty"):
        path("contacts", " ")
