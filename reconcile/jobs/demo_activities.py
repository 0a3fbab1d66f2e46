"""``reconcile demo``'s activities step (SPEC 5.5): the demo newsletter went out in the
GetResponse sandbox; two days pass on its clock — its recipients open it, some click — and
``reconcile sync activities`` brings every send, open and click into the CRM from a custom
report, each record linked to its GetResponse Contact, CRM contact and newsletter."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

LATER = dt.timedelta(days=2, hours=1)  # the sandbox simulates opens and clicks over two days


def prepare(world: Any) -> list[str]:
    gr = world.gr_sandbox
    gr.reports.rules.update({"pending_seconds": 0, "generation_seconds": 2})
    gr.advance(LATER.total_seconds())
    settings = world.settings
    world.settings = dataclasses.replace(
        settings, activities=dataclasses.replace(settings.activities, source="report")
    )
    with gr.lock:
        gr.settle()
        counts = dict(
            gr.conn.execute(
                "SELECT activity, count(*) FROM activities WHERE created_on <= ? GROUP BY 1",
                (gr.state.now(),),
            ).fetchall()
        )
    return [
        f"Two days pass in GetResponse: {counts.get('send', 0):,} sends, "
        f"{counts.get('open', 0):,} opens and {counts.get('click', 0):,} clicks of the sent "
        "newsletters; the job asks GetResponse for a custom report of them."
    ]


def getresponse_time(world: Any) -> dt.datetime:
    """The job's clock in this step: the GetResponse sandbox's, moved on by the demo."""
    return dt.datetime.fromtimestamp(world.gr_sandbox.clock(), dt.UTC)
