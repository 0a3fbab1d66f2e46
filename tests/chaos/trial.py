"""One chaos trial, and the clean run it is compared with.

A **clean** trial runs the scenario (``steps.py``) with one in-process runner, no faults: seed,
a first round (every job once), then for each cycle the steps' changes, an hour on the sandbox
clock and a round (every job due again), then two settling hours.

A **chaotic** trial runs the same scenario with real ``reconcile run --sandbox-clock``
processes — two at once on one state store (a SQLite file, or a PostgreSQL database) — while
both sandboxes fail ``rate`` of their requests (429, 5xx, dropped before or after the service
acts) and a killer SIGKILLs a runner at random moments (often while it is in a job) and starts
it again. A round ends when every registered job has started since the clock moved and no
lease is held. Then faults stop, two settling hours pass, the runners get SIGTERM (they must
exit 0), and the end state of both sandboxes is taken.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconcile.jobs.due import runner_lease, schedule_key
from reconcile.jobs.sync import jobs, lease_name
from reconcile.state import StateStore
from tests.chaos.steps import steps_for
from tests.chaos.world import World, snapshot

ROUND_TIMEOUT = 150.0  # wall seconds a round may take before the trial gives up
MAX_TICKS = 6  # clock moves within a round (to a failed job's next slot)
TICK_LIMIT = 300.0  # … of at most this long (the 1- and 5-minute jobs; hourly ones wait)


@dataclass
class Outcome:
    snapshot: dict[str, Any]
    problems: list[str]  # invariants the steps check (no newsletter sent twice …)
    jobs: list[str]
    without_step: list[str]
    kills: int = 0
    kills_in_job: int = 0
    starts: int = 0
    faults: int = 0
    runs: int = 0
    seconds: float = 0.0
    exit_codes: list[int] = field(default_factory=list)
    ticks: int = 0  # extra clock moves for runs that faults cut short

    def line(self, name: str) -> str:
        return (
            f"{name}: {len(self.jobs)} jobs ({', '.join(self.jobs)}), {self.runs} runs, "
            f"{self.faults} faults injected, {self.kills} SIGKILLs ({self.kills_in_job} "
            f"inside a job), {self.starts} runner starts, {self.ticks} extra clock moves, "
            f"{self.seconds:.0f} s"
        )


class WorldClock:
    """The sandbox clock, read in-process (the clean trial's runner)."""

    def __init__(self, world: World) -> None:
        self.world = world

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.world.now(), UTC)

    def sleep(self, seconds: float, stop: Any) -> bool:
        return bool(stop.requested)


class Quiet:
    def event(self, kind: str, text: str, **fields: Any) -> None:
        pass


def _finish(world: World, outcome: Outcome, names: list[str]) -> Outcome:
    steps, _ = steps_for(names)
    outcome.snapshot = snapshot(world)
    outcome.problems = [p for step in steps for p in step.check(world)]
    return outcome


def clean(world: World, state: str, cycles: int) -> Outcome:
    from reconcile.config import load_settings
    from reconcile.jobs.runner import Runner
    from reconcile.jobs.sync import open_context
    from reconcile.schedule import parse_cadence

    started = time.monotonic()
    names = list(jobs())
    steps, without = steps_for(names)
    world.reset()
    for step in steps:
        step.seed(world)
    settings = load_settings(env=world.settings_env(state), secret_lookup=None)
    cadences = {n: parse_cadence(getattr(settings.schedule, n, "1h")) for n in names}
    runs = 0
    with open_context(settings, state_path=state) as ctx:
        runner = Runner(ctx, jobs(), cadences, log=Quiet(), clock=WorldClock(world))
        runs += len(runner.once())
        for cycle in range(1, cycles + 1):
            for step in steps:
                step.change(world, cycle)
            world.next_hour()
            runs += len(runner.once())
        for _ in range(2):
            world.next_hour()
            runs += len(runner.once())
    outcome = Outcome({}, [], names, without, runs=runs)
    outcome.seconds = time.monotonic() - started
    return _finish(world, outcome, names)


