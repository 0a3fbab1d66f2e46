"""Adding contacts: the asynchronous queue behind ``POST /contacts`` and ``/contacts/batch``.

Both answer 202 with an empty body: the contact is "preliminarily validated and added to the
queue" and shows up after ``contact_delay`` seconds of sandbox time, or never, if the queue
rejects it (an address whose domain cannot receive mail, or one blocklisted meanwhile). A
rejection is remembered: adding that address again answers 400 / 1002, which is how a client
learns of it (the official error page lists "email address is invalid", "on your blacklist"
and "previously deleted or bounced" under 1002).
"""

from __future__ import annotations

import json
from typing import Any

from reconcile.sandbox.getresponse import validate
from reconcile.sandbox.getresponse.catalog import Blocklist
from reconcile.sandbox.getresponse.contacts import Contacts
from reconcile.sandbox.getresponse.db import fmt_time
from reconcile.sandbox.getresponse.errors import forbidden_state, invalid, taken
from reconcile.sandbox.getresponse.models import Campaigns, State


class AddQueue:
    def __init__(
        self, state: State, campaigns: Campaigns, contacts: Contacts, blocklist: Blocklist
    ) -> None:
        self.s = state
        self.campaigns = campaigns
        self.contacts = contacts
        self.blocklist = blocklist

    def forbidden_reason(self, email: str) -> str | None:
        """Why this address cannot be added: blocklisted, or removed before (rejected by the
        queue, unsubscribed); None when it can."""
        if self.blocklist.blocks(email):
            return "blacklisted"
        row = self.s.conn.execute(
            "SELECT reason FROM removals WHERE email_key = ? ORDER BY rowid DESC LIMIT 1",
            (email.lower(),),
        ).fetchone()
        return str(row[0]) if row else None

    def refuse_if_forbidden(self, email: str) -> None:
        reason = self.forbidden_reason(email)
        if reason is not None:
            message = _REMOVAL_MESSAGES.get(reason, "Contact cannot be added")
            raise forbidden_state(message, email=email, reason=reason)

    def taken_or_queued(self, campaign: int, email_key: str) -> bool:
        return bool(
            self.s.conn.execute(
                "SELECT 1 FROM contacts WHERE campaign = ? AND email_key = ? UNION ALL"
                " SELECT 1 FROM queue WHERE campaign = ? AND email_key = ? AND state = 'pending'",
                (campaign, email_key, campaign, email_key),
            ).fetchone()
        )

    # ---- adding (asynchronous) --------------------------------------------------------------

    def create(self, body: Any) -> None:
        body = validate.body_object(body)
        email = validate.email(body.get("email"))
        campaign = self.campaigns.row_id(
            validate.reference(body, "campaign", "campaignId", required=True), missing="1001"
        )
        payload = self._new_contact_payload(body, "", tags_key="tags")
        if self.taken_or_queued(campaign, email.lower()):
            raise taken(email, "Contact already added to this list or queued for it")
        self.refuse_if_forbidden(email)
        self._enqueue([(campaign, email, payload)])

    def create_batch(self, body: Any) -> None:
        """Up to 1000 contacts for one list; duplicates of the list (or of the batch) are
        skipped, and any contact that cannot be accepted is refused with the whole batch."""
        body = validate.body_object(body)
        if not isinstance(body.get("campaignId"), str):
            raise invalid("campaignId", "This value should not be blank")
        campaign = self.campaigns.row_id(body["campaignId"], missing="1001")
        contacts = body.get("contacts")
        if not isinstance(contacts, list) or not contacts:
            raise invalid("contacts", "This value should be a non-empty array")
        if len(contacts) > 1000:
            raise invalid("contacts", "At most 1000 contacts per request", len(contacts))
        items, seen = [], set()
        for i, item in enumerate(contacts):
            if not isinstance(item, dict):
                raise invalid(f"contacts[{i}]", "This value should be an object", item)
            email = validate.email(item.get("email"), f"contacts[{i}].email")
            payload = self._new_contact_payload(item, f"contacts[{i}].", tags_key="tags.ids")
            key = email.lower()
            if key in seen or self.taken_or_queued(campaign, key):
                continue
            seen.add(key)
            items.append((campaign, email, payload))
        if not items:
            raise taken(contacts[0].get("email"), "Every contact is already on this list")
        self._enqueue(items)

    def _new_contact_payload(self, body: dict[str, Any], prefix: str, tags_key: str) -> str:
        name = validate.string(body, "name", min_length=1, max_length=128, label=prefix + "name")
        if tags_key == "tags.ids":
            tags = body.get("tags") or {}
            ids = validate.id_list(
                tags.get("ids") if isinstance(tags, dict) else tags, prefix + "tags.ids"
            )
        else:
            ids = validate.id_list(body.get("tags"), prefix + "tags", "tagId")
        day = body.get("dayOfCycle")
        payload = {
            "name": name,
            "dayOfCycle": None if day is None else str(day),
            "scoring": validate.number(body.get("scoring"), prefix + "scoring"),
            "ipAddress": validate.ip_address(body.get("ipAddress"), prefix + "ipAddress"),
            "tags": self.contacts.tag_ids(ids, prefix + "tags"),
            "fields": self.contacts.field_values(
                body.get("customFieldValues"), prefix + "customFieldValues"
            ),
        }
        return json.dumps(payload)

    def _enqueue(self, items: list[tuple[int, str, str]]) -> None:
        due, now = self.s.clock() + self.s.settings.contact_delay, self.s.now()
        with self.s.write() as conn:
            conn.executemany(
                "INSERT INTO queue (campaign, email, email_key, payload, due, queued_on)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(c, e, e.lower(), p, due, now) for c, e, p in items],
            )
        if self.s.settings.contact_delay <= 0:
            self.settle()

    def settle(self) -> int:
        """Apply every queued addition that is due by the sandbox clock; returns how many."""
        now = self.s.clock()
        rows = self.s.conn.execute(
            "SELECT id, campaign, email, payload, due FROM queue"
            " WHERE state = 'pending' AND due <= ? ORDER BY id",
            (now,),
        ).fetchall()
        if not rows:
            return 0
        with self.s.write() as conn:
            for qid, campaign, email, payload, due in rows:
                state, reason = "added", self.forbidden_reason(email)
                if reason is not None:  # blocklisted meanwhile, or refused before (batches)
                    state = "rejected"
                elif self.s.settings.undeliverable(email.rsplit("@", 1)[-1]):
                    state, reason = "rejected", "invalid_email"
                elif conn.execute(
                    "SELECT 1 FROM contacts WHERE campaign = ? AND email_key = ?",
                    (campaign, email.lower()),
                ).fetchone():
                    state, reason = "skipped", "already_on_list"
                if state == "rejected" and reason in ("blacklisted", "invalid_email"):
                    conn.execute(
                        "INSERT INTO removals (email_key, campaign, reason, removed_on)"
                        " VALUES (?, ?, ?, ?)",
                        (email.lower(), campaign, reason, fmt_time(due)),
                    )
                elif state == "added":
                    data = json.loads(payload)
                    number = self.contacts.insert(campaign, email, data, created_on=fmt_time(due))
                    self.contacts.set_tags(number, data["tags"])
                    self.contacts.set_fields(number, data["fields"])
                conn.execute(
                    "UPDATE queue SET state = ?, reason = ? WHERE id = ?", (state, reason, qid)
                )
        return len(rows)


_REMOVAL_MESSAGES = {
    "invalid_email": "Email address is invalid: its domain does not accept mail",
    "blacklisted": "Contact is on the blocklist",
    "unsubscribed": "Contact has unsubscribed and cannot be added again through the API",
    "bounced": "Contact was removed after a bounce and cannot be added again",
}
