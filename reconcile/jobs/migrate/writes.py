"""The bodies ``apply`` sends (one function per table), and the run report built from the
journal's outcomes — so that a resumed run reports the whole run, not only its last part."""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from typing import Any

from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.jobs.migrate.plan import Plan, PlanList, RecordWrite
from reconcile.jobs.migrate.report import Failure, RunReport
from reconcile.model import SyncStatus
from reconcile.state import DONE, FAILED

LISTS, RECORDS, FIELDS = s.LISTS, s.CONTACTS, s.CUSTOM_FIELDS
STATUS = "grc_synchronizationstatus"
ERROR_TEXT = "grc_synchronizationerror"
MAX_MEMO = 4000

DUPLICATE_ACTION = (
    "Link this GetResponse contact to the existing CRM contact instead (Decision link, CRM "
    "Contact = its id; run 'reconcile migrate plan' again to get it among the Candidates), or "
    "apply with --allow-duplicates to create a second contact."
)
DETECTED_ACTION = (
    "Dynamics' duplicate detection rules found a contact like this one: merge or correct the "
    "contacts in Dynamics, or apply with --allow-duplicates."
)
IN_PLAN_ACTION = (
    "Two GetResponse contacts with this email have different names: link this one to the "
    "contact the other becomes (apply, run plan again, choose link), or apply with "
    "--allow-duplicates."
)
RETRY_ACTION = "Correct what the message names, then run the same apply again: it retries."


def status_value(status: SyncStatus) -> int:
    return s.SYNC_STATUS_VALUES[status]


def _utc(text: str | None) -> str | None:
    if not text:
        return None
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def list_body(item: PlanList, at: str) -> dict[str, Any]:
    """A GetResponse List record for a list that exists in GetResponse (SPEC 4.3 states)."""
    return {
        LISTS.primary_id: item.record_id,
        "grc_name": item.name[:64],
        "grc_getresponseid": s.getresponse_key(item.campaign_id),
        "grc_iscreatedingetresponse": True,
        STATUS: status_value(SyncStatus.CREATED_IN_GETRESPONSE),
        "grc_lastsynchronizedon": at,
    }


def contact_body(contact: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "contactid": contact.contact_id,
        "lastname": contact.last_name,
        "emailaddress1": contact.email,
    }
    if contact.first_name:
        body["firstname"] = contact.first_name
    return body


def _data(record: RecordWrite) -> dict[str, Any]:
    return json.loads(record.data) if record.data else {}


@lru_cache(maxsize=1024)
def _list_bind(list_id: str) -> str:
    return f"/{q.record_path(LISTS.entity_set, list_id)}"


def record_body(
    record: RecordWrite, list_id: str, link: str | None, error: str | None, at: str
) -> dict[str, Any]:
    """A GetResponse Contact record (SPEC 5.2): linked → Synchronized; not linked because of
    a problem → Error with the reason; otherwise New ("without CRM contact")."""
    status = SyncStatus.SYNCHRONIZED if link else SyncStatus.ERROR if error else SyncStatus.NEW
    body: dict[str, Any] = {
        "grc_getresponseid": s.getresponse_key(record.gr_id),
        "grc_name": (record.name or record.email or record.gr_id)[:200],
        "grc_email": record.email[:100] or None,
        "grc_GetResponseListId@odata.bind": _list_bind(list_id),
        STATUS: status_value(status),
        ERROR_TEXT: error[:MAX_MEMO] if error else None,
        "grc_lastsynchronizedon": at,
    }
    if link:
        body["grc_ContactId@odata.bind"] = f"/{q.record_path('contacts', link)}"
    data = _data(record)
    if data:
        score, points = data.get("score"), data.get("points")
        body["grc_engagementscore"] = int(score) if score is not None else None
        body["grc_scoringpoints"] = round(float(points)) if points is not None else None
        body["grc_origin"] = (data.get("origin") or None) and str(data["origin"])[:100]
        body["grc_createdingetresponseon"] = _utc(data.get("created"))
        if "tags" in data:
            body["grc_tags"] = ", ".join(data["tags"])[:MAX_MEMO] or None
    return body


def field_values(data: str) -> list[list[Any]]:
    """``[id, name, type, values]`` of each custom field value in a record's data."""
    return list(json.loads(data).get("fields") or []) if data else []


def field_body(record: RecordWrite, value: list[Any], link: str | None) -> dict[str, Any]:
    """One GetResponse Custom Field record: a value of one contact (SPEC 5.2), linked to its
    GetResponse Contact record (by that record's alternate key) and to the CRM contact."""
    field_id, name, kind, values = value
    body: dict[str, Any] = {
        "grc_getresponseid": s.getresponse_key(field_id),
        "grc_contactgetresponseid": s.getresponse_key(record.gr_id),
        "grc_name": (name or field_id)[:128],
        "grc_value": "; ".join(str(v) for v in values)[:MAX_MEMO] or None,
        "grc_fieldtype": (kind or "")[:50] or None,
        STATUS: status_value(SyncStatus.SYNCHRONIZED),
        "grc_GetResponseContactId@odata.bind": "/"
        + q.record_path(RECORDS.entity_set, {"grc_getresponseid": s.getresponse_key(record.gr_id)}),
    }
    if link:
        body["grc_ContactId@odata.bind"] = f"/{q.record_path('contacts', link)}"
    return body


