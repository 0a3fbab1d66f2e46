"""GetResponse custom reports of type ``message_activity_report``: the bulk way to read sends,
opens and clicks (``GET /newsletters/{id}/activities`` is deprecated in their favour).

The official description (``specs/getresponse-v3.openapi.json``, operations
``createCustomReport`` and ``getCustomReportDetails``; case studies
https://apidocs.getresponse.com/v3/case-study/custom-reports-scheduling and
…/custom-reports) says:

- ``POST /custom-reports`` with a ``name`` (3–70 characters), ``type``, ``filters``
  (``activityType``: click/open/send; ``messageId``: newsletter ids — both required) and a
  one-time ``scheduling`` window of *dates* (``startDate``/``endDate``, ``Y-m-d``; the details
  show them as ``00:00:00`` and ``23:59:59`` of those days) → 201 with the report;
- ``GET /custom-reports/{id}`` gives its ``files``, each with a ``status`` (``pending``,
  ``in-progress``, ``ready``, ``error``), an ``expiresAt`` and a ``downloadUrl`` "regenerated
  each time the report details are queried and … valid for 5 minutes";
- the files are CSV ("find URLs for downloading custom reports in a CSV format"); their columns
  are documented nowhere public (see docs/getresponse-api.md, "Custom reports"), so
  :mod:`reconcile.getresponse.report_files` maps headers by name;
- "The reports you can generate depend on your pricing plan" (the operation carries the label
  "Add-on required"; the help centre: Marketing Automation, Ecommerce Marketing and MAX plans).
  The error a plan without them answers is not documented: 403 (1023, insufficient
  permissions) or 400 with 1028/1029 (restricted resource) are taken to mean "not available"
  (:func:`unavailable`), and the job falls back to the activity endpoints.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO

from reconcile.getresponse.client import GetResponseClient, LinkExpired
from reconcile.getresponse.dates import parse_datetime
from reconcile.getresponse.errors import (
    AccessDenied,
    ForbiddenState,
    GetResponseError,
    UnexpectedResponse,
)
from reconcile.getresponse.wire import path

log = logging.getLogger("reconcile.getresponse")

REPORT_TYPE = "message_activity_report"
KINDS = ("send", "open", "click")
READY, FAILED = "ready", "error"
BLOCKS = (1016, 1017, 1018)  # the API blocked for the account or the IP: not a plan question
NOT_ON_PLAN = (1023, 1028, 1029)
POLL_DELAYS = (2.0, 5.0, 10.0, 20.0, 30.0, 60.0)  # then every 60 s
NAME_LIMIT = 70


@dataclass(frozen=True)
class ReportFile:
    file_id: str
    status: str
    download_url: str | None
    expires_at: datetime | None


@dataclass(frozen=True)
class CustomReport:
    report_id: str
    name: str
    type: str | None
    created_at: datetime | None
    generated_at: datetime | None
    files: tuple[ReportFile, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ready(self) -> bool:
        """Every file generated (a report with no files yet is not ready)."""
        return bool(self.files) and all(f.status == READY for f in self.files)

    @property
    def failed(self) -> bool:
        return any(f.status == FAILED for f in self.files)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> CustomReport:
        if not isinstance(data, dict) or not data.get("customReportId"):
            raise UnexpectedResponse("GetResponse answered a custom report without its id")
        files = tuple(
            ReportFile(
                str(f.get("customReportFileId") or ""),
                str(f.get("status") or ""),
                f.get("downloadUrl"),
                parse_datetime(f.get("expiresAt")),
            )
            for f in data.get("files") or []
            if isinstance(f, dict)
        )
        return cls(
            str(data["customReportId"]),
            str(data.get("name") or ""),
            data.get("type"),
            parse_datetime(data.get("createdAt")),
            parse_datetime(data.get("generatedAt")),
            files,
            data,
        )


def unavailable(error: GetResponseError) -> bool:
    """Whether ``error`` says the account's plan has no custom reports (see module doc)."""
    if error.code in BLOCKS:
        return False
    if error.code in NOT_ON_PLAN:
        return True
    return isinstance(error, AccessDenied | ForbiddenState) and error.http_status in (400, 403)


