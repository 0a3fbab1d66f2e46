"""Newsletters and drafts: list them, send a draft at a scheduled time, read their results.

A draft is a newsletter with ``type == "draft"`` (v3 has no ``/drafts`` endpoint). Sending
one is ``POST /newsletters/send-draft`` with recipients (lists, segments or contact ids) and
an optional ``sendOn`` — a wall-clock time plus a GetResponse time-zone *id* (from
``GET /accounts/timezones``). We take an aware datetime and work the rest out.

Sending is never repeated after an uncertain failure (a repeat could send twice): the error
says so, and :func:`iter_newsletters` shows whether it went out.

Whether ``send-draft`` consumes the draft is not documented; the description reads as one
message changing state (``messageId`` "equals to newsletterId"; ``cancel`` "will also turn the
newsletter into a draft"), so a draft that must stay — a template — is copied first
(:func:`copy_draft`) and the copy is sent (docs/getresponse-api.md, "Sending").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from reconcile.errors import ConfigError
from reconcile.getresponse.client import GetResponseClient
from reconcile.getresponse.dates import format_send_on
from reconcile.getresponse.errors import ConnectionFailed, ForbiddenState
from reconcile.getresponse.records import (
    Newsletter,
    NewsletterActivity,
    NewsletterStatistics,
    TimeZone,
)
from reconcile.getresponse.resources import list_time_zones
from reconcile.getresponse.wire import path
from reconcile.retrying import Attempt

When = date | datetime
UTC_ZONE_NAMES = ("UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Universal")
# Zones at +00:00 all year, for accounts whose time-zone list has no plain "UTC".
NO_DST_UTC_ZONES = ("Africa/Abidjan", "Atlantic/Reykjavik", "Africa/Accra", "Africa/Dakar")


def iter_newsletters(
    client: GetResponseClient,
    *,
    type: str | None = None,
    status: str | None = None,
    campaign_id: str | None = None,
    name: str | None = None,
    subject: str | None = None,
    created_from: When | None = None,
    created_to: When | None = None,
    send_from: When | None = None,
    send_to: When | None = None,
    sort: Mapping[str, str] | None = None,
    fields: Sequence[str] | None = None,
) -> Iterator[Newsletter]:
    """``GET /newsletters``; ``type``: ``draft``, ``broadcast``, ``splittest``, ``automation``."""
    params = {
        "query": {
            "type": type,
            "status": status,
            "campaignId": campaign_id,
            "name": name,
            "subject": subject,
            "createdOn": {"from": created_from, "to": created_to},
            "sendOn": {"from": send_from, "to": send_to},
        },
        "sort": sort,
        "fields": fields,
    }
    for item in client.items("newsletters", params):
        yield Newsletter.from_api(item)


def iter_drafts(
    client: GetResponseClient, *, name_prefix: str | None = None
) -> Iterator[Newsletter]:
    """Drafts, optionally only those whose name starts with ``name_prefix`` (e.g. "MS CRM").

    The prefix is applied here, not sent as ``query[name]``: the API does not document how
    that filter matches, and an account's drafts are few."""
    for newsletter in iter_newsletters(client, type="draft"):
        if newsletter.is_draft and (
            name_prefix is None or (newsletter.name or "").startswith(name_prefix)
        ):
            yield newsletter


def iter_sent_newsletters(
    client: GetResponseClient,
    *,
    since: When | None = None,
    until: When | None = None,
    campaign_id: str | None = None,
) -> Iterator[Newsletter]:
    """Broadcasts that went (or are going) out; scheduled ones are left out."""
    for newsletter in iter_newsletters(
        client, type="broadcast", campaign_id=campaign_id, send_from=since, send_to=until
    ):
        if newsletter.send_status != "scheduled":
            yield newsletter


def get_newsletter(client: GetResponseClient, newsletter_id: str) -> Newsletter:
    return Newsletter.from_api(client.get(path("newsletters", newsletter_id)))


def resolve_time_zone(
    client: GetResponseClient, send_on: datetime, time_zone: str | None = None
) -> TimeZone:
    """The account's time zone to schedule ``send_on`` in: ``time_zone`` if given, else the
    datetime's own zone (a ``ZoneInfo`` key), else UTC."""
    zones = client.cache.get("time_zones")
    if zones is None:
        zones = client.cache["time_zones"] = list_time_zones(client)
    by_name = {z.name: z for z in zones}
    if time_zone is not None:
        candidates: tuple[str, ...] = (time_zone,)
    else:
        key = getattr(send_on.tzinfo, "key", None)
        candidates = ((key,) if key else ()) + UTC_ZONE_NAMES + NO_DST_UTC_ZONES
    for name in candidates:
        if name in by_name:
            return by_name[name]
    raise ConfigError(
        f"GetResponse does not list the time zone {candidates[0]!r} for this account",
        hint="pass time_zone= one of the names GET /accounts/timezones returns, "
        "e.g. 'Europe/Warsaw'",
    )


def copy_draft(client: GetResponseClient, draft_id: str, *, name: str) -> Newsletter:
    """A new draft with ``draft_id``'s subject, content, senders, list and flags, named
    ``name`` (``POST /newsletters``: 256 calls a day). Not repeated after an uncertain
    failure: a repeat would leave a second copy; find copies by name instead."""
    source = get_newsletter(client, draft_id).raw
    body: dict[str, Any] = {
        "name": name[:128],
        "type": "draft",
        "subject": source.get("subject"),
        "content": {
            k: v for k, v in (source.get("content") or {}).items() if k in ("html", "plain") and v
        },
        "campaign": {"campaignId": (source.get("campaign") or {}).get("campaignId")},
        "fromField": {"fromFieldId": (source.get("fromField") or {}).get("fromFieldId")},
        "sendSettings": {},
    }
    if (source.get("replyTo") or {}).get("fromFieldId"):
        body["replyTo"] = {"fromFieldId": source["replyTo"]["fromFieldId"]}
    flags = source.get("flags")
    if isinstance(flags, list) and flags:
        body["flags"] = flags
    return Newsletter.from_api(client.post("newsletters", body, idempotent=False))


