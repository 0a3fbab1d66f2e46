"""What a CRM newsletter must satisfy before it is sent, who receives it, and how its send
time reads in each time zone — pure functions of what the newsletters job read (SPEC 7).

Kept apart from the job so that every rule can be tested without servers: the job reads,
these decide, the job writes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

GRACE = dt.timedelta(minutes=15)  # a send time this far in the past still goes out, at once
MARK = "[crm:"  # the copy's name ends with "[crm:<record id>]": how a send is found again


def marker(record_id: str) -> str:
    return f"{MARK}{record_id.lower()}]"


def shown_name(name: str) -> str:
    """A GetResponse message's name as the admin named the CRM newsletter: the copy's
    marker (an id nobody reads) taken off."""
    return name[: name.rindex(MARK)].rstrip() if record_of(name) else name


def copy_name(name: str, record_id: str) -> str:
    """The GetResponse name of the copy sent for CRM newsletter ``record_id`` (≤ 128)."""
    return f"{(name or 'Newsletter').strip()[:80]} {marker(record_id)}"


def record_of(newsletter_name: str | None) -> str | None:
    """The CRM record id a GetResponse newsletter was sent for, from its name."""
    name = newsletter_name or ""
    start = name.rfind(MARK)
    if start < 0 or not name.endswith("]"):
        return None
    return name[start + len(MARK) : -1] or None


# --- time -----------------------------------------------------------------------------------
def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        return ZoneInfo("UTC")


def wall(moment: dt.datetime, where: ZoneInfo) -> str:
    local = moment.astimezone(where)
    offset = local.strftime("%z")
    return f"{local:%a %d %b %Y %H:%M} {local.tzname()} (UTC{offset[:3]}:{offset[3:]})"


def send_time_text(moment: dt.datetime, user_zone: str | None, gr_zone: str | None) -> str:
    """The send time as the CRM user, UTC and GetResponse each read it. Dataverse stores
    UTC; each zone's offset is the one in force *on that date* (daylight saving included)."""
    user, account = zone(user_zone or gr_zone), zone(gr_zone)
    parts = [f"{wall(moment, user)} in {user.key} (CRM users)"]
    parts.append(f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC")
    parts.append(f"{wall(moment, account)} in {account.key} (GetResponse account)")
    return " = ".join(parts)


def parse_utc(value: Any) -> dt.datetime | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# --- recipients -------------------------------------------------------------------------------
LEFT_OUT = {
    "no_bulk_email": "do not allow bulk email now",
    "inactive": "are inactive contacts",
    "no_getresponse_contact": "have no GetResponse contact",
    "same_email": "share an email address with another recipient (sent once)",
}


@dataclass
class Recipients:
    contact_ids: list[str] = field(default_factory=list)  # GetResponse contact ids
    campaign_id: str | None = None  # the whole linked GetResponse list instead
    left_out: Counter[str] = field(default_factory=Counter)
    on_linked_list: int = 0  # chosen contacts that are on the linked GetResponse list

    @property
    def count(self) -> int:
        return len(self.contact_ids)

    def reasons(self) -> str | None:
        if not self.left_out:
            return None
        return "; ".join(f"{n:,} {LEFT_OUT[k]}" for k, n in sorted(self.left_out.items()))


def recipients(
    members: Iterable[Mapping[str, Any]],
    gr_contacts: Mapping[str, Sequence[Mapping[str, Any]]],
    linked_list: str | None,
) -> Recipients:
    """Who receives a newsletter: each member of the marketing list once, through one of
    their GetResponse contacts (the one on ``linked_list`` when there is one, else the
    oldest), unless they do not allow bulk email *now* or are inactive; one email address
    gets one copy. ``gr_contacts``: CRM contact id → its GetResponse Contact records
    (``grc_getresponseid``, ``_grc_getresponselistid_value``, ``grc_email``, ``createdon``)."""
    from reconcile.dataverse.schema import getresponse_id

    out = Recipients()
    emails: set[str] = set()
    for member in members:
        if member.get("donotbulkemail") or member.get("donotemail"):
            out.left_out["no_bulk_email"] += 1
            continue
        if member.get("statecode") not in (None, 0):
            out.left_out["inactive"] += 1
            continue
        mine = sorted(
            gr_contacts.get(str(member["contactid"]).lower(), ()),
            key=lambda r: (
                (r.get("_grc_getresponselistid_value") or "").lower() != (linked_list or ""),
                str(r.get("createdon") or ""),
                str(r.get("grc_getresponseid")),
            ),
        )
        if not mine:
            out.left_out["no_getresponse_contact"] += 1
            continue
        email = str(mine[0].get("grc_email") or member.get("emailaddress1") or "").lower()
        if email and email in emails:
            out.left_out["same_email"] += 1
            continue
        emails.add(email)
        out.contact_ids.append(getresponse_id(str(mine[0]["grc_getresponseid"])))
        list_record = (mine[0].get("_grc_getresponselistid_value") or "").lower()
        out.on_linked_list += bool(linked_list) and list_record == linked_list
    return out


# --- what was scheduled, and later edits --------------------------------------------------------
LOCKED = {  # record column -> how an admin names it (SPEC 7.1: locked once Ready)
    "grc_name": "name",
    "_grc_templateid_value": "template",
    "_grc_marketinglistid_value": "marketing list",
    "_grc_campaignid_value": "campaign",
    "grc_scheduledon": "send time",
}


def snapshot(record: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """The locked fields as they were when the send was claimed, plus ``extra`` (the claim's
    holder and time, the recipients …)."""
    data = {column: _norm(column, record.get(column)) for column in LOCKED}
    return {**data, **extra}


def dump(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, default=str)


def load(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def edits(scheduled: Mapping[str, Any], record: Mapping[str, Any]) -> list[str]:
    """Locked fields changed since they were scheduled, in words."""
    changed = []
    for column, label in LOCKED.items():
        if column in scheduled and _norm(column, record.get(column)) != scheduled[column]:
            changed.append(label)
    return changed


def _norm(column: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if column == "grc_scheduledon":
        moment = parse_utc(value)
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
    return str(value).lower() if column.startswith("_") else str(value)
