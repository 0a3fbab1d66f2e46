"""Kill a sync job's process (SIGKILL, as ``kill -9``) at its n-th request to either sandbox:
before the sandbox sees it (nothing happened) or after the sandbox acted and before the
answer leaves (it happened; the job never knew). Shared by the sync jobs' crash tests."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any


class KillSwitch:
    """Counts the API requests of both sandboxes (one counter) and kills ``pid`` at the
    ``at``-th, before the sandbox handles it or after (the answer is lost)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid: int | None = None
        self.at: int | None = None
        self.after = False
        self.seen = 0
        self.killed = False

    def arm(self, pid: int | None, at: int | None, after: bool) -> None:
        with self.lock:
            self.pid, self.at, self.after, self.seen, self.killed = pid, at, after, 0, False

    def wrap(self, app: Any, marker: str) -> Any:
        async def middleware(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http" or marker not in scope["path"]:
                await app(scope, receive, send)
                return
            with self.lock:
                self.seen += 1
                hit = self.at is not None and self.seen == self.at and not self.killed
            if hit and not self.after:
                self._kill()
                return
            if not hit:
                await app(scope, receive, send)
                return

            async def swallow(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    self._kill()

            await app(scope, receive, swallow)

        return middleware

    def _kill(self) -> None:
        if self.pid is not None and not self.killed:
            os.kill(self.pid, signal.SIGKILL)
            self.killed = True
