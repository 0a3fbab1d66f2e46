"""Retries, 429 waits, pacing and connection failures — on a mock transport, fake clock."""

from __future__ import annotations

import httpx
import pytest
from gr_fakes import Script, error, make_client

from reconcile.getresponse import (
    ConnectionFailed,
    NewContact,
    RateLimited,
    ServerError,
    get_account,
    send_draft,
    submit_batch,
)


def ok() -> httpx.Response:
    return httpx.Response(200, json={"accountId": "A1"})


def quota(seconds: str = "100 seconds", **headers: str) -> httpx.Response:
    response = error(429, 1015, "You have reached your requests limit", timeToReset=seconds)
    response.headers.update(headers)
    return response


def test_429_waits_what_the_body_says_then_succeeds() -> None:
    script = Script(quota("100 seconds", **{"X-RateLimit-Reset": "432 seconds"}), ok())
    client, clock = make_client(script)
    assert get_account(client).account_id == "A1"
    assert len(clock.slept) == 1
    assert 100 <= clock.slept[0] < 100.2
    assert client.stats.requests == 2
    assert client.stats.retries == 1


def test_429_falls_back_to_retry_after_then_the_window_reset() -> None:
    bare = httpx.Response(429, json={}, headers={"Retry-After": "2"})
    window = httpx.Response(429, json={}, headers={"X-RateLimit-Reset": "7 seconds"})
    client, clock = make_client(Script(bare, window, ok()))
    get_account(client)
    assert [round(s) for s in clock.slept if s >= 1] == [2, 7]


def test_a_429_storm_is_ridden_out_then_given_up_with_the_wait_time() -> None:
    client, clock = make_client(Script(*[quota("3 seconds") for _ in range(4)], ok()))
    assert get_account(client).account_id == "A1"
    assert len([s for s in clock.slept if s >= 3]) == 4

    client, _ = make_client(Script(*[quota("30 seconds") for _ in range(5)]))
    with pytest.raises(RateLimited) as caught:
        get_account(client)
    assert caught.value.retry_after == 30.0
    assert "wait" in str(caught.value.hint)


def test_a_429_is_repeated_even_for_a_write_that_is_not_safe_to_repeat() -> None:
    script = Script(quota("1 seconds"), httpx.Response(202))
    client, _ = make_client(script)
    submit_batch(client, "C", [NewContact("a@x.test")])
    assert len(script.requests) == 2


def test_5xx_and_timeouts_are_retried_with_capped_backoff_for_reads() -> None:
    script = Script(
        httpx.Response(502),
        httpx.ReadTimeout("slow"),
        error(503, 1019, "maintenance"),
        httpx.RemoteProtocolError("peer closed"),
        ok(),
    )
    client, clock = make_client(script)
    assert get_account(client).account_id == "A1"
    assert len(script.requests) == 5
    assert len(clock.slept) == 4
    assert all(s <= 8.0 for s in clock.slept)
    assert clock.slept[1] >= 1.0  # grows: 2nd wait in [1, 2], not another 0.5-1


def test_reads_give_up_with_a_typed_error_after_the_last_attempt() -> None:
    client, _ = make_client(Script(*[httpx.Response(500, json={}) for _ in range(5)]))
    with pytest.raises(ServerError):
        get_account(client)

    client, _ = make_client(Script(*[httpx.ReadTimeout("slow") for _ in range(5)]))
    with pytest.raises(ConnectionFailed, match="did not answer in time") as caught:
        get_account(client)
    assert not caught.value.maybe_applied


def test_an_unsafe_write_is_not_repeated_after_a_5xx_or_a_dropped_connection() -> None:
    script = Script(httpx.Response(500, json={}))
    client, _ = make_client(script)
    with pytest.raises(ServerError):
        submit_batch(client, "C", [NewContact("a@x.test")])
    assert len(script.requests) == 1

    script = Script(httpx.RemoteProtocolError("peer closed"))
    client, _ = make_client(script)
    with pytest.raises(ConnectionFailed) as caught:
        send_draft(client, "N", campaign_ids=["C"])
    assert len(script.requests) == 1
    assert caught.value.maybe_applied
    assert "may have been sent" in str(caught.value.hint)


def test_a_refused_connection_is_repeated_even_for_unsafe_writes() -> None:
    script = Script(httpx.ConnectError("refused"), httpx.Response(202))
    client, _ = make_client(script)
    submit_batch(client, "C", [NewContact("a@x.test")])
    assert len(script.requests) == 2

    client, _ = make_client(Script(*[httpx.ConnectError("refused") for _ in range(5)]))
    with pytest.raises(ConnectionFailed, match="could not be reached") as caught:
        get_account(client)
    assert "base URL" in str(caught.value.hint)


def test_exhausted_quota_pauses_the_next_requests_until_the_window_resets() -> None:
    spent = httpx.Response(
        200,
        json={"accountId": "A1"},
        headers={
            "X-RateLimit-Limit": "30000",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "432 seconds",
        },
    )
    client, clock = make_client(Script(spent, ok()))
    get_account(client)
    assert client.rate_limit.remaining == 0
    assert client.rate_limit.reset_seconds == 432
    start = clock.now
    get_account(client)
    assert clock.now - start >= 432


def test_pacing_keeps_under_80_requests_per_second() -> None:
    client, clock = make_client(lambda request: ok())
    start = clock.now
    for _ in range(200):
        get_account(client)
    # 200 starts at 80 per second need two full windows after the first.
    assert clock.now - start >= 2.0


def test_batch_endpoint_is_paced_at_one_call_per_second() -> None:
    client, clock = make_client(lambda request: httpx.Response(202))
    start = clock.now
    for i in range(3):
        submit_batch(client, "C", [NewContact(f"{i}@x.test")])
    assert clock.now - start >= 2.0
