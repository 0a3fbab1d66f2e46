"""What a waiting ``reconcile run`` costs: CPU seconds and resident memory of the runner process
while nothing is due, next to a baseline started the same way in the same run (a Python
process that imports the same CLI and sleeps).

Both sandboxes run in threads of this process; the runner is a real ``reconcile run`` process
pointed at them with every cadence at ``1h``: it runs each job once, then waits — waking once a
minute to look at the state store. The numbers read from /proc over ``--seconds`` of waiting:
CPU (user + system) of the process, and its RSS now and at its peak (VmHWM).

    python bench/bench_runner_idle.py [--seconds 120]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def memory_mb(pid: int) -> tuple[float, float]:
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return (int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024)


def measure(proc: subprocess.Popen[str], seconds: float) -> dict[str, float]:
    cpu0 = cpu_seconds(proc.pid)
    time.sleep(seconds)
    rss, peak = memory_mb(proc.pid)
    return {"cpu": cpu_seconds(proc.pid) - cpu0, "rss": rss, "peak": peak}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args()

    from tests.jobs.sync import sync_env

    servers = sync_env.servers()  # kept: the servers stop when it is collected
    env = next(servers)
    for ready in sync_env.fresh(env):
        ready.gr.seed({"campaigns": [{"name": "clients_fr"}]})
        ready.gr.seed(
            {
                "newsletters": [
                    {
                        "name": "MS CRM Welcome",
                        "type": "draft",
                        "campaign": "clients_fr",
                        "subject": "Hi",
                    }
                ]
            }
        )
        folder = Path(tempfile.mkdtemp())
        child_env = {
            **os.environ,
            **ready.settings_env("service"),
            "RECONCILE_STATE": str(folder / "state.sqlite3"),
            **{
                f"RECONCILE_SCHEDULE_{job.upper()}": "1h"
                for job in ("lists", "contacts", "activities", "templates", "newsletters")
            },
        }
        runner = subprocess.Popen(
            [sys.executable, "-c", "from reconcile.cli import main; main()", "run", "-q"],
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        baseline = subprocess.Popen(
            [sys.executable, "-c", "import reconcile.cli, time; time.sleep(100000)"],
            stdout=subprocess.DEVNULL,
        )
        try:
            assert runner.stdout is not None
            for line in runner.stdout:  # the first round: every job once
                print("runner:", line.rstrip())
                if "newsletters:" in line and " in " in line:
                    break
            time.sleep(2)
            print(f"measuring {args.seconds:.0f} s of waiting …")
            idle = measure(runner, args.seconds)
            base = measure(baseline, 1.0)
        finally:
            for proc in (runner, baseline):
                proc.terminate()
                proc.wait(timeout=60)
        print(f"{'process':<34}{'CPU s':>8}{'CPU %':>8}{'RSS MB':>9}{'peak MB':>9}")
        print(
            f"{'reconcile run, waiting':<34}{idle['cpu']:>8.2f}"
            f"{100 * idle['cpu'] / args.seconds:>8.2f}{idle['rss']:>9.1f}{idle['peak']:>9.1f}"
        )
        print(
            f"{'baseline: import reconcile.cli':<34}{'':>8}{'':>8}{base['rss']:>9.1f}"
            f"{base['peak']:>9.1f}"
        )
        verdict = "within" if idle["peak"] <= 150 else "OVER"
        print(
            f"peak RSS {idle['peak']:.1f} MB: {verdict} the 150 MB bar; CPU while waiting "
            f"{idle['cpu']:.2f} s over {args.seconds:.0f} s"
        )


if __name__ == "__main__":
    main()
