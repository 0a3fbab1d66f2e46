"""``reconcile sync lists`` at scale, against both sandboxes (threads of this process).

1. First sync of one static marketing list of ``--members`` contacts (default 100,000):
   requests per service against the bars (GetResponse ≤ 1 per 500 contacts created,
   Dataverse ≤ 1 per 500 records written), wall time, CPU of the job (this thread) vs the
   sandboxes (the other threads), peak RSS of the whole process (an upper bound for the job).
2. A quiet run over ``--lists`` list records (nothing changed): requests against the bar of
   ≤ 2 GetResponse + 2 Dataverse per list record plus a constant.
3. ``--profile N``: the job's top N functions (cProfile) of the first sync.

    python bench/bench_sync_lists.py [--members 100000] [--lists 20] [--profile 15]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


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
    for ready in le.fresh(env):
        started = time.perf_counter()
        ids = le.add_contacts(ready, le.people(args.members))
        marketing = le.static_list(ready, "Bench", ids)
        le.list_record(ready, "bench_list", marketing)
        print(f"setup: {args.members:,} contacts on a static list in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        state = Contexts(ready, Path(tempfile.mkdtemp()) / "state.sqlite3")
        profiler = cProfile.Profile() if args.profile else None
        cpu0, thread0, wall0 = time.process_time(), time.thread_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        report = run_job(job, state())
        if profiler:
            profiler.disable()
        wall = time.perf_counter() - wall0
        job_cpu = time.thread_time() - thread0
        sandbox_cpu = time.process_time() - cpu0 - job_cpu
        gr, dv = report.requests["getresponse"], report.requests["dataverse"]
        created = report.counts.get("contacts created in GetResponse", 0)
        written = report.counts.get("contact records synchronized", 0)
        print(f"first sync: exit {report.exit_code}, {created:,} contacts created, "
              f"{written:,} records written in {wall:.1f} s")  # fmt: skip
        print(f"  GetResponse {gr} requests: 1 per {created / max(gr, 1):,.0f} contacts "
              f"(bar: ≤ 1 per 500) {'OK' if gr * 500 <= created else 'OVER'}")  # fmt: skip
        print(f"  Dataverse {dv} requests: 1 per {written / max(dv, 1):,.0f} records "
              f"(bar: ≤ 1 per 500) {'OK' if dv * 500 <= written else 'OVER'}")  # fmt: skip
        print(f"  CPU: job {job_cpu:.1f} s, sandboxes {sandbox_cpu:.1f} s; wall {wall:.1f} s")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak RSS of the process (job + both sandboxes): {peak:,.0f} MB (bar: ≤ 1 GB)")
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.profile)
            print(out.getvalue())
        for n in range(args.lists):
            small = le.add_contacts(ready, le.people(5, start=args.members + 10 * n))
            le.list_record(ready, f"quiet_{n:03d}", le.static_list(ready, f"Q{n}", small))
        run_job(job, state())
        quiet = run_job(job, state())
        records = args.lists + 1
        gr, dv = quiet.requests["getresponse"], quiet.requests["dataverse"]
        print(f"quiet run over {records} list records: {gr} GetResponse + {dv} Dataverse "
              f"requests (bar: ≤ {2 * records} + {2 * records} plus a constant), "
              f"{quiet.seconds:.2f} s, counts {quiet.counts}")  # fmt: skip


if __name__ == "__main__":
    main()
