from __future__ import annotations

import random

import httpx
import pytest

from reconcile.retrying import (
    Attempt,
    RetryPolicy,
    parse_retry_after,
    send_with_retry,
    transport_reason,
)


def _client(responses: list[object]) -> tuple[httpx.Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        assert isinstance(item, httpx.Response)
        return item

    return httpx.Client(transport=httpx.MockTransport(handler)), seen


POLICY = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=8.0, rng=random.Random(1))


def test_retries_5xx_on_idempotent_request_then_succeeds() -> None:
    client, seen = _client([httpx.Response(503), httpx.Response(502), httpx.Response(200)])
    slept: list[float] = []
    response = send_with_retry(
        client,
        client.build_request("GET", "http://x/"),
        policy=POLICY,
        idempotent=True,
        sleep=slept.append,
    )
    assert response.status_code == 200
    assert len(seen) == 3
    assert len(slept) == 2
    assert 0.5 <= slept[0] <= 1.0
    assert 1.0 <= slept[1] <= 2.0


def test_does_not_repeat_a_non_idempotent_write_after_5xx() -> None:
    client, seen = _client([httpx.Response(500), httpx.Response(200)])
    response = send_with_retry(
        client,
        client.build_request("POST", "http://x/"),
        policy=POLICY,
        idempotent=False,
        sleep=lambda _s: None,
    )
    assert response.status_code == 500
    assert len(seen) == 1


def test_429_is_repeated_even_for_writes_and_waits_what_the_server_says() -> None:
    first = httpx.Response(429, headers={"Retry-After": "7"})
    client, _seen = _client([first, httpx.Response(201)])
    slept: list[float] = []
    response = send_with_retry(
        client,
        client.build_request("POST", "http://x/"),
        policy=POLICY,
        idempotent=False,
        sleep=slept.append,
    )
    assert response.status_code == 201
    assert 7.0 <= slept[0] < 7.2


def test_service_wait_hint_wins_over_retry_after() -> None:
    client, _ = _client([httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200)])
    slept: list[float] = []
    send_with_retry(
        client,
        client.build_request("GET", "http://x/"),
        policy=POLICY,
        idempotent=True,
        sleep=slept.append,
        wait_hint=lambda r: 42.0,
    )
    assert 42.0 <= slept[0] < 42.2


def test_dropped_connection_retried_only_when_safe() -> None:
    drop = httpx.RemoteProtocolError("peer closed connection")
    client, seen = _client([drop, httpx.Response(200)])
    assert (
        send_with_retry(
            client,
            client.build_request("GET", "http://x/"),
            policy=POLICY,
            idempotent=True,
            sleep=lambda _s: None,
        ).status_code
        == 200
    )

    client, seen = _client([drop])
    with pytest.raises(httpx.RemoteProtocolError):
        send_with_retry(
            client,
            client.build_request("POST", "http://x/"),
            policy=POLICY,
            idempotent=False,
            sleep=lambda _s: None,
        )
    assert len(seen) == 1


def test_connect_error_is_always_safe_to_repeat() -> None:
    client, seen = _client([httpx.ConnectError("refused"), httpx.Response(202)])
    response = send_with_retry(
        client,
        client.build_request("POST", "http://x/"),
        policy=POLICY,
        idempotent=False,
        sleep=lambda _s: None,
    )
    assert response.status_code == 202
    assert len(seen) == 2


def test_gives_up_after_max_attempts_and_returns_last_response() -> None:
    client, seen = _client([httpx.Response(503)] * 4)
    response = send_with_retry(
        client,
        client.build_request("GET", "http://x/"),
        policy=POLICY,
        idempotent=True,
        sleep=lambda _s: None,
    )
    assert response.status_code == 503
    assert len(seen) == 4


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, rng=random.Random(3))
    assert all(policy.backoff(n) <= 8.0 for n in range(1, 30))
    assert policy.delay_for(1, 10_000) <= policy.max_server_wait + 0.1


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5.0), (" 0 ", 0.0), ("-3", 0.0), ("2.5", 2.5), ("soon", None), (None, None), ("", None)],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_retry_after_as_an_http_date_is_the_seconds_until_then(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import reconcile.retrying as retrying

    now = 1_700_000_000.0  # 2023-11-14T22:13:20Z
    monkeypatch.setattr(retrying.time, "time", lambda: now)
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT") == 30.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT") == 0.0  # already past
    assert parse_retry_after("Tue, 99 Nov 2023 25:00:00 GMT") is None


def test_a_transport_error_waits_the_backoff_and_reports_each_retry() -> None:
    drop = httpx.ReadTimeout("slow")
    client, seen = _client([drop, drop, httpx.Response(503), httpx.Response(200)])
    slept: list[float] = []
    records: list[Attempt] = []
    policy = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=8.0, rng=random.Random(1))
    send_with_retry(
        client,
        client.build_request("GET", "http://x/"),
        policy=policy,
        idempotent=True,
        sleep=slept.append,
        on_retry=records.append,
    )
    assert len(seen) == 4
    assert [r.number for r in records] == [1, 2, 3]
    assert [r.delay for r in records] == slept
    assert 0.5 <= slept[0] <= 1.0  # backoff after attempt 1: base 1.0, jittered in [d/2, d]
    assert 1.0 <= slept[1] <= 2.0
    assert 2.0 <= slept[2] <= 4.0
    assert (records[0].error, records[0].response) == (drop, None)
    assert records[2].error is None
    assert records[2].response is not None
    assert records[2].response.status_code == 503


