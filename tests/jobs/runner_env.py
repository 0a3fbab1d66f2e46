"""Small stand-ins for the runner tests: jobs that write into a list (and can take long, fail,
be blocked or stopped), fake clients that count requests, a clock the test moves, and a log
that keeps what the runner said. The state store and the runner are real."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from reconcile.getresponse.errors import AccessDenied
from reconcile.jobs.sync import Journal, Param, Plan, Report, SyncContext
from reconcile.jobs.sync.context import StopSignal
from reconcile.schedule import parse_cadence
from reconcile.state import StateStore

ENV = "https://crm.example|https://api.getresponse.com/v3"
T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@dataclass
class Counter:
    requests: int = 0


@dataclass
class FakeGetResponse:
    stats: Counter = field(default_factory=Counter)


@dataclass
class FakeDataverse:
    requests_sent: int = 0


class FakeClock:
    """Time moves only when the test (or a job, or the runner's sleep) moves it."""

    def __init__(self, start: datetime = T0) -> None:
        self.t = start
        self.slept: list[float] = []
        self.stop_after_sleeps: int | None = None
        self.stop: StopSignal | None = None

    def now(self) -> datetime:
        return self.t

    def advance(self, **delta: float) -> None:
        self.t += timedelta(**delta)

    def sleep(self, seconds: float, stop: StopSignal) -> bool:
        self.slept.append(seconds)
        self.t += timedelta(seconds=seconds)
        if self.stop_after_sleeps is not None and len(self.slept) >= self.stop_after_sleeps:
            stop.request()
        return stop.requested


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, Any]]] = []

    def event(self, kind: str, text: str, **fields: Any) -> None:
        self.seen.append((kind, text, fields))

    def kinds(self) -> list[str]:
        return [k for k, _, _ in self.seen]

    def texts(self, kind: str) -> list[str]:
        return [t for k, t, _ in self.seen if k == kind]


class FakeJob:
    """Writes one item per run into ``ran`` (as (job, time)); can take ``takes`` of the fake
    clock, fail a record, be blocked (GetResponse 1016) or ask for a stop midway."""

    spec: ClassVar[str] = "SPEC 0"
    summary: ClassVar[str] = "a job for the tests"
    help: ClassVar[str] = "a job for the tests"
    params: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, name: str, ran: list[tuple[str, datetime]], clock: FakeClock) -> None:
        self.name = name  # type: ignore[misc]
        self.ran, self.clock = ran, clock
        self.takes = timedelta(0)
        self.fail_record = False
        self.blocked_code: int | None = None
        self.stop: StopSignal | None = None

    def plan(self, ctx: SyncContext, journal: Journal) -> Plan:
        plan = Plan(self.name, ctx.environment)
        plan.add("write", "item", "always")
        return plan

    def apply(self, plan: Plan, ctx: SyncContext, journal: Journal, report: Report) -> None:
        ctx.checkpoint()
        if self.blocked_code is not None:
            raise AccessDenied(
                "GetResponse refused GET /campaigns: temporary block [HTTP 403, code 1016]",
                http_status=403,
                code=self.blocked_code,
            )
        self.ran.append((self.name, ctx.now()))
        self.clock.t += self.takes
        ctx.gr.stats.requests += 1
        if self.stop is not None:
            self.stop.request()
            ctx.checkpoint()
        if self.fail_record:
            report.fail("contact anna@example.com", "refused by the service", "fix the email")
        report.add("items written")


def context(path: Path | str, clock: FakeClock, **kwargs: Any) -> SyncContext:
    return SyncContext(
        dv=FakeDataverse(),  # type: ignore[arg-type]
        gr=FakeGetResponse(),  # type: ignore[arg-type]
        state=StateStore(path),
        environment=ENV,
        now=clock.now,
        **kwargs,
    )


def cadences(**texts: str) -> dict[str, Any]:
    return {name: parse_cadence(text) for name, text in texts.items()}
