"""The GetResponse Contact and Custom Field records ``sync contacts`` wants (SPEC 5.2), and
how they differ from what Dynamics holds.

Pure functions, no I/O: every rule of "write only what changed" is decided here, from a
GetResponse contact as read (:class:`Seen`) and the record as Dynamics returned it. Values
are compared as Dynamics stores them (names cut to the column lengths, dates in UTC seconds,
scoring rounded), the way the migration writes them, so that a contact read again — or a
change to something the CRM does not hold (a note, the autoresponder day) — costs no write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.getresponse.records import Contact, CustomFieldValue
from reconcile.jobs.sync import records as r
from reconcile.model import SyncStatus

RECORDS, FIELDS = s.CONTACTS, s.CUSTOM_FIELDS
LINK = "_grc_contactid_value"
LIST = "_grc_getresponselistid_value"
OWNER = "_grc_getresponsecontactid_value"
RECORD_COLUMNS = (
    RECORDS.primary_id, "grc_getresponseid", "grc_name", "grc_email", "grc_engagementscore",
    "grc_scoringpoints", "grc_origin", "grc_createdingetresponseon", "grc_tags", r.STATUS,
    r.ERROR_TEXT, "statecode", LINK, LIST,
)  # fmt: skip
FIELD_COLUMNS = (
    FIELDS.primary_id, "grc_getresponseid", "grc_contactgetresponseid", "grc_name", "grc_value",
    "grc_fieldtype", r.STATUS, r.ERROR_TEXT, "statecode", LINK, OWNER,
)  # fmt: skip
LABELS = {
    "grc_name": "name",
    "grc_email": "email",
    "grc_engagementscore": "engagement score",
    "grc_scoringpoints": "scoring points",
    "grc_origin": "origin",
    "grc_createdingetresponseon": "created on",
    "grc_tags": "tags",
}
SYNCHRONIZED = r.status_value(SyncStatus.SYNCHRONIZED)
NEW = r.status_value(SyncStatus.NEW)
DELETED = r.status_value(SyncStatus.DELETED_IN_GETRESPONSE)
ERROR = r.status_value(SyncStatus.ERROR)


@dataclass(slots=True)
class Seen:
    """A GetResponse contact as read, reduced to what the records hold (a million of these
    must fit in memory: no raw API dict)."""

    contact_id: str
    campaign_id: str
    email: str
    name: str | None
    origin: str | None
    created_on: dt.datetime | None
    scoring: float | None
    engagement_score: int | None
    fields: tuple[CustomFieldValue, ...] | None  # None: not read (custom fields not sent)
    tags: tuple[str, ...] | None = None  # names, sorted; None: not read (tags not sent)

    @classmethod
    def from_contact(cls, contact: Contact, *, with_fields: bool) -> Seen:
        return cls(
            contact.contact_id,
            contact.campaign_id or "",
            contact.email,
            contact.name,
            contact.origin,
            contact.created_on,
            contact.scoring,
            contact.engagement_score,
            contact.custom_field_values if with_fields else None,
        )

    @property
    def key(self) -> str:
        return s.getresponse_key(self.contact_id)

    def label(self) -> str:
        return f"GetResponse contact {self.email or self.contact_id} ({self.contact_id})"


def _utc(moment: dt.datetime | str | None) -> str | None:
    if moment is None or moment == "":
        return None
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return r.sync_time(moment)


def record_values(seen: Seen, *, send_tags: bool) -> dict[str, Any]:
    """The mapped columns of a contact's record (SPEC 5.2), as the migration writes them."""
    values: dict[str, Any] = {
        "grc_name": (seen.name or seen.email or seen.contact_id)[:200],
        "grc_email": seen.email[:100] or None,
        "grc_engagementscore": seen.engagement_score,
        "grc_scoringpoints": round(seen.scoring) if seen.scoring is not None else None,
        "grc_origin": seen.origin[:100] if seen.origin else None,
        "grc_createdingetresponseon": _utc(seen.created_on),
    }
    if send_tags and seen.tags is not None:
        values["grc_tags"] = ", ".join(seen.tags)[: r.MAX_MEMO] or None
    return values


def _same(column: str, stored: Any, wanted: Any) -> bool:
    if column == "grc_createdingetresponseon":
        return _utc(stored) == wanted
    if stored == "":
        stored = None
    return bool(stored == wanted)


def _guid(value: Any) -> str | None:
    return str(value).lower() if value else None


@dataclass(frozen=True)
class Decision:
    """What to write for one contact (``body`` None: nothing) and why, in words."""

    body: dict[str, Any] | None
    why: str
    new: bool = False