class Fleet:
    """``count`` runner processes, each started again after it is killed."""

    def __init__(self, env: dict[str, str], count: int, logs: Path) -> None:
        self.env = {**os.environ, **env}
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * count
        self.starts = 0
        self.lock = threading.Lock()

    def start(self, slot: int) -> None:
        self.starts += 1
        log = (self.logs / f"runner-{slot}-{self.starts}.log").open("wb")
        self.procs[slot] = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from reconcile.cli import main; main()",
                "run",
                "--sandbox-clock",
                "--log-format",
                "json",
                "-q",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def start_all(self) -> None:
        for slot in range(len(self.procs)):
            self.start(slot)

    def kill(self, slot: int) -> None:
        with self.lock:
            proc = self.procs[slot]
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
            self.start(slot)

    def revive(self) -> None:
        """A runner that exited on its own (it must not) is started again, and noted."""
        with self.lock:
            for slot, proc in enumerate(self.procs):
                if proc is not None and proc.poll() is not None:
                    raise AssertionError(
                        f"runner {slot} exited by itself with {proc.returncode}: " + self.tail(slot)
                    )

    def stop(self) -> list[int]:
        codes = []
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            if proc is not None:
                try:
                    codes.append(proc.wait(timeout=120))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    codes.append(-9)
        return codes

    def tail(self, slot: int, lines: int = 15) -> str:
        logs = sorted(self.logs.glob(f"runner-{slot}-*.log"), key=lambda p: p.stat().st_mtime)
        return "\n".join(logs[-1].read_text(errors="replace").splitlines()[-lines:]) if logs else ""


class Killer(threading.Thread):
    """SIGKILLs a random runner at random moments — most often while it holds the lease of
    the environment (inside a job) — until ``limit`` kills or :meth:`halt`."""

    def __init__(self, fleet: Fleet, state: str, world: World, seed: int, limit: int) -> None:
        super().__init__(daemon=True)
        import random

        self.fleet, self.state, self.world = fleet, state, world
        self.rng, self.limit = random.Random(seed), limit
        self.kills = self.kills_in_job = 0
        self._halt = threading.Event()

    def halt(self) -> None:
        self._halt.set()
        self.join()

    def _holder_pid(self, store: StateStore) -> int | None:
        held = store.lease_holder(runner_lease(self.world.environment))
        return int(held[0].split(":")[1]) if held else None

    def run(self) -> None:
        with StateStore(self.state) as store:
            while self.kills < self.limit and not self._halt.wait(self.rng.uniform(0.5, 3.0)):
                slot = self.rng.randrange(len(self.fleet.procs))
                if self.rng.random() < 0.7:  # wait (a little) for one to be inside a job
                    deadline = time.monotonic() + 6.0
                    while time.monotonic() < deadline:
                        holder = self._holder_pid(store)
                        pids = [p.pid if p else None for p in self.fleet.procs]
                        if holder in pids:
                            slot = pids.index(holder)
                            break
                        if self._halt.wait(0.01):
                            return
                    time.sleep(self.rng.uniform(0.0, 0.05))
                proc = self.fleet.procs[slot]
                inside = proc is not None and self._holder_pid(store) == proc.pid
                self.fleet.kill(slot)
                self.kills += 1
                self.kills_in_job += inside


