"""Authentication, MAX hosts and error bodies, over real HTTP against the sandbox."""

from __future__ import annotations

import logging

import pytest
from gr_fakes import KEY, FakeClock
from gr_live import SandboxHandle, make_sandbox_client

from reconcile.getresponse import (
    ApiKeyAuth,
    AuthenticationError,
    BearerAuth,
    NotFound,
    ValidationError,
    check_connection,
    get_contact,
    iter_contacts,
)


def test_api_key_connection_check(gr: SandboxHandle, clock: FakeClock) -> None:
    with make_sandbox_client(gr, clock) as client:
        account = check_connection(client)
    assert account.account_id
    assert client.rate_limit.limit == 30000
    assert client.rate_limit.remaining is not None
    assert client.rate_limit.reset_seconds is not None


def test_oauth_bearer_token(gr: SandboxHandle, clock: FakeClock) -> None:
    auth = BearerAuth(gr.info["access_token"])
    with make_sandbox_client(gr, clock, auth=auth) as client:
        assert check_connection(client).account_id


def test_max_host_needs_its_domain(gr: SandboxHandle, clock: FakeClock) -> None:
    max_url, domain = gr.info["max"]["url"], gr.info["max"]["domain"]
    auth = ApiKeyAuth(gr.api_key, domain=domain)
    with make_sandbox_client(gr, clock, auth=auth, base_url=max_url) as client:
        assert check_connection(client).account_id
    client = make_sandbox_client(gr, clock, base_url=max_url)
    with client, pytest.raises(AuthenticationError, match="X-Domain") as caught:
        check_connection(client)
    assert "X-Domain" in str(caught.value.hint)


def test_wrong_key_is_an_authentication_error_with_all_seven_fields(
    gr: SandboxHandle, clock: FakeClock
) -> None:
    client = make_sandbox_client(gr, clock, auth=ApiKeyAuth("not-the-key"))
    with client, pytest.raises(AuthenticationError) as caught:
        check_connection(client)
    error = caught.value
    assert error.http_status == 401
    assert error.code == 1014
    assert error.code_description
    assert error.api_message
    assert error.more_info
    assert error.uuid
    assert error.context is not None
    assert "90 days" in str(error)
    assert client.stats.requests == 1  # never retried


def test_not_found_and_validation_errors(gr: SandboxHandle, clock: FakeClock) -> None:
    with make_sandbox_client(gr, clock) as client:
        with pytest.raises(NotFound) as missing:
            get_contact(client, "nope")
        with pytest.raises(ValidationError) as invalid:
            client.get("contacts", {"query": {"colour": "blue"}})
        with pytest.raises(ValidationError):
            list(iter_contacts(client, created_from="not a date"))
    assert missing.value.code == 1013
    assert "colour" in str(invalid.value)
    assert invalid.value.code == 1000


def test_the_key_never_reaches_logs_or_errors_over_http(
    gr: SandboxHandle, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gr.fault(kind="status", status=503, count=2)
    shown = []
    with make_sandbox_client(gr, clock) as client:
        shown.append(repr(client))
        check_connection(client)
        with pytest.raises(NotFound) as caught:
            get_contact(client, "nope")
        shown += [str(caught.value), repr(caught.value.body)]
    with make_sandbox_client(gr, clock, auth=BearerAuth("expired-" + KEY)) as client:
        with pytest.raises(AuthenticationError) as denied:
            check_connection(client)
        shown += [str(denied.value), repr(denied.value.body), repr(client)]
    shown += [record.getMessage() for record in caplog.records]
    assert len(shown) > 6
    assert all(KEY not in text for text in shown)
