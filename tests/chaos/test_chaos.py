"""The chaos test (issue 11, SPEC 9): every registered sync job over several cadence cycles on
the sandbox clock, both sandboxes failing 10 % of their requests (429, 5xx, connections dropped
before and after the service acts), two ``reconcile run`` processes at once on one state store
— a SQLite file, then a PostgreSQL database — SIGKILLed at random moments and started again.
The end state of both sandboxes must equal that of one clean run: nothing duplicated, nothing
lost, no newsletter sent twice. ``bench/bench_chaos.py`` runs longer trials."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos import trial
from tests.chaos.world import World, differences, servers
from tests.state.backends import postgresql_location

CYCLES = 3


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    yield from servers()


@pytest.fixture(scope="module")
def reference(world: World, tmp_path_factory: pytest.TempPathFactory) -> trial.Outcome:
    folder = tmp_path_factory.mktemp("clean")
    outcome = trial.clean(world, str(folder / "state.sqlite3"), CYCLES)
    assert outcome.problems == []
    return outcome


def check(outcome: trial.Outcome, reference: trial.Outcome, name: str) -> None:
    print(outcome.line(name))
    if outcome.without_step:
        print(
            f"no scenario step yet for {outcome.without_step}: they ran without one "
            "(add one in tests/chaos/steps.py)"
        )
    assert outcome.exit_codes == [0, 0]  # SIGTERM: the current chunk, then exit 0
    assert outcome.kills >= 3
    # faults were met (how many depends on how many requests the killed runs made before
    # their kill: 10 % of them, at least 10 in every trial seen, 10 at a load average of 11)
    assert outcome.faults >= 5
    assert outcome.problems == []
    assert outcome.snapshot == reference.snapshot, "\n".join(
        differences(outcome.snapshot, reference.snapshot)
    )


def test_the_clean_run_is_the_same_twice(
    world: World, reference: trial.Outcome, tmp_path: Path
) -> None:
    """The comparison means something: a second clean run leaves the same state, and the
    scenario gave every job something to do."""
    again = trial.clean(world, str(tmp_path / "state.sqlite3"), CYCLES)
    assert again.snapshot == reference.snapshot, "\n".join(
        differences(again.snapshot, reference.snapshot)
    )
    gr = reference.snapshot["getresponse"]
    assert any('"clients_fr"' in row for row, _ in gr["contacts"])
    assert any("send" in row for row, _ in gr["activities"])  # a newsletter went out
    assert reference.snapshot["grc_getresponsetemplates"]


@pytest.mark.slow
def test_two_runners_on_one_sqlite_file_killed_at_random(
    world: World, reference: trial.Outcome, tmp_path: Path
) -> None:
    outcome = trial.chaotic(
        world, str(tmp_path / "state.sqlite3"), tmp_path, cycles=CYCLES, seed=3, kills=5
    )
    check(outcome, reference, "sqlite")


@pytest.mark.slow
def test_two_runner_processes_on_postgresql_killed_at_random(
    world: World, reference: trial.Outcome, tmp_path: Path
) -> None:
    for url in postgresql_location():
        outcome = trial.chaotic(world, url, tmp_path, cycles=CYCLES, seed=4, kills=5)
        check(outcome, reference, "postgresql")
