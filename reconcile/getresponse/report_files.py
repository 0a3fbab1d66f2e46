"""Reading a ``message_activity_report`` file, streamed, whatever its exact layout.

GetResponse documents that custom report files are CSV, and nothing more: no public source
(the OpenAPI description, the case studies, the help centre, public code and issues — see
docs/getresponse-api.md, "Custom reports") gives their columns, their order, their date format
or whether they are compressed. So this reader assumes as little as it can:

- compression is sniffed from the first bytes: gzip (``1f 8b``), zip (``PK``: every ``.csv``
  member, in order) or none;
- the text is UTF-8 (a byte-order mark is skipped); the delimiter is whichever of ``,`` ``;``
  tab the header line uses most;
- columns are found **by name**, compared without case, spaces or punctuation, against the
  names such a report may plausibly use (``ALIASES``: "Contact ID", ``contact_id``,
  ``subscriberId`` …); their order does not matter and unknown columns are ignored;
- a date without an offset is UTC (the API's default zone); a separate time column is joined
  to a date-only one;
- activity types are ``send``/``open``/``click`` or their past forms; other rows (bounces,
  unsubscribes) are counted and skipped.

A file without a contact (id or email), a message, an activity type or a date column stops
the run with :class:`ReportLayoutError`, which names the file, the headers found and what is
missing, and says how to read the activity endpoints instead (``activities.source = "api"``).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

from reconcile.getresponse.errors import UnexpectedResponse

FIELDS = ("contact_id", "email", "message_id", "message_name", "kind", "at", "time", "url")
ALIASES: dict[str, tuple[str, ...]] = {
    "contact_id": ("contactid", "subscriberid", "contactsid", "contactidentifier"),
    "email": ("email", "emailaddress", "contactemail", "subscriberemail", "mail"),
    "message_id": ("messageid", "newsletterid", "resourceid", "msgid", "emailid"),
    "message_name": (
        "messagename", "newslettername", "message", "newsletter", "messagesubject", "subject",
        "emailname",
    ),
    "kind": ("activitytype", "activity", "type", "action", "event", "eventtype", "activityname"),
    "at": (
        "activitydate", "activitydatetime", "activitytime", "date", "datetime", "createdon",
        "createdat", "occurredat", "eventdate", "eventtime", "timestamp",
    ),
    "time": ("time", "hour"),
    "url": ("url", "link", "linkurl", "clickedurl", "clickurl", "clicktrackurl", "clickedlink",
            "clickedlinkurl", "targeturl"),
}  # fmt: skip
KINDS = {
    "send": "send", "sent": "send", "sends": "send",
    "open": "open", "opened": "open", "opens": "open",
    "click": "click", "clicked": "click", "clicks": "click", "linkclick": "click",
}  # fmt: skip
_NORMALIZE = re.compile(r"[^a-z0-9]")
_GZIP, _ZIP = b"\x1f\x8b", b"PK\x03\x04"


class ReportLayoutError(UnexpectedResponse):
    """A report file whose columns are not understood."""


def normalize(header: str) -> str:
    return _NORMALIZE.sub("", header.strip().lower())


@dataclass(frozen=True)
class Layout:
    """Which column holds each field (index), found from the header line."""

    columns: dict[str, int]
    headers: tuple[str, ...]

    @classmethod
    def of(cls, headers: list[str], where: str) -> Layout:
        found: dict[str, int] = {}
        names = [normalize(h) for h in headers]
        for name in FIELDS:
            for alias in ALIASES[name]:
                if alias in names and names.index(alias) not in found.values():
                    found[name] = names.index(alias)
                    break
        if "at" not in found and "time" in found:  # a date-time in a column named "Time"
            found["at"] = found.pop("time")
        missing = []
        if "contact_id" not in found and "email" not in found:
            missing.append("a contact (contact id or email)")
        if "message_id" not in found:
            missing.append("a message id")
        if "kind" not in found:
            missing.append("an activity type")
        if "at" not in found:
            missing.append("a date")
        if missing:
            raise ReportLayoutError(
                f"{where}: the columns of this custom report file are not understood: it has "
                f"{', '.join(repr(h) for h in headers) or 'no header line'}, and no column for "
                f"{', '.join(missing)}.",
                hint="GetResponse does not document these files, and this layout is new: set "
                'activities.source = "api" to read the activity endpoints instead, and report '
                "the header line above so that the reader learns it.",
            )
        return cls(found, tuple(headers))


@dataclass
class FileStats:
    rows: int = 0
    skipped_kinds: dict[str, int] = field(default_factory=dict)  # bounce, unsubscribe …
    bad_dates: int = 0


Row = tuple[str | None, str | None, str, str | None, str, int, str | None]
# contact id, email, message id, message name, kind, epoch seconds (UTC), url


def _texts(handle: BinaryIO) -> Iterator[io.TextIOBase]:
    handle.seek(0)
    magic = handle.read(4)
    handle.seek(0)
    if magic.startswith(_GZIP):
        with gzip.GzipFile(fileobj=handle) as unpacked:  # closing it leaves ``handle`` open
            yield from _wrapped(unpacked)
    elif magic.startswith(_ZIP):
        with zipfile.ZipFile(handle) as archive:
            members = [i for i in archive.infolist() if not i.is_dir()]
            csvs = [i for i in members if i.filename.lower().endswith(".csv")] or members
            for info in csvs:
                with archive.open(info) as member:
                    yield from _wrapped(member)
    else:
        yield from _wrapped(handle)


def _wrapped(binary: Any) -> Iterator[io.TextIOBase]:
    """Text over ``binary`` that never closes it (the caller owns the file)."""
    text = io.TextIOWrapper(binary, "utf-8-sig", newline="")
    try:
        yield text
    finally:
        text.detach()


def _delimiter(line: str) -> str:
    return max((",", ";", "\t"), key=line.count)


def parse_time(value: str, time_part: str | None = None) -> int:
    """Epoch seconds (UTC) of a report date; a naive one is UTC. Raises ValueError."""
    text = value.strip()
    if time_part and len(text) == 10:
        text = f"{text}T{time_part.strip()}"
    moment = datetime.fromisoformat(text.replace(" UTC", "").replace(" GMT", ""))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def read_rows(handle: BinaryIO, where: str, stats: FileStats | None = None) -> Iterator[Row]:
    """Every activity row of the report file in ``handle`` (seekable), streamed."""
    stats = stats if stats is not None else FileStats()
    for text in _texts(handle):
        first = text.readline()
        if not first.strip():
            continue
        delimiter = _delimiter(first)
        headers = next(csv.reader([first], delimiter=delimiter))
        layout = Layout.of(headers, where)
        c = layout.columns
        i_contact, i_email = c.get("contact_id"), c.get("email")
        i_message, i_name, i_kind = c["message_id"], c.get("message_name"), c["kind"]
        i_at, i_time, i_url = c["at"], c.get("time"), c.get("url")
        width = max(c.values()) + 1
        for values in csv.reader(text, delimiter=delimiter):
            if len(values) < width:
                if not any(v.strip() for v in values):
                    continue
                values = values + [""] * (width - len(values))
            stats.rows += 1
            raw_kind = values[i_kind].strip().lower()
            kind = KINDS.get(raw_kind) or KINDS.get(normalize(raw_kind))
            if kind is None:
                stats.skipped_kinds[raw_kind] = stats.skipped_kinds.get(raw_kind, 0) + 1
                continue
            try:
                at = parse_time(values[i_at], values[i_time] if i_time is not None else None)
            except ValueError:
                stats.bad_dates += 1
                continue
            yield (
                (values[i_contact].strip() or None) if i_contact is not None else None,
                (values[i_email].strip().lower() or None) if i_email is not None else None,
                values[i_message].strip(),
                (values[i_name].strip() or None) if i_name is not None else None,
                kind,
                at,
                (values[i_url].strip() or None) if i_url is not None else None,
            )
