"""Run ``reconcile sync JOB`` as the user does — the real CLI in a child process — against
sandboxes that live in the bench's own process, and measure it.

The child's CPU comes from ``getrusage(RUSAGE_CHILDREN)``, the sandboxes' from the bench's
own CPU time over the same interval, and the child's peak RSS from its own ``VmHWM``
(``memtrace``: ``RUSAGE_CHILDREN`` would count the pages of the bench it was forked from).
With ``profile=PATH`` the command runs under cProfile and leaves its stats there.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Run:
    report: dict[str, Any]  # the command's --json output
    exit_code: int
    wall: float
    command_cpu: float
    sandboxes_cpu: float
    peak_rss_mb: int


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_sync(
    job: str,
    settings_env: dict[str, str],
    state: Path,
    *extra: str,
    profile: Path | None = None,
    ok: tuple[int, ...] = (0,),
) -> Run:
    """``reconcile sync JOB --state STATE --json -q EXTRA…`` with the settings in the
    environment (as an admin's service would set them); exits the bench when the command
    ends with a code not in ``ok``."""
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RECONCILE_")},
        **settings_env,
    }
    lines = [f"import sys; sys.path.insert(0, {str(HERE)!r}); import memtrace",
             "from reconcile.cli import main"]  # fmt: skip
    if profile:  # the stats are written however the command exits (click exits by SystemExit)
        lines += ["import cProfile", "profiler = cProfile.Profile()",
                  "try:", "    profiler.runcall(main)",
                  "finally:", f"    profiler.dump_stats({str(profile)!r})"]  # fmt: skip
    else:
        lines.append("main()")
    code = "\n".join(lines)
    command = [sys.executable, "-c", code, "sync", job, "--state", str(state), "--json", "-q",
               *extra]  # fmt: skip
    cpu0, own0, wall0 = _child_cpu(), time.process_time(), time.perf_counter()
    done = subprocess.run(command, env=environ, capture_output=True, check=False)
    wall = time.perf_counter() - wall0
    cpu, own = _child_cpu() - cpu0, time.process_time() - own0
    err = done.stderr.decode()
    if os.environ.get("BENCH_TRACE"):
        print(err[-3000:], file=sys.stderr)
    if done.returncode not in ok:
        sys.exit(f"sync {job} exited {done.returncode}:\n{err[-4000:]}")
    peak = int(err.rsplit("PEAK_RSS_MB ", 1)[1].split()[0])
    return Run(json.loads(done.stdout), done.returncode, wall, cpu, own, peak)
