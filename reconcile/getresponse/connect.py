"""Build a :class:`GetResponseClient` from the settings (SPEC 1.2): an API key or an OAuth
token, and for GetResponse MAX its own API host and the account's domain (``X-Domain``)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from reconcile.config import GetResponseSettings, Settings, require_getresponse
from reconcile.getresponse.auth import ApiKeyAuth, BearerAuth
from reconcile.getresponse.client import GetResponseClient


def connect(
    settings: Settings | GetResponseSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> GetResponseClient:
    """A client for the configured account (raises ConfigError saying what is missing)."""
    gr = require_getresponse(settings) if isinstance(settings, Settings) else settings
    auth: httpx.Auth
    if gr.api_key is not None:
        auth = ApiKeyAuth(gr.api_key.reveal(), domain=gr.domain)
    else:
        assert gr.oauth_token is not None, "require_getresponse checked a secret is set"
        auth = BearerAuth(gr.oauth_token.reveal(), domain=gr.domain)
    return GetResponseClient(auth, base_url=gr.api_url, transport=transport, sleep=sleep)
