"""``reconcile sync templates`` and ``reconcile sync newsletters``: what a working run costs,
side by side with the quiet run that follows it (the bars: ≤ 2 requests each).

Both sandboxes run on 127.0.0.1 in this process (threads), as in the tests. GetResponse
holds ``--drafts`` drafts (half named "MS CRM …") and a list of ``--contacts`` contacts
pushed by ``sync lists``; Dynamics ``--ready`` newsletters set Ready for realization.
Printed per job: requests to each service and seconds for the working run, then for the
quiet run — once with nothing new, once after GetResponse has sent everything (the
follow-up run that marks them Sent, then quiet again).

    python bench/bench_sync_mail.py [--drafts 200] [--ready 20] [--contacts 500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=200)
    parser.add_argument("--ready", type=int, default=20)
    parser.add_argument("--contacts", type=int, default=500)
    args = parser.parse_args()

    from reconcile.jobs.sync import jobs, run_job
    from tests.jobs.sync import lists_env as le
    from tests.jobs.sync import newsletter_env as ne
    from tests.jobs.sync import sync_env
    from tests.jobs.sync.sync_env import Contexts

    rows: list[tuple[str, str, dict[str, int], float, dict[str, int]]] = []

    def run(job: str, label: str, world: ne.World) -> None:
        report = run_job(jobs()[job], world.ctx())
        assert report.exit_code == 0, report.lines()
        rows.append((job, label, report.requests, report.seconds, report.counts))

    with tempfile.TemporaryDirectory() as tmp:
        for servers in sync_env.servers():
            for env in le.fresh(servers):
                world = ne.world(env, Contexts(env, Path(tmp) / "state.sqlite3"), args.contacts)
                drafts = [
                    {"name": f"{'MS CRM ' if i % 2 else ''}Draft {i}", "type": "draft",
                     "campaign": "clients_fr", "subject": f"Subject {i}"}
                    for i in range(args.drafts)
                ]  # fmt: skip
                env.gr.seed({"newsletters": drafts})
                run("templates", "working (new drafts)", world)
                run("templates", "quiet", world)
                for i in range(args.ready):
                    world.newsletter(f"News {i}", when=ne.soon(1 + i / 60))
                settings = ne.settings(env, daily_limit=args.ready + args.drafts + 10)
                world.ctx = lambda s=settings, w=world, **k: w.contexts(settings=s, **k)  # type: ignore[method-assign]
                run("newsletters", f"working ({args.ready} Ready)", world)
                run("newsletters", "scheduled, not sent yet (one listing)", world)
                env.gr.advance(3 * 3600)
                run("newsletters", "follow-up (GetResponse sent them)", world)
                run("newsletters", "quiet", world)
    print(f"drafts={args.drafts} ready={args.ready} contacts={args.contacts}")
    print(f"{'job':<12}{'run':<40}{'GetResponse':>12}{'Dataverse':>11}{'seconds':>9}  counts")
    for job, label, requests, seconds, counts in rows:
        print(f"{job:<12}{label:<40}{requests['getresponse']:>12}{requests['dataverse']:>11}"
              f"{seconds:>9.2f}  {counts}")  # fmt: skip


if __name__ == "__main__":
    main()
