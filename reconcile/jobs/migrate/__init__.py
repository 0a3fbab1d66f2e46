"""``reconcile migrate``: the whole GetResponse → CRM migration over the APIs.

``make_plan`` reads both sides, matches them with the offline round-trip's core and writes
the review workbook with a ``Plan`` sheet; the admin reviews it in Excel; ``load_plan`` +
``apply_plan`` check the reviewed workbook exactly as ``build-import`` does and write it into
Dynamics, journaled and resumable; the run report says what was created, linked, skipped
or failed. See docs/migrate.md.
"""

from __future__ import annotations

from reconcile.jobs.migrate.apply import JOB, apply_plan, input_key, load_plan
from reconcile.jobs.migrate.job import PlanSummary, make_plan
from reconcile.jobs.migrate.plan import Plan, build_plan, contact_guid, list_guid, propose
from reconcile.jobs.migrate.report import Failure, RunReport

__all__ = [
    "JOB",
    "Failure",
    "Plan",
    "PlanSummary",
    "RunReport",
    "apply_plan",
    "build_plan",
    "contact_guid",
    "input_key",
    "list_guid",
    "load_plan",
    "make_plan",
    "propose",
]
