from __future__ import annotations

import random

import httpx
import pytest

from reconcile.retrying import RetryPolicy, parse_retry_after, send_with_retry


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
    ("value", "expected"), [("5", 5.0), (" 0 ", 0.0), ("soon", None), (None, None)]
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected
