"""Run ``sync newsletters`` in a child process and kill it (SIGKILL, as ``kill -9``) at one
step of a send — used by ``test_newsletters_crash.py``.

Usage: ``python -m tests.jobs.sync.crash_runner STEP`` with the connection in ``CRASH_*``
environment variables. STEP: ``before-send`` (copy made, send-draft not called),
``after-send`` (send-draft answered, the job never sees the answer), ``before-record`` (the
journal knows, the record is not written), ``after-claim`` (the record claimed, nothing in
GetResponse yet), ``none``.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(step: str) -> None:
    from reconcile.dataverse import BearerTokenAuth, DataverseClient
    from reconcile.getresponse import ApiKeyAuth, GetResponseClient
    from reconcile.jobs.sync import SyncContext, environment_key, jobs, newsletter_send, run_job
    from reconcile.state import StateStore
    from tests.jobs.sync.newsletter_env import settings_for

    env = os.environ
    dv = DataverseClient(env["CRASH_DV_URL"], auth=BearerTokenAuth(env["CRASH_DV_TOKEN"]))
    gr = GetResponseClient(ApiKeyAuth(env["CRASH_GR_KEY"]), base_url=env["CRASH_GR_URL"])
    real_send, real_record, real_update = (
        newsletter_send.send_draft,
        newsletter_send.record_sent,
        dv.update,
    )

    def send_draft(*args: Any, **kwargs: Any) -> Any:
        if step == "before-send":
            _die()
        answer = real_send(*args, **kwargs)
        if step == "after-send":
            _die()
        return answer

    def record_sent(*args: Any, **kwargs: Any) -> Any:
        if step == "before-record":
            _die()
        return real_record(*args, **kwargs)

    def update(*args: Any, **kwargs: Any) -> Any:
        real_update(*args, **kwargs)
        if step == "after-claim" and "grc_scheduled" in args[2]:
            _die()

    newsletter_send.send_draft = send_draft  # type: ignore[assignment]
    newsletter_send.record_sent = record_sent  # type: ignore[assignment]
    dv.update = update  # type: ignore[method-assign]
    with StateStore(env["CRASH_STATE"]) as state:
        ctx = SyncContext(
            dv=dv,
            gr=gr,
            state=state,
            environment=environment_key(env["CRASH_DV_URL"], env["CRASH_GR_URL"]),
            settings=settings_for(env["CRASH_DV_URL"]),
        )
        report = run_job(jobs()["newsletters"], ctx)
    print("\n".join(report.lines()))


if __name__ == "__main__":
    main(sys.argv[1])
