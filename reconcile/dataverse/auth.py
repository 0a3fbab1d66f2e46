"""How the client proves who it is: ``httpx.Auth`` strategies, one per deployment.

- :class:`MsalAuth` — a confidential client (client id + secret) through msal:
  :func:`online_auth` for Dynamics 365 Online (Entra ID authority, scope ``{env}/.default``)
  and :func:`adfs_auth` for On-Premises behind AD FS (authority ``https://<adfs>/adfs``, no
  instance discovery, the CRM URL sent as the ``resource`` audience).
- :class:`BearerTokenAuth` — a token obtained elsewhere (``az account get-access-token``,
  a sandbox), for when neither flow fits.

Tokens are cached (msal's cache, plus a copy with its expiry so that most requests do not
even ask msal) and refreshed once when the service answers 401. Secrets live only in
private attributes: ``repr()`` and every error message leave them out.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Generator
from typing import Any

import httpx

from reconcile.dataverse.errors import AuthenticationFailed, ConnectionFailed

REFRESH_MARGIN = 300.0  # seconds: get a new token this long before the old one expires


class BearerTokenAuth(httpx.Auth):
    """A fixed bearer token (obtained outside reconcile)."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("an access token is required")
        self.__token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.__token}"
        yield request

    def __repr__(self) -> str:
        return "BearerTokenAuth(token=***)"


TokenSource = Callable[[], dict[str, Any]]


