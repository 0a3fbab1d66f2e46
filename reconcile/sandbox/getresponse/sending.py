"""Sending: ``POST /newsletters/send-draft``, the daily limit of ``POST /newsletters`` and the
account's sending limits (``GET /accounts/sending-limits``).

What the sources say and what is assumed is in ``docs/getresponse-api.md`` (§ "Sending"):

- ``send-draft`` takes ``messageId`` ("equals to newsletterId") and ``sendSettings`` and
  answers 201 with the newsletter, or 400 (the only error the operation lists, OA). Whether
  the draft survives is not documented; the OA reads as one message changing state (``cancel``
  "will also turn the newsletter into a draft"), so by default the draft *becomes* the
  broadcast, same id. ``keep_drafts`` (``/__sandbox__/config``) makes it leave the draft and
  create a new newsletter instead, the other possible reading: clients must work with both.
- A ``messageId`` that is no draft any more (deleted) is 400 / 1001, a related resource not
  found; one that is not a draft is 400 / 1002 (ERR); a selection with no list, segment or
  contact is 400 / 1000 on ``sendSettings``.
- ``POST /newsletters`` "has a limit of 256 calls per day" (OA): the 257th call of a UTC day
  on the sandbox clock is a 429 / 1015 whose ``timeToReset`` runs to midnight UTC.
- Sending limits: ``[{timeFrame (s), limit, used}]``, ``used`` being the emails sent in the
  frame (send activities); configurable.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from reconcile.sandbox.getresponse import validate
from reconcile.sandbox.getresponse.db import decode_id, fmt_time
from reconcile.sandbox.getresponse.errors import (
    GetResponseError,
    forbidden_state,
    invalid,
    related_missing,
)
from reconcile.sandbox.getresponse.messages import Messages
from reconcile.sandbox.getresponse.models import State

DAY = 86400
NEWSLETTERS_PER_DAY = 256  # OA: POST /newsletters "has a limit of 256 calls per day"
SELECTIONS = ("selectedCampaigns", "selectedSegments", "selectedContacts")


@dataclass
class SendingRules:
    """The configurable part (``/__sandbox__/config``: ``sending``)."""

    keep_drafts: bool = False  # send-draft leaves the draft and makes a new newsletter
    newsletters_per_day: int = NEWSLETTERS_PER_DAY
    # Emails per time frame: (timeFrame seconds, limit). GetResponse plans count monthly.
    limits: list[tuple[int, int]] = field(default_factory=lambda: [(30 * DAY, 1_000_000)])

    def as_json(self) -> dict[str, Any]:
        return {
            "keep_drafts": self.keep_drafts,
            "newsletters_per_day": self.newsletters_per_day,
            "limits": [{"timeFrame": f, "limit": n} for f, n in self.limits],
        }

    def update(self, data: dict[str, Any]) -> None:
        unknown = set(data) - {"keep_drafts", "newsletters_per_day", "limits"}
        if unknown:
            raise ValueError(f"unknown sending setting(s): {', '.join(sorted(unknown))}")
        if "keep_drafts" in data:
            if not isinstance(data["keep_drafts"], bool):
                raise ValueError("keep_drafts must be true or false")
            self.keep_drafts = data["keep_drafts"]
        if "newsletters_per_day" in data:
            value = data["newsletters_per_day"]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError("newsletters_per_day must be a non-negative integer")
            self.newsletters_per_day = value
        if "limits" in data:
            try:
                self.limits = [(int(x["timeFrame"]), int(x["limit"])) for x in data["limits"]]
            except (KeyError, TypeError, ValueError):
                raise ValueError("limits must be [{timeFrame, limit}, ...]") from None


class Sending:
    def __init__(self, state: State, messages: Messages) -> None:
        self.s = state
        self.messages = messages
        self.rules = SendingRules()
        self._created: dict[int, int] = {}  # UTC day number -> POST /newsletters calls

    def reset(self) -> None:
        self.rules = SendingRules()
        self._created.clear()

    # ---- POST /newsletters, 256 a day ------------------------------------------------------

    def create(self, body: Any, base: str) -> dict[str, Any]:
        now = self.s.clock()
        day = math.floor(now / DAY)
        used = self._created.get(day, 0)
        if used >= self.rules.newsletters_per_day:
            reset = max(1, math.ceil((day + 1) * DAY - now))
            raise GetResponseError(
                1015,
                "You have reached the daily limit of newsletters created through the API",
                {"currentLimit": self.rules.newsletters_per_day, "timeToReset": f"{reset} seconds"},
                headers={"X-RateLimit-Reset": f"{reset} seconds"},
            )
        created = self.messages.create(body, base)
        self._created[day] = used + 1
        return created

    # ---- send-draft ------------------------------------------------------------------------

    def send_draft(self, body: Any, base: str) -> dict[str, Any]:
        body = validate.body_object(body)
        message_id = validate.string(body, "messageId", required=True)
        assert message_id is not None
        number = decode_id("newsletter", message_id) or -1
        row = self.s.conn.execute(
            "SELECT type, name, subject, from_field, reply_to, campaign, html, plain, flags,"
            " track_opens FROM newsletters WHERE id = ?",
            (number,),
        ).fetchone()
        if row is None:
            raise related_missing("messageId", message_id)
        if row[0] != "draft":
            raise forbidden_state("The message is not a draft", messageId=message_id)
        raw = body.get("sendSettings")
        if not isinstance(raw, dict):
            raise invalid("sendSettings", "This value should not be blank")
        settings, due = self.messages._send_settings(raw, body.get("sendOn"))
        if not any(settings.get(key) for key in SELECTIONS):
            raise invalid(
                "sendSettings",
                "Select at least one list (selectedCampaigns), segment or contact",
            )
        schedule = self.messages._schedule(due)
        if not self.rules.keep_drafts:
            with self.s.write() as conn:
                conn.execute(
                    "UPDATE newsletters SET type = 'broadcast', send_settings = ?, send_due = ?,"
                    " send_on = ?, send_status = ? WHERE id = ?",
                    (
                        json.dumps(settings),
                        schedule["send_due"],
                        schedule["send_on"],
                        schedule["send_status"],
                        number,
                    ),
                )
            return self.messages.get(message_id, base)
        _, name, subject, from_field, reply_to, campaign, html, plain, flags, opens = row
        values = {
            "name": name,
            "type": "broadcast",
            "subject": subject,
            "from_field": from_field,
            "reply_to": reply_to,
            "campaign": campaign,
            "html": html,
            "plain": plain,
            "flags": flags,
            "track_opens": opens,
            "send_settings": json.dumps(settings),
            "created_on": self.s.now(),
            **schedule,
        }
        return self.messages.get(self.messages._insert(values), base)

    # ---- GET /accounts/sending-limits -----------------------------------------------------

    def limits(self) -> list[dict[str, int]]:
        now = self.s.clock()
        out = []
        for frame, limit in self.rules.limits:
            (used,) = self.s.conn.execute(
                "SELECT count(*) FROM activities WHERE activity = 'send'"
                " AND created_on > ? AND created_on <= ?",
                (fmt_time(now - frame), fmt_time(now)),
            ).fetchone()
            out.append({"timeFrame": frame, "limit": limit, "used": int(used)})
        return out
