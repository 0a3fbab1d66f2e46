"""GetResponse's throttling: a 10-minute time frame, a per-second cap, and the headers.

Real limits (OpenAPI ``info.description``): 30,000 calls per 10-minute time frame and 80 per
second; ``POST /contacts/batch`` has its own 80 per time frame and 1 per second. Every response
carries ``X-RateLimit-Limit`` (calls per time frame), ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (``"432 seconds"``, a string); a refused call is a 429 with code 1015 and
``context.currentLimit`` / ``context.timeToReset``. A per-second refusal was observed live with
``Retry-After: 1`` and ``X-RateLimit-Limit: 80`` (GetResponse's newsletter skill guide), so the
sandbox sends those too. All limits are configurable, so tests can hit them in a few calls,
and run on the sandbox clock, so tests never wait.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

from reconcile.sandbox.getresponse.errors import GetResponseError

LIMIT_MESSAGE = "You have reached your requests limit for this time window, please wait..."


@dataclass
class RateLimits:
    per_second: int = 80
    per_window: int = 30000
    window_seconds: int = 600
    batch_per_second: int = 1
    batch_per_window: int = 80
    enabled: bool = True

    @classmethod
    def from_json(cls, data: dict[str, Any], base: RateLimits | None = None) -> RateLimits:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown rate-limit setting(s): {', '.join(sorted(unknown))}")
        merged = {**asdict(base or cls()), **data}
        for name, value in merged.items():
            if name == "enabled":
                if not isinstance(value, bool):
                    raise ValueError("enabled must be true or false")
            elif not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer")
        return cls(**merged)


class _Window:
    """Fixed windows: a time frame opens with the first call and lasts ``seconds``."""

    def __init__(self) -> None:
        self.start: float | None = None
        self.used = 0

    def roll(self, now: float, seconds: float) -> None:
        if self.start is None or now >= self.start + seconds:
            self.start = now if seconds != 1 else math.floor(now)
            self.used = 0

    def reset_in(self, now: float, seconds: float) -> int:
        assert self.start is not None
        return max(1, math.ceil(self.start + seconds - now))


class RateLimiter:
    """Counts the account's calls; thread-confined to the server's event loop."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self._frame = _Window()
        self._second = _Window()
        self._batch_frame = _Window()
        self._batch_second = _Window()

    def admit(self, *, batch: bool = False) -> dict[str, str]:
        """Count one call and return the headers for its response, or raise the 429."""
        limits, now = self.limits, self.clock()
        self._frame.roll(now, limits.window_seconds)
        self._second.roll(now, 1)
        if limits.enabled:
            checks = [
                (self._frame, limits.per_window, limits.window_seconds),
                (self._second, limits.per_second, 1),
            ]
            if batch:
                self._batch_frame.roll(now, limits.window_seconds)
                self._batch_second.roll(now, 1)
                checks += [
                    (self._batch_frame, limits.batch_per_window, limits.window_seconds),
                    (self._batch_second, limits.batch_per_second, 1),
                ]
            for window, limit, seconds in checks:
                if window.used >= limit:
                    raise self._refusal(window, limit, seconds, now)
            if batch:
                self._batch_frame.used += 1
                self._batch_second.used += 1
        self._frame.used += 1
        self._second.used += 1
        return self.headers(now)

    def headers(self, now: float | None = None) -> dict[str, str]:
        limits = self.limits
        now = self.clock() if now is None else now
        self._frame.roll(now, limits.window_seconds)
        remaining = max(0, limits.per_window - self._frame.used)
        return {
            "X-RateLimit-Limit": str(limits.per_window),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{self._frame.reset_in(now, limits.window_seconds)} seconds",
        }

    def _refusal(self, window: _Window, limit: int, seconds: int, now: float) -> GetResponseError:
        reset = window.reset_in(now, seconds)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{reset} seconds",
        }
        if seconds == 1:
            headers["Retry-After"] = str(reset)
        return GetResponseError(
            1015,
            LIMIT_MESSAGE,
            {"currentLimit": limit, "timeToReset": f"{reset} seconds"},
            headers=headers,
        )

    def too_many(self) -> GetResponseError:
        """The 429 an injected fault answers with: as if the time frame were used up."""
        now = self.clock()
        self._frame.roll(now, self.limits.window_seconds)
        return self._refusal(self._frame, self.limits.per_window, self.limits.window_seconds, now)
