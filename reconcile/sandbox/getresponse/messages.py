"""Newsletters and drafts: create, send a draft, schedule, cancel, delete, and the activities
that sending produces.

A draft is a newsletter with ``type: draft`` (there is no ``/drafts`` endpoint); sending one
(``POST /newsletters/send-draft``) and the daily limits are in ``sending.py``. A broadcast is
``scheduled`` until its ``sendOn`` passes on the sandbox clock;
then every recipient gets a ``send`` activity, and some of them, over the next two days, an
``open`` and a ``click`` (seeded by the newsletter's name and the recipient, weighted by
engagement score), which appear
as the sandbox clock reaches them.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any
from zoneinfo import ZoneInfo

from reconcile.sandbox.getresponse import queries, validate
from reconcile.sandbox.getresponse.catalog import FromFields
from reconcile.sandbox.getresponse.db import decode_id, encode_id, fmt_time, parse_time
from reconcile.sandbox.getresponse.errors import forbidden_state, invalid, not_found
from reconcile.sandbox.getresponse.models import Campaigns, State
from reconcile.sandbox.getresponse.paging import Page
from reconcile.sandbox.getresponse.timezones import TIMEZONES
from reconcile.sandbox.getresponse.views import (
    NEWSLETTER,
    NEWSLETTER_ACTIVITY,
    NEWSLETTER_SOURCE,
    projection,
)

FLAGS = ("clicktrack", "google_analytics")  # the OpenAPI enum (older clients also sent openrate)
ID_LISTS = (
    "selectedCampaigns",
    "selectedSegments",
    "selectedSuppressions",
    "excludedCampaigns",
    "excludedSegments",
    "selectedContacts",
)
_LINK = re.compile(r"<a\s[^>]*href=[\"'](https?://[^\"']+)[\"'][^>]*>(.*?)</a>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
ACTIVITY_MAX_DAYS = 30
ACTIVITY_DEFAULT_DAYS = 14


class Messages:
    def __init__(self, state: State, campaigns: Campaigns, from_fields: FromFields) -> None:
        self.s = state
        self.campaigns = campaigns
        self.from_fields = from_fields

    def row_id(self, cid: str) -> int:
        number = decode_id("newsletter", cid) or -1
        if not self.s.conn.execute("SELECT 1 FROM newsletters WHERE id = ?", (number,)).fetchone():
            raise not_found(newsletterId=cid)
        return number

    def exists(self, cid: str) -> str:
        self.row_id(cid)
        return cid

    # ---- reading ---------------------------------------------------------------------------

    def page(self, params: Any, base: str) -> Page:
        query = queries.parse(
            params,
            queries.NEWSLETTER_FILTERS,
            queries.NEWSLETTER_SORTS,
            [("n.created_on", "ASC")],
            "n.id",
        )
        return self.s.page(NEWSLETTER, NEWSLETTER_SOURCE, query, params, base)

    def get(self, cid: str, base: str, fields: str | None = None) -> dict[str, Any]:
        number = self.row_id(cid)
        doc = self.s.one(NEWSLETTER, NEWSLETTER_SOURCE, "n.id = :id", {"id": number}, base, fields)
        assert doc is not None
        row = self.s.conn.execute(
            "SELECT html, plain, flags, send_settings, click_tracks, from_field, reply_to"
            " FROM newsletters WHERE id = ?",
            (number,),
        ).fetchone()
        html, plain, flags, settings, tracks, from_field, reply_to = row
        extra: dict[str, Any] = {
            "content": {"html": html or "", "plain": plain or ""},
            "flags": json.loads(flags),
            "sendSettings": {k: v for k, v in json.loads(settings).items() if k != "sendOn"},
            "clickTracks": self._click_tracks(number, json.loads(tracks)),
            "attachments": [],
        }
        for key, ref in (("fromField", from_field), ("replyTo", reply_to)):
            if ref is not None:
                ffid = encode_id("fromfield", ref)
                extra[key] = {"fromFieldId": ffid, "href": f"{base}/from-fields/{ffid}"}
        wanted = projection(fields, "newsletterId")
        doc.update({k: v for k, v in extra.items() if wanted is None or k in wanted})
        return doc

    def _click_tracks(self, number: int, tracks: list[dict[str, str]]) -> list[dict[str, str]]:
        counts = dict(
            self.s.conn.execute(
                "SELECT json_extract(click_track, '$.id'), count(*) FROM activities"
                " WHERE newsletter = ? AND activity = 'click' AND created_on <= ? GROUP BY 1",
                (number, self.s.now()),
            ).fetchall()
        )
        return [{**t, "amount": str(counts.get(t["clickTrackId"], 0))} for t in tracks]

    def activities(self, cid: str, params: Any, base: str) -> Page:
        """Deprecated in the API but served: the last 14 days by default, never older than 30."""
        number = decode_id("newsletter", cid) or -1
        query = queries.parse(
            params,
            queries.NEWSLETTER_ACTIVITY_FILTERS,
            queries.NEWSLETTER_ACTIVITY_SORTS,
            [("a.created_on", "ASC")],
            "a.id",
        )
        now = self.s.clock()
        days = (
            ACTIVITY_MAX_DAYS
            if any(k.startswith("query[createdOn]") for k in params)
            else (ACTIVITY_DEFAULT_DAYS)
        )
        where = [
            f"a.newsletter = {number}",
            f"a.created_on >= '{fmt_time(now - days * 86400)}'",
            f"a.created_on <= '{fmt_time(now)}'",
        ]
        return self.s.page(NEWSLETTER_ACTIVITY, "activities a", query, params, base, where=where)

    # ---- creating and sending ---------------------------------------------------------------

    def create(self, body: Any, base: str) -> dict[str, Any]:
        body = validate.body_object(body)
        kind = body.get("type", "broadcast")
        if kind not in ("broadcast", "draft"):
            raise invalid("type", "Allowed types: broadcast, draft", kind)
        subject = validate.string(body, "subject", required=True, min_length=2, max_length=128)
        name = validate.string(body, "name", min_length=2, max_length=128)
        content = body.get("content")
        if not isinstance(content, dict):
            raise invalid("content", "This value should not be blank")
        html = validate.string(content, "html", max_length=524288, label="content.html")
        plain = validate.string(content, "plain", max_length=524288, label="content.plain")
        if not html and not plain:
            raise invalid("content", "Give content.html or content.plain")
        campaign = self.campaigns.row_id(
            validate.reference(body, "campaign", "campaignId", required=True), missing="1001"
        )
        from_field = self.from_fields.row_id(
            validate.reference(body, "fromField", "fromFieldId", required=True), related=True
        )
        reply = validate.reference(body, "replyTo", "fromFieldId")
        reply_to = self.from_fields.row_id(reply, related=True) if reply else None
        flags = body.get("flags") or []
        if not isinstance(flags, list) or any(f not in FLAGS for f in flags):
            raise invalid("flags", f"Allowed flags: {', '.join(FLAGS)}", flags)
        track_opens = validate.string_boolean(body.get("trackOpens"), "trackOpens", "true")
        if not isinstance(body.get("sendSettings"), dict):
            raise invalid("sendSettings", "This value should not be blank")
        settings, due = self._send_settings(body["sendSettings"], body.get("sendOn"))
        values = {
            "name": name,
            "type": kind,
            "subject": subject,
            "from_field": from_field,
            "reply_to": reply_to,
            "campaign": campaign,
            "html": html,
            "plain": plain,
            "flags": json.dumps(flags),
            "track_opens": track_opens,
            "send_settings": json.dumps(settings),
            "created_on": self.s.now(),
        }
        if kind == "broadcast":
            values.update(self._schedule(due))
        return self.get(self._insert(values), base)

    def _insert(self, values: dict[str, Any]) -> str:
        """Store a newsletter; its links become click tracks with account-wide ids."""
        with self.s.write() as conn:
            number, cid = self.s.insert("newsletters", "newsletter", values)
            tracks = _click_tracks(values.get("html") or "", number)
            conn.execute(
                "UPDATE newsletters SET click_tracks = ? WHERE id = ?", (json.dumps(tracks), number)
            )
        return cid

    def _send_settings(self, raw: dict[str, Any], legacy_send_on: Any) -> tuple[dict, float | None]:
        settings: dict[str, Any] = {}
        for key in ID_LISTS:
            settings[key] = validate.id_list(raw.get(key), f"sendSettings.{key}")
        for cid in settings["selectedCampaigns"] + settings["excludedCampaigns"]:
            self.campaigns.row_id(cid, missing="1001")
        for key in ("timeTravel", "perfectTiming"):
            settings[key] = validate.string_boolean(raw.get(key), f"sendSettings.{key}", "false")
        if isinstance(raw.get("externalLexpad"), dict):
            settings["externalLexpad"] = raw["externalLexpad"]
        due = None
        send_on = raw.get("sendOn", legacy_send_on)
        if send_on is not None:
            due = _send_time(send_on)
            settings["sendOn"] = send_on
        return settings, due

    def _schedule(self, due: float | None) -> dict[str, Any]:
        now = self.s.clock()
        when = now if due is None or due < now else due
        return {
            "send_due": when,
            "send_on": fmt_time(when),
            "send_status": "scheduled" if when > now else "in_progress",
        }

    def cancel(self, cid: str, base: str) -> dict[str, Any]:
        """A scheduled newsletter goes back to being a draft; a sent one cannot."""
        number = self.row_id(cid)
        status = self.s.conn.execute(
            "SELECT send_status FROM newsletters WHERE id = ?", (number,)
        ).fetchone()[0]
        if status != "scheduled":
            raise forbidden_state("Only a scheduled newsletter can be cancelled", newsletterId=cid)
        with self.s.write() as conn:
            conn.execute(
                "UPDATE newsletters SET type = 'draft', send_status = NULL, send_due = NULL,"
                " send_on = NULL WHERE id = ?",
                (number,),
            )
        return self.get(cid, base)

    def rename(self, cid: str, name: str) -> None:
        """What renaming a message in the web app does (the v3 API has no update)."""
        number = self.row_id(cid)
        with self.s.write() as conn:
            conn.execute("UPDATE newsletters SET name = ? WHERE id = ?", (name, number))

    def delete(self, cid: str) -> None:
        number = self.row_id(cid)
        with self.s.write() as conn:
            conn.execute("DELETE FROM activities WHERE newsletter = ?", (number,))
            conn.execute("DELETE FROM newsletters WHERE id = ?", (number,))

    def settle(self) -> int:
        """Send every newsletter whose time has come on the sandbox clock."""
        rows = self.s.conn.execute(
            "SELECT id FROM newsletters WHERE send_status IN ('scheduled', 'in_progress')"
            " AND send_due <= ?",
            (self.s.clock(),),
        ).fetchall()
        for (number,) in rows:
            self.send(number)
        return len(rows)

    def send(self, number: int, engagement: float = 1.0) -> int:
        """Record the sending of newsletter ``number`` to its recipients; returns how many."""
        due, settings, tracks = self.s.conn.execute(
            "SELECT send_due, send_settings, click_tracks FROM newsletters WHERE id = ?", (number,)
        ).fetchone()
        recipients = self.recipients(json.loads(settings), fmt_time(due))
        (name,) = self.s.conn.execute(
            "SELECT COALESCE(name, subject) FROM newsletters WHERE id = ?", (number,)
        ).fetchone()
        tracks = json.loads(tracks)
        rows: list[tuple[int, str, str, int, str, str, str | None]] = []
        for contact, cid, email, score in recipients:
            # Seeded by the newsletter and the recipient, not by row numbers: the same
            # scenario gives the same opens however many newsletters were made before.
            rng = random.Random(f"{name}|{email}")
            rows.append((contact, cid, email, number, "send", fmt_time(due), None))
            chance = engagement * (0.15 + 0.1 * (score or 1))
            if rng.random() < chance:
                opened = due + rng.uniform(60, 2 * 86400)
                rows.append((contact, cid, email, number, "open", fmt_time(opened), None))
                if tracks and rng.random() < 0.35:
                    track = rng.choice(tracks)
                    clicked = opened + rng.uniform(5, 600)
                    click = json.dumps(
                        {"id": track["clickTrackId"], "name": track["name"], "url": track["url"]}
                    )
                    rows.append((contact, cid, email, number, "click", fmt_time(clicked), click))
        with self.s.write() as conn:
            conn.executemany(
                "INSERT INTO activities (contact, contact_cid, email, newsletter, activity,"
                " created_on, click_track) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.execute(
                "UPDATE newsletters SET send_status = 'finished', total = ? WHERE id = ?",
                (len(recipients), number),
            )
        return len(recipients)

    def recipients(
        self, settings: dict[str, Any], at: str
    ) -> list[tuple[int, str, str, int | None]]:
        """Contacts (subscribed by ``at``) of the selected lists and the selected contacts,
        minus the excluded lists' addresses and the blocklist (segments and suppressions are
        not emulated)."""
        lists = [decode_id("campaign", c) or -1 for c in settings.get("selectedCampaigns", [])]
        contacts = [decode_id("contact", c) or -1 for c in settings.get("selectedContacts", [])]
        excluded = [decode_id("campaign", c) or -1 for c in settings.get("excludedCampaigns", [])]
        lm, cm, em = (",".join("?" * len(x)) or "NULL" for x in (lists, contacts, excluded))
        rows = self.s.conn.execute(
            "SELECT c.id, c.cid, c.email, c.engagement_score FROM contacts c"
            f" WHERE (c.campaign IN ({lm}) OR c.id IN ({cm})) AND c.created_on <= ?"
            f" AND c.email_key NOT IN (SELECT email_key FROM contacts WHERE campaign IN ({em}))"
            " AND c.email_key NOT IN (SELECT mask FROM blocklist)"
            " AND '@' || substr(c.email_key, instr(c.email_key, '@') + 1)"
            " NOT IN (SELECT mask FROM blocklist) ORDER BY c.id",
            [*lists, *contacts, at, *excluded],
        ).fetchall()
        return [(int(a), b, c, d) for a, b, c, d in rows]


def _send_time(send_on: Any) -> float:
    """``{"date": "2024-07-14T07:00:00", "timeZone": {"timeZoneId": 282}}`` (current contract)
    or an ISO string (older SDKs); a local date-time is read in the given time zone."""
    try:
        if isinstance(send_on, str):
            return parse_time(send_on)
        if not isinstance(send_on, dict) or not isinstance(send_on.get("date"), str):
            raise ValueError
        zone_id = (send_on.get("timeZone") or {}).get("timeZoneId")
        zone = TIMEZONES.get(zone_id) if zone_id is not None else None
        if zone_id is not None and zone is None:
            raise invalid("sendSettings.sendOn.timeZone.timeZoneId", "Unknown time zone", zone_id)
        text = send_on["date"]
        if zone and len(text) == 19:
            from datetime import datetime

            return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone[0])).timestamp()
        return parse_time(text)
    except ValueError:
        raise invalid("sendSettings.sendOn", "Invalid send date", send_on) from None


def _click_tracks(html: str, newsletter: int) -> list[dict[str, str]]:
    tracks = []
    for i, (url, text) in enumerate(dict.fromkeys(_LINK.findall(html)), start=1):
        name = _TAG.sub("", text).strip() or url
        ident = encode_id("click", newsletter * 100 + i)
        tracks.append({"clickTrackId": ident, "url": url, "name": name})
    return tracks
