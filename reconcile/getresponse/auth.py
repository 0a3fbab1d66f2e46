"""Credentials for GetResponse, as ``httpx.Auth`` objects that never show their secret.

Two ways to sign a request (API reference, "Authentication"):

- API key: ``X-Auth-Token: api-key <key>`` (the literal ``api-key`` prefix is required);
- OAuth 2.0 access token: ``Authorization: Bearer <token>``.

GetResponse MAX (formerly "Enterprise") accounts use their own API host and must also send
``X-Domain: <domain>`` on every request: the bare domain, no scheme, no ``www.``. Standard
accounts must not send it. The domain is not secret; it lives here because it is part of
how a request is signed for one account.

The secret sits only in these objects: ``repr``/``str`` mask it, and the client redacts it
from any error text the API echoes back (an expired token comes back as ``sentToken``).
"""

from __future__ import annotations

import re
from collections.abc import Generator

import httpx

from reconcile.errors import ConfigError

STANDARD_API = "https://api.getresponse.com/v3"
MAX_US_API = "https://api3.getresponse360.com/v3"
MAX_PL_API = "https://api3.getresponse360.pl/v3"
BASE_URLS = {"standard": STANDARD_API, "max-us": MAX_US_API, "max-pl": MAX_PL_API}

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _check_secret(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"the GetResponse {what} is empty",
            hint="set it in the configuration or the environment (never on the command line)",
        )
    value = value.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ConfigError(
            f"the GetResponse {what} contains spaces or control characters",
            hint="copy it again from GetResponse without surrounding text",
        )
    return value


def check_domain(domain: str) -> str:
    """A GetResponse MAX domain as X-Domain wants it, or a ConfigError saying what is wrong."""
    value = domain.strip().lower()
    if "://" in value or "/" in value:
        raise ConfigError(
            f"GetResponse MAX domain {domain!r} must be a bare domain",
            hint="drop the https:// and any path, e.g. 'example.com'",
        )
    if value.startswith("www."):
        raise ConfigError(
            f"GetResponse MAX domain {domain!r} must not start with 'www.'",
            hint=f"use {value[4:]!r}",
        )
    if not _DOMAIN.match(value):
        raise ConfigError(
            f"GetResponse MAX domain {domain!r} is not a valid domain name",
            hint="use the domain registered in GetResponse MAX, e.g. 'example.com'",
        )
    return value


class GetResponseAuth(httpx.Auth):
    """Base: adds the credential header and, for GetResponse MAX, ``X-Domain``."""

    _header: str
    _prefix: str

    def __init__(self, secret: str, *, domain: str | None = None) -> None:
        self._secret = _check_secret(secret, self._what)
        self.domain = check_domain(domain) if domain else None

    _what = "credential"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._header] = self._prefix + self._secret
        if self.domain:
            request.headers["X-Domain"] = self.domain
        yield request

    @property
    def secrets(self) -> tuple[str, ...]:
        """What to scrub from any text before it is shown or logged."""
        return (self._secret,)

    def __repr__(self) -> str:
        domain = f", domain={self.domain!r}" if self.domain else ""
        return f"{type(self).__name__}(***{domain})"

    __str__ = __repr__


class ApiKeyAuth(GetResponseAuth):
    """``X-Auth-Token: api-key <key>``; keys come from https://app.getresponse.com/api."""

    _header = "X-Auth-Token"
    _prefix = "api-key "
    _what = "API key"


class BearerAuth(GetResponseAuth):
    """``Authorization: Bearer <access token>`` from GetResponse's OAuth 2.0 flows."""

    _header = "Authorization"
    _prefix = "Bearer "
    _what = "OAuth access token"
