"""Auth strategies: msal (Online and AD FS) through a fake HTTP client, static tokens, 401
refresh, and secrets kept out of every repr and message."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from reconcile.dataverse import DataverseClient, errors
from reconcile.dataverse.auth import (
    BearerTokenAuth,
    MsalAuth,
    adfs_auth,
    authority_from_challenge,
    online_auth,
)

ENV = "https://org.crm4.dynamics.com"
SECRET = "s3cr3t-Value~with.chars"
TENANT = "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555"


@dataclass
class FakeResponse:
    status_code: int
    text: str
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


class FakeIdentityProvider:
    """What msal's ``http_client`` talks to: discovery documents and a token endpoint."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.token_requests: list[dict[str, list[str]]] = []
        self.gets: list[str] = []
        self.refuse = refuse

    def get(self, url: str, params: Any = None, headers: Any = None, **kw: Any) -> FakeResponse:
        self.gets.append(url)
        if "openid-configuration" in url:
            base = url.split("/.well-known")[0].removesuffix("/v2.0")
            return FakeResponse(
                200,
                json.dumps(
                    {
                        "authorization_endpoint": f"{base}/oauth2/authorize",
                        "token_endpoint": f"{base}/oauth2/token",
                        "issuer": base,
                    }
                ),
            )
        if "discovery/instance" in url:
            return FakeResponse(
                200,
                json.dumps(
                    {
                        "tenant_discovery_endpoint": f"{TENANT}/v2.0/.well-known/"
                        "openid-configuration",
                        "metadata": [],
                    }
                ),
            )
        return FakeResponse(404, "{}")

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kw: Any
    ) -> FakeResponse:
        form = (
            parse_qs(data) if isinstance(data, str) else {k: [v] for k, v in (data or {}).items()}
        )
        self.token_requests.append(form)
        if self.refuse:
            return FakeResponse(
                401,
                json.dumps(
                    {
                        "error": "invalid_client",
                        "error_description": "AADSTS7000215: Invalid client secret provided."
                        "\r\nTrace ID: x",
                    }
                ),
            )
        n = len(self.token_requests)
        return FakeResponse(
            200,
            json.dumps({"access_token": f"token-{n}", "expires_in": 3600, "token_type": "Bearer"}),
        )

    def close(self) -> None:
        pass


def test_online_auth_gets_a_client_credentials_token_for_the_environment_scope() -> None:
    idp = FakeIdentityProvider()
    auth = online_auth(
        environment_url=ENV,
        client_id="app-id",
        client_secret=SECRET,
        authority=TENANT,
        http_client=idp,
    )
    assert auth.token() == "token-1"
    assert auth.token() == "token-1"  # cached
    form = idp.token_requests[0]
    assert form["grant_type"] == ["client_credentials"]
    assert form["scope"] == [f"{ENV}/.default"]
    assert form["client_id"] == ["app-id"]
    assert form["client_secret"] == [SECRET]
    assert len(idp.token_requests) == 1


def test_a_401_from_dataverse_refreshes_the_token_once() -> None:
    idp = FakeIdentityProvider()
    auth = online_auth(
        environment_url=ENV,
        client_id="app-id",
        client_secret=SECRET,
        authority=TENANT,
        http_client=idp,
    )
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer token-1":
            return httpx.Response(401, json={"error": {"code": "", "message": "expired"}})
        return httpx.Response(200, json={"UserId": "u"})

    client = DataverseClient(
        ENV, auth=auth, transport=httpx.MockTransport(handler), sleep=lambda s: None
    )
    assert client.who_am_i() == {"UserId": "u"}
    assert seen == ["Bearer token-1", "Bearer token-2"]


def test_adfs_auth_sends_the_crm_as_resource_without_instance_discovery() -> None:
    idp = FakeIdentityProvider()
    auth = adfs_auth(
        environment_url="https://crm.contoso.com/Org",
        client_id="app-id",
        client_secret=SECRET,
        authority="https://adfs.contoso.com/adfs",
        resource="https://crm.contoso.com/",
        http_client=idp,
    )
    assert auth.token() == "token-1"
    assert idp.gets == ["https://adfs.contoso.com/adfs/.well-known/openid-configuration"]
    form = idp.token_requests[0]
    assert form["resource"] == ["https://crm.contoso.com/"]
    assert form["scope"] == ["openid"]
    with pytest.raises(ValueError, match="/adfs"):
        adfs_auth(
            environment_url=ENV,
            client_id="a",
            client_secret=SECRET,
            authority="https://login.microsoftonline.com/x",
        )


def test_a_refused_secret_is_reported_without_the_secret() -> None:
    auth = online_auth(
        environment_url=ENV,
        client_id="app-id",
        client_secret=SECRET,
        authority=TENANT,
        http_client=FakeIdentityProvider(refuse=True),
    )
    with pytest.raises(errors.AuthenticationFailed) as info:
        auth.token()
    text = str(info.value)
    assert "invalid_client" in text
    assert "AADSTS7000215" in text
    assert SECRET not in text
    assert "app-id" in text


def test_an_http_authority_is_refused_with_a_hint() -> None:
    auth = online_auth(
        environment_url=ENV,
        client_id="app-id",
        client_secret=SECRET,
        authority="http://127.0.0.1:9/tenant",
        http_client=FakeIdentityProvider(),
    )
    with pytest.raises(errors.AuthenticationFailed) as info:
        auth.token()
    assert "https://login.microsoftonline.com/<tenant-id>" in str(info.value.hint)
    assert SECRET not in str(info.value)


def test_secrets_never_appear_in_repr_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    static = BearerTokenAuth("static-TOKEN-value")
    msal_auth = online_auth(
        environment_url=ENV,
        client_id="app-id",
        client_secret=SECRET,
        authority=TENANT,
        http_client=FakeIdentityProvider(),
    )
    for auth in (static, msal_auth):
        assert "static-TOKEN-value" not in repr(auth)
        assert SECRET not in repr(auth)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": {"code": "", "message": "down"}})

    client = DataverseClient(
        ENV, auth=msal_auth, transport=httpx.MockTransport(handler), sleep=lambda s: None
    )
    with pytest.raises(errors.ServiceUnavailable) as info:
        client.who_am_i()
    text = str(info.value) + repr(info.value) + caplog.text + repr(client)
    for secret in (SECRET, "token-1"):
        assert secret not in text
    assert "retrying" in caplog.text  # the retries were logged, without secrets


def test_static_token_and_challenge_parsing() -> None:
    seen: list[str] = []
    client = DataverseClient(
        ENV,
        auth=BearerTokenAuth("abc"),
        transport=httpx.MockTransport(
            lambda r: seen.append(r.headers["Authorization"]) or httpx.Response(200, json={})
        ),
    )
    client.who_am_i()
    assert seen == ["Bearer abc"]
    assert (
        authority_from_challenge(
            "Bearer authorization_uri=https://login.microsoftonline.com/abc/oauth2/authorize, "
            "resource_id=https://org.crm.dynamics.com/"
        )
        == "https://login.microsoftonline.com/abc"
    )
    assert (
        authority_from_challenge(
            'Bearer authorization_uri="https://adfs.contoso.com/adfs/oauth2/authorize"'
        )
        == "https://adfs.contoso.com/adfs"
    )
    assert authority_from_challenge("Negotiate") is None
    with pytest.raises(ValueError, match="required"):
        MsalAuth(client_id="a", client_secret="", authority=TENANT, scopes=[])
