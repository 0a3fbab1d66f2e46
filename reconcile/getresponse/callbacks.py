"""The account's callbacks configuration (``/accounts/callbacks``): where GetResponse posts
opens, clicks, subscribes and unsubscribes as they happen.

Official description (``getCallbacks``, ``updateCallbacks``, ``disableCallbacks``): ``GET``
answers ``{"url", "actions": {"open", "click", "subscribe", "unsubscribe", "survey"}}`` or 404
"Callbacks are disabled for the account"; ``POST`` enables or updates them (``url`` "required if
callbacks are not yet enabled"); ``DELETE`` disables them (204). What GetResponse then sends,
and that it never repeats a callback it could not deliver, is in docs/getresponse-api.md
("Callbacks and webhooks") and :mod:`reconcile.getresponse.callback_events`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reconcile.getresponse.client import GetResponseClient
from reconcile.getresponse.errors import NotFound

ACTIONS = ("open", "click", "subscribe", "unsubscribe", "survey")
DEFAULT_ACTIONS = ("open", "click", "subscribe", "unsubscribe")


@dataclass(frozen=True)
class Callbacks:
    url: str
    actions: tuple[str, ...]  # the enabled ones


def _parse(data: object) -> Callbacks:
    data = data if isinstance(data, dict) else {}
    actions = data.get("actions") or {}
    on = tuple(a for a in ACTIONS if isinstance(actions, dict) and actions.get(a) is True)
    return Callbacks(str(data.get("url") or ""), on)


def get_callbacks(client: GetResponseClient) -> Callbacks | None:
    """The configuration, or None when callbacks are disabled (the API's 404)."""
    try:
        return _parse(client.get("accounts/callbacks"))
    except NotFound:
        return None


def set_callbacks(
    client: GetResponseClient, url: str, actions: Iterable[str] = DEFAULT_ACTIONS
) -> Callbacks:
    """Enable (or update) callbacks to ``url`` for ``actions``; the others are turned off.
    Setting the same configuration twice changes nothing, so the call is repeated safely."""
    wanted = set(actions)
    unknown = wanted - set(ACTIONS)
    if unknown:
        raise ValueError(f"unknown callback actions {sorted(unknown)}; use {', '.join(ACTIONS)}")
    body = {"url": url, "actions": {a: a in wanted for a in ACTIONS}}
    return _parse(client.post("accounts/callbacks", body, idempotent=True))


def disable_callbacks(client: GetResponseClient) -> bool:
    """Turn callbacks off; False when they were off already."""
    return client.delete("accounts/callbacks")
