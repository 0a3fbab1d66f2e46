"""SPEC 8.3: contacts deleted in GetResponse, found by a cheap id-only scan of each list at
its own cadence (``contacts.deletion_scan``, default daily) — GetResponse lists no deletions.

The scan reads the list's contact ids (``fields=contactId``, 1000 a page: 1,000 requests for
a million contacts) and the list's GetResponse Contact records not yet marked (ids only,
5000 a page); a record whose contact is not in the list any more is checked (see
:func:`~reconcile.jobs.sync.contact_reads.verify_missing`) before it is marked **Deleted in
GetResponse**, because the mark is for good: such a record is never synchronized again.

Consent (``contacts.unsubscribe_sets_donotbulkemail``, off by default): a contact that left
the list because it unsubscribed (``POST /search-contacts/contacts`` with
``subscribersType: removed`` says ``reason: unsubscribe``) can set *Do not allow Bulk Emails*
on its CRM contact. Only ever set, never cleared: nobody is re-subscribed by a sync.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.errors import ConfigError
from reconcile.getresponse.confirm import explain_missing
from reconcile.getresponse.records import Contact
from reconcile.jobs.sync import contact_records as cr
from reconcile.jobs.sync import records as r
from reconcile.jobs.sync.contact_reads import list_ids, verify_missing
from reconcile.jobs.sync.context import SyncContext

UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
SCAN_COLUMNS = (cr.RECORDS.primary_id, "grc_getresponseid", "grc_email", cr.LINK)


def cadence(text: str) -> dt.timedelta | None:
    """``contacts.deletion_scan``: ``30m``, ``12h``, ``1d``, ``1w`` — or ``off``/``never``
    (None: no scan unless ``--full``). ``0`` scans on every run."""
    value = text.strip().lower()
    if value in ("off", "never", "no", "false"):
        return None
    if value in ("0", "always"):
        return dt.timedelta(0)
    match = re.fullmatch(r"(\d+)\s*([mhdw])", value)
    if not match:
        raise ConfigError(
            f"contacts.deletion_scan is {text!r}, which is not a duration.",
            hint='Use a number and a unit — "30m", "12h", "1d", "1w" — or "off".',
        )
    return dt.timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)])


@dataclass
class ScanResult:
    gone: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)  # id → (row, why)
    moved: dict[str, tuple[dict[str, Any], Contact]] = field(
        default_factory=dict
    )  # in another list
    unsubscribed: dict[str, str] = field(default_factory=dict)  # id → CRM contact to opt out
    scanned: int = 0


def scan_list(
    ctx: SyncContext,
    record_id: str,
    campaign_id: str,
    name: str,
    *,
    skip: set[str],
    consent: bool,
    at: str,
    present: set[str] | None = None,
) -> ScanResult:
    """Records of the list whose GetResponse contact is gone (``skip``: ids this run has
    already seen alive, anywhere; ``present``: the list's ids when this run read the whole
    list anyway — no second read)."""
    result = ScanResult()
    if present is None:
        present = list_ids(ctx.gr, campaign_id, progress=ctx.progress)
    result.scanned = len(present)
    condition = q.eq(cr.LIST, q.as_guid(record_id)) & q.ne(r.STATUS, cr.DELETED)
    rows: dict[str, dict[str, Any]] = {}  # only the records whose contact is missing
    query = q.Query(select=SCAN_COLUMNS, filter=condition)
    for row in ctx.dv.query(cr.RECORDS.entity_set, query):
        contact_id = s.getresponse_id(str(row.get("grc_getresponseid") or ""))
        if contact_id and contact_id not in present and contact_id not in skip:
            rows[contact_id] = row
    del present  # a million ids: not needed any more
    if rows:
        _judge(ctx, campaign_id, name, rows, consent, f"scan of {at}", result)
    return result


def check_reported(
    ctx: SyncContext,
    record_id: str,
    campaign_id: str,
    name: str,
    contact_ids: set[str],
    *,
    consent: bool,
    at: str,
) -> ScanResult:
    """The records of contacts GetResponse's callbacks said left the list (an unsubscribe,
    a removal), checked now instead of at the next scan: the same checks and marks as the
    scan's, for those contacts only (one details request each, see ``verify_missing``)."""
    result = ScanResult()
    keys = [s.getresponse_key(i) for i in sorted(contact_ids)]
    condition = q.eq(cr.LIST, q.as_guid(record_id)) & q.ne(r.STATUS, cr.DELETED)
    rows = {
        s.getresponse_id(str(row["grc_getresponseid"])): row
        for row in r.read_where_in(
            ctx, cr.RECORDS.entity_set, SCAN_COLUMNS, "grc_getresponseid", keys, condition=condition
        )
    }
    result.scanned = len(rows)
    if rows:
        _judge(ctx, campaign_id, name, rows, consent, f"reported by GetResponse, checked {at}",
               result)  # fmt: skip
    return result


def _judge(
    ctx: SyncContext,
    campaign_id: str,
    name: str,
    rows: dict[str, dict[str, Any]],
    consent: bool,
    when: str,
    result: ScanResult,
) -> None:
    """Records whose contact is not in the list: verified one by one (gone, or moved to
    another list), the reason asked when consent follows unsubscribes."""
    gone, moved = verify_missing(ctx.gr, campaign_id, set(rows), progress=ctx.progress)
    result.moved = {i: (rows[i], contact) for i, contact in moved.items()}
    reasons: dict[str, str] = {}
    if consent and gone:
        emails = {i: str(rows[i].get("grc_email") or "") for i in gone}
        found = explain_missing(ctx.gr, campaign_id, sorted(e for e in emails.values() if e))
        by_email = {e.casefold(): why for e, why in found.items()}
        reasons = {i: by_email.get(e.casefold(), "") for i, e in emails.items() if e}
    for contact_id in sorted(gone):
        row = rows[contact_id]
        why = reasons.get(contact_id, "")
        if why == "removed: unsubscribe":
            text = f"Unsubscribed in GetResponse: no longer in list {name!r} ({when})."
            if row.get(cr.LINK):
                result.unsubscribed[contact_id] = str(row[cr.LINK]).lower()
        else:
            detail = f" ({why})" if why else ""
            text = f"Deleted in GetResponse: no longer in list {name!r}{detail} ({when})."
        result.gone[contact_id] = (row, text)
