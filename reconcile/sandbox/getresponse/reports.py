"""Custom reports (``/custom-reports``) of type ``message_activity_report``, emulated from
the official description (docs/getresponse-api.md, "Custom reports").

- ``POST /custom-reports`` validates the body as the OpenAPI schema does (name 3–70
  characters, a known type, ``filters.activityType`` and ``filters.messageId`` required,
  ``scheduling`` ``one_time`` with ``Y-m-d`` dates) and answers 201 with the report. Only
  ``message_activity_report`` produces files; other types are refused as not emulated.
- A report's files are ``pending``, then ``in-progress``, then ``ready`` as the *sandbox*
  clock passes ``pending_seconds`` and ``generation_seconds`` after its creation. The file is
  written when the report becomes ready: the activities of the chosen messages and types from
  ``startDate`` 00:00:00 to ``endDate`` 23:59:59 that had happened by then, ``file_rows`` rows
  per file (more make several files).
- ``GET /custom-reports/{id}`` gives every file a ``downloadUrl`` made anew at each call and
  valid ``link_seconds`` (300: "valid for 5 minutes") on the sandbox clock. Files are served
  outside the API, from ``/__files__/custom-reports/…`` with a signature and no API key — as
  pre-signed storage links are; an expired or forged link is 403 with a storage-style XML
  body, a file past its ``expiresAt`` (``keep_days``) 404.
- ``available: false`` is a plan without custom reports: ``POST /custom-reports`` is 403 /
  1023. The real answer is not documented (an assumption, see the docs).
- Files are CSV with the header names in ``columns`` (what no public source gives is a choice
  of ours, configurable so that the job's reader is tested on other layouts), dates as
  ``YYYY-MM-DD HH:MM:SS`` in UTC, optionally gzip- or zip-compressed (``compression``).

Settings: ``/__sandbox__/config`` ``{"custom_reports": {...}}`` (see :class:`ReportRules`).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import hmac
import io
import json
import secrets
import shutil
import tempfile
import weakref
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from reconcile.sandbox.getresponse import validate
from reconcile.sandbox.getresponse.db import decode_id, encode_id, fmt_time, parse_time
from reconcile.sandbox.getresponse.errors import (
    GetResponseError,
    invalid,
    not_found,
    related_missing,
)
from reconcile.sandbox.getresponse.models import State, root_of
from reconcile.sandbox.getresponse.paging import Page, PageRequest

TYPES = (
    "subscription_rejections", "message_stats", "unsubscribe_contacts_lists_report",
    "standard_subscriber_activity_report", "bounces", "account_summary_report", "user_activity",
    "list_summary_report", "isp_message_stats_report", "webinar_participants_report",
    "import_error_report", "message_clicks_report", "unconfirmed_contacts_stats_report",
    "transactional_email_bounce_report", "message_activity_report",
)  # fmt: skip
ACTIVITY_TYPES = ("click", "open", "send")
# Our choice of header names (none is documented): what the web app's report fields are called.
COLUMNS = {
    "contact_id": "Contact ID",
    "email": "Email",
    "message_id": "Message ID",
    "message_name": "Message name",
    "activity": "Activity type",
    "date": "Activity date",
    "url": "Link URL",
}
FILES_PATH = "/__files__/custom-reports"


@dataclass
class ReportRules:
    """What ``/__sandbox__/config`` ``custom_reports`` sets."""

    available: bool = True  # False: the plan has no custom reports (403 / 1023)
    pending_seconds: float = 5.0
    generation_seconds: float = 20.0
    link_seconds: float = 300.0  # how long a downloadUrl works
    keep_days: float = 7.0  # expiresAt: the file is deleted after this
    file_rows: int = 1_000_000
    compression: str = "none"  # none | gzip | zip
    columns: dict[str, str] = field(default_factory=lambda: dict(COLUMNS))

    def update(self, data: dict[str, Any]) -> None:
        known = set(asdict(self))
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown custom_reports setting(s): {', '.join(sorted(unknown))}")
        for key, value in data.items():
            if key == "available" and not isinstance(value, bool):
                raise ValueError("available must be true or false")
            if key == "compression" and value not in ("none", "gzip", "zip"):
                raise ValueError("compression must be none, gzip or zip")
            if key == "columns":
                if not isinstance(value, dict) or not set(value) <= set(COLUMNS):
                    raise ValueError(f"columns maps {', '.join(COLUMNS)} to header names")
                value = {k: str(v) for k, v in value.items()}  # leaving one out drops it
            if key == "file_rows" and (not isinstance(value, int) or value < 1):
                raise ValueError("file_rows must be a positive integer")
            if key.endswith(("_seconds", "_days")):
                value = float(value)
                if value < 0:
                    raise ValueError(f"{key} cannot be negative")
            setattr(self, key, value)


class Reports:
    def __init__(self, state: State) -> None:
        self.s = state
        self.rules = ReportRules()
        self._key = secrets.token_bytes(16)  # signs download links
        self._path: Path | None = None  # made when a first file is written

    @property
    def folder(self) -> Path:
        """Where the files are written: a temporary folder removed with the sandbox."""
        if self._path is None:
            self._path = Path(tempfile.mkdtemp(prefix="grsb-reports-"))
            weakref.finalize(self, shutil.rmtree, self._path, ignore_errors=True)
        return self._path

    def reset(self) -> None:
        self.rules = ReportRules()
        if self._path is not None:
            for child in self._path.iterdir():
                child.unlink()

    # ---- creating ------------------------------------------------------------------------

    def create(self, body: Any, base: str) -> dict[str, Any]:
        if not self.rules.available:
            raise GetResponseError(
                1023,
                "Custom reports are not available in your pricing plan",
                {"feature": "custom-reports"},
                status=403,
            )
        body = validate.body_object(body)
        name = validate.string(body, "name", required=True, min_length=3, max_length=70)
        kind = body.get("type")
        if kind not in TYPES:
            raise invalid("type", f"Allowed types: {', '.join(TYPES)}", kind)
        if kind != "message_activity_report":
            raise invalid("type", "The sandbox emulates message_activity_report only", kind)
        start, end = _scheduling(body.get("scheduling"))
        kinds, messages = self._filters(body.get("filters"))
        with self.s.write() as conn:
            number, cid = self.s.insert(
                "custom_reports",
                "report",
                {
                    "name": name,
                    "type": kind,
                    "start_date": start,
                    "end_date": end,
                    "filters": json.dumps({"activityType": kinds, "messageId": messages}),
                    "created_on": self.s.clock(),
                },
            )
            conn.execute("UPDATE custom_reports SET cid = ? WHERE id = ?", (cid, number))
        return self.get(cid, base)

    def _filters(self, raw: Any) -> tuple[list[str], list[str]]:
        if not isinstance(raw, dict):
            raise invalid("filters", "This value should not be blank")
        kinds = raw.get("activityType")
        if not isinstance(kinds, list) or not kinds or any(k not in ACTIVITY_TYPES for k in kinds):
            raise invalid(
                "filters.activityType", f"Choose one or more of {', '.join(ACTIVITY_TYPES)}", kinds
            )
        messages = raw.get("messageId")
        if not isinstance(messages, list) or not messages:
            raise invalid("filters.messageId", "This value should not be blank", messages)
        for i, cid in enumerate(messages):
            number = decode_id("newsletter", str(cid)) or -1
            if not self.s.conn.execute(
                "SELECT 1 FROM newsletters WHERE id = ?", (number,)
            ).fetchone():
                raise related_missing(f"filters.messageId[{i}]", cid)
        return sorted(set(kinds)), [str(m) for m in dict.fromkeys(messages)]

    # ---- reading -------------------------------------------------------------------------

    def _row(self, cid: str) -> tuple[Any, ...]:
        number = decode_id("report", cid) or -1
        row = self.s.conn.execute(
            "SELECT id, cid, name, type, start_date, end_date, filters, created_on, generated_on"
            " FROM custom_reports WHERE id = ?",
            (number,),
        ).fetchone()
        if row is None:
            raise not_found(customReportId=cid)
        return row

    def _status(self, created: float) -> str:
        elapsed = self.s.clock() - created
        if elapsed < self.rules.pending_seconds:
            return "pending"
        if elapsed < self.rules.pending_seconds + self.rules.generation_seconds:
            return "in-progress"
        return "ready"

    def get(self, cid: str, base: str, fields: str | None = None) -> dict[str, Any]:
        number, cid, name, kind, start, end, filters, created, generated = self._row(cid)
        status = self._status(created)
        if status == "ready" and generated is None:
            generated = self._generate(number, start, end, json.loads(filters), created)
        doc: dict[str, Any] = {
            "customReportId": cid,
            "name": name,
            "href": f"{base}/custom-reports/{cid}",
            "type": kind,
            "scheduling": {
                "frequency": "one_time",
                "oneTime": {
                    "startDate": f"{start}T00:00:00+0000",
                    "endDate": f"{end}T23:59:59+0000",
                },
                "recurring": None,
            },
            "filters": json.loads(filters),
            "files": self._files(number, status, generated, root_of(base)),
            "createdAt": fmt_time(created),
        }
        if generated is not None:
            doc["generatedAt"] = fmt_time(generated)
        if fields:
            wanted = {f.strip() for f in fields.split(",")} | {"customReportId"}
            doc = {k: v for k, v in doc.items() if k in wanted}
        return doc

    def _files(
        self, number: int, status: str, generated: float | None, root: str
    ) -> list[dict[str, Any]]:
        if generated is None:
            return [
                {"customReportFileId": encode_id("reportfile", number * 1000), "status": status}
            ]
        now = self.s.clock()
        expires = generated + self.rules.keep_days * 86400
        files = []
        rows = self.s.conn.execute(
            "SELECT cid FROM custom_report_files WHERE report = ? ORDER BY id", (number,)
        ).fetchall()
        for (file_cid,) in rows:
            until = int(min(now + self.rules.link_seconds, expires))
            files.append(
                {
                    "customReportFileId": file_cid,
                    "downloadUrl": f"{root}{FILES_PATH}/{file_cid}"
                    f"?expires={until}&signature={self._sign(file_cid, until)}",
                    "status": "ready",
                    "expiresAt": fmt_time(expires),
                }
            )
        return files

    def page(self, params: Any, base: str) -> Page:
        for key in params:
            if key.startswith("query[") and key != "query[name]":
                from reconcile.sandbox.getresponse.errors import bad_filter

                raise bad_filter(key[6:-1])
        name = params.get("query[name]")
        rows = self.s.conn.execute(
            "SELECT id, cid, name, created_on, generated_on FROM custom_reports ORDER BY id"
        ).fetchall()
        items = [
            {
                "customReportId": cid,
                "name": report_name,
                "href": f"{base}/custom-reports/{cid}",
                "frequency": "one_time",
                "createdAt": fmt_time(created),
                **({"generatedAt": fmt_time(generated)} if generated is not None else {}),
            }
            for _, cid, report_name, created, generated in rows
            if not name or name.lower() in report_name.lower()
        ]
        for key, field_name in (("sort[name]", "name"), ("sort[generatedAt]", "generatedAt")):
            if params.get(key):
                items.sort(key=lambda i: i.get(field_name) or "", reverse=params[key] == "DESC")
        request = PageRequest.from_params(params)
        start = (request.number - 1) * request.size
        body = json.dumps(items[start : start + request.size], separators=(",", ":"))
        return Page(body, len(items), request)

    # ---- generating and serving files ----------------------------------------------------

    def _generate(
        self, number: int, start: str, end: str, filters: dict[str, Any], created: float
    ) -> float:
        """Write the report's file(s) as of the moment it became ready."""
        ready_at = created + self.rules.pending_seconds + self.rules.generation_seconds
        messages = [decode_id("newsletter", m) or -1 for m in filters["messageId"]]
        kinds = filters["activityType"]
        until = min(parse_time(f"{end}T23:59:59+00:00"), ready_at)
        cursor = self.s.conn.execute(
            "SELECT a.contact_cid, a.email, n.cid, coalesce(n.name, n.subject), a.activity,"
            " a.created_on, json_extract(a.click_track, '$.url')"
            " FROM activities a JOIN newsletters n ON n.id = a.newsletter"
            f" WHERE a.newsletter IN ({','.join('?' * len(messages))})"
            f" AND a.activity IN ({','.join('?' * len(kinds))})"
            " AND a.created_on >= ? AND a.created_on <= ? ORDER BY a.created_on, a.id",
            [*messages, *kinds, f"{start}T00:00:00+0000", fmt_time(until)],
        )
        columns = self.rules.columns
        order = [k for k in COLUMNS if k in columns]
        files: list[str] = []
        out: _FileWriter | None = None
        while True:
            batch = cursor.fetchmany(10_000)
            if not batch:
                break
            for row in batch:
                if out is None or out.rows == self.rules.file_rows:
                    if out is not None:
                        out.close()
                    files.append(encode_id("reportfile", number * 1000 + len(files) + 1))
                    out = _FileWriter(self.folder / files[-1], self.rules.compression)
                    out.header([columns[k] for k in order])
                out.row(row, order)
        if out is None:  # no activity: one file with the header line only
            files.append(encode_id("reportfile", number * 1000 + 1))
            out = _FileWriter(self.folder / files[-1], self.rules.compression)
            out.header([columns[k] for k in order])
        out.close()
        with self.s.write() as conn:
            conn.executemany(
                "INSERT INTO custom_report_files (report, cid) VALUES (?, ?)",
                [(number, f) for f in files],
            )
            conn.execute(
                "UPDATE custom_reports SET generated_on = ? WHERE id = ?", (ready_at, number)
            )
        return ready_at

    def _sign(self, file_cid: str, until: int) -> str:
        return hmac.new(self._key, f"{file_cid}:{until}".encode(), hashlib.sha256).hexdigest()[:32]

    def file(self, file_cid: str, expires: str | None, signature: str | None) -> tuple[int, bytes]:
        """(status, body) for a download link: the file, or a storage-style refusal."""
        try:
            until = int(expires or "")
        except ValueError:
            until = -1
        if not signature or not hmac.compare_digest(signature, self._sign(file_cid, until)):
            return 403, _storage_error("SignatureDoesNotMatch", "The request signature is invalid")
        if self.s.clock() > until:
            return 403, _storage_error("AccessDenied", "Request has expired")
        path = self.folder / file_cid
        if not path.is_file():
            return 404, _storage_error("NoSuchKey", "The specified key does not exist.")
        return 200, path.read_bytes()