def plan_record(
    seen: Seen,
    current: Mapping[str, Any] | None,
    *,
    list_record_id: str,
    list_name: str,
    link: str | None,
    send_tags: bool,
    at: str,
) -> Decision:
    """The record a contact needs: created when missing, refreshed when a mapped value, its
    list or its status differs. ``link`` is the CRM contact to bind when it changes (a new
    link, or the master after a merge), None to leave the record's link as it is.

    The error text is cleared only on a record in Error; another job's note on a healthy
    record (``sync lists``: "No longer on marketing list …") is left alone, as is a record an
    administrator made inactive."""
    values = record_values(seen, send_tags=send_tags)
    linked = link or (_guid(current.get(LINK)) if current else None)
    status = SYNCHRONIZED if linked else NEW
    body: dict[str, Any] = {
        "grc_getresponseid": seen.key,
        **values,
        "grc_GetResponseListId@odata.bind": f"/{q.record_path(s.LISTS.entity_set, list_record_id)}",
        r.STATUS: status,
        "grc_lastsynchronizedon": at,
    }
    failed = current is not None and current.get(r.STATUS) == ERROR
    if failed:  # the contact is fine in GetResponse: the error is over
        body[r.ERROR_TEXT] = None
    if link:
        body["grc_ContactId@odata.bind"] = f"/{q.record_path('contacts', link)}"
    if current is None:
        return Decision(body, f"new in GetResponse list {list_name!r}", new=True)
    changed = [
        LABELS[column]
        for column, value in values.items()
        if not _same(column, current.get(column), value)
    ]
    if _guid(current.get(LIST)) != list_record_id.lower():
        changed.append(f"list (now {list_name!r})")
    if link and _guid(current.get(LINK)) != link.lower():
        changed.append("CRM contact")
    if current.get(r.STATUS) != status:
        changed.append("status")
    if not changed:
        return Decision(None, "unchanged")
    return Decision(body, ", ".join(changed) + " changed")


def gone_body(record_id: str, reason: str, at: str) -> dict[str, Any]:
    """SPEC 8.3: Deleted in GetResponse, never synchronized again (the reason in the error
    text); the record stays, with its link and history, on the CRM contact."""
    return {
        RECORDS.primary_id: record_id,
        r.STATUS: DELETED,
        r.ERROR_TEXT: r.error_text(reason),
        "grc_lastsynchronizedon": at,
    }


# --- custom field values ----------------------------------------------------------------
def wanted_fields(
    seen: Seen, names: frozenset[str]
) -> dict[str, tuple[str, str | None, str | None]]:
    """Field id → (name, type, value) of the contact's values that are sent (``names``
    casefolded; empty: all), values joined as the migration joins them."""
    out: dict[str, tuple[str, str | None, str | None]] = {}
    for value in seen.fields or ():
        if names and (value.name or "").casefold() not in names:
            continue
        text = "; ".join(value.values)[: r.MAX_MEMO] or None
        out[value.custom_field_id] = (
            (value.name or value.custom_field_id)[:128],
            (value.type or "")[:50] or None,
            text,
        )
    return out


def plan_fields(
    seen: Seen,
    wanted: Mapping[str, tuple[str, str | None, str | None]],
    current: Mapping[str, Mapping[str, Any]],
    *,
    link: str | None,
    left_out: frozenset[str] = frozenset(),
) -> tuple[list[tuple[dict[str, Any], str]], list[tuple[dict[str, Any], str]]]:
    """``(upserts, removals)`` of one contact's Custom Field records, each with why.

    A value GetResponse no longer has (or one the settings stopped sending: ``left_out``
    names the field ids) is not left stale: its record is emptied, made inactive and marked
    Deleted in GetResponse. ``link`` is the CRM contact the values show on."""
    upserts: list[tuple[dict[str, Any], str]] = []
    owner = q.record_path(RECORDS.entity_set, {"grc_getresponseid": seen.key})
    for field_id, (name, kind, value) in wanted.items():
        body: dict[str, Any] = {
            "grc_getresponseid": s.getresponse_key(field_id),
            "grc_contactgetresponseid": seen.key,
            "grc_name": name,
            "grc_value": value,
            "grc_fieldtype": kind,
            r.STATUS: SYNCHRONIZED,
            r.ERROR_TEXT: None,
            "grc_GetResponseContactId@odata.bind": f"/{owner}",
            **r.ACTIVE,
        }
        if link:
            body["grc_ContactId@odata.bind"] = f"/{q.record_path('contacts', link)}"
        row = current.get(field_id)
        if row is None:
            upserts.append((body, f"{name}: new value"))
            continue
        changed = [
            label
            for label, column, wanted_value in (
                ("value", "grc_value", value),
                ("name", "grc_name", name),
                ("type", "grc_fieldtype", kind),
            )
            if not _same(column, row.get(column), wanted_value)
        ]
        if row.get(r.STATUS) != SYNCHRONIZED or row.get(r.ERROR_TEXT) or row.get("statecode"):
            changed.append("status")
        if (link or None) != _guid(row.get(LINK)) or not row.get(OWNER):
            changed.append("links")
        if changed:
            upserts.append((body, f"{name}: {', '.join(changed)} changed"))
    removals = []
    for field_id, row in current.items():
        if field_id in wanted or (row.get(r.STATUS) == DELETED and row.get("statecode") == 1):
            continue
        reason = (
            "No longer synchronized: the sync.custom_fields setting leaves this field out."
            if field_id in left_out
            else "Removed in GetResponse: the contact no longer has a value for this field."
        )
        removals.append((field_gone_body(row, reason), f"{row.get('grc_name')}: {reason}"))
    return upserts, removals


def field_gone_body(row: Mapping[str, Any], reason: str) -> dict[str, Any]:
    return {
        FIELDS.primary_id: row[FIELDS.primary_id],
        "grc_value": None,
        r.STATUS: DELETED,
        r.ERROR_TEXT: r.error_text(reason),
        **r.INACTIVE,
    }
