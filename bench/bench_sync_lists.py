"""``reconcile sync lists`` at scale: the user's command (the real CLI, a child process)
against both sandboxes (threads of this process).

1. First sync of one static marketing list of ``--members`` contacts (default 100,000):
   requests per service against the bars (GetResponse ≤ 1 per 500 contacts created,
   Dataverse ≤ 1 per 500 records written), wall time, the CPU of the command next to the
   CPU of the sandboxes serving it (the bar: wall time dominated by the sandboxes), the
   command's own peak RSS (bar ≤ 1 GB) and the machine's load average next to each.
2. A run after ``--lists`` small lists were added (the big list is not read again), then a
   quiet run over all of them (nothing changed): requests against the bar of ≤ 2
   GetResponse + 2 Dataverse per list record plus a constant.
3. ``--profile N``: the command's top N functions (cProfile) of the first sync.

    python bench/bench_sync_lists.py [--members 100000] [--lists 20] [--profile 15]
"""

from __future__ import annotations

import argparse
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cli_child import run_sync


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--lists", type=int, default=20)
    parser.add_argument("--profile", type=int, default=0)
    args = parser.parse_args()

    from tests.jobs.sync import lists_env as le
    from tests.jobs.sync import sync_env

    servers = sync_env.servers()
    env = next(servers)
    for ready in le.fresh(env):
        started = time.perf_counter()
        ids = le.add_contacts(ready, le.people(args.members))
        marketing = le.static_list(ready, "Bench", ids)
        le.list_record(ready, "bench_list", marketing)
        print(f"setup: {args.members:,} contacts on a static list in "
              f"{time.perf_counter() - started:.1f} s ({load()})")  # fmt: skip
        folder = Path(tempfile.mkdtemp(prefix="bench-lists-"))
        state, settings = folder / "state.sqlite3", ready.settings_env("service")
        stats = folder / "profile.stats" if args.profile else None
        first = run_sync("lists", settings, state, profile=stats)
        report = first.report
        gr, dv = report["requests"]["getresponse"], report["requests"]["dataverse"]
        created = report["counts"].get("contacts created in GetResponse", 0)
        written = report["counts"].get("contact records synchronized", 0)
        print(f"first sync: exit {first.exit_code}, {created:,} contacts created, "
              f"{written:,} records written in {first.wall:.1f} s ({load()})")  # fmt: skip
        print(f"  GetResponse {gr} requests: 1 per {created / max(gr, 1):,.0f} contacts "
              f"(bar: ≤ 1 per 500) {'OK' if gr * 500 <= created else 'OVER'}")  # fmt: skip
        print(f"  Dataverse {dv} requests: 1 per {written / max(dv, 1):,.0f} records "
              f"(bar: ≤ 1 per 500) {'OK' if dv * 500 <= written else 'OVER'}")  # fmt: skip
        print(f"  CPU: the command {first.command_cpu:.1f} s, the sandboxes serving it "
              f"{first.sandboxes_cpu:.1f} s; wall {first.wall:.1f} s ({load()})")  # fmt: skip
        print(f"  peak RSS of the command: {first.peak_rss_mb:,} MB (bar: ≤ 1 GB)")
        if stats:
            out = io.StringIO()
            pstats.Stats(str(stats), stream=out).sort_stats("cumulative").print_stats(args.profile)
            print(out.getvalue())
        for n in range(args.lists):
            small = le.add_contacts(ready, le.people(5, start=args.members + 10 * n))
            le.list_record(ready, f"quiet_{n:03d}", le.static_list(ready, f"Q{n}", small))
        added = run_sync("lists", settings, state).report
        print(f"run after {args.lists} small lists were added: "
              f"{added['requests']['getresponse']} GetResponse + "
              f"{added['requests']['dataverse']} Dataverse requests, {added['seconds']:.2f} s, "
              f"{added['counts'].get('contacts created in GetResponse', 0)} contacts created "
              f"({load()})")  # fmt: skip
        quiet = run_sync("lists", settings, state).report
        records = args.lists + 1
        gr, dv = quiet["requests"]["getresponse"], quiet["requests"]["dataverse"]
        print(f"quiet run over {records} list records: {gr} GetResponse + {dv} Dataverse "
              f"requests (bar: ≤ {2 * records} + {2 * records} plus a constant), "
              f"{quiet['seconds']:.2f} s, counts {quiet['counts']} ({load()})")  # fmt: skip


if __name__ == "__main__":
    main()