class MsalAuth(httpx.Auth):
    """Bearer tokens from an msal confidential client; cached, refreshed on expiry or 401."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        authority: str,
        scopes: list[str],
        token_data: dict[str, str] | None = None,
        instance_discovery: bool | None = None,
        http_client: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("a client id and a client secret are required")
        if not authority:
            raise ValueError("an authority URL is required")
        self.client_id = client_id
        self.authority = authority.rstrip("/")
        self.scopes = list(scopes)
        self.__secret = client_secret
        self._token_data = dict(token_data or {})
        self._instance_discovery = instance_discovery
        self._http_client = http_client
        self._clock = clock
        self._app: Any = None
        self.__token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.tokens_acquired = 0

    def __repr__(self) -> str:
        return (
            f"MsalAuth(client_id={self.client_id!r}, authority={self.authority!r}, "
            f"scopes={self.scopes!r}, client_secret=***)"
        )

    def _scrub(self, text: str) -> str:
        text = text.replace(self.__secret, "***")
        return text.replace(self.__token, "***") if self.__token else text

    def _application(self) -> Any:
        if self._app is None:
            import msal

            kwargs: dict[str, Any] = {
                "client_credential": self.__secret,
                "authority": self.authority,
                "http_client": self._http_client,
            }
            if self._instance_discovery is not None:
                kwargs["instance_discovery"] = self._instance_discovery
            try:
                self._app = msal.ConfidentialClientApplication(self.client_id, **kwargs)
            except ValueError as exc:
                raise AuthenticationFailed(
                    f"The authority URL {self.authority} was refused: {self._scrub(str(exc))}",
                    hint="Use the https:// URL of your tenant (Online: "
                    "https://login.microsoftonline.com/<tenant-id>) or of AD FS "
                    "(On-Premises: https://<adfs-host>/adfs).",
                ) from None
            except Exception as exc:  # requests' errors: msal fetched the authority's metadata
                raise ConnectionFailed(
                    f"Could not reach the authority {self.authority}: "
                    f"{type(exc).__name__}: {self._scrub(str(exc))[:300]}",
                ) from None
        return self._app

    def close(self) -> None:
        """Close the HTTP session msal used (its keep-alive connection to the authority)."""
        closer = getattr(self._http_client, "close", None)
        if callable(closer):
            closer()

    def invalidate(self) -> None:
        """Forget the cached token, e.g. after a 401."""
        with self._lock:
            self.__token = None
            self._expires_at = 0.0
            if self._app is not None:
                self._app.remove_tokens_for_client()

    def token(self) -> str:
        """A valid access token, from the cache when it has more than 5 minutes left."""
        with self._lock:
            if self.__token and self._clock() < self._expires_at - REFRESH_MARGIN:
                return self.__token
            app = self._application()
            try:
                kwargs: dict[str, Any] = (
                    {"data": dict(self._token_data)} if self._token_data else {}
                )
                result = app.acquire_token_for_client(scopes=self.scopes, **kwargs)
            except Exception as exc:
                raise ConnectionFailed(
                    f"Could not obtain a token from {self.authority}: "
                    f"{type(exc).__name__}: {self._scrub(str(exc))[:300]}",
                ) from None
            if not isinstance(result, dict) or "access_token" not in result:
                error = (result or {}).get("error", "unknown_error")
                description = str((result or {}).get("error_description", "")).splitlines()
                raise AuthenticationFailed(
                    f"The authority {self.authority} refused a token for client "
                    f"{self.client_id}: {error}"
                    + (f": {self._scrub(description[0])}" if description else ""),
                )
            self.__token = str(result["access_token"])
            self._expires_at = self._clock() + float(result.get("expires_in") or 3600)
            self.tokens_acquired += int(result.get("token_source") != "cache")
            return self.__token

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        response = yield request
        if response.status_code == 401:
            response.read()
            self.invalidate()
            request.headers["Authorization"] = f"Bearer {self.token()}"
            yield request


def online_auth(
    *,
    environment_url: str,
    client_id: str,
    client_secret: str,
    authority: str,
    http_client: Any = None,
) -> MsalAuth:
    """Dynamics 365 Online: client credentials against Entra ID, scope ``{env}/.default``.

    msal validates an authority whose host it does not know by asking
    login.microsoftonline.com ("instance discovery"); the authority here is configured by an
    administrator (or named by the environment itself), so for such hosts — a sovereign
    proxy, the sandbox — that call is skipped rather than sent to Microsoft.
    """
    from urllib.parse import urlsplit

    from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS

    host = (urlsplit(authority).hostname or "").lower()
    return MsalAuth(
        client_id=client_id,
        client_secret=client_secret,
        authority=authority,
        scopes=[f"{environment_url.rstrip('/')}/.default"],
        instance_discovery=None if host in WELL_KNOWN_AUTHORITY_HOSTS else False,
        http_client=http_client,
    )


def adfs_auth(
    *,
    environment_url: str,
    client_id: str,
    client_secret: str,
    authority: str,
    resource: str | None = None,
    scopes: list[str] | None = None,
    http_client: Any = None,
) -> MsalAuth:
    """On-Premises behind AD FS: msal with an ``…/adfs`` authority.

    AD FS "only supports literal scope values" (it does not translate ``/.default``), and
    the token's audience is chosen by the ``resource`` parameter, which must equal the CRM
    relying-party identifier (MSIS9329 otherwise) — by default the environment URL.
    """
    if not re.search(r"/adfs/?$", authority, re.IGNORECASE):
        raise ValueError(
            f"an AD FS authority URL ends with /adfs (https://<adfs-host>/adfs); got {authority}"
        )
    return MsalAuth(
        client_id=client_id,
        client_secret=client_secret,
        authority=authority,
        scopes=scopes or ["openid"],
        token_data={"resource": resource or environment_url},
        instance_discovery=False,
        http_client=http_client,
    )


_CHALLENGE = re.compile(r'authorization_uri="?([^",\s]+)"?', re.IGNORECASE)


def authority_from_challenge(header: str | None) -> str | None:
    """The authority in a 401's ``WWW-Authenticate: Bearer authorization_uri=…`` challenge.

    ``https://login.microsoftonline.com/<tenant>/oauth2/authorize`` → ``…/<tenant>``;
    ``https://adfs.contoso.com/adfs/oauth2/authorize`` → ``https://adfs.contoso.com/adfs``.
    """
    match = _CHALLENGE.search(header or "")
    if not match:
        return None
    uri = match.group(1)
    return re.sub(r"/oauth2/(v2\.0/)?authorize/?$", "", uri)
