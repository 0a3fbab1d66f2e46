"""Client-side pacing: stay under a service's request rate and concurrency limits.

Why client-side: being told "429, wait 100 seconds" costs far more than spacing requests a
few milliseconds apart. Both clients wrap each request in :meth:`Throttle.slot`; the clock
and sleep are injectable so that tests never wait.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Throttle:
    """At most ``rate`` request starts per ``per`` seconds, and ``concurrency`` in flight."""

    def __init__(
        self,
        rate: int,
        per: float = 1.0,
        concurrency: int = 10,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate < 1 or concurrency < 1 or per <= 0:
            raise ValueError("rate and concurrency must be >= 1 and per > 0")
        self.rate = rate
        self.per = per
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()
        self._in_flight = threading.BoundedSemaphore(concurrency)
        self._paused_until = 0.0

    def pause_until(self, when: float) -> None:
        """Hold every new request until ``when`` (clock time), e.g. after a quota 429."""
        with self._lock:
            self._paused_until = max(self._paused_until, when)

    def pause_for(self, seconds: float) -> None:
        self.pause_until(self._clock() + seconds)

    def _wait_for_turn(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                while self._starts and self._starts[0] <= now - self.per:
                    self._starts.popleft()
                wait = self._paused_until - now
                if wait <= 0 and len(self._starts) < self.rate:
                    self._starts.append(now)
                    return
                if wait <= 0:
                    wait = self._starts[0] + self.per - now
            self._sleep(max(wait, 0.0005))

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Block until a request may start; hold a concurrency slot while it runs."""
        with self._in_flight:
            self._wait_for_turn()
            yield


class VirtualClock:
    """When a caller (a test) injects ``sleep`` alone, time must still move for the throttle
    and for polling deadlines: this clock is the monotonic clock plus everything slept so far.
    Without it, a no-op sleep and a real clock make a ten-minute pause spin for ten minutes."""

    def __init__(self, sleep: Callable[[float], None]) -> None:
        self._inner = sleep
        self._offset = 0.0
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._offset += max(seconds, 0.0)
        self._inner(seconds)

    def now(self) -> float:
        return time.monotonic() + self._offset