def test_a_refused_connection_fails_fast_while_timeouts_stay_patient() -> None:
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    client, seen = _client([refused] * 8)
    slept: list[float] = []
    policy = RetryPolicy(max_attempts=8, rng=random.Random(1))
    with pytest.raises(httpx.ConnectError):
        send_with_retry(
            client,
            client.build_request("POST", "http://x/"),
            policy=policy,
            idempotent=False,  # nothing was sent: safe to repeat, but not for long
            sleep=slept.append,
        )
    assert len(seen) == policy.max_refused == 3
    assert slept == [0.5, 1.0]  # 1.5 s in all, not eight back-offs (39-56 s before)
    timeout = httpx.ConnectTimeout("timed out")
    client, seen = _client([timeout] * 7 + [httpx.Response(200)])
    slept = []
    send_with_retry(
        client,
        client.build_request("GET", "http://x/"),
        policy=policy,
        idempotent=True,
        sleep=slept.append,
    )
    assert len(seen) == 8  # a timeout may be an outage: every attempt
    assert sum(slept) > 30


def test_a_refused_connection_then_an_answer_is_fine() -> None:
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    client, seen = _client([refused, refused, httpx.Response(200)])
    response = send_with_retry(
        client,
        client.build_request("GET", "http://x/"),
        policy=POLICY,
        idempotent=True,
        sleep=lambda _s: None,
    )
    assert len(seen) == 3
    assert response.status_code == 200  # a restarting server gets its second and a half


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "connection refused"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "host name not found"),
        (httpx.ConnectError("[Errno -3] Temporary failure in name resolution"), "host name"),
        (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] …"), "TLS certificate"),
        (httpx.ConnectError("[Errno 101] Network is unreachable"), "network unreachable"),
        (httpx.ConnectError("odd"), "the connection could not be made"),
        (httpx.ConnectTimeout("timed out"), "no answer in time"),
        (httpx.RemoteProtocolError("peer closed"), "dropped before the answer"),
    ],
)
def test_transport_reason_is_one_short_line(error: httpx.TransportError, reason: str) -> None:
    text = transport_reason(error)
    assert reason in text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (httpx.ReadTimeout("x"), "no answer in time"),
        (httpx.ConnectError("odd"), "the connection could not be made"),
        (httpx.ReadError("x"), "the connection was dropped before the answer came"),
    ],
)
def test_transport_reason_fallbacks_word_for_word(error: httpx.TransportError, text: str) -> None:
    assert transport_reason(error) == text


class _Fixed:
    """A stand-in for random.Random whose random() is always ``value``."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def test_backoff_is_jittered_between_half_and_all_of_the_delay() -> None:
    low = RetryPolicy(base_delay=4.0, rng=_Fixed(0.0))  # type: ignore[arg-type]
    high = RetryPolicy(base_delay=4.0, rng=_Fixed(1.0))  # type: ignore[arg-type]
    assert (low.backoff(1), high.backoff(1)) == (2.0, 4.0)
    assert (low.backoff(3), high.backoff(3)) == (8.0, 16.0)


def test_a_server_wait_of_zero_or_under_a_second_is_honoured() -> None:
    policy = RetryPolicy(base_delay=4.0, rng=_Fixed(0.5))  # type: ignore[arg-type]
    assert policy.delay_for(1, 0.0) == 0.05  # "now" (+ a little jitter), not a 2-4 s backoff
    assert policy.delay_for(1, 0.5) == 0.55
    assert policy.delay_for(1, None) == 3.0
    assert policy.delay_for(1, -1.0) == 3.0  # a nonsense wait falls back to the backoff


def test_transport_errors_stop_at_max_attempts() -> None:
    drop = httpx.ReadTimeout("slow")
    client, seen = _client([drop, drop, drop])
    with pytest.raises(httpx.ReadTimeout):
        send_with_retry(
            client,
            client.build_request("GET", "http://x/"),
            policy=RetryPolicy(max_attempts=3, rng=random.Random(1)),
            idempotent=True,
            sleep=lambda _s: None,
        )
    assert len(seen) == 3


def test_final_and_wait_hint_read_the_response_itself() -> None:
    refused = httpx.Response(500, json={"code": "duplicate"})
    client, seen = _client([refused, httpx.Response(200)])
    response = send_with_retry(
        client,
        client.build_request("GET", "http://x/"),
        policy=POLICY,
        idempotent=True,
        sleep=lambda _s: None,
        final=lambda r: r.json().get("code") == "duplicate",
    )
    assert (response.status_code, len(seen)) == (500, 1)  # a definite answer: not repeated
    busy = httpx.Response(503, headers={"X-Wait": "12"})
    client, _ = _client([busy, httpx.Response(200)])
    slept: list[float] = []
    send_with_retry(
        client,
        client.build_request("GET", "http://x/"),
        policy=POLICY,
        idempotent=True,
        sleep=slept.append,
        wait_hint=lambda r: float(r.headers["X-Wait"]),
    )
    assert 12.0 <= slept[0] < 12.2