def _round(
    world: World,
    state: str,
    names: list[str],
    since: str,
    fleet: Fleet,
    cadences: dict[str, Any],
    *,
    strict: bool = False,
) -> int:
    """Until every job has completed a run since ``since`` and no lease is held. A job whose
    run was cut short by a fault waits for its next slot: when the runners are idle, the clock
    is moved to the soonest such slot (a "tick"). ``strict``: fail if it cannot finish (the
    settling rounds, without faults); else give up after ``MAX_TICKS`` (the next cycle's hour
    makes it due again). Returns the ticks."""
    from reconcile.jobs.due import next_due

    env = world.environment
    deadline = time.monotonic() + ROUND_TIMEOUT
    ticks, idle_since = 0, None
    with StateStore(state) as store:
        while True:
            fleet.revive()
            started, unfinished = [], []
            busy = store.lease_holder(runner_lease(env)) is not None
            for name in names:
                mark = store.watermark(schedule_key(name, env)) or ""
                busy = busy or store.lease_holder(lease_name(name, env)) is not None
                last = next(iter(store.runs(f"sync:{name}", env, limit=1)), None)
                if mark < since:
                    started.append(name)
                elif last is None or last.status != "finished":
                    unfinished.append(name)
            if not busy and not started and not unfinished:
                return ticks
            now = time.monotonic()
            idle_since = (idle_since or now) if not busy and not started else None
            if idle_since is not None and now - idle_since > 1.5:
                clock = datetime.fromtimestamp(world.now(), UTC)
                dues = [next_due(store, n, env, cadences[n], clock) for n in unfinished]
                later = [d.at for d in dues if d.at > clock and d.held_by is None]
                soon = [at for at in later if (at - clock).total_seconds() <= TICK_LIMIT]
                if not soon and len(later) == len(dues) and not strict:
                    return ticks  # an hourly job cut short: the next cycle's hour runs it
                if soon and len(later) == len(dues):  # nothing runnable now: move the clock
                    if ticks >= MAX_TICKS and not strict:
                        return ticks
                    world.advance((min(soon) - clock).total_seconds() + 1)
                    ticks, idle_since = ticks + 1, None
            if now > deadline:
                tails = "\n".join(fleet.tail(s) for s in range(len(fleet.procs)))
                raise AssertionError(
                    f"round since {since}: not started {started}, not finished {unfinished}"
                    f"\n{tails}"
                )
            time.sleep(0.3)


def _cadences(world: World, state: str, names: list[str]) -> dict[str, Any]:
    from reconcile.config import load_settings
    from reconcile.schedule import parse_cadence

    settings = load_settings(env=world.settings_env(state), secret_lookup=None)
    return {n: parse_cadence(getattr(settings.schedule, n, "1h")) for n in names}


def _iso(world: World) -> str:
    moment = datetime.fromtimestamp(world.now(), UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def chaotic(
    world: World,
    state: str,
    logs: Path,
    *,
    cycles: int,
    runners: int = 2,
    rate: float = 0.10,
    seed: int = 1,
    kills: int = 6,
) -> Outcome:
    started = time.monotonic()
    names = list(jobs())
    steps, without = steps_for(names)
    world.reset()
    for step in steps:
        step.seed(world)
    fleet = Fleet(world.settings_env(state), runners, logs)
    cadences = _cadences(world, state, names)
    world.faults(rate, seed)
    since = _iso(world)
    fleet.start_all()
    killer = Killer(fleet, state, world, seed, kills)
    try:
        StateStore(state).close()  # the store exists before the killer reads it
        killer.start()
        ticks = _round(world, state, names, since, fleet, cadences)
        for cycle in range(1, cycles + 1):
            world.calm()  # the scenario's own changes are made without faults …
            for step in steps:
                step.change(world, cycle)
            world.faults(rate, seed * 100 + cycle)  # … and the runners meet them again
            world.next_hour()
            since = _iso(world)
            ticks += _round(world, state, names, since, fleet, cadences)
        killer.halt()
        world.calm()
        faults = world.fired
        for _ in range(2):
            world.next_hour()
            since = _iso(world)
            ticks += _round(world, state, names, since, fleet, cadences, strict=True)
    finally:
        killer.halt() if killer.is_alive() else None
        codes = fleet.stop()
    with StateStore(state) as store:
        runs = len(store.runs(limit=100_000))
    outcome = Outcome(
        {},
        [],
        names,
        without,
        kills=killer.kills,
        kills_in_job=killer.kills_in_job,
        starts=fleet.starts,
        faults=faults,
        runs=runs,
        exit_codes=codes,
    )
    outcome.seconds = time.monotonic() - started
    (logs / "outcome.json").write_text(json.dumps({"line": outcome.line("trial")}))
    return _finish(world, outcome, names)
