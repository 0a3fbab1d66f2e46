"""The longer chaos run: the suite's scenario (tests/chaos) over more cycles, more kills and
several trials per state-store backend, each compared with the clean run.

Every trial: both sandboxes failing ``--rate`` of their requests (429, 5xx, connections dropped
before and after the service acts), two ``reconcile run --sandbox-clock`` processes on one
state store SIGKILLed ``--kills`` times at random moments (most inside a job) and restarted,
then SIGTERM. Prints one line per trial (runs, faults, kills, starts, seconds) and whether its
end state equals the clean run's.

    python bench/bench_chaos.py [--trials 3] [--cycles 6] [--kills 12] [--rate 0.1]
        [--backend sqlite|postgresql|both]     (postgresql: TEST_POSTGRESQL_URL, see .ci/postgresql)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--cycles", type=int, default=6)
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--rate", type=float, default=0.10)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()

    from tests.chaos import trial
    from tests.chaos.world import differences, servers
    from tests.state.backends import ENV, postgresql_location

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not os.environ.get(ENV):
        sys.exit(f"set {ENV} for the PostgreSQL trials: export {ENV}=$(bash .ci/postgresql)")
    generator = servers()
    world = next(generator)
    folder = Path(tempfile.mkdtemp(prefix="chaos-"))
    started = time.monotonic()
    reference = trial.clean(world, str(folder / "clean.sqlite3"), args.cycles)
    print(reference.line("clean run"))
    totals = {"trials": 0, "equal": 0, "kills": 0, "in_job": 0, "faults": 0, "runs": 0}
    for backend in backends:
        for number in range(1, args.trials + 1):
            logs = folder / f"{backend}-{number}"
            logs.mkdir()
            seed = number * 7 + len(backend)
            if backend == "sqlite":
                locations = iter([str(logs / "state.sqlite3")])
            else:
                locations = postgresql_location()
            for state in locations:
                outcome = trial.chaotic(
                    world,
                    state,
                    logs,
                    cycles=args.cycles,
                    seed=seed,
                    kills=args.kills,
                    rate=args.rate,
                )
            same = outcome.snapshot == reference.snapshot and not outcome.problems
            clean_exit = outcome.exit_codes == [0, 0]
            print(
                outcome.line(f"{backend} trial {number}")
                + ("  EQUAL" if same else "  DIFFERENT")
                + ("" if clean_exit else f"  exit codes {outcome.exit_codes}")
            )
            if not same:
                print(
                    "\n".join(["  " + d for d in differences(outcome.snapshot, reference.snapshot)])
                )
                print("  problems:", outcome.problems, "logs:", logs)
            totals["trials"] += 1
            totals["equal"] += same and clean_exit
            totals["kills"] += outcome.kills
            totals["in_job"] += outcome.kills_in_job
            totals["faults"] += outcome.faults
            totals["runs"] += outcome.runs
    print(
        f"{totals['equal']} of {totals['trials']} trials ended as the clean run; "
        f"{totals['kills']} SIGKILLs ({totals['in_job']} inside a job), {totals['faults']} "
        f"faults, {totals['runs']} runs, {time.monotonic() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
