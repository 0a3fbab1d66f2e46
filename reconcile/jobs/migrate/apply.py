"""``reconcile migrate apply``: write a reviewed plan into Dynamics, resumably.

Order: the GetResponse List records the plan needs; the new CRM contacts (1000 per bulk
create); the GetResponse Contact records (1000 per bulk upsert by their GetResponse id),
linked to their CRM contact and list, status Synchronized; their custom field values; the
linked contacts added to the static marketing list of their GetResponse list (SPEC 4.3).

Crash safety, in three layers:

1. Every chunk is journaled in the state store *before* it is sent (``intend``) and its
   outcome *after* (``mark``): a re-run of the same plan skips what is done and finishes the
   rest — after a crash, ``kill -9`` included.
2. Writes are idempotent by construction: new contacts carry the GUID the plan chose
   (``plan.contact_guid``), records are upserted by alternate key, list records get planned
   GUIDs, marketing-list additions ignore existing members. Re-sending a chunk whose outcome
   was lost cannot create a second record, even without the journal.
3. A chunk found pending after a crash is checked against the service: before creating
   contacts, the CRM is asked which active contacts hold their emails — a contact carrying
   our planned GUID is one we created, another one is a duplicate.

A dry run makes the same reads and decisions and writes nothing (not even the journal).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from reconcile.errors import InputError, Problem, ServiceError
from reconcile.jobs.migrate import checks, writes
from reconcile.jobs.migrate.plan import Plan, build_plan, environment_key
from reconcile.jobs.migrate.report import RunReport
from reconcile.jobs.migrate.steps import Run, Stopped
from reconcile.jobs.sync.contacts import read_whole_at
from reconcile.progress import SILENT, Progress
from reconcile.state import DONE, FAILED, StateStore

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient

JOB = "migrate"
CHUNK = 1000


def load_plan(path: str | Path, *, allow_duplicates: bool, progress: Progress = SILENT) -> Plan:
    """Check the reviewed workbook as ``build-import`` does (every problem at once, exit 2)
    and make the plan from it."""
    from reconcile.workbooks.migration import read_payload
    from reconcile.workbooks.validate import read_review

    reviewed = read_review(path, progress)
    payload = read_payload(reviewed)
    return build_plan(
        reviewed.rows, payload, reviewed.meta["migrate"], allow_duplicates=allow_duplicates
    )


def input_key(plan: Plan) -> str:
    """What identifies "the same apply": the environment and every planned write."""
    digest = hashlib.sha256()
    head = [plan.environment, plan.allow_duplicates, plan.sync]
    head += [(x.campaign_id, x.record_id) for x in plan.lists]
    digest.update(json.dumps(head, default=str, sort_keys=True).encode())
    for c in plan.contacts:
        digest.update("\x1f".join(("c", c.contact_id, c.email, c.first_name, c.last_name)).encode())
    for r in plan.records:
        fields = (
            "r",
            r.gr_id,
            r.campaign_id,
            r.link or "",
            str(r.new),
            r.problem or "",
            r.name,
            r.email,
            r.data,
        )
        digest.update("\x1f".join(fields).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def apply_plan(
    client: DataverseClient,
    plan: Plan,
    *,
    workbook: str,
    state: StateStore,
    dry_run: bool = False,
    chunk: int = CHUNK,
    progress: Progress = SILENT,
    sync_environment: str | None = None,
) -> RunReport:
    """Apply (or, with ``dry_run``, only show) ``plan``; see the module docstring.

    ``sync_environment`` (``jobs.sync.environment_key`` of the same settings): once the run
    is complete, the contacts sync job is told that every list of a plan read from GetResponse
    was read whole when the plan was made, so that its first run reads only what changed
    since, instead of asking for a full read."""
    started, sent_before = time.perf_counter(), client.requests_sent
    if environment_key(client.environment_url) != plan.environment:
        raise InputError(
            Problem(
                f"this plan was made for {plan.environment}, but the settings connect to "
                f"{environment_key(client.environment_url)}",
                file=workbook,
            ),
            hint="Use the --profile of the environment the plan was made for, or run "
            "'reconcile migrate plan' against this one.",
        )
    report = RunReport(workbook, plan.environment, dry_run, started_at=_now())
    key = input_key(plan)
    last = state.last_run(JOB, key)
    if last is not None and last[1] == "finished":
        # Everything was done: report that run from its journal, write nothing.
        run = Run(client, plan, None, last[0], report, progress, chunk, _now())
        _load_journal(run, state, last[0])
        report.run_id, report.already_applied = last[0], True
        run.list_ids = {
            x.campaign_id: str(
                (run.results.get(f"list:{x.campaign_id}") or {}).get("record_id") or x.record_id
            )
            for x in plan.lists
        }
        writes.fill_report(report, plan, run.results, run.states, run.list_ids)
        report.requests = {"dataverse": client.requests_sent - sent_before}
        report.seconds = round(time.perf_counter() - started, 2)
        return report
    report.identity = checks.require_privileges(client, plan)
    if dry_run:
        run_id = last[0] if last is not None else None
        run = Run(client, plan, None, run_id, report, progress, chunk, _now())
        if run_id is not None:
            _load_journal(run, state, run_id)
        return _execute(run, started, sent_before)
    with state.lock(f"{JOB}:{plan.environment}"):
        run_id = state.open_run(JOB, key)
        run = Run(client, plan, state, run_id, report, progress, chunk, _now())
        report.run_id = run_id
        report.resumed = _load_journal(run, state, run_id)
        if "run" not in run.states:
            state.intend(run_id, [("run", "run", {"at": run.at})])
        report = _execute(run, started, sent_before)
        if not report.aborted and not state.entries(run_id, state=FAILED):
            state.mark(run_id, [("run", DONE, {"finished": _now()}, None)])
            state.finish_run(run_id)
            if sync_environment and plan.source == "getresponse" and plan.read_at:
                for item in plan.lists:
                    read_whole_at(state, sync_environment, item.campaign_id, plan.read_at)
        return report


def _load_journal(run: Run, state: StateStore, run_id: int) -> bool:
    """Take what an earlier invocation of this run did; True when there was something."""
    entries = state.entries(run_id)
    for entry in entries:
        run.states[entry.op_key] = entry.state
        result = dict(entry.result or {})
        if entry.error:
            result["message"] = entry.error
        run.results[entry.op_key] = result
        if entry.op_key == "run":
            run.at = str(entry.payload.get("at") or run.at)
    return any(e.op_key != "run" for e in entries)


def _execute(run: Run, started: float, sent_before: int) -> RunReport:
    try:
        run.lists()
        run.contacts()
        run.records()
        run.fields()
        run.members()
    except Stopped as exc:
        run.report.aborted = str(exc)
    except ServiceError as exc:
        run.report.aborted = exc.message
    writes.fill_report(run.report, run.plan, run.results, run.states, run.list_ids)
    run.report.requests = {"dataverse": run.client.requests_sent - sent_before}
    run.report.seconds = round(time.perf_counter() - started, 2)
    return run.report
