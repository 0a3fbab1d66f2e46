"""429 storms, quota windows, 5xx, dropped connections and timeouts over real HTTP."""

from __future__ import annotations

import httpx
import pytest
from gr_fakes import FakeClock
from gr_live import SandboxHandle, make_sandbox_client

from reconcile.getresponse import (
    ApiKeyAuth,
    ConnectionFailed,
    GetResponseClient,
    NewContact,
    RateLimited,
    ServerError,
    WrongAddress,
    check_connection,
    create_contact,
    find_contact,
    iter_campaigns,
    iter_contacts,
    submit_batch,
)
from reconcile.retrying import RetryPolicy

LIST = "faults_list"


def seed(gr: SandboxHandle, n: int) -> str:
    contacts = [{"email": f"p{i:04d}@example.fr", "campaign": LIST} for i in range(n)]
    return gr.seed({"campaigns": [{"name": LIST}], "contacts": contacts})["campaigns"][LIST]


def test_a_429_storm_is_waited_out_as_the_api_says(
    gr: SandboxHandle, client: GetResponseClient, clock: FakeClock
) -> None:
    campaign_id = seed(gr, 300)
    gr.fault(kind="status", status=429, count=4, path="/v3/contacts")
    contacts = list(iter_contacts(client, campaign_id=campaign_id, per_page=100))
    assert len(contacts) == 300
    assert client.stats.retries == 4
    waits = [s for s in clock.slept if s >= 1]
    assert len(waits) == 4
    assert all(w >= 100 for w in waits)  # the time frame's reset, not a guessed backoff


def test_a_storm_longer_than_the_policy_raises_rate_limited(
    gr: SandboxHandle, clock: FakeClock
) -> None:
    gr.fault(kind="status", status=429, count=10)
    policy = RetryPolicy(max_attempts=3)
    client = make_sandbox_client(gr, clock, policy=policy)
    with client, pytest.raises(RateLimited) as caught:
        check_connection(client)
    assert caught.value.code == 1015
    assert caught.value.retry_after is not None
    assert client.stats.requests == 3


def test_an_exhausted_quota_window_pauses_instead_of_collecting_429s(
    gr: SandboxHandle, client: GetResponseClient, clock: FakeClock
) -> None:
    campaign_id = seed(gr, 120)
    gr.configure(rate_limits={"per_window": 5, "window_seconds": 60})
    contacts = list(iter_contacts(client, campaign_id=campaign_id, per_page=10))
    assert len(contacts) == 120
    assert client.stats.requests == 12
    assert client.stats.retries == 0  # X-RateLimit-Remaining: 0 paused us before any 429
    assert clock.now - 1_000 >= 2 * 50  # two pauses of (almost) a whole window


def test_the_per_second_limit_is_ridden_out(
    gr: SandboxHandle, client: GetResponseClient, clock: FakeClock
) -> None:
    campaign_id = seed(gr, 100)
    gr.configure(rate_limits={"per_second": 3})
    assert len(list(iter_contacts(client, campaign_id=campaign_id, per_page=10))) == 100
    assert client.stats.retries > 0
    assert all(s <= 1.2 for s in clock.slept)  # Retry-After: 1, never the 10-minute window


def test_5xx_is_retried_for_reads_but_not_for_a_batch_write(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    campaign_id = seed(gr, 30)
    gr.fault(kind="status", status=503, count=2, path="/v3/contacts", method="GET")
    assert len(list(iter_contacts(client, campaign_id=campaign_id))) == 30
    assert client.stats.retries == 2

    gr.fault(kind="status", status=500, count=1, path="/v3/contacts/batch")
    before = client.stats.requests
    with pytest.raises(ServerError) as caught:
        submit_batch(client, campaign_id, [NewContact("new@example.fr")])
    assert client.stats.requests - before == 1
    assert caught.value.code == 1
    assert gr.queue() == []


def test_dropped_connections_are_survived_by_reads(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    campaign_id = seed(gr, 600)
    gr.fault(kind="drop", probability=0.3, seed=7, path="/v3/contacts")
    contacts = list(iter_contacts(client, campaign_id=campaign_id, per_page=20))
    assert len({c.contact_id for c in contacts}) == 600
    assert client.stats.retries > 0


def test_a_dropped_batch_is_reported_as_maybe_applied(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    campaign_id = seed(gr, 0)
    gr.fault(kind="drop", count=1, path="/v3/contacts/batch")
    with pytest.raises(ConnectionFailed) as caught:
        submit_batch(client, campaign_id, [NewContact("new@example.fr")])
    assert caught.value.maybe_applied
    assert "check its effect" in str(caught.value.hint)
    assert client.stats.requests == 1


def test_a_slow_answer_times_out_and_is_retried(gr: SandboxHandle, clock: FakeClock) -> None:
    gr.fault(kind="latency", latency_ms=400, count=1, path="/v3/accounts")
    with make_sandbox_client(gr, clock, timeout=httpx.Timeout(0.1)) as client:
        assert check_connection(client).account_id
        assert client.stats.retries == 1


def test_an_unreachable_host_is_a_connection_failure(clock: FakeClock) -> None:
    policy = RetryPolicy(max_attempts=2)
    client = GetResponseClient(
        ApiKeyAuth("k"),
        base_url="http://127.0.0.1:9/v3",  # discard port: nothing listens
        sleep=clock.sleep,
        clock=clock,
        policy=policy,
    )
    with client, pytest.raises(ConnectionFailed, match="could not be reached") as caught:
        check_connection(client)
    assert not caught.value.maybe_applied
    assert client.stats.requests == 2


def test_a_redirect_is_an_error_naming_url_and_location_never_success(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    """The sandbox's redirect fault answers as GetResponse's web servers do for a wrong host
    (tests/getresponse/recordings/redirect_wrong_max_host.json); nothing reaches the API."""
    campaign_id = seed(gr, 3)
    gr.fault(kind="redirect", count=3)
    with pytest.raises(WrongAddress) as caught:
        create_contact(client, campaign_id, NewContact("new.one@example.fr"))
    assert "/v3/contacts" in str(caught.value)
    assert "http://www.getresponse.com/enterprise" in str(caught.value)
    assert "getresponse.api_url" in (caught.value.hint or "")
    with pytest.raises(WrongAddress):
        list(iter_campaigns(client))
    with pytest.raises(WrongAddress):
        find_contact(client, "nosuchcontact")
    assert client.stats.retries == 0
    assert len(list(iter_contacts(client, campaign_id=campaign_id))) == 3  # nothing was added
    assert gr.control.get("/queue").json() == []
