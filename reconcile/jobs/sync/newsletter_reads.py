"""The newsletters job's reads for newsletters set *Ready for realization*, and its decision
for each: an Error with the reason in words (SPEC 7.2), or a send (``newsletter_send.Send``).

Read once per run, whatever the number of newsletters: the template records, each marketing
list and its members (static or dynamic), their GetResponse Contact records, the GetResponse
lists linked to the marketing lists; from GetResponse the account's time zone, its sending
limits and the newsletters created today (the 256-a-day limit of ``POST /newsletters``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.dataverse.errors import RecordNotFound
from reconcile.dataverse.resources import list_members, marketing_list
from reconcile.getresponse.newsletters import get_sending_limits, iter_newsletters
from reconcile.getresponse.resources import get_account
from reconcile.jobs.sync import newsletter_rules as rules
from reconcile.jobs.sync import records as r
from reconcile.jobs.sync.common import Journal
from reconcile.jobs.sync.context import SyncContext
from reconcile.jobs.sync.newsletter_send import NewslettersPlan, Send
from reconcile.model import SyncStatus

MEMBER_COLUMNS = ("contactid", "fullname", "emailaddress1", "donotbulkemail", "donotemail",
                  "statecode")  # fmt: skip
IDS_PER_READ = 100
DELETED = r.status_value(SyncStatus.DELETED_IN_GETRESPONSE)


def plan_ready(
    ctx: SyncContext, journal: Journal, plan: NewslettersPlan, ready: list[dict[str, Any]]
) -> None:
    settings = ctx.section("newsletters")
    dynamics = ctx.environment.split("|", 1)[0]
    allowed = {e.strip().rstrip("/").lower() for e in settings.send_environments}
    if dynamics not in allowed:
        why = (
            f"Not sent: this Dynamics environment ({dynamics}) is not listed in the "
            "[newsletters] send_environments setting, so no newsletter is sent from it (a "
            "copy of production must not mail real customers). Add it there to allow sending, "
            "then Set as ready for realization again."
        )
        for record in ready:
            _error(ctx, plan, record, why)
        plan.notes.append(f"{dynamics} is not in [newsletters] send_environments: nothing sent.")
        return
    templates = {
        t[s.TEMPLATES.primary_id].lower(): t
        for t in r.read_all(
            ctx,
            s.TEMPLATES,
            (s.TEMPLATES.primary_id, "grc_name", "grc_getresponseid", r.STATUS, "statecode"),
        )
    }
    list_ids = {x["_grc_marketinglistid_value"].lower() for x in ready
                if x.get("_grc_marketinglistid_value")}  # fmt: skip
    lists, members = {}, {}
    for list_id in list_ids:
        try:
            lists[list_id] = marketing_list(ctx.dv, list_id)
        except RecordNotFound:
            continue
        if lists[list_id].targets_contacts:
            members[list_id] = list(list_members(ctx.dv, lists[list_id], select=MEMBER_COLUMNS))
    linked = _linked_lists(ctx, list_ids)
    contacts = _gr_contacts(
        ctx, {str(m["contactid"]).lower() for ms in members.values() for m in ms}
    )
    account_zone = get_account(ctx.gr).time_zone
    user_zone = settings.time_zone or account_zone
    gr_budget: dict[str, Any] | None = None
    now = ctx.now()
    for record in ready:
        label = f"newsletter {record.get('grc_name')!r}"
        reason = _check(record, templates, lists, members, now)
        if reason:
            _error(ctx, plan, record, reason)
            continue
        list_id = record["_grc_marketinglistid_value"].lower()
        link = linked.get(list_id)
        chosen = rules.recipients(members[list_id], contacts, link[0] if link else None)
        mlist = lists[list_id]
        if not chosen.count:
            _error(ctx, plan, record, f"Not sent: no member of marketing list {mlist.name!r} can "
                   f"receive it ({chosen.reasons() or 'the list is empty'}).")  # fmt: skip
            continue
        if gr_budget is None:
            gr_budget = _budget(ctx, now)
        limit_reason = _spend(gr_budget, chosen.count, settings.daily_limit)
        if limit_reason:
            _error(ctx, plan, record, limit_reason)
            continue
        if link and _whole_list(ctx, link[1], chosen):
            chosen.campaign_id = link[1]
        moment = rules.parse_utc(record["grc_scheduledon"])
        assert moment is not None
        text = rules.send_time_text(moment, user_zone, account_zone)
        template = templates[record["_grc_templateid_value"].lower()]
        claim = rules.load(record.get("grc_scheduled"))
        entry = journal.state_of(f"send:{record[s.NEWSLETTERS.primary_id]}")
        since = rules.parse_utc((claim or {}).get("claimed_at"))
        if claim and entry is None and since and (now - since).total_seconds() < ctx.lease_seconds:
            plan.add(
                "wait", label, f"being scheduled by {claim.get('by')} since {since:%H:%M:%S} UTC"
            )
            continue
        scheduled = rules.snapshot(
            record,
            template_name=template.get("grc_name"),
            marketing_list_name=mlist.name,
            recipients=chosen.count,
            to=f"GetResponse list {link[1]}"
            if chosen.campaign_id and link
            else "selected contacts",
        )
        columns = {
            "grc_sendtimetext": text[:400],
            "grc_recipients": chosen.count,
            "grc_leftout": sum(chosen.left_out.values()),
            "grc_leftoutreasons": chosen.reasons(),
        }
        plan.add(
            "schedule newsletter",
            label,
            f"to {chosen.count:,} contacts of {mlist.name!r} at {text}",
        )
        plan.sends.append(
            Send(
                record_id=record[s.NEWSLETTERS.primary_id].lower(),
                label=label,
                etag=record.get("@odata.etag") or "*",
                template_draft=s.getresponse_id(template["grc_getresponseid"]),
                copy_name=rules.copy_name(
                    record.get("grc_name") or "", record[s.NEWSLETTERS.primary_id]
                ),
                recipients=chosen,
                send_on=moment if moment > now else None,
                scheduled=scheduled,
                columns=columns,
                check_first=bool(claim) or entry is not None,
                since=since,
            )
        )


def _check(
    record: dict[str, Any],
    templates: dict[str, dict[str, Any]],
    lists: dict[str, Any],
    members: dict[str, list[dict[str, Any]]],
    now: dt.datetime,
) -> str | None:
    """SPEC 7.2: the reason a Ready newsletter cannot be sent, in words, or None."""
    if record.get("grc_getresponseid"):
        return (f"Not sent again: it was already scheduled in GetResponse (newsletter "
                f"{s.getresponse_id(record['grc_getresponseid'])}). A newsletter is sent once: "
                "create a new GetResponse Newsletter record to send it again.")  # fmt: skip
    template_id = (record.get("_grc_templateid_value") or "").lower()
    if not template_id:
        return "Not sent: template not set. Choose a GetResponse template."
    template = templates.get(template_id)
    if template is None or template.get(r.STATUS) == DELETED or template.get("statecode") == 1:
        name = (template or {}).get("grc_name") or template_id
        return (f"Not sent: template {name!r} was deleted in GetResponse (or renamed without "
                "'MS CRM'). Choose an active template.")  # fmt: skip
    list_id = (record.get("_grc_marketinglistid_value") or "").lower()
    if not list_id:
        return "Not sent: marketing list not set. Choose the marketing list to send it to."
    mlist = lists.get(list_id)
    if mlist is None:
        return f"Not sent: marketing list {list_id} no longer exists."
    if not mlist.active:
        return f"Not sent: marketing list {mlist.name!r} is inactive."
    if not mlist.targets_contacts:
        return (f"Not sent: marketing list {mlist.name!r} does not target Contacts (only "
                "contact lists can receive GetResponse newsletters).")  # fmt: skip
    if not members.get(list_id):
        return f"Not sent: marketing list {mlist.name!r} has no members."
    moment = rules.parse_utc(record.get("grc_scheduledon"))
    if moment is None:
        return "Not sent: scheduled send time not set."
    if moment < now - rules.GRACE:
        return (f"Not sent: the scheduled send time {moment:%Y-%m-%d %H:%M} UTC has passed. "
                "Set a time in the future.")  # fmt: skip
    return None


def _error(ctx: SyncContext, plan: NewslettersPlan, record: dict[str, Any], reason: str) -> None:
    label = f"newsletter {record.get('grc_name')!r}"
    plan.add("mark newsletter error", label, reason)
    record_id = record[s.NEWSLETTERS.primary_id]
    body = {
        s.NEWSLETTERS.primary_id: record_id,
        r.STATUS: r.status_value(SyncStatus.ERROR),
        r.ERROR_TEXT: r.error_text(reason),
        "grc_lastsynchronizedon": r.sync_time(ctx.now()),
    }
    plan.updates.append(r.Write(f"newsletter-error:{record_id}", body, label))


def _budget(ctx: SyncContext, now: dt.datetime) -> dict[str, Any]:
    """What GetResponse still allows today: newsletter creations and emails."""
    midnight = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    today = [
        n for n in iter_newsletters(ctx.gr, created_from=midnight.date())
        if n.created_on is None or n.created_on >= midnight
    ]  # fmt: skip
    frames = sorted(get_sending_limits(ctx.gr), key=lambda f: f["limit"] - f["used"])
    tightest = frames[0] if frames else None
    return {
        "created": len(today),
        "emails": tightest["limit"] - tightest["used"] if tightest else None,
        "days": tightest["timeFrame"] // 86400 if tightest else 0,
    }


def _spend(budget: dict[str, Any], emails: int, daily_limit: int) -> str | None:
    if budget["created"] >= daily_limit:
        return (f"Not sent: GetResponse allows {daily_limit} newsletters a day through its API "
                f"and {budget['created']} were created today (UTC); set it Ready for "
                "realization again after midnight UTC.")  # fmt: skip
    left = budget["emails"]
    if left is not None and emails > left:
        days = budget["days"]
        return (f"Not sent: GetResponse's sending limit leaves {max(left, 0):,} emails in the "
                f"current {days}-day frame and this newsletter needs {emails:,}.")  # fmt: skip
    budget["created"] += 1
    if left is not None:
        budget["emails"] = left - emails
    return None


def _linked_lists(ctx: SyncContext, list_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Marketing list id → (GetResponse List record id, GetResponse list id) for the lists
    synced to GetResponse (SPEC 4)."""
    ids = sorted(list_ids)
    if not ids:
        return {}
    rows = r.read_all(
        ctx,
        s.LISTS,
        (s.LISTS.primary_id, "grc_getresponseid", "_grc_marketinglistid_value"),
        q.in_("_grc_marketinglistid_value", [q.as_guid(i) for i in ids])
        & q.eq("grc_iscreatedingetresponse", True)
        & q.ne("grc_getresponseid", None),
    )
    return {
        row["_grc_marketinglistid_value"].lower(): (
            row[s.LISTS.primary_id].lower(),
            s.getresponse_id(row["grc_getresponseid"]),
        )
        for row in rows
    }


