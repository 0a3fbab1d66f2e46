"""Writing connector records the way every sync job does: in bulk chunks, each chunk
journaled before it is sent and after it is answered, a checkpoint between chunks, and every
refused record a failure in the report that names it.

Upserts go by the record's alternate key (``grc_getresponseid`` holding
``schema.getresponse_key(id)``), so a chunk repeated after a crash or a lost answer writes
the same records again instead of new ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconcile.dataverse import create_many, delete_many, update_many, upsert_many
from reconcile.dataverse import schema as s
from reconcile.jobs.sync.common import Journal, Report
from reconcile.jobs.sync.context import SyncContext
from reconcile.model import SyncStatus

CHUNK = 1000  # records per bulk request (CreateMultiple / UpsertMultiple / $batch maximum)
STATUS = "grc_synchronizationstatus"
ERROR_TEXT = "grc_synchronizationerror"
MAX_MEMO = 4000  # a Memo column's length in the connector tables
INACTIVE = {"statecode": 1, "statuscode": 2}
ACTIVE = {"statecode": 0, "statuscode": 1}


def status_value(status: SyncStatus) -> int:
    return s.SYNC_STATUS_VALUES[status]


def sync_time(moment: dt.datetime) -> str:
    """A Dataverse DateTime value (UTC, seconds)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_text(message: str | None) -> str | None:
    if message is None:
        return None
    return message if len(message) <= MAX_MEMO else message[: MAX_MEMO - 1] + "…"


@dataclass(frozen=True)
class Write:
    """One record to write: its journal op key, its body, and its name for people."""

    key: str
    body: dict[str, Any]
    record: str


def _chunks(writes: Iterable[Write]) -> Iterator[list[Write]]:
    """``writes`` in lists of CHUNK, read lazily: a million records never sit in memory."""
    chunk: list[Write] = []
    for item in writes:
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def chunk_key(kind: str, chunk: Sequence[Write]) -> str:
    """One journal op for a whole chunk (``per_record=False``): its first and last keys."""
    return f"{kind}:{chunk[0].key}..{chunk[-1].key}:{len(chunk)}"


def write(
    ctx: SyncContext,
    journal: Journal,
    report: Report,
    table: s.Table | s.CrmTable,
    writes: Iterable[Write],
    *,
    mode: str = "upsert",  # upsert (by grc_getresponseid) | update | create | delete (by id)
    kind: str,
    outcome: str,
    action: str = "Correct what the message names, then run the job again: it retries.",
    key_columns: Sequence[str] = ("grc_getresponseid",),
    on_done: Callable[[Write], None] | None = None,
    on_failed: Callable[[Write, str], None] | None = None,
    total: int | None = None,
    per_record: bool = True,
) -> int:
    """Write ``writes`` to ``table`` in journaled chunks; returns how many were written.

    ``writes`` may be any iterable (a generator reading a spool file): it is consumed a chunk
    at a time; ``total`` sizes the progress bar when it has no ``len``. ``per_record=False``
    journals each chunk as one op instead of one op per record — for writes that are safe to
    repeat whole (upserts by a deterministic key, deletes), so that a million records do not
    make a million journal entries; refused records are still failures of the report.

    Each refused record becomes a failure of the report (and a FAILED journal entry); a
    service that stops answering (throttled past the retries, down) aborts the run with the
    chunk left pending, as :func:`run_job` expects."""
    done = 0
    label = f"{outcome.capitalize()} ({getattr(table, 'plural', table.display)})"
    if total is None and isinstance(writes, Sequence):
        total = len(writes)
    with ctx.progress.task(label, total=total) as task:
        for chunk in _chunks(writes):
            ctx.checkpoint()
            ops: list[tuple[str, dict[str, Any]]] = (
                [(w.key, {}) for w in chunk] if per_record else [(chunk_key(kind, chunk), {})]
            )
            with journal.chunk(kind, ops) as outcomes:
                result = _send(ctx, table, [w.body for w in chunk], mode, key_columns)
                for n, item in enumerate(chunk):
                    error = result.errors.get(n)
                    if error is not None and error is result.aborted:
                        continue  # left pending: the service stopped answering
                    if error is not None:
                        if per_record:
                            outcomes.failed(item.key, str(error))
                        report.fail(item.record, str(error), action)
                        if on_failed is not None:
                            on_failed(item, str(error))
                        continue
                    if per_record:
                        outcomes.done(item.key)
                    done += 1
                    if on_done is not None:
                        on_done(item)
                if not per_record and result.aborted is None:
                    outcomes.done(ops[0][0])
            task.advance(len(chunk))
            if result.aborted is not None:
                raise result.aborted
    report.add(outcome, done)
    return done


