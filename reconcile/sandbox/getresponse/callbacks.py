"""``/accounts/callbacks``: the account's callbacks configuration, as the official description
has it (``getCallbacks`` 200 or 404 "Callbacks are disabled for the account",
``updateCallbacks`` with ``url`` required while they are off, ``disableCallbacks`` 204).
Posting the events to the configured address is :mod:`.delivery`'s work.
"""

from __future__ import annotations

import json
from typing import Any

from reconcile.sandbox.getresponse import validate
from reconcile.sandbox.getresponse.errors import GetResponseError, invalid
from reconcile.sandbox.getresponse.models import State

ACTIONS = ("open", "click", "subscribe", "unsubscribe", "survey")


class Callbacks:
    def __init__(self, state: State) -> None:
        self.s = state

    def current(self) -> dict[str, Any] | None:
        row = self.s.conn.execute("SELECT body FROM callbacks WHERE id = 1").fetchone()
        return json.loads(row[0]) if row else None

    def get(self) -> dict[str, Any]:
        config = self.current()
        if config is None:
            raise GetResponseError(1013, "Callbacks are disabled for the account", {}, status=404)
        return config

    def update(self, body: Any) -> dict[str, Any]:
        body = validate.body_object(body)
        config = self.current() or {"url": None, "actions": {a: False for a in ACTIONS}}
        url = validate.string(body, "url", required=config["url"] is None, max_length=2048)
        if url is not None:
            if not url.startswith(("http://", "https://")) or " " in url:
                raise invalid("url", "This value is not a valid URL", url)
            config["url"] = url
        actions = body.get("actions")
        if actions is not None:
            if not isinstance(actions, dict):
                raise invalid("actions", "This value should be an object", actions)
            for name, value in actions.items():
                if name not in ACTIONS:
                    raise invalid(f"actions.{name}", f"Allowed: {', '.join(ACTIONS)}", name)
                if not isinstance(value, bool):
                    raise invalid(f"actions.{name}", "This value should be a boolean", value)
                config["actions"][name] = value
        with self.s.write() as conn:
            conn.execute(
                "INSERT INTO callbacks (id, body) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                (json.dumps(config),),
            )
        return config

    def disable(self) -> None:
        with self.s.write() as conn:
            conn.execute("DELETE FROM callbacks WHERE id = 1")
