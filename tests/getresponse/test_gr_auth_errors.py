from __future__ import annotations

import logging

import httpx
import pytest
from gr_fakes import KEY, Script, error, error_body, make_client

from reconcile.errors import EXIT_SERVICE, ConfigError, ServiceError
from reconcile.getresponse import (
    MAX_US_API,
    AccessDenied,
    AlreadyExists,
    ApiKeyAuth,
    AuthenticationError,
    BearerAuth,
    ConnectionFailed,
    ForbiddenState,
    GetResponseError,
    NotFound,
    RateLimited,
    RelatedResourceNotFound,
    ServerError,
    UnexpectedResponse,
    ValidationError,
    WrongAddress,
    get_account,
)
from reconcile.getresponse.errors import error_from_response

# -- auth ----------------------------------------------------------------------------------


def _signed(auth: httpx.Auth) -> httpx.Request:
    request = httpx.Request("GET", "https://api.test/v3/accounts")
    return next(auth.auth_flow(request))


def test_api_key_header_has_the_required_prefix() -> None:
    request = _signed(ApiKeyAuth(KEY))
    assert request.headers["X-Auth-Token"] == f"api-key {KEY}"
    assert "X-Domain" not in request.headers
    assert "Authorization" not in request.headers


def test_bearer_token_and_max_domain() -> None:
    request = _signed(BearerAuth("tok-123", domain="Example.com"))
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert request.headers["X-Domain"] == "example.com"
    assert "X-Auth-Token" not in request.headers


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("https://example.com", "bare domain"),
        ("example.com/path", "bare domain"),
        ("www.example.com", "www"),
        ("not a domain", "not a valid domain"),
    ],
)
def test_max_domain_is_checked(domain: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ApiKeyAuth(KEY, domain=domain)


@pytest.mark.parametrize("secret", ["", "   ", "abc def", "abc\ndef"])
def test_empty_or_broken_secrets_are_config_errors(secret: str) -> None:
    with pytest.raises(ConfigError):
        ApiKeyAuth(secret)


def test_max_client_sends_domain_to_the_max_host() -> None:
    script = Script(httpx.Response(200, json={"accountId": "A1"}))
    client, _ = make_client(script, auth=ApiKeyAuth(KEY, domain="example.com"), base_url=MAX_US_API)
    assert get_account(client).account_id == "A1"
    sent = script.requests[0]
    assert str(sent.url) == "https://api3.getresponse360.com/v3/accounts"
    assert sent.headers["X-Domain"] == "example.com"
    assert sent.headers["X-Auth-Token"] == f"api-key {KEY}"


def test_secret_never_appears_in_repr_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    expired = error(401, 1014, "The access token provided is expired", sentToken=KEY)
    script = Script(
        httpx.Response(503),
        httpx.ConnectError(f"cannot connect using {KEY}"),
        expired,
        *[httpx.Response(500, text=f"debug dump: {KEY}")] * 3,
    )
    client, _ = make_client(script, max_attempts=3)
    shown: list[str] = [repr(client), str(client.auth), repr(client.auth)]
    with pytest.raises(AuthenticationError) as first:
        get_account(client)
    with pytest.raises(ServerError) as second:
        get_account(client)
    for exc in (first.value, second.value):
        shown += [str(exc), repr(exc), repr(exc.body), exc.hint or ""]
    assert "expired" in str(first.value.hint)
    assert first.value.context == {"sentToken": "***"}
    shown += [record.getMessage() for record in caplog.records]
    assert all(KEY not in text for text in shown)


# -- error mapping -------------------------------------------------------------------------


def _failed(response: httpx.Response) -> GetResponseError:
    response.request = httpx.Request("POST", "https://api.test/v3/contacts")
    return error_from_response(response)


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, 1000, ValidationError),
        (400, 1001, RelatedResourceNotFound),
        (400, 1002, ForbiddenState),
        (400, 1006, ValidationError),
        (401, 1014, AuthenticationError),
        (403, 1014, AuthenticationError),  # a third-party list says 403; the code decides
        (403, 1017, AccessDenied),
        (404, 1013, NotFound),
        (404, 1024, AuthenticationError),
        (409, 1008, AlreadyExists),
        (429, 1015, RateLimited),
        (500, 1, ServerError),
        (503, 1019, ServerError),
        (418, 9999, GetResponseError),
    ],
)
def test_code_picks_the_class(status: int, code: int, cls: type[GetResponseError]) -> None:
    exc = _failed(error(status, code, "the API's message"))
    assert type(exc) is cls
    assert isinstance(exc, ServiceError)
    assert exc.exit_code == EXIT_SERVICE
    assert exc.http_status == status
    assert exc.code == code
    assert exc.api_message == "the API's message"
    assert exc.uuid
    assert exc.more_info
    assert exc.code_description
    assert set(exc.body) == {
        "httpStatus",
        "code",
        "codeDescription",
        "message",
        "moreInfo",
        "context",
        "uuid",
    }
    assert "POST /v3/contacts" in str(exc)
    assert exc.hint


def test_validation_message_names_the_field() -> None:
    body = error_body(
        400,
        1000,
        "Validation error, see context section for more information",
        validationType="searchFilter[query]",
        fieldName="colour",
        originalName="colour",
        errorDescription="Not allowed search field",
    )
    exc = _failed(httpx.Response(400, json=body))
    assert "colour: Not allowed search field" in str(exc)
    assert exc.context["validationType"] == "searchFilter[query]"


def test_status_decides_when_the_body_is_not_an_error_body() -> None:
    assert type(_failed(httpx.Response(502, text=""))) is ServerError
    assert type(_failed(httpx.Response(418, text="teapot"))) is UnexpectedResponse


def test_a_404_without_getresponses_body_is_a_wrong_address_not_a_deleted_record() -> None:
    # Every 404 of the API carries its JSON body (1013, 100001); one without it is another
    # server at that address (a Dataverse URL given as api_url): a setting to fix, exit 2.
    exc = _failed(httpx.Response(404, text="Not Found"))
    assert type(exc) is WrongAddress
    assert exc.exit_code == 2
    assert "not the GetResponse API" in str(exc)
    assert "getresponse.api_url" in exc.hint
    assert type(_failed(httpx.Response(404, text=""))) is WrongAddress


def test_rate_limited_exposes_time_to_reset() -> None:
    exc = _failed(error(429, 1015, currentLimit=30000, timeToReset="100 seconds"))
    assert isinstance(exc, RateLimited)
    assert exc.retriable
    assert exc.retry_after == 100.0


def test_retriable_flags_follow_what_to_do() -> None:
    assert ServerError.retriable
    assert RateLimited.retriable
    assert ConnectionFailed.retriable
    assert not ValidationError.retriable
    assert not NotFound.retriable
