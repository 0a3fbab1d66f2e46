"""Writing many records: ``CreateMultiple`` / ``UpdateMultiple`` / ``UpsertMultiple`` where the
environment has them (Web API v9.2), ``$batch`` otherwise — with an answer for every record.

Chunks of 1000: 100,000 contacts are 100 requests either way. A bulk message is atomic, so
when a chunk fails for a record-level reason the chunk is replayed once as a
continue-on-error ``$batch``, which names each failing record; if the service does not
know the message for that table at all, the rest of the run uses ``$batch``.

Crash safety: creates carry client-chosen GUIDs (``contactid``), so a chunk whose answer
was lost can be sent again — records that did land answer "duplicate", are confirmed by
reading their ids back, and are counted as created, never created twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconcile.dataverse import batch as b
from reconcile.dataverse import query as q
from reconcile.dataverse.errors import (
    ConnectionFailed,
    DataverseError,
    DuplicateDetected,
    DuplicateRecord,
    NotSupported,
    RecordNotFound,
    ServiceUnavailable,
    Throttled,
)
from reconcile.progress import SILENT, Progress
from reconcile.retrying import Attempt

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient

log = logging.getLogger("reconcile.dataverse")

CHUNK_SIZE = 1000  # the $batch limit, and 100 requests per 100,000 records
_ID_LOOKUP_CHUNK = 100  # GUIDs per "does it exist" read (URL length stays ~5 KB)
_FATAL = (Throttled, ServiceUnavailable, ConnectionFailed)
# What a create of a record that already exists with its client-chosen id may be refused
# with: the key clash, or — with duplicate detection on — the rule that finds "another"
# record like it. Either way, an existing id means an earlier attempt landed.
_ALREADY_THERE = (DuplicateRecord, DuplicateDetected)
DETECT_DUPLICATES = {"MSCRM.SuppressDuplicateDetection": "false"}


@dataclass
class BulkResult:
    """Per input record: its id (None when it failed) and, when it failed, why."""

    ids: list[str | None]
    errors: dict[int, DataverseError] = field(default_factory=dict)
    aborted: DataverseError | None = None  # set when the run stopped early (throttling, outage)
    used_bulk_messages: bool = False

    @property
    def succeeded(self) -> int:
        return sum(1 for i in self.ids if i is not None)

    @property
    def failed(self) -> int:
        return len(self.ids) - self.succeeded


@dataclass
class _Plan:
    """What one of create / update / upsert needs to know to write a chunk."""

    entity_set: str
    logical_name: str
    message: str  # CreateMultiple | UpdateMultiple | UpsertMultiple
    id_column: str
    target: Callable[[Mapping[str, Any]], dict[str, Any]]  # bulk-message target for a record
    operation: Callable[[int, Mapping[str, Any]], b.Operation]  # $batch operation for a record
    result_id: Callable[[Mapping[str, Any]], str | None]
    headers: Mapping[str, str] = field(default_factory=dict)  # sent with every request


def _chunks(items: Sequence[Any], size: int) -> list[range]:
    return [range(i, min(i + size, len(items))) for i in range(0, len(items), size)]


def _existing_ids(client: DataverseClient, plan: _Plan, ids: Iterable[str]) -> set[str]:
    found: set[str] = set()
    wanted = [i for i in ids if i]
    for start in range(0, len(wanted), _ID_LOOKUP_CHUNK):
        part = wanted[start : start + _ID_LOOKUP_CHUNK]
        query = q.Query(
            select=(plan.id_column,), filter=q.in_(plan.id_column, [q.as_guid(i) for i in part])
        )
        for row in client.query(plan.entity_set, query):
            found.add(str(row.get(plan.id_column, "")).lower())
    return found


class _Writer:
    def __init__(
        self,
        client: DataverseClient,
        plan: _Plan,
        records: Sequence[Mapping[str, Any]],
        use_bulk: bool,
    ) -> None:
        self.client = client
        self.plan = plan
        self.records = records
        self.use_bulk = use_bulk
        self.result = BulkResult(ids=[None] * len(records), used_bulk_messages=use_bulk)

    def write(self, span: range) -> None:
        if self.result.aborted is not None:  # not sent: the run stopped at an earlier chunk
            for i in span:
                self.result.errors.setdefault(i, self.result.aborted)
            return
        try:
            if self.use_bulk:
                self._bulk(span)
            else:
                self._batch(span)
        except _FATAL as exc:
            self.result.aborted = self.result.aborted or exc
            for i in span:
                if self.result.ids[i] is None:
                    self.result.errors.setdefault(i, exc)

    def _bulk(self, span: range) -> None:
        plan = self.plan
        targets = [plan.target(self.records[i]) for i in span]
        attempts: list[Attempt] = []
        try:
            answer = (
                self.client.action(
                    plan.message,
                    {"Targets": targets},
                    bound_to=q.quote_segment(plan.entity_set),
                    idempotent=True,
                    attempts=attempts,
                    record=f"{len(targets)} {plan.entity_set} ({plan.message})",
                    headers=plan.headers or None,
                )
                or {}
            )
        except _FATAL:
            raise  # handled in write(): the run stops
        except DataverseError as exc:
            if isinstance(exc, _ALREADY_THERE) and attempts and plan.message == "CreateMultiple":
                self._confirm_created(span)
                return
            if isinstance(exc, NotSupported) or (
                isinstance(exc, RecordNotFound) and exc.code is None
            ):
                log.info("%s is not available for %s; using $batch", plan.message, plan.entity_set)
                self.use_bulk = False
                self.result.used_bulk_messages = False
            self._batch(span)  # names the failing records (or simply writes them)
            return
        ids = answer.get("Ids") if isinstance(answer, dict) else None
        for n, i in enumerate(span):
            given = ids[n] if isinstance(ids, list) and n < len(ids) else None
            self.result.ids[i] = str(given).lower() if given else plan.result_id(self.records[i])

    def _confirm_created(self, span: range) -> None:
        """A retried CreateMultiple hit its own earlier, landed attempt: check which ids
        exist and create only the others."""
        plan = self.plan
        chosen = {i: plan.result_id(self.records[i]) for i in span}
        existing = _existing_ids(self.client, plan, [c for c in chosen.values() if c])
        missing = [i for i in span if chosen[i] not in existing]
        for i in span:
            if chosen[i] in existing:
                self.result.ids[i] = chosen[i]
        self._batch_indices(missing)

    def _batch(self, span: range) -> None:
        self._batch_indices(list(span))

    def _batch_indices(self, indices: list[int]) -> None:
        if not indices:
            return
        plan = self.plan
        operations = [plan.operation(i, self.records[i]) for i in indices]
        results = b.execute(self.client, operations, continue_on_error=True)
        duplicates: list[int] = []
        for i, res in zip(indices, results, strict=True):
            if res.ok:
                self.result.ids[i] = plan.result_id(self.records[i])
                self.result.errors.pop(i, None)
                continue
            error = res.error()
            assert error is not None
            if isinstance(error, _ALREADY_THERE) and plan.message == "CreateMultiple":
                duplicates.append(i)
            self.result.errors[i] = error
        if duplicates:  # maybe our own earlier attempt; confirm by id
            existing = _existing_ids(
                self.client, plan, [plan.result_id(self.records[i]) or "" for i in duplicates]
            )
            for i in duplicates:
                # A record with this (client-chosen) id exists: an earlier attempt or run
                # created it, so the create is done.
                if plan.result_id(self.records[i]) in existing:
                    self.result.ids[i] = plan.result_id(self.records[i])
                    self.result.errors.pop(i, None)


def _run(
    client: DataverseClient,
    plan: _Plan,
    records: Sequence[Mapping[str, Any]],
    *,
    chunk_size: int,
    use_bulk: bool | None,
    workers: int,
    progress: Progress,
) -> BulkResult:
    if not 1 <= chunk_size <= b.MAX_OPERATIONS:
        raise ValueError(f"chunk_size must be between 1 and {b.MAX_OPERATIONS}")
    bulk = client.api_version.supports_bulk_messages if use_bulk is None else use_bulk
    writer = _Writer(client, plan, records, bulk)
    spans = _chunks(records, chunk_size)
    label = f"{plan.message.replace('Multiple', '')} {len(records)} {plan.entity_set}"
    with progress.task(label, total=len(records)) as task:
        if workers <= 1:
            for span in spans:
                writer.write(span)
                task.advance(len(span))
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for span, _ in zip(spans, pool.map(writer.write, spans), strict=True):
                    task.advance(len(span))
    return writer.result


def create_many(
    client: DataverseClient,
    entity_set: str,
    records: Sequence[Mapping[str, Any]],
    *,
    logical_name: str,
    id_column: str,
    chunk_size: int = CHUNK_SIZE,
    use_bulk: bool | None = None,
    workers: int = 1,
    detect_duplicates: bool = False,
    progress: Progress = SILENT,
) -> BulkResult:
    """Create ``records`` in ``entity_set``; GUIDs are assigned here when missing (and
    written back into a copy, so the caller can read ``result.ids``).

    ``detect_duplicates`` sends ``MSCRM.SuppressDuplicateDetection: false``, so that the
    environment's duplicate detection rules apply (as the Import Wizard's "Allow Duplicates:
    No" does): a record they refuse fails with :class:`DuplicateDetected` and the others
    are written."""
    prepared = [dict(r) for r in records]
    for record in prepared:
        record[id_column] = str(record.get(id_column) or uuid.uuid4()).lower()
    headers = dict(DETECT_DUPLICATES) if detect_duplicates else {}
    odata_type = f"Microsoft.Dynamics.CRM.{logical_name}"
    plan = _Plan(
        entity_set=entity_set,
        logical_name=logical_name,
        message="CreateMultiple",
        id_column=id_column,
        target=lambda r: {"@odata.type": odata_type, **r},
        operation=lambda i, r: b.Operation(
            "POST",
            q.quote_segment(entity_set),
            body=dict(r),
            headers=dict(headers),
            repeatable=True,
            record=f"{logical_name} #{i + 1} ({r[id_column]})",
        ),
        result_id=lambda r: str(r[id_column]).lower(),
        headers=headers,
    )
    return _run(
        client,
        plan,
        prepared,
        chunk_size=chunk_size,
        use_bulk=use_bulk,
        workers=workers,
        progress=progress,
    )


def update_many(
    client: DataverseClient,
    entity_set: str,
    records: Sequence[Mapping[str, Any]],
    *,
    logical_name: str,
    id_column: str,
    chunk_size: int = CHUNK_SIZE,
    use_bulk: bool | None = None,
    workers: int = 1,
    progress: Progress = SILENT,
) -> BulkResult:
    """Update existing records; each record carries its id in ``id_column``."""
    for n, record in enumerate(records):
        if not record.get(id_column):
            raise ValueError(f"record #{n + 1} has no {id_column}: an update needs the id")
    odata_type = f"Microsoft.Dynamics.CRM.{logical_name}"
    plan = _Plan(
        entity_set=entity_set,
        logical_name=logical_name,
        message="UpdateMultiple",
        id_column=id_column,
        target=lambda r: {"@odata.type": odata_type, **r},
        operation=lambda i, r: b.Operation(
            "PATCH",
            q.record_path(entity_set, r[id_column]),
            body={k: v for k, v in r.items() if k != id_column},
            headers={"If-Match": "*"},
            record=q.describe_key(entity_set, r[id_column]),
        ),
        result_id=lambda r: str(r[id_column]).lower(),
    )
    return _run(
        client,
        plan,
        records,
        chunk_size=chunk_size,
        use_bulk=use_bulk,
        workers=workers,
        progress=progress,
    )


def upsert_many(
    client: DataverseClient,
    entity_set: str,
    records: Sequence[Mapping[str, Any]],
    *,
    logical_name: str,
    key_columns: Sequence[str],
    id_column: str,
    chunk_size: int = CHUNK_SIZE,
    use_bulk: bool | None = None,
    workers: int = 1,
    progress: Progress = SILENT,
) -> BulkResult:
    """Create or update each record by its alternate key (``key_columns``, e.g. the
    GetResponse id column). Ids are returned when the service reports them (bulk) or the
    record carries one; otherwise the result holds the key text for successful records."""
    odata_type = f"Microsoft.Dynamics.CRM.{logical_name}"

    def key(r: Mapping[str, Any]) -> dict[str, Any]:
        missing = [c for c in key_columns if r.get(c) in (None, "")]
        if missing:
            raise ValueError(f"a record has no value for key column(s) {', '.join(missing)}")
        return {c: r[c] for c in key_columns}

    for record in records:
        key(record)
    plan = _Plan(
        entity_set=entity_set,
        logical_name=logical_name,
        message="UpsertMultiple",
        id_column=id_column,
        target=lambda r: {
            "@odata.type": odata_type,
            "@odata.id": f"{entity_set}{q.key_segment(key(r))}",
            **{k: v for k, v in r.items() if k not in key_columns},
        },
        operation=lambda i, r: b.Operation(
            "PATCH",
            q.record_path(entity_set, key(r)),
            body={k: v for k, v in r.items() if k not in key_columns},
            record=q.describe_key(entity_set, key(r)),
        ),
        result_id=lambda r: (
            str(r[id_column]).lower() if r.get(id_column) else q.describe_key(entity_set, key(r))
        ),
    )
    return _run(
        client,
        plan,
        records,
        chunk_size=chunk_size,
        use_bulk=use_bulk,
        workers=workers,
        progress=progress,
    )


def delete_many(
    client: DataverseClient,
    entity_set: str,
    ids: Sequence[str],
    *,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress = SILENT,
) -> BulkResult:
    """Delete records by id, ``chunk_size`` to a continue-on-error ``$batch`` (1,000 records a
    request). A record already gone (404) counts as deleted: an earlier attempt, or someone
    else, removed it — deleting is safe to repeat, so a chunk whose answer was lost is sent
    again. (``DeleteMultiple`` exists only for elastic tables; ``BulkDelete`` is an
    asynchronous system job: neither fits a journaled run.)"""
    if not 1 <= chunk_size <= b.MAX_OPERATIONS:
        raise ValueError(f"chunk_size must be between 1 and {b.MAX_OPERATIONS}")
    result = BulkResult(ids=[None] * len(ids))
    with progress.task(f"Delete {len(ids)} {entity_set}", total=len(ids)) as task:
        for span in _chunks(ids, chunk_size):
            if result.aborted is not None:
                for i in span:
                    result.errors[i] = result.aborted
                continue
            operations = [
                b.Operation(
                    "DELETE",
                    q.record_path(entity_set, ids[i]),
                    record=q.describe_key(entity_set, ids[i]),
                )
                for i in span
            ]
            try:
                answers = b.execute(client, operations, continue_on_error=True)
            except _FATAL as exc:
                result.aborted = exc
                for i in span:
                    result.errors[i] = exc
                continue
            for i, answer in zip(span, answers, strict=True):
                error = answer.error()
                if error is None or isinstance(error, RecordNotFound):
                    result.ids[i] = str(ids[i]).lower()
                else:
                    result.errors[i] = error
            task.advance(len(span))
    return result
