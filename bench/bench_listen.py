"""``reconcile listen`` under the issue's bar: 10,000 opens and clicks posted at once by the
GetResponse sandbox as webhooks, the receiver (the real CLI) killed with SIGKILL part-way and
started again while GetResponse retries what was not acknowledged. It runs the suite's test
(``tests/jobs/sync/test_listen_kill.py``, which asserts: every event exactly once in the CRM,
nothing acknowledged lost, the hourly run then writes nothing) at full size and prints its
numbers, with the CPU of everything it started and the machine's load.

    python bench/bench_listen.py [--events 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    report = Path(tempfile.mkdtemp()) / "listen.json"
    environ = {**os.environ, "RECONCILE_LISTEN_EVENTS": str(args.events),
               "RECONCILE_LISTEN_REPORT": str(report)}  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/jobs/sync/test_listen_kill.py"],
        cwd=ROOT, env=environ, capture_output=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(done.stdout.decode()[-5000:])
    out = json.loads(report.read_text())
    out.update(
        test_wall_s=round(wall, 1),
        cpu_s_of_everything=round(usage.ru_utime + usage.ru_stime, 1),
        load_average=os.getloadavg(),
    )
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