def _send(
    ctx: SyncContext,
    table: s.Table | s.CrmTable,
    bodies: list[dict[str, Any]],
    mode: str,
    key_columns: Sequence[str],
) -> Any:
    common: Mapping[str, Any] = {
        "logical_name": table.logical_name,
        "id_column": table.primary_id,
        "chunk_size": len(bodies),
    }
    if mode == "upsert":
        return upsert_many(ctx.dv, table.entity_set, bodies, key_columns=key_columns, **common)
    if mode == "update":
        return update_many(ctx.dv, table.entity_set, bodies, **common)
    if mode == "create":
        return create_many(ctx.dv, table.entity_set, bodies, **common)
    if mode == "delete":
        return delete_many(ctx.dv, table.entity_set, [b[table.primary_id] for b in bodies])
    raise ValueError(f"unknown write mode {mode!r}")


def read_all(
    ctx: SyncContext, table: s.Table, select: Sequence[str], condition: Any = None
) -> list[dict[str, Any]]:
    """Every record of a connector table (5,000 per page, ``@odata.nextLink`` paging)."""
    from reconcile.dataverse import query as q

    return list(ctx.dv.query(table.entity_set, q.Query(select=tuple(select), filter=condition)))


VALUES_PER_QUERY = 100  # values of one "column eq … or …" query (its URL stays ~5 KB)
QUERIES_PER_BATCH = 100  # queries sent together in one $batch request


def read_where_in(
    ctx: SyncContext,
    entity_set: str,
    select: Sequence[str],
    column: str,
    values: Iterable[Any],
    *,
    condition: Any = None,
) -> Iterator[dict[str, Any]]:
    """The rows whose ``column`` holds one of ``values`` (and match ``condition``): one query
    per 100 values, up to 100 queries in one ``$batch`` request — 10,000 records looked up by
    key cost one request instead of a hundred. A query answering more than a page follows
    its ``@odata.nextLink``. A refused query raises its error (the read cannot be partial)."""
    from reconcile.dataverse import batch as b
    from reconcile.dataverse import query as q

    wanted = list(dict.fromkeys(values))
    queries = []
    for start in range(0, len(wanted), VALUES_PER_QUERY):
        part = q.in_(column, wanted[start : start + VALUES_PER_QUERY])
        where = part if condition is None else condition & part
        queries.append(q.Query(select=tuple(select), filter=where))
    if len(queries) == 1:
        yield from ctx.dv.query(entity_set, queries[0])
        return
    for start in range(0, len(queries), QUERIES_PER_BATCH):
        operations = [
            b.Operation(
                "GET",
                f"{q.quote_segment(entity_set)}?{q.encode_query(query.params())}",
                headers={"Prefer": "odata.maxpagesize=5000"},
                record=f"{entity_set} by {column}",
            )
            for query in queries[start : start + QUERIES_PER_BATCH]
        ]
        for result in b.execute(ctx.dv, operations):
            error = result.error()
            if error is not None:
                raise error
            data = result.json() or {}
            yield from data.get("value", [])
            link = data.get("@odata.nextLink")
            if link:
                for page in ctx.dv.pages(entity_set, start=link):
                    yield from page.rows
