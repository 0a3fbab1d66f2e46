"""``reconcile sync lists`` at scale, against both sandboxes (threads of this process).

1. First sync of one static marketing list of ``--members`` contacts (default 100,000):
   requests per service against the bars (GetResponse ≤ 1 per 500 contacts created,
   Dataverse ≤ 1 per 500 records written), wall time, CPU of each thread of the process —
   the job (this thread), the Dataverse sandbox, the GetResponse sandbox (their server
   threads; read from /proc, so exact, no profiler) — peak RSS of the whole process (an
   upper bound for the job) and before the job, and the machine's load average next to each.
2. A run after ``--lists`` small lists were added (the big list is not read again), then a
   quiet run over all of them (nothing changed): requests against the bar of ≤ 2
   GetResponse + 2 Dataverse per list record plus a constant.
3. ``--profile N``: the job's top N functions (cProfile) of the first sync.

    python bench/bench_sync_lists.py [--members 100000] [--lists 20] [--profile 15]

Where the wall time goes (every thread, waiting included):
``py-spy record --idle --threads --format raw -o spy.txt -- python bench/bench_sync_lists.py``
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of each live thread of this process, by thread name."""
    tick = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name for t in threading.enumerate()}
    found: dict[str, float] = {}
    for tid, name in names.items():
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[name] = (int(fields[11]) + int(fields[12])) / tick
    return found


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--lists", type=int, default=20)
    parser.add_argument("--profile", type=int, default=0)
    args = parser.parse_args()

    from reconcile.jobs.sync import jobs, run_job
    from tests.jobs.sync import lists_env as le
    from tests.jobs.sync import sync_env
    from tests.jobs.sync.sync_env import Contexts

    job = jobs()["lists"]
    servers = sync_env.servers()
    env = next(servers)
    ports = {env.dv_url.rsplit(":", 1)[1]: "Dataverse sandbox",
             env.gr_url.rsplit(":", 1)[1]: "GetResponse sandbox"}  # fmt: skip
    for ready in le.fresh(env):
        started = time.perf_counter()
        ids = le.add_contacts(ready, le.people(args.members))
        marketing = le.static_list(ready, "Bench", ids)
        le.list_record(ready, "bench_list", marketing)
        print(f"setup: {args.members:,} contacts on a static list in "
              f"{time.perf_counter() - started:.1f} s ({load()})")  # fmt: skip
        state = Contexts(ready, Path(tempfile.mkdtemp()) / "state.sqlite3")
        profiler = cProfile.Profile() if args.profile else None
        rss_before = rss_mb()
        threads0 = thread_cpu()
        cpu0, thread0, wall0 = time.process_time(), time.thread_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        report = run_job(job, state())
        if profiler:
            profiler.disable()
        wall = time.perf_counter() - wall0
        job_cpu = time.thread_time() - thread0
        process_cpu = time.process_time() - cpu0
        threads = {n: v - threads0.get(n, 0.0) for n, v in thread_cpu().items()}
        gr, dv = report.requests["getresponse"], report.requests["dataverse"]
        created = report.counts.get("contacts created in GetResponse", 0)
        written = report.counts.get("contact records synchronized", 0)
        print(f"first sync: exit {report.exit_code}, {created:,} contacts created, "
              f"{written:,} records written in {wall:.1f} s ({load()})")  # fmt: skip
        print(f"  GetResponse {gr} requests: 1 per {created / max(gr, 1):,.0f} contacts "
              f"(bar: ≤ 1 per 500) {'OK' if gr * 500 <= created else 'OVER'}")  # fmt: skip
        print(f"  Dataverse {dv} requests: 1 per {written / max(dv, 1):,.0f} records "
              f"(bar: ≤ 1 per 500) {'OK' if dv * 500 <= written else 'OVER'}")  # fmt: skip
        split = ", ".join(f"{ports.get(n.rsplit(':', 1)[-1], n)} {v:.1f} s"
                          for n, v in sorted(threads.items())
                          if n != "MainThread" and v >= 0.05)  # fmt: skip
        print(f"  CPU: job {job_cpu:.1f} s, {split}; whole process {process_cpu:.1f} s; "
              f"wall {wall:.1f} s ({load()})")  # fmt: skip
        print(f"  peak RSS of the process (job + both sandboxes): {rss_mb():,.0f} MB "
              f"(bar: ≤ 1 GB); {rss_before:,.0f} MB before the job")  # fmt: skip
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.profile)
            print(out.getvalue())
        for n in range(args.lists):
            small = le.add_contacts(ready, le.people(5, start=args.members + 10 * n))
            le.list_record(ready, f"quiet_{n:03d}", le.static_list(ready, f"Q{n}", small))
        added = run_job(job, state())
        print(f"run after {args.lists} small lists were added: "
              f"{added.requests['getresponse']} GetResponse + {added.requests['dataverse']} "
              f"Dataverse requests, {added.seconds:.2f} s, "
              f"{added.counts.get('contacts created in GetResponse', 0)} contacts created "
              f"({load()})")  # fmt: skip
        quiet = run_job(job, state())
        records = args.lists + 1
        gr, dv = quiet.requests["getresponse"], quiet.requests["dataverse"]
        print(f"quiet run over {records} list records: {gr} GetResponse + {dv} Dataverse "
              f"requests (bar: ≤ {2 * records} + {2 * records} plus a constant), "
              f"{quiet.seconds:.2f} s, counts {quiet.counts} ({load()})")  # fmt: skip


if __name__ == "__main__":
    main()