def delete_newsletter(client: GetResponseClient, newsletter_id: str) -> bool:
    """``DELETE /newsletters/{id}`` (a draft copy nobody needs any more)."""
    return client.delete(path("newsletters", newsletter_id))


def get_sending_limits(client: GetResponseClient) -> list[dict[str, int]]:
    """``GET /accounts/sending-limits``: ``[{timeFrame (s), limit, used}]`` emails."""
    return [
        {k: int(item.get(k) or 0) for k in ("timeFrame", "limit", "used")}
        for item in client.get("accounts/sending-limits")
    ]


def send_settings(
    *,
    campaign_ids: Sequence[str] = (),
    contact_ids: Sequence[str] = (),
    segment_ids: Sequence[str] = (),
    excluded_campaign_ids: Sequence[str] = (),
    time_travel: bool = False,
    perfect_timing: bool = False,
) -> dict[str, Any]:
    if not (campaign_ids or contact_ids or segment_ids):
        raise ValueError("a newsletter needs recipients: lists, segments or contact ids")
    return {
        "selectedCampaigns": list(campaign_ids),
        "selectedSegments": list(segment_ids),
        "selectedContacts": list(contact_ids),
        "excludedCampaigns": list(excluded_campaign_ids),
        "timeTravel": "true" if time_travel else "false",
        "perfectTiming": "true" if perfect_timing else "false",
    }


def send_draft(
    client: GetResponseClient,
    draft_id: str,
    *,
    campaign_ids: Sequence[str] = (),
    contact_ids: Sequence[str] = (),
    segment_ids: Sequence[str] = (),
    excluded_campaign_ids: Sequence[str] = (),
    send_on: datetime | None = None,
    time_zone: str | None = None,
    time_travel: bool = False,
    perfect_timing: bool = False,
) -> Newsletter:
    """``POST /newsletters/send-draft`` → 201 Newsletter: send now, or at ``send_on`` (aware).

    Raises :class:`ForbiddenState` (1002) if the message is not a draft."""
    settings = send_settings(
        campaign_ids=campaign_ids,
        contact_ids=contact_ids,
        segment_ids=segment_ids,
        excluded_campaign_ids=excluded_campaign_ids,
        time_travel=time_travel,
        perfect_timing=perfect_timing,
    )
    if send_on is not None:
        zone = resolve_time_zone(client, send_on, time_zone)
        settings["sendOn"] = {
            "date": format_send_on(send_on, zone.name),
            "timeZone": {"timeZoneId": zone.time_zone_id},
        }
    body = {"messageId": draft_id, "sendSettings": settings}
    try:
        answer = client.post("newsletters/send-draft", body, idempotent=False)
    except ConnectionFailed as exc:
        if exc.maybe_applied:
            exc.hint = (
                f"The draft {draft_id} may have been sent or scheduled already: list the "
                "newsletters (type broadcast) and check before sending it again."
            )
        raise
    return Newsletter.from_api(answer)


def cancel_newsletter(client: GetResponseClient, newsletter_id: str) -> Newsletter:
    """``POST /newsletters/{id}/cancel``: stop sending; the message becomes a draft again.

    Repeated after an uncertain failure: if our first attempt landed, the repeat is refused
    (1002, a draft cannot be cancelled), so that refusal after a retry of ours is checked
    by reading the message back: a draft now means the cancel was done."""
    retried: list[Attempt] = []
    try:
        answer = client.post(
            path("newsletters", newsletter_id, "cancel"),
            None,
            idempotent=True,
            on_retry=retried.append,
        )
    except ForbiddenState:
        if retried:
            current = get_newsletter(client, newsletter_id)
            if current.is_draft:
                return current
        raise
    return Newsletter.from_api(answer)


def iter_newsletter_activities(
    client: GetResponseClient,
    newsletter_id: str,
    *,
    kind: str | None = None,
    since: When | None = None,
    until: When | None = None,
) -> Iterator[NewsletterActivity]:
    """``GET /newsletters/{id}/activities``: who was sent / opened / clicked the message.

    Deprecated by GetResponse in favour of custom reports, still documented; default window
    the last 14 days, at most 30 days per request."""
    params = {
        "query": {"activity": kind, "createdOn": {"from": since, "to": until}},
        "sort": {"createdOn": "ASC"},
    }
    for item in client.items(path("newsletters", newsletter_id, "activities"), params):
        yield NewsletterActivity.from_api(newsletter_id, item)


def get_newsletter_statistics(
    client: GetResponseClient,
    newsletter_id: str,
    *,
    group_by: str = "total",
    since: When | None = None,
    until: When | None = None,
) -> list[NewsletterStatistics]:
    """``GET /newsletters/{id}/statistics`` grouped by ``total``, ``hour``, ``day``, ``month``."""
    params = {"query": {"groupBy": group_by, "createdOn": {"from": since, "to": until}}}
    return [
        NewsletterStatistics.from_api(item)
        for item in client.items(path("newsletters", newsletter_id, "statistics"), params)
    ]
