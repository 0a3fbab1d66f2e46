"""Build a :class:`DataverseClient` from the settings (SPEC 1.1): the auth strategy that the
deployment calls for, the CA bundle, the concurrency.

- a static ``access_token`` wins (a token obtained elsewhere);
- Online: msal client credentials; a missing authority is discovered from the
  environment's own 401 challenge (``WWW-Authenticate: Bearer authorization_uri=…``);
- On-Premises: msal against the AD FS authority, the CRM URL as the token's resource.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import httpx

from reconcile.config import DynamicsSettings, Settings, require_dynamics
from reconcile.dataverse.auth import (
    BearerTokenAuth,
    adfs_auth,
    authority_from_challenge,
    online_auth,
)
from reconcile.dataverse.client import DataverseClient
from reconcile.dataverse.errors import AuthenticationFailed, ConnectionFailed, redirect_error
from reconcile.dataverse.odata import ApiVersion
from reconcile.errors import ConfigError
from reconcile.retrying import RetryPolicy


def msal_http_client(ca_file: str | None) -> Any:
    """msal speaks HTTP through ``requests``; trust the extra CA there too."""
    if not ca_file:
        return None
    import requests

    class CaSession(requests.Session):
        """requests lets ``REQUESTS_CA_BUNDLE`` override ``Session.verify`` (it merges the
        environment over session settings); a request-level ``verify`` is what wins."""

        def request(self, method: str, url: str, **kwargs: Any) -> Any:  # type: ignore[override]
            kwargs.setdefault("verify", ca_file)
            return super().request(method, url, **kwargs)

    return CaSession()


def discover_authority(
    settings: DynamicsSettings, *, transport: httpx.BaseTransport | None = None
) -> str:
    """Ask the environment which authority issues its tokens (an anonymous WhoAmI)."""
    assert settings.environment_url
    version = ApiVersion.parse(settings.api_version)
    url = f"{settings.environment_url.rstrip('/')}/api/data/{version}/WhoAmI"
    verify: bool | ssl.SSLContext = (
        ssl.create_default_context(cafile=settings.ca_file) if settings.ca_file else True
    )
    try:
        with httpx.Client(transport=transport, verify=verify, timeout=30) as http:
            response = http.get(url, headers={"Accept": "application/json"})
    except httpx.TransportError as exc:
        raise ConnectionFailed(
            f"Could not reach {settings.environment_url} to discover its authority "
            f"({type(exc).__name__})."
        ) from exc
    if 300 <= response.status_code < 400:
        raise redirect_error(response, record="the authority discovery (an anonymous WhoAmI)")
    authority = authority_from_challenge(response.headers.get("WWW-Authenticate"))
    if response.status_code != 401 or not authority:
        raise AuthenticationFailed(
            f"{settings.environment_url} did not name its token authority "
            f"(HTTP {response.status_code}, no Bearer authorization_uri challenge).",
            hint="Set dynamics.authority (Online: https://login.microsoftonline.com/<tenant-id>).",
        )
    return authority


def dataverse_auth(
    settings: DynamicsSettings, *, transport: httpx.BaseTransport | None = None
) -> httpx.Auth:
    if settings.access_token is not None:
        return BearerTokenAuth(settings.access_token.reveal())
    if settings.client_id is None or settings.client_secret is None:
        raise ConfigError("A client id and client secret (or an access token) are required.")
    assert settings.environment_url
    http_client = msal_http_client(settings.ca_file)
    if settings.deployment == "onpremises":
        if not settings.authority:
            raise ConfigError("On-Premises needs dynamics.authority (https://<adfs-host>/adfs).")
        try:
            return adfs_auth(
                environment_url=settings.environment_url,
                client_id=settings.client_id,
                client_secret=settings.client_secret.reveal(),
                authority=settings.authority,
                resource=settings.resource,
                http_client=http_client,
            )
        except ValueError as exc:
            raise ConfigError(str(exc), hint="Set dynamics.authority to the AD FS URL.") from None
    authority = settings.authority or discover_authority(settings, transport=transport)
    return online_auth(
        environment_url=settings.environment_url,
        client_id=settings.client_id,
        client_secret=settings.client_secret.reveal(),
        authority=authority,
        http_client=http_client,
    )


def connect(
    settings: Settings | DynamicsSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] | None = None,
    auth: httpx.Auth | None = None,
    retry_policy: RetryPolicy | None = None,
) -> DataverseClient:
    """A client for the configured environment (raises ConfigError listing what is missing)."""
    dynamics = require_dynamics(settings) if isinstance(settings, Settings) else settings
    assert dynamics.environment_url
    return DataverseClient(
        dynamics.environment_url,
        api_version=dynamics.api_version,
        auth=auth or dataverse_auth(dynamics, transport=transport),
        transport=transport,
        sleep=sleep,
        retry_policy=retry_policy,
        timeout=dynamics.timeout,
        concurrency=dynamics.concurrency,
        verify=dynamics.ca_file or True,
    )