def fill_report(
    report: RunReport,
    plan: Plan,
    results: dict[str, dict[str, Any]],
    states: dict[str, str],
    list_ids: dict[str, str],
) -> None:
    """Counts and rows of the report, from every outcome the run has (journal included)."""
    counts = report.counts
    names = {x.campaign_id: x.name for x in plan.lists}
    for item in plan.lists:
        created = states.get(f"list:{item.campaign_id}") == DONE
        counts["lists_created"] += int(created)
        report.lists.append(
            {
                "list": item.name,
                "campaign_id": item.campaign_id,
                "record_id": list_ids.get(item.campaign_id, item.record_id),
                "created": created,
                "members_added": int(
                    (results.get(f"members:{item.campaign_id}") or {}).get("count") or 0
                ),
            }
        )
        counts["members_added"] += report.lists[-1]["members_added"]
    for contact in plan.contacts:
        key = f"contact:{contact.contact_id}"
        result = results.get(key) or {}
        outcome = result.get("outcome")
        if outcome in ("created", "existed"):
            counts["contacts_created" if outcome == "created" else "contacts_existed"] += 1
            report.created.append(
                {
                    "contact_id": contact.contact_id,
                    "first_name": contact.first_name,
                    "last_name": contact.last_name,
                    "email": contact.email,
                    "getresponse_contacts": " ".join(contact.gr_ids),
                    "review_row": contact.where,
                    "outcome": outcome,
                }
            )
        elif outcome == "duplicate":
            action = DUPLICATE_ACTION if result.get("of") else DETECTED_ACTION
            report.duplicates.append(
                Failure(
                    "CRM contact",
                    contact.contact_id,
                    contact.email,
                    contact.where,
                    str(result.get("message") or ""),
                    action,
                )
            )
        elif states.get(key) == FAILED:
            report.failures.append(
                Failure(
                    "CRM contact",
                    contact.contact_id,
                    contact.email,
                    contact.where,
                    str(result.get("message") or ""),
                    RETRY_ACTION,
                )
            )
    for record in plan.records:
        key = f"record:{record.gr_id}"
        result = results.get(key) or {}
        if states.get(key) == FAILED:
            report.failures.append(
                Failure(
                    "GetResponse Contact record",
                    record.gr_id,
                    record.email,
                    record.where,
                    str(result.get("message") or ""),
                    RETRY_ACTION,
                )
            )
            continue
        if states.get(key) != DONE:
            continue
        link = result.get("link")
        if link:
            counts["linked_new" if record.new else "linked_existing"] += 1
            note = result.get("note") or ""
            counts["linked_master"] += int(note.startswith("merged"))
            report.linked.append(
                {
                    "getresponse_contact": record.gr_id,
                    "email": record.email,
                    "list": names.get(record.campaign_id, record.campaign_id),
                    "crm_contact": link,
                    "created_by_migration": record.new,
                    "note": note,
                    "review_row": record.where,
                }
            )
            continue
        counts["unlinked_written"] += 1
        problem = result.get("problem")
        if record.problem:
            report.duplicates.append(
                Failure(
                    "GetResponse contact",
                    record.gr_id,
                    record.email,
                    record.where,
                    record.problem,
                    IN_PLAN_ACTION,
                )
            )
        elif problem and not record.new:
            report.failures.append(
                Failure(
                    "link",
                    record.gr_id,
                    record.email,
                    record.where,
                    str(problem),
                    "Choose another CRM contact in the workbook, then apply it again.",
                )
            )
    records = {r.gr_id: r for r in plan.records}
    for key, state in states.items():
        if key.startswith("field:"):
            if state == DONE:
                counts["custom_field_values"] += 1
            elif state == FAILED:
                gr_id = key[6:].rpartition(":")[0]
                owner = records.get(gr_id)
                report.failures.append(
                    Failure(
                        "custom field value",
                        key[6:],
                        owner.email if owner else "",
                        owner.where if owner else gr_id,
                        str((results.get(key) or {}).get("message") or ""),
                        RETRY_ACTION,
                    )
                )
    for skip in plan.skipped:
        report.skipped.append(
            {
                "getresponse_contact": skip.gr_id,
                "email": skip.email,
                "decision": skip.decision,
                "reason": skip.reason,
                "review_row": skip.where,
            }
        )
    counts["skipped"] = len(plan.skipped)
    counts["duplicates"] = len(report.duplicates)
    counts["failed"] = len(report.failures)