def marketing_lists_of(ctx: SyncContext, campaign_ids: set[str]) -> dict[str, str]:
    """GetResponse list id → the marketing list its GetResponse List record links to."""
    if not campaign_ids:
        return {}
    rows = r.read_all(
        ctx,
        s.LISTS,
        ("grc_getresponseid", "_grc_marketinglistid_value"),
        q.in_("grc_getresponseid", [s.getresponse_key(c) for c in sorted(campaign_ids)]),
    )
    return {
        s.getresponse_id(row["grc_getresponseid"]): row["_grc_marketinglistid_value"]
        for row in rows
        if row.get("_grc_marketinglistid_value")
    }


def _gr_contacts(ctx: SyncContext, contact_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
    """CRM contact id → its GetResponse Contact records not deleted in GetResponse."""
    out: dict[str, list[dict[str, Any]]] = {}
    ids = sorted(contact_ids)
    columns = ("grc_getresponseid", "grc_email", "createdon", "_grc_contactid_value",
               "_grc_getresponselistid_value")  # fmt: skip
    for start in range(0, len(ids), IDS_PER_READ):
        chunk = [q.as_guid(i) for i in ids[start : start + IDS_PER_READ]]
        condition = q.in_("_grc_contactid_value", chunk) & q.ne(r.STATUS, DELETED)
        for row in r.read_all(ctx, s.CONTACTS, columns, condition):
            out.setdefault(row["_grc_contactid_value"].lower(), []).append(row)
    return out


def _whole_list(ctx: SyncContext, campaign_id: str, chosen: rules.Recipients) -> bool:
    """Send to the linked GetResponse list itself only when that is exactly the recipients:
    nobody left out, every recipient on it, and nobody else on it (its count, read now)."""
    if chosen.left_out or chosen.on_linked_list != chosen.count:
        return False
    page = next(ctx.gr.pages(f"campaigns/{campaign_id}/contacts", {"fields": "contactId"},
                             per_page=1))  # fmt: skip
    return page.total_count == chosen.count
