"""Tokens: an OAuth 2.0 authority that msal can use, and bearer-token checks on the Web API.

msal refuses any authority that is not ``https`` (and then fetches
``{authority}/v2.0/.well-known/openid-configuration``), so the authority is served on its own
TLS port with a throw-away local CA made by ``trustme``; the CA bundle's path goes in
``connection_info()["ca_file"]`` for the client's HTTP session to trust. The Web API itself stays
on plain ``http`` (what ``reconcile sandbox serve --json`` prints and what Microsoft's SDK is
pointed at). Both the Entra shape (``/<tenant>/oauth2/v2.0/token`` with ``scope=<url>/.default``)
and the AD FS shape (``/adfs/oauth2/token`` with ``resource=<url>``) are served.

Tokens are HS256 JWTs signed with a per-sandbox key: audience = the environment URL, ``appid``
= the client id, ``oid`` = the application user. The API checks signature, expiry and audience.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TENANT = "00000000-0000-0000-0000-0000000000aa"  # the sandbox's tenant id (a fixed GUID)
LIFETIME = 3600
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenError(Exception):
    """A bearer token the API does not accept; the message says why."""


@dataclass
class Client:
    label: str
    client_id: str
    client_secret: str
    user_id: str


class Tokens:
    """Mints and checks the sandbox's bearer tokens."""

    def __init__(
        self, key: bytes, clients: list[Client], now: Callable[[], float] = time.time
    ) -> None:
        self.key = key
        self.clients = {c.client_id: c for c in clients}
        self.now = now

    def mint(self, client: Client, audience: str, lifetime: int = LIFETIME) -> str:
        issued = int(self.now())
        header = {"alg": "HS256", "typ": "JWT"}
        claims = {
            "aud": audience.rstrip("/"),
            "iss": f"https://sts.sandbox.local/{TENANT}/",
            "iat": issued,
            "nbf": issued,
            "exp": issued + lifetime,
            "appid": client.client_id,
            "oid": client.user_id,
            "tid": TENANT,
            "ver": "1.0",
        }
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = hmac.new(self.key, signing.encode(), hashlib.sha256).digest()
        return f"{signing}.{_b64(signature)}"

    def verify(self, token: str, host: str) -> dict[str, Any]:
        try:
            head, body, signature = token.split(".")
            expected = hmac.new(self.key, f"{head}.{body}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(signature)):
                raise TokenError("the token's signature is not valid")
            claims = json.loads(_unb64(body))
        except (ValueError, json.JSONDecodeError) as exc:
            raise TokenError("the token is malformed") from exc
        if claims.get("exp", 0) < self.now():
            raise TokenError("the token has expired")
        if not _same_host(urlsplit(claims.get("aud", "")).netloc, host):
            raise TokenError(f"the token's audience {claims.get('aud')!r} is not this environment")
        if claims.get("appid") not in self.clients:
            raise TokenError("the token's application is not registered")
        return claims


def _same_host(audience: str, host: str) -> bool:
    def split(value: str) -> tuple[str, str]:
        name, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
        return ("127.0.0.1" if name in _LOOPBACK else name.lower()), port

    return split(audience) == split(host)


def _oauth_error(status: int, error: str, code: int, description: str) -> Response:
    return JSONResponse(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {description}",
            "error_codes": [code],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": secrets.token_hex(16),
            "correlation_id": secrets.token_hex(16),
        },
        status_code=status,
    )


def authority_routes(tokens: Tokens) -> list[Route]:
    """OpenID discovery and token endpoints (Entra and AD FS shapes)."""

    async def discovery(request: Request) -> Response:
        base = f"{request.url.scheme}://{request.headers['host']}"
        tenant = request.path_params.get("tenant", "adfs")
        if tenant == "adfs":
            token_endpoint, authorize = f"{base}/adfs/oauth2/token", f"{base}/adfs/oauth2/authorize"
        else:
            token_endpoint = f"{base}/{tenant}/oauth2/v2.0/token"
            authorize = f"{base}/{tenant}/oauth2/v2.0/authorize"
        return JSONResponse(
            {
                "token_endpoint": token_endpoint,
                "authorization_endpoint": authorize,
                "issuer": f"{base}/{tenant}" + ("" if tenant == "adfs" else "/v2.0"),
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "response_types_supported": ["code", "token"],
                "grant_types_supported": ["client_credentials"],
                "tenant_region_scope": "EU",
            }
        )

    async def token(request: Request) -> Response:
        form = await request.form()
        client_id, secret = str(form.get("client_id") or ""), str(form.get("client_secret") or "")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(
                400,
                "unsupported_grant_type",
                70003,
                "The sandbox authority supports the client_credentials grant only.",
            )
        client = tokens.clients.get(client_id)
        if client is None:
            return _oauth_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory.",
            )
        if form.get("client_assertion"):
            return _oauth_error(
                401,
                "invalid_client",
                7000215,
                "Certificate credentials are not emulated; use the client secret.",
            )
        if not hmac.compare_digest(secret, client.client_secret):
            return _oauth_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the "
                "secret being sent in the request is the client secret value, not the client "
                "secret ID, for a secret added to app '" + client_id + "'.",
            )
        scope, resource = str(form.get("scope") or ""), str(form.get("resource") or "")
        audiences = [s[: -len("/.default")] for s in scope.split() if s.endswith("/.default")]
        audience = audiences[0] if audiences else resource
        if not audience.startswith(("http://", "https://")):
            return _oauth_error(
                400,
                "invalid_scope",
                70011,
                "The provided value for the input parameter "
                "'scope' is not valid. The scope must be '<environment url>/.default'.",
            )
        access = tokens.mint(client, audience)
        return JSONResponse(
            {
                "token_type": "Bearer",
                "expires_in": LIFETIME - 1,
                "ext_expires_in": LIFETIME - 1,
                "access_token": access,
            }
        )

    return [
        Route("/adfs/.well-known/openid-configuration", discovery),
        Route("/{tenant}/v2.0/.well-known/openid-configuration", discovery),
        Route("/adfs/oauth2/token", token, methods=["POST"]),
        Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
        Route("/{tenant}/oauth2/token", token, methods=["POST"]),
    ]


class LocalCA:
    """A throw-away certificate authority and a server certificate for 127.0.0.1/localhost."""

    def __init__(self) -> None:
        import trustme

        self.folder = Path(tempfile.mkdtemp(prefix="reconcile-dataverse-tls-"))
        ca = trustme.CA(organization_name="reconcile sandbox")
        server = ca.issue_cert("127.0.0.1", "localhost", "::1")
        self.ca_file = str(self.folder / "ca.pem")
        self.cert_file = str(self.folder / "server.pem")
        self.key_file = str(self.folder / "server.key")
        ca.cert_pem.write_to_path(self.ca_file)
        server.cert_chain_pems[0].write_to_path(self.cert_file)
        for extra in server.cert_chain_pems[1:]:
            extra.write_to_path(self.cert_file, append=True)
        server.private_key_pem.write_to_path(self.key_file)

    def remove(self) -> None:
        for path in self.folder.glob("*"):
            path.unlink(missing_ok=True)
        self.folder.rmdir()
