"""The last line of defence of both sandboxes: an exception no handler caught is logged and
answered with the service's own 500 body, and the connection stays open.

Without it Starlette answers a plain-text "Internal Server Error" and re-raises, and uvicorn
then closes the connection, so a client's next request on that keep-alive connection is reset
(issue 14: ``contacts(not-a-guid)``). This is not how malformed requests are handled — each
sandbox refuses those with the service's 4xx where it parses them, and the fuzzers in
``tests/sandbox/*/test_*_fuzz.py`` hold them to zero 5xx — only what keeps a sandbox bug from
also breaking the client's connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("reconcile.sandbox")

Render = Callable[[Request], Response]


class LastResort:
    """ASGI middleware (inside Starlette's own error middleware): exceptions become
    ``render(request)`` if nothing was sent yet."""

    def __init__(self, app: ASGIApp, render: Render) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("sandbox bug on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise  # half an answer is out: only closing the connection can end it
            response = self.render(Request(scope, receive))
            await response(scope, receive, send)
