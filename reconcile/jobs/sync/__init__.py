"""The connector's regular sync jobs (SPEC 4–9), each on the one contract of ``common.py``.

Typical use from Python::

    from reconcile.config import load_settings
    from reconcile.jobs.sync import jobs, open_context, run_job

    with open_context(load_settings(), dry_run=True) as ctx:
        report = run_job(jobs()["lists"], ctx)
        print("\\n".join(report.lines()))

See docs/sync.md.
"""

from __future__ import annotations

from reconcile.jobs.sync.common import (
    Failure,
    Job,
    Journal,
    Param,
    Plan,
    PlanItem,
    Report,
    lease_name,
    run_job,
)
from reconcile.jobs.sync.context import (
    Interrupted,
    StopSignal,
    SyncContext,
    environment_key,
    open_context,
)


def jobs() -> dict[str, Job]:
    """Every sync job, by name, in SPEC order (``reconcile sync all`` runs them so)."""
    from reconcile.jobs.sync import activities, contacts, lists, newsletters, templates

    found: list[Job] = [lists.JOB, contacts.JOB, activities.JOB, templates.JOB, newsletters.JOB]
    return {job.name: job for job in found}


__all__ = [
    "Failure",
    "Interrupted",
    "Job",
    "Journal",
    "Param",
    "Plan",
    "PlanItem",
    "Report",
    "StopSignal",
    "SyncContext",
    "environment_key",
    "jobs",
    "lease_name",
    "open_context",
    "run_job",
]
