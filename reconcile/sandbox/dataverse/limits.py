"""Service protection limits, per user, over a sliding window (learn.microsoft.com
"Service protection API limits"): number of requests (6,000 per 300 s), combined execution time
(1,200,000 ms per 300 s) and concurrent requests (52). Past a limit the API answers 429 with
``Retry-After`` (seconds) and the documented error code; a ``$batch`` counts as one request.
The defaults are the service's; tests and demos lower them to provoke throttling.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from reconcile.sandbox.dataverse.errors import DataverseError


@dataclass
class Limits:
    requests: int = 6000
    window_seconds: float = 300.0
    execution_ms: int = 1_200_000
    concurrent: int = 52
    enabled: bool = True

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, data: dict[str, Any]) -> None:
        for name in ("requests", "execution_ms", "concurrent"):
            if name in data:
                value = int(data[name])
                if value < 1:
                    raise ValueError(f"{name} must be at least 1")
                setattr(self, name, value)
        if "window_seconds" in data:
            window = float(data["window_seconds"])
            if window <= 0:
                raise ValueError("window_seconds must be positive")
            self.window_seconds = window
        if "enabled" in data:
            self.enabled = bool(data["enabled"])


class Limiter:
    def __init__(
        self, limits: Limits | None = None, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or Limits()
        self.now = now
        self._lock = threading.Lock()
        self._requests: dict[str, deque[float]] = defaultdict(deque)
        self._time: dict[str, deque[tuple[float, float]]] = defaultdict(deque)
        self._active: dict[str, int] = defaultdict(int)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._time.clear()
            self._active.clear()

    def _trim(self, user: str, now: float) -> None:
        start = now - self.limits.window_seconds
        requests, times = self._requests[user], self._time[user]
        while requests and requests[0] <= start:
            requests.popleft()
        while times and times[0][0] <= start:
            times.popleft()

    def enter(self, user: str) -> None:
        """Count a request in, or raise the 429 the service would send."""
        limits = self.limits
        if not limits.enabled:
            return
        with self._lock:
            now = self.now()
            self._trim(user, now)
            requests, times = self._requests[user], self._time[user]
            if self._active[user] >= limits.concurrent:
                raise _throttled("ThrottledConcurrency", 1, limit=limits.concurrent)
            if len(requests) >= limits.requests:
                wait = requests[0] + limits.window_seconds - now
                raise _throttled(
                    "Throttled", wait, limit=limits.requests, window=int(limits.window_seconds)
                )
            spent = sum(ms for _, ms in times)
            if spent >= limits.execution_ms:
                wait = times[0][0] + limits.window_seconds - now
                raise _throttled(
                    "ThrottledTime",
                    wait,
                    limit=limits.execution_ms,
                    window=int(limits.window_seconds),
                )
            requests.append(now)
            self._active[user] += 1

    def leave(self, user: str, elapsed_ms: float) -> None:
        if not self.limits.enabled:
            return
        with self._lock:
            self._active[user] = max(0, self._active[user] - 1)
            self._time[user].append((self.now(), elapsed_ms))

    def remaining(self, user: str) -> tuple[int, int]:
        """(requests left, execution milliseconds left) in the current window."""
        with self._lock:
            self._trim(user, self.now())
            left = self.limits.requests - len(self._requests[user])
            spent = sum(ms for _, ms in self._time[user])
            return max(0, left), max(0, int(self.limits.execution_ms - spent))


def _throttled(name: str, wait: float, **fields: Any) -> DataverseError:
    seconds = max(1, math.ceil(wait))
    return DataverseError(name, headers={"Retry-After": str(seconds)}, **fields)