def _scheduling(raw: Any) -> tuple[str, str]:
    if not isinstance(raw, dict):
        raise invalid("scheduling", "This value should not be blank")
    if raw.get("frequency") != "one_time":
        raise invalid("scheduling.frequency", "Allowed frequencies: one_time", raw.get("frequency"))
    dates = []
    for key in ("startDate", "endDate"):
        value = raw.get(key)
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            datetime.strptime(value, "%Y-%m-%d")
        except ValueError:
            raise invalid(f"scheduling.{key}", "Use the Y-m-d format (2024-07-01)", value) from None
        dates.append(value)
    if dates[1] < dates[0]:
        raise invalid("scheduling.endDate", "The end date is before the start date", dates[1])
    return dates[0], dates[1]


def _csv_time(value: str) -> str:
    """``2024-07-01T10:00:00+0000`` → ``2024-07-01 10:00:00`` (the sandbox stores UTC)."""
    return f"{value[:10]} {value[11:19]}"


def _storage_error(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error>"
    ).encode()


_INDEX = {"contact_id": 0, "email": 1, "message_id": 2, "message_name": 3, "activity": 4,
          "date": 5, "url": 6}  # fmt: skip


class _FileWriter:
    """One report file, written row by row (plain, gzip or a zip with one CSV member)."""

    def __init__(self, path: Path, compression: str) -> None:
        self.rows = 0
        self._raw = path.open("wb")
        self._archive: zipfile.ZipFile | None = None
        binary: Any = self._raw
        if compression == "gzip":
            binary = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=1)
        elif compression == "zip":
            self._archive = zipfile.ZipFile(self._raw, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
            binary = self._archive.open(f"{path.name}.csv", "w", force_zip64=True)
        self._binary = binary
        self._text = io.TextIOWrapper(binary, "utf-8", newline="")
        self._csv = csv.writer(self._text, lineterminator="\r\n")

    def header(self, names: list[str]) -> None:
        self._csv.writerow(names)

    def row(self, row: tuple[Any, ...], order: list[str]) -> None:
        values = list(row)
        values[5] = _csv_time(values[5])
        self._csv.writerow(["" if values[_INDEX[k]] is None else values[_INDEX[k]] for k in order])
        self.rows += 1

    def close(self) -> None:
        self._text.flush()
        self._text.detach()
        if self._binary is not self._raw:
            self._binary.close()
        if self._archive is not None:
            self._archive.close()
        self._raw.close()
