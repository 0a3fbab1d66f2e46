"""What a GetResponse activity becomes in the CRM, decided without I/O: its deterministic id,
its record's body, what a record costs in storage, and the spool files that carry a million
activities from one step of a run to the next without holding them in memory.

**Ids.** An activity is identified by its contact, message, type, time (to the second, UTC)
and — for clicks — URL: ``activity_id`` hashes them (SHA-256, 32 hex digits), so the bulk path,
the fallback endpoints and ``reconcile listen`` give one activity the same id, and re-reading a
window finds every record by its alternate key instead of writing it again. Aggregated
records (``activities.aggregate``: one per contact × message × type, with a count) have ids of
their own (``ag`` + 30 digits), so that switching the setting never mixes the two.
"""

from __future__ import annotations

import hashlib
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconcile.dataverse import schema as s
from reconcile.model import SyncStatus

TABLE = s.ACTIVITIES
KINDS = ("send", "open", "click")
SYNCHRONIZED = s.SYNC_STATUS_VALUES[SyncStatus.SYNCHRONIZED]
TYPE_VALUES = s.ACTIVITY_TYPES
KIND_OF_VALUE = {v: k for k, v in TYPE_VALUES.items()}
# A callback dated when it was received, or a webhook and a report disagreeing by a little:
# the same activity if contact, message, type and URL agree and the times are this close.
TOLERANCE = 600
# Storage, estimated (Microsoft publishes no per-row figure): a row's system columns, its
# primary key, three lookups, the alternate key and lookup indexes come to about this much,
# and text takes two bytes a character (nvarchar) in the row and again in an index on it.
ROW_BYTES = 800
SOURCES = ("report", "messages", "contacts", "callback")


def activity_id(contact_id: str, message_id: str, kind: str, at: int, url: str | None) -> str:
    text = "\x1f".join((contact_id, message_id, kind, str(at), url or ""))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def aggregate_id(contact_id: str, message_id: str, kind: str) -> str:
    text = "\x1f".join(("aggregate", contact_id, message_id, kind))
    return "ag" + hashlib.sha256(text.encode()).hexdigest()[:30]


def digest(key: str) -> bytes:
    """A record key in 16 bytes, for the sets of keys a run holds (a million of them)."""
    return hashlib.blake2b(key.encode(), digest_size=16).digest()


def iso(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(text: str) -> int:
    """Epoch seconds of a Dataverse DateTime value (``2026-12-07T10:00:00Z``)."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


@dataclass(frozen=True, slots=True)
class Links:
    """What an activity's record points at (primary ids; None when there is none)."""

    contact_record: str  # the GetResponse Contact record
    crm_contact: str | None
    newsletter: str | None


@dataclass(frozen=True, slots=True)
class Activity:
    contact_id: str
    message_id: str
    kind: str
    at: int  # epoch seconds, UTC
    url: str | None = None

    @property
    def key(self) -> str:
        return activity_id(self.contact_id, self.message_id, self.kind, self.at, self.url)

    @property
    def group(self) -> tuple[str, str, str, str]:
        """What two sightings of one activity share even when their times differ."""
        return (self.contact_id, self.message_id, self.kind, self.url or "")


def binds(links: Links) -> dict[str, Any]:
    out: dict[str, Any] = {
        "grc_GetResponseContactId@odata.bind": f"/grc_getresponsecontacts({links.contact_record})"
    }
    if links.crm_contact:
        out["grc_ContactId@odata.bind"] = f"/contacts({links.crm_contact})"
    if links.newsletter:
        out["grc_NewsletterId@odata.bind"] = f"/grc_getresponsenewsletters({links.newsletter})"
    return out


def body(
    activity: Activity,
    name: str | None,
    links: Links,
    source: str,
    *,
    key: str | None = None,
    count: int = 1,
    first: int | None = None,
    last: int | None = None,
) -> dict[str, Any]:
    """The GetResponse Activity record of ``activity`` (or of an aggregate: ``key``, ``count``
    and the first and last times it covers)."""
    out = {
        "grc_getresponseid": key or activity.key,
        "grc_name": (name or f"message {activity.message_id}")[:200],
        "grc_activitytype": TYPE_VALUES[activity.kind],
        "grc_activitydate": iso(first if first is not None else activity.at),
        "grc_lastactivitydate": iso(last if last is not None else activity.at),
        "grc_url": activity.url[:2000] if activity.url else None,
        "grc_messageid": activity.message_id,
        "grc_contactgetresponseid": activity.contact_id,
        "grc_count": count,
        "grc_source": source,
        "grc_synchronizationstatus": SYNCHRONIZED,
    }
    out.update(binds(links))
    return out


def storage_bytes(record: dict[str, Any]) -> int:
    """An estimate of the database capacity a record takes (see ``ROW_BYTES``)."""
    text = sum(len(v) for k, v in record.items() if isinstance(v, str) and "@" not in k)
    return ROW_BYTES + 2 * text + 2 * len(str(record.get("grc_getresponseid", "")))


def describe_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


class Spool:
    """Rows of text fields on an anonymous temporary file (gone with the process, even when
    it is killed): what a run reads, and what it will write, without holding it in memory."""

    def __init__(self) -> None:
        # an anonymous file for the spool's lifetime: no context manager can hold it
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.count = 0
        # closed with the plan that holds it: a plan has no end of its own to close it at
        weakref.finalize(self, self._file.close)

    def add(self, *fields: object) -> None:
        self._file.write(
            "\t".join(
                "" if f is None else str(f).replace("\t", "%09").replace("\n", "%0A")
                for f in fields
            )
            + "\n"
        )
        self.count += 1

    def __iter__(self) -> Iterator[list[str | None]]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield [f or None for f in line.rstrip("\n").split("\t")]
        self._file.seek(0, 2)

    def close(self) -> None:
        self._file.close()
