"""The steps of one ``apply`` run, in order: GetResponse List records, new CRM contacts,
GetResponse Contact records, custom field values, marketing-list members.

Each step journals its chunk (``intend``) before sending it and its outcome (``mark``) after,
keeps every outcome in memory for the steps after it (and for the report), and skips what an
earlier, interrupted invocation of the same run already did. In a dry run (``store`` is None)
the reads are made and the writes are assumed to succeed. See ``apply.py`` for the whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconcile.dataverse import DuplicateDetected, create_many, upsert_many
from reconcile.dataverse.errors import DataverseError
from reconcile.jobs.migrate import checks, writes
from reconcile.jobs.migrate.plan import NewContact, Plan, RecordWrite
from reconcile.jobs.migrate.report import RunReport
from reconcile.jobs.migrate.sources import list_records
from reconcile.progress import Progress
from reconcile.state import DONE, FAILED, StateStore

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient

Outcome = tuple[str, dict[str, Any], str | None]  # (DONE | FAILED, result, error text)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Stopped(Exception):
    """A service refused or failed for good in the middle of the run."""


@dataclass
class Run:
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

    def mark(self, outcomes: dict[str, Outcome]) -> None:
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
        outcomes: dict[str, Outcome] = {}
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
        outcomes: dict[str, Outcome] = {}
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
                outcomes: dict[str, Outcome] = {}
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
