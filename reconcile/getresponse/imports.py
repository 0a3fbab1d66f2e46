"""Tracked contact imports (``POST /imports``): the bulk path for large lists.

Why imports for big lists: per-contact calls are held to 30,000 per 10 minutes (50/s), and
``/contacts/batch`` to 80 calls of 1,000 per 10 minutes (~133/s), while one import carries up
to 20 MB of rows and reports statistics (added, updated, invalid, and why rows were refused).
The price: one active import per list, two per account, 20 per 24 hours, and imports also
*update* contacts that exist — choose them deliberately.

An import is created once (not repeated after an uncertain failure: a second one would be
refused or doubled); if creation fails without an answer, look at :func:`iter_imports` for
the list before submitting again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence

from reconcile.getresponse.client import GetResponseClient
from reconcile.getresponse.errors import AlreadyExists
from reconcile.getresponse.records import ImportJob
from reconcile.getresponse.wire import path

MAX_IMPORT_BYTES = 20_000_000  # the API's limit is 20 MB; stay a little under it


def create_import(
    client: GetResponseClient,
    campaign_id: str,
    field_mapping: Sequence[str],
    rows: Sequence[Sequence[str]],
) -> ImportJob:
    """``POST /imports`` → 201. ``field_mapping`` names each column: ``email`` (required),
    ``name``, custom fields *by name*, ``tag:<name>`` (``"1"`` attaches), ``ip``."""
    mapping = list(field_mapping)
    if "email" not in mapping:
        raise ValueError("field_mapping must contain 'email'")
    for number, row in enumerate(rows, start=1):
        if len(row) != len(mapping):
            raise ValueError(
                f"import row {number} has {len(row)} values for {len(mapping)} mapped columns"
            )
    body = {
        "campaignId": campaign_id,
        "fieldMapping": mapping,
        "contacts": [[str(v) for v in row] for row in rows],
    }
    size = len(json.dumps(body, ensure_ascii=False).encode())
    if size > MAX_IMPORT_BYTES:
        raise ValueError(
            f"the import is {size:,} bytes; GetResponse accepts 20 MB per import: split the rows"
        )
    try:
        answer = client.post("imports", body, idempotent=False)
    except AlreadyExists as exc:
        exc.hint = (
            "An import is already running for this list (one at a time per list, two per "
            "account): wait for it with wait_for_import, then submit again."
        )
        raise
    return ImportJob.from_api(answer)


def get_import(client: GetResponseClient, import_id: str) -> ImportJob:
    return ImportJob.from_api(client.get(path("imports", import_id)))


def iter_imports(
    client: GetResponseClient, *, campaign_id: str | None = None
) -> Iterator[ImportJob]:
    """``GET /imports``, newest first."""
    params = {"query": {"campaignId": campaign_id}, "sort": {"createdOn": "DESC"}}
    for item in client.items("imports", params):
        yield ImportJob.from_api(item)


def statistics_complete(job: ImportJob, expected_rows: int) -> bool:
    """True when the job's statistics account for every submitted row."""
    stats = job.statistics
    accounted = stats.get("invalid", 0) + stats.get("updated", 0) + stats.get("addedToList", 0)
    return stats.get("uploaded", 0) >= expected_rows and accounted >= expected_rows


def wait_for_import(
    client: GetResponseClient,
    import_id: str,
    *,
    expected_rows: int | None = None,
    timeout: float = 600.0,
    poll_interval: float = 5.0,
    max_interval: float = 60.0,
    stopped: Callable[[], bool] | None = None,
) -> ImportJob:
    """Poll until the import leaves the active states or ``timeout`` passes (or, within a
    second, ``stopped()`` turns true); returns the last state seen (``is_active`` still True
    means: not finished yet, do not resubmit).

    GetResponse may report ``finished`` before its statistics are final; with
    ``expected_rows`` we keep polling (within the timeout) until they account for every row.
    """
    deadline = client.now() + timeout
    interval = poll_interval
    while True:
        job = get_import(client, import_id)
        done = not job.is_active and (
            job.status != "finished"
            or expected_rows is None
            or statistics_complete(job, expected_rows)
        )
        remaining = deadline - client.now()
        if done or remaining <= 0:
            return job
        if client.wait(min(interval, remaining), stopped):
            return job
        interval = min(max_interval, interval * 2)
