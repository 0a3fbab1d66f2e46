from __future__ import annotations

import pytest

from reconcile.throttle import Throttle


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_never_more_than_rate_starts_in_any_window() -> None:
    clock = FakeClock()
    throttle = Throttle(rate=80, per=1.0, concurrency=10, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(400):
        with throttle.slot():
            starts.append(clock.now)
    for i in range(len(starts) - 80):
        assert starts[i + 80] - starts[i] >= 1.0
    assert clock.now == pytest.approx(4.0, abs=0.01)


def test_pause_holds_every_request() -> None:
    clock = FakeClock()
    throttle = Throttle(rate=80, clock=clock, sleep=clock.sleep)
    throttle.pause_for(100)
    with throttle.slot():
        assert clock.now >= 100


def test_rejects_nonsense_limits() -> None:
    with pytest.raises(ValueError, match="rate"):
        Throttle(rate=0)
