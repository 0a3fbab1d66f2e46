"""The runner's clocks: the real one, and the GetResponse sandbox's for demos and tests.

Why a sandbox clock: an hourly job, a newsletter scheduled for tomorrow, a 10-minute lease are
hard to watch in real time. The GetResponse sandbox keeps a clock that ``POST
/__sandbox__/clock {"advance": 3600}`` moves forward; a runner started with
``--sandbox-clock`` reads its time from there, so that moving the sandbox clock an hour makes
the hourly jobs due — and the jobs' own windows (``ctx.now()``) follow the same time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

from reconcile.jobs.sync.context import StopSignal

POLL = 0.2  # seconds of real time between looks at the sandbox clock while waiting


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float, stop: StopSignal) -> bool:
        """Wait ``seconds`` (on this clock) unless a stop comes first; True when one came."""
        ...


class WallClock:
    """The real time; waiting is an Event wait, which costs no CPU."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float, stop: StopSignal) -> bool:
        return stop.wait(max(0.0, seconds))


class SandboxClock:
    """The time of a GetResponse sandbox (``GET /__sandbox__/clock``), read at most every
    :data:`POLL` seconds: between reads it runs on at the real pace."""

    def __init__(self, api_url: str) -> None:
        import httpx

        url = httpx.URL(api_url)
        self.url = str(url.copy_with(path="/__sandbox__/clock", query=None))
        self._http = httpx.Client(timeout=10.0)
        self._offset = 0.0
        self._read_at = float("-inf")

    def now(self) -> datetime:
        if time.monotonic() - self._read_at >= POLL:
            answer = self._http.get(self.url)
            answer.raise_for_status()
            self._offset = float(answer.json()["epoch"]) - time.time()
            self._read_at = time.monotonic()
        return datetime.fromtimestamp(time.time() + self._offset, UTC)

    def sleep(self, seconds: float, stop: StopSignal) -> bool:
        until = self.now().timestamp() + max(0.0, seconds)
        while self.now().timestamp() < until:
            if stop.wait(POLL):
                return True
        return stop.requested

    def close(self) -> None:
        self._http.close()