def report_body(
    name: str, start: date, end: date, kinds: Iterable[str], message_ids: Sequence[str]
) -> dict[str, Any]:
    """The ``POST /custom-reports`` body for a one-time message activity report."""
    kinds = [k for k in KINDS if k in set(kinds)]
    if not kinds:
        raise ValueError("a message activity report needs at least one of send, open, click")
    if not message_ids:
        raise ValueError("a message activity report needs at least one message id")
    if end < start:
        raise ValueError(f"the report window ends ({end}) before it starts ({start})")
    return {
        "name": name[:NAME_LIMIT],
        "type": REPORT_TYPE,
        "filters": {"activityType": kinds, "messageId": list(message_ids)},
        "scheduling": {
            "frequency": "one_time",
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
        },
    }


def create_activity_report(
    client: GetResponseClient,
    *,
    name: str,
    start: date,
    end: date,
    kinds: Iterable[str],
    message_ids: Sequence[str],
) -> CustomReport:
    """``POST /custom-reports``: never repeated after an uncertain failure (it would make a
    second report); the caller looks for it by name (:func:`find_reports`) instead."""
    body = report_body(name, start, end, kinds, message_ids)
    return CustomReport.from_api(client.post("custom-reports", body, idempotent=False))


def find_reports(client: GetResponseClient, name: str) -> list[str]:
    """Ids of the reports named exactly ``name`` (``GET /custom-reports?query[name]=``)."""
    params = {"query": {"name": name}, "fields": "customReportId,name"}
    return [
        str(item["customReportId"])
        for item in client.items("custom-reports", params)
        if item.get("name") == name[:NAME_LIMIT] and item.get("customReportId")
    ]


def get_report(client: GetResponseClient, report_id: str) -> CustomReport:
    """``GET /custom-reports/{id}``: statuses, and fresh download links (5 minutes each)."""
    return CustomReport.from_api(client.get(path("custom-reports", report_id)))


def wait_for_report(
    client: GetResponseClient,
    report_id: str,
    *,
    timeout: float,
    delays: Sequence[float] = POLL_DELAYS,
    stopped: Callable[[], bool] = lambda: False,
) -> CustomReport:
    """Poll the report until every file is ready (or one failed), at growing intervals, for
    at most ``timeout`` seconds of the client's clock; returns the last state seen. Returns
    it too within a second of ``stopped()`` turning true (SIGTERM, Ctrl-C): a wait can last
    minutes, and a service manager kills a process that does not stop."""
    started = client.now()
    polls = 0
    while True:
        report = get_report(client, report_id)
        if report.ready or report.failed:
            return report
        waited = client.now() - started
        delay = delays[min(polls, len(delays) - 1)]
        if waited + delay > timeout:
            return report
        log.info("custom report %s not ready yet; asking again in %.0f s", report_id, delay)
        if client.wait(delay, stopped):
            return report
        polls += 1


def download_report_file(
    client: GetResponseClient,
    report_id: str,
    file_id: str,
    sink: BinaryIO,
    *,
    url: str | None = None,
    attempts: int = 3,
) -> int:
    """Download one file of a ready report into ``sink`` (streamed: never held in memory).
    A link that expired (valid 5 minutes) is replaced by a fresh one from the report's
    details, up to ``attempts`` times."""
    for attempt in range(1, attempts + 1):
        if url is None:
            report = get_report(client, report_id)
            match = next((f for f in report.files if f.file_id == file_id), None)
            if match is None or match.download_url is None:
                raise UnexpectedResponse(
                    f"custom report {report_id} has no downloadable file {file_id} any more",
                    hint="The file may have expired (see its expiresAt): run the job again; "
                    "it asks GetResponse for a new report.",
                )
            url = match.download_url
        try:
            return client.download(url, sink)
        except LinkExpired as exc:
            log.info("download link of %s/%s expired (%s): asking for a new one", report_id,
                     file_id, exc)  # fmt: skip
            url = None
            if attempt == attempts:
                raise UnexpectedResponse(
                    f"the download links of custom report {report_id} file {file_id} kept "
                    f"expiring ({attempts} tries)",
                    hint="GetResponse's links are valid for 5 minutes: check the computer's "
                    "clock and the network speed, then run again.",
                ) from None
    raise AssertionError("unreachable")
