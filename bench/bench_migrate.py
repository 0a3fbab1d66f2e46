"""``reconcile migrate`` at scale: 100,000 GetResponse contacts against a CRM of 100,000.

Both sandboxes run in a *separate process* (their own interpreter, so CPU can be attributed):
GetResponse holds two lists (scores, origins, custom fields, three tags, some people on both
lists), Dynamics an overlapping base from the labelled generator, the connector's tables and
a GetResponse List record linked to a static marketing list. This process then runs
``make_plan`` (read both sides, match, write review.xlsx — custom fields and tags sent) and
``apply_plan`` (create the new contacts, upsert every GetResponse Contact record, the custom
field values, the list record, the marketing-list members), and prints:

- requests per service against the bars: GetResponse ≤ 1 per 500 records read, Dataverse
  ≤ 1 per 500 records written;
- wall time, this process's CPU and the sandbox process's CPU per phase;
- a cProfile of this process per phase (``--profile N``: the top N functions), to say where
  the time goes.

    python bench/bench_migrate.py [--rows 100000] [--crm-ratio 1.0] [--profile 15]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def serve(rows: int, ratio: float, seed: int) -> None:
    """Child: seed both sandboxes, serve them, answer "cpu" with its CPU seconds."""
    from reconcile.dataverse import BearerTokenAuth, DataverseClient, install_schema
    from reconcile.jobs.demo_data import (
        LISTS,
        bring_list_over,
        sample,
        seed_crm,
        seed_getresponse,
    )
    from reconcile.sandbox.dataverse import DataverseSandbox, Limits
    from reconcile.sandbox.getresponse import GetResponseSandbox
    from reconcile.sandbox.server import SandboxServer

    started = time.process_time()
    frame, crm = sample(rows, seed, crm_ratio=ratio)
    dv = DataverseSandbox(seed=None, limits=Limits(enabled=False))
    gr = GetResponseSandbox(contact_delay=0, rate_limits={"enabled": False})
    ids = seed_getresponse(gr, frame)
    seed_crm(dv, crm)
    with SandboxServer(dv.asgi_app) as dvs, SandboxServer(gr.asgi_app) as grs:
        info = dv.connection_info(dvs.url)
        with DataverseClient(dvs.url, auth=BearerTokenAuth(info["token"]), timeout=600) as admin:
            install_schema(admin)
            bring_list_over(admin, ids["campaigns"][LISTS[0]], LISTS[0], "Clients FR")
        print(
            json.dumps(
                {
                    "dv_url": dvs.url,
                    "token": info["token"],
                    "gr": gr.connection_info(grs.url),
                    "gr_contacts": len(frame),
                    "crm_contacts": len(crm),
                    "seed_cpu": time.process_time() - started,
                }
            ),
            flush=True,
        )
        for line in sys.stdin:
            if line.strip() == "cpu":
                print(json.dumps({"cpu": time.process_time()}), flush=True)
            else:
                break
    dv.close()


class Server:
    def __init__(self, rows: int, ratio: float, seed: int) -> None:
        command = [sys.executable, __file__, "--serve", str(rows), str(ratio), str(seed)]
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.info = json.loads(self.proc.stdout.readline())

    def cpu(self) -> float:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write("cpu\n")
        self.proc.stdin.flush()
        return float(json.loads(self.proc.stdout.readline())["cpu"])

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def measured(
    server: Server, label: str, top: int, work: Any, sort: str = "tottime"
) -> tuple[Any, dict[str, Any]]:
    profile = cProfile.Profile()
    server_cpu, cpu, wall = server.cpu(), time.process_time(), time.perf_counter()
    profile.enable()
    result = work()
    profile.disable()
    numbers = {
        "phase": label,
        "wall": time.perf_counter() - wall,
        "client_cpu": time.process_time() - cpu,
        "server_cpu": server.cpu() - server_cpu,
    }
    if top:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(sort).print_stats(top)
        numbers["profile"] = out.getvalue()
    return result, numbers


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="GetResponse contacts")
    parser.add_argument("--crm-ratio", type=float, default=1.0, help="CRM contacts per GR one")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--profile", type=int, default=15, help="top functions per phase")
    parser.add_argument(
        "--sort", default="tottime", help="profile order: tottime (own time) or cumulative"
    )
    args = parser.parse_args()

    from reconcile.config import SyncSettings
    from reconcile.dataverse import BearerTokenAuth, DataverseClient
    from reconcile.getresponse import ApiKeyAuth, GetResponseClient
    from reconcile.jobs.migrate import apply_plan, load_plan, make_plan
    from reconcile.state import StateStore

    started = time.perf_counter()
    server = Server(args.rows, args.crm_ratio, args.seed)
    info = server.info
    print(
        f"Sandboxes seeded in {time.perf_counter() - started:.1f} s: "
        f"{info['gr_contacts']:,} GetResponse contacts, {info['crm_contacts']:,} CRM contacts."
    )
    folder = Path(tempfile.mkdtemp(prefix="bench-migrate-"))
    review = folder / "review.xlsx"
    dv = DataverseClient(info["dv_url"], auth=BearerTokenAuth(info["token"]), timeout=600)
    gr = GetResponseClient(ApiKeyAuth(info["gr"]["api_key"]), base_url=info["gr"]["url"])
    sync = SyncSettings(send_custom_fields=True, send_tags=True)
    try:
        summary, planning = measured(
            server,
            "plan",
            args.profile,
            lambda: make_plan(dv, review, gr=gr, sync=sync, accept_above=90),
            args.sort,
        )
        dv_plan = dv.requests_sent
        plan = load_plan(review, allow_duplicates=False)
        with StateStore(folder / "state.sqlite3") as state:
            report, applying = measured(
                server,
                "apply",
                args.profile,
                lambda: apply_plan(dv, plan, workbook=str(review), state=state),
                args.sort,
            )
        dv_apply = dv.requests_sent - dv_plan
    finally:
        server.stop()
        dv.close()
        gr.close()

    counts = report.counts
    read = summary.gr_contacts
    written = (
        counts["contacts_created"]
        + counts["contacts_existed"]
        + counts["linked_existing"]
        + counts["linked_new"]
        + counts["unlinked_written"]
        + counts["custom_field_values"]
        + counts["lists_created"]
        + counts["members_added"]
    )
    gr_requests = summary.requests["getresponse"]
    dv_total = dv_plan + dv_apply
    print(f"\nPlan decisions: {summary.decisions}; accepted above 90: {summary.accepted_above}")
    print(f"Apply counts: { {k: v for k, v in counts.items() if v} }")
    print(f"Exit code of the run: {report.exit_code}")
    print("\n| bar | measured | records | requests | per request |")
    print("|---|---|---|---|---|")
    gr_ok = "ok" if gr_requests * 500 <= read else "MISSED"
    dv_ok = "ok" if dv_total * 500 <= written else "MISSED"
    print(
        f"| GetResponse ≤ 1 request per 500 records read | {gr_ok} | {read:,} read "
        f"| {gr_requests} | {read / max(gr_requests, 1):,.0f} |"
    )
    print(
        f"| Dataverse ≤ 1 request per 500 records written | {dv_ok} | {written:,} written "
        f"| {dv_total} (plan {dv_plan}, apply {dv_apply}) | {written / max(dv_total, 1):,.0f} |"
    )
    print("\n| phase | wall s | this process CPU s | sandbox process CPU s |")
    print("|---|---|---|---|")
    for phase in (planning, applying):
        print(
            f"| {phase['phase']} | {phase['wall']:.1f} | {phase['client_cpu']:.1f} "
            f"| {phase['server_cpu']:.1f} |"
        )
    for phase in (planning, applying):
        if "profile" in phase:
            print(f"\n--- profile of this process, {phase['phase']} (by {args.sort}) ---")
            print(phase["profile"])
    print(f"Files: {folder}")


if __name__ == "__main__":
    main()
