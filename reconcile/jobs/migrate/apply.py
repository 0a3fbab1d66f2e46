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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconcile.dataverse import DuplicateDetected, create_many, upsert_many
from reconcile.dataverse.errors import DataverseError
from reconcile.errors import InputError, Problem, ServiceError
from reconcile.jobs.migrate import checks, writes
from reconcile.jobs.migrate.plan import NewContact, Plan, RecordWrite, build_plan, environment_key
from reconcile.jobs.migrate.report import RunReport
from reconcile.jobs.migrate.sources import list_records
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


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Stopped(Exception):
    """A service refused or failed for good in the middle of the run."""


@dataclass
class _Run:
    client: DataverseClient
    plan: Plan
    store: StateStore | None  # None in a dry run
    run_id: int | None
    report: RunReport
    progress: Progress
    chunk: int
    at: str  # this run's synchronization time (kept across resumes)
    states: dict[str, str] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # op key -> outcome
    list_ids: dict[str, str] = field(default_factory=dict)  # campaign id -> record id
    marketing: dict[str, str] = field(default_factory=dict)  # campaign id -> marketing list
    touched: set[str] = field(default_factory=set)  # op keys written in this invocation

    # -- journal -------------------------------------------------------------------------
    def intend(self, kind: str, keys: Sequence[str]) -> None:
        if self.store is not None and self.run_id is not None:
            self.store.intend(self.run_id, [(k, kind, {}) for k in keys])

    def mark(self, outcomes: dict[str, tuple[str, dict[str, Any], str | None]]) -> None:
        for key, (state, result, error) in outcomes.items():
            self.states[key] = state
            self.results[key] = {**result, "message": error} if error else dict(result)
            self.touched.add(key)
        if self.store is not None and self.run_id is not None:
            self.store.mark(self.run_id, [(k, s, r, e) for k, (s, r, e) in outcomes.items()])

    def todo(self, key: str) -> bool:
        return self.states.get(key) != DONE

    # -- steps ---------------------------------------------------------------------------
    def lists(self) -> None:
        existing = list_records(self.client)
        missing = []
        for item in self.plan.lists:
            found = existing.get(item.campaign_id)
            if found is not None:
                self.list_ids[item.campaign_id] = found.record_id
                if found.marketing_list_id:
                    self.marketing[item.campaign_id] = found.marketing_list_id
                key = f"list:{item.campaign_id}"
                if found.record_id == item.record_id and key in self.states and self.todo(key):
                    # Created by this run before it was interrupted (our planned GUID).
                    self.mark({key: (DONE, {"record_id": item.record_id}, None)})
            else:
                self.list_ids[item.campaign_id] = item.record_id
                missing.append(item)
        for item in missing:
            key = f"list:{item.campaign_id}"
            self.intend("list", [key])
            if self.store is not None:
                self.client.create(
                    writes.LISTS.entity_set,
                    writes.list_body(item, self.at),
                    id_column=writes.LISTS.primary_id,
                    record=f"GetResponse List record {item.name!r}",
                )
            self.mark({key: (DONE, {"record_id": item.record_id}, None)})

    def contacts(self) -> None:
        todo = [c for c in self.plan.contacts if self.todo(f"contact:{c.contact_id}")]
        with self.progress.task("Creating CRM contacts", total=len(todo)) as task:
            for chunk in _chunks(todo, self.chunk):
                self._contacts(chunk)
                task.advance(len(chunk))

    def _contacts(self, chunk: Sequence[NewContact]) -> None:
        keys = [f"contact:{c.contact_id}" for c in chunk]
        self.intend("contact", keys)
        found = (
            {}
            if self.plan.allow_duplicates
            else checks.contacts_with_emails(self.client, [c.email for c in chunk])
        )
        outcomes: dict[str, tuple[str, dict[str, Any], str | None]] = {}
        to_create: list[NewContact] = []
        for contact, key in zip(chunk, keys, strict=True):
            holders = found.get(contact.email.strip().lower(), [])
            if contact.contact_id in holders:
                outcomes[key] = (DONE, {"outcome": "existed"}, None)
            elif holders:
                message = (
                    f"not created: the active CRM contact {', '.join(holders[:3])} already has "
                    f"the email {contact.email}"
                )
                outcomes[key] = (DONE, {"outcome": "duplicate", "of": holders[:3]}, message)
            else:
                to_create.append(contact)
        if to_create and self.store is not None:
            result = create_many(
                self.client,
                "contacts",
                [writes.contact_body(c) for c in to_create],
                logical_name="contact",
                id_column="contactid",
                chunk_size=len(to_create),
                detect_duplicates=not self.plan.allow_duplicates,
            )
            for n, contact in enumerate(to_create):
                key = f"contact:{contact.contact_id}"
                error = result.errors.get(n)
                if result.ids[n]:
                    outcomes[key] = (DONE, {"outcome": "created"}, None)
                elif isinstance(error, DuplicateDetected):
                    message = f"not created: Dynamics' duplicate detection refused it ({error})"
                    outcomes[key] = (DONE, {"outcome": "duplicate", "of": []}, message)
                elif error is not None and error is not result.aborted:
                    outcomes[key] = (FAILED, {"outcome": "failed"}, str(error))
            self.mark(outcomes)
            if result.aborted is not None:
                raise Stopped(str(result.aborted))
        else:
            for contact in to_create:
                outcomes[f"contact:{contact.contact_id}"] = (DONE, {"outcome": "created"}, None)
            self.mark(outcomes)

    def contact_outcome(self, guid: str) -> tuple[str, str | None]:
        """("created" | "existed" | "duplicate" | "failed" | "pending", message)."""
        key = f"contact:{guid}"
        result = self.results.get(key) or {}
        return str(result.get("outcome") or "pending"), result.get("message")

    def records(self) -> None:
        plan = self.plan
        targets = checks.resolve_targets(
            self.client, {r.link for r in plan.records if r.link and not r.new}
        )
        todo = [
            r
            for r in plan.records
            if self.todo(f"record:{r.gr_id}") or (r.new and f"contact:{r.link}" in self.touched)
        ]
        with self.progress.task("Writing GetResponse Contact records", total=len(todo)) as task:
            for chunk in _chunks(todo, self.chunk):
                self._records(chunk, targets)
                task.advance(len(chunk))

    def _final_link(
        self, record: RecordWrite, targets: dict[str, checks.Target]
    ) -> tuple[str | None, str | None, str | None]:
        """(contact to link, error text for the record, note) for one record."""
        if record.problem:
            return None, record.problem, None
        if not record.link:
            return None, None, None
        if record.new:
            outcome, message = self.contact_outcome(record.link)
            if outcome in ("created", "existed"):
                return record.link, None, None
            return None, message or f"the CRM contact was not created ({outcome})", None
        target = targets.get(record.link)
        if target is None:
            return record.link, None, None
        if target.contact_id is None:
            return None, target.note, None
        return target.contact_id, None, target.note

    def _records(self, chunk: Sequence[RecordWrite], targets: dict[str, checks.Target]) -> None:
        keys = [f"record:{r.gr_id}" for r in chunk]
        self.intend("record", keys)
        finals = [self._final_link(r, targets) for r in chunk]
        bodies = [
            writes.record_body(r, self.list_ids[r.campaign_id], link, error, self.at)
            for r, (link, error, _) in zip(chunk, finals, strict=True)
        ]
        outcomes: dict[str, tuple[str, dict[str, Any], str | None]] = {}
        errors: dict[int, DataverseError] = {}
        aborted = None
        if self.store is not None:
            result = upsert_many(
                self.client,
                writes.RECORDS.entity_set,
                bodies,
                logical_name=writes.RECORDS.logical_name,
                key_columns=("grc_getresponseid",),
                id_column=writes.RECORDS.primary_id,
                chunk_size=len(bodies),
            )
            errors, aborted = result.errors, result.aborted
        for n, key in enumerate(keys):
            link, problem, note = finals[n]
            error = errors.get(n)
            if error is aborted and error is not None:
                continue
            if error is not None:
                outcomes[key] = (FAILED, {"link": None}, str(error))
                continue
            outcomes[key] = (DONE, {"link": link, "problem": problem, "note": note}, None)
        self.mark(outcomes)
        if aborted is not None:
            raise Stopped(str(aborted))

    def fields(self) -> None:
        items = []
        for record in self.plan.records:
            written = self.results.get(f"record:{record.gr_id}")
            if not written or self.states.get(f"record:{record.gr_id}") != DONE:
                continue
            for value in writes.field_values(record.data):
                key = f"field:{record.gr_id}:{value[0]}"
                if self.todo(key) or f"record:{record.gr_id}" in self.touched:
                    items.append((key, record, value, written.get("link")))
        with self.progress.task("Writing custom field values", total=len(items)) as task:
            for chunk in _chunks(items, self.chunk):
                keys = [k for k, *_ in chunk]
                self.intend("field", keys)
                bodies = [writes.field_body(r, v, link) for _, r, v, link in chunk]
                errors: dict[int, DataverseError] = {}
                aborted = None
                if self.store is not None:
                    result = upsert_many(
                        self.client,
                        writes.FIELDS.entity_set,
                        bodies,
                        logical_name=writes.FIELDS.logical_name,
                        key_columns=("grc_getresponseid", "grc_contactgetresponseid"),
                        id_column=writes.FIELDS.primary_id,
                        chunk_size=len(bodies),
                    )
                    errors, aborted = result.errors, result.aborted
                outcomes: dict[str, tuple[str, dict[str, Any], str | None]] = {}
                for n, key in enumerate(keys):
                    error = errors.get(n)
                    if error is not None and error is aborted:
                        continue
                    state = FAILED if error is not None else DONE
                    outcomes[key] = (state, {}, None if error is None else str(error))
                self.mark(outcomes)
                if aborted is not None:
                    raise Stopped(str(aborted))
                task.advance(len(chunk))

    def members(self) -> None:
        from reconcile.dataverse.resources import add_members, marketing_list

        by_list: dict[str, list[str]] = {}
        changed: set[str] = set()
        for record in self.plan.records:
            key = f"record:{record.gr_id}"
            link = (self.results.get(key) or {}).get("link")
            if link and self.states.get(key) == DONE and record.campaign_id in self.marketing:
                by_list.setdefault(record.campaign_id, []).append(link)
                if key in self.touched:
                    changed.add(record.campaign_id)
        for campaign, ids in by_list.items():
            key = f"members:{campaign}"
            if not self.todo(key) and campaign not in changed:
                continue
            mlist = marketing_list(self.client, self.marketing[campaign])
            if mlist.dynamic or not mlist.targets_contacts or not mlist.active:
                why = (
                    "dynamic (its query decides its members)"
                    if mlist.dynamic
                    else ("not a list of contacts" if not mlist.targets_contacts else "inactive")
                )
                self.report.notes.append(
                    f"marketing list {mlist.name!r} is {why}: its members were not changed"
                )
                continue
            unique = sorted(set(ids))
            self.intend("members", [key])
            if self.store is not None:
                add_members(self.client, mlist, unique)
            self.mark({key: (DONE, {"list": mlist.name, "count": len(unique)}, None)})


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
) -> RunReport:
    """Apply (or, with ``dry_run``, only show) ``plan``; see the module docstring."""
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
    report = RunReport(workbook, plan.environment, dry_run)
    key = input_key(plan)
    last = state.last_run(JOB, key)
    if last is not None and last[1] == "finished":
        # Everything was done: report that run from its journal, write nothing.
        run = _Run(client, plan, None, last[0], report, progress, chunk, _now())
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
    checks.require_privileges(client, plan)
    if dry_run:
        run_id = last[0] if last is not None else None
        run = _Run(client, plan, None, run_id, report, progress, chunk, _now())
        if run_id is not None:
            _load_journal(run, state, run_id)
        return _execute(run, started, sent_before)
    with state.lock(f"{JOB}:{plan.environment}"):
        run_id = state.open_run(JOB, key)
        run = _Run(client, plan, state, run_id, report, progress, chunk, _now())
        report.run_id = run_id
        report.resumed = _load_journal(run, state, run_id)
        if "run" not in run.states:
            state.intend(run_id, [("run", "run", {"at": run.at})])
        report = _execute(run, started, sent_before)
        if not report.aborted and not state.entries(run_id, state=FAILED):
            state.mark(run_id, [("run", DONE, {"finished": _now()}, None)])
            state.finish_run(run_id)
        return report


def _load_journal(run: _Run, state: StateStore, run_id: int) -> bool:
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


def _execute(run: _Run, started: float, sent_before: int) -> RunReport:
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
