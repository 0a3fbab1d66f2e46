"""``reconcile sync activities`` on one window of ``--activities`` activities (default
1,000,000), the user's command (the real CLI, a child process) against both sandboxes
(threads of this process), next to a baseline in the same run.

1. First run: every activity of the window becomes a record, from a custom report (several
   files). Bars: GetResponse requests a small constant, Dataverse requests ≤ 1 per 500 records
   written, peak RSS of the command ≤ 1 GB, wall dominated by the sandboxes (CPU of the
   command vs CPU of the sandboxes).
2. The same window again (``--since``): 0 writes; its requests.
3. Baseline: the same window read through the deprecated per-message endpoint
   (``GET /newsletters/{id}/activities``, 1,000 a page) — what a job without custom reports
   would pay in GetResponse requests, reading only.

    python bench/bench_sync_activities.py [--activities 1000000] [--no-baseline]

Prints one JSON object at the end (numbers for docs/sync.md and the closing note).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cli_child import run_sync


def run_cli(env: Any, state: Path, *extra: str) -> tuple[dict[str, Any], float, float, float, int]:
    """(report, wall s, command CPU s, sandboxes CPU s, command peak RSS MB)."""
    settings = {**env.settings_env("service"), "RECONCILE_ACTIVITIES_SOURCE": "report"}
    run = run_sync("activities", settings, state, *extra)
    return run.report, run.wall, run.command_cpu, run.sandboxes_cpu, run.peak_rss_mb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--newsletters", type=int, default=4)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    from reconcile.dataverse import install_roles, install_schema
    from reconcile.dataverse.roles import SERVICE_USER
    from reconcile.getresponse.newsletters import iter_newsletter_activities
    from reconcile.sandbox.dataverse import DataverseSandbox
    from reconcile.sandbox.getresponse import GetResponseSandbox
    from reconcile.sandbox.server import SandboxServer
    from tests.jobs.migrate_env import Env
    from tests.jobs.sync import activities_env as ae

    folder = Path(tempfile.mkdtemp(prefix="bench-activities-"))
    dv = DataverseSandbox(database=str(folder / "dv.sqlite3"), seed=None)
    gr = GetResponseSandbox(database=str(folder / "gr.sqlite3"), contact_delay=0)
    out: dict[str, Any] = {"target_activities": args.activities}
    with SandboxServer(dv.asgi_app) as dvs, SandboxServer(gr.asgi_app) as grs:
        env = Env(dv, gr, dvs.url, grs.url)
        admin = env.dataverse()
        install_schema(admin)
        install_roles(admin)
        dv.load({"identity_roles": {"service": [SERVICE_USER.name]}})
        gr.reports.rules.update({"pending_seconds": 0, "generation_seconds": 5,
                                 "file_rows": 250_000})  # fmt: skip
        per_contact = args.newsletters * 1.33  # a send each, a quarter open, a third of those click
        started = time.perf_counter()
        volume = ae.seed_volume(
            env, contacts=int(args.activities / per_contact), newsletters=args.newsletters
        )
        out["setup_seconds"] = round(time.perf_counter() - started, 1)
        out["activities_in_window"] = volume.activities
        out["synchronized_contacts"] = volume.synced
        print(f"setup: {volume.activities:,} activities of {volume.synced:,} contacts, "
              f"{out['setup_seconds']} s", file=sys.stderr)  # fmt: skip
        state = folder / "state.sqlite3"
        report, wall, cpu, sandboxes, peak = run_cli(env, state)
        written = report["counts"].get("activities added or counted", 0)
        out["first_run"] = {
            "written": written, "requests": report["requests"], "wall_s": round(wall, 1),
            "command_cpu_s": round(cpu, 1), "sandboxes_cpu_s": round(sandboxes, 1),
            "command_peak_rss_mb": round(peak),
            "dataverse_requests_per_500_records": round(
                report["requests"]["dataverse"] / max(written, 1) * 500, 2),
            "notes": report["notes"],
        }  # fmt: skip
        print(json.dumps(out["first_run"], indent=1), file=sys.stderr)
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=5)).strftime("%Y-%m-%d")
        again, wall, cpu, sandboxes, peak = run_cli(env, state, "--since", since)
        out["same_window_again"] = {
            "writes": sum(again["counts"].values()), "counts": again["counts"],
            "requests": again["requests"], "wall_s": round(wall, 1),
            "command_cpu_s": round(cpu, 1), "sandboxes_cpu_s": round(sandboxes, 1),
            "command_peak_rss_mb": peak,
        }  # fmt: skip
        print(json.dumps(out["same_window_again"], indent=1), file=sys.stderr)
        if not args.no_baseline:
            client = env.getresponse()
            low = dt.datetime.now(dt.UTC) - dt.timedelta(days=5)
            before, wall0 = client.stats.requests, time.perf_counter()
            rows = sum(
                1
                for m in volume.newsletters.values()
                for _ in iter_newsletter_activities(client, m, since=low)
            )
            out["baseline_per_message_endpoint"] = {
                "activities_read": rows, "getresponse_requests": client.stats.requests - before,
                "wall_s": round(time.perf_counter() - wall0, 1),
            }  # fmt: skip
        out["load_average"] = os.getloadavg()
        for client in env.clients:
            client.close()
    dv.close()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
