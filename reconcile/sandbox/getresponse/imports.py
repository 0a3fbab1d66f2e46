"""Contact imports (``/imports``): add and update many contacts with one tracked job.

``POST /imports`` answers 201 with the job in status ``uploaded``; after ``contact_delay``
sandbox seconds it is ``finished`` with its statistics: rows ``uploaded``, ``invalid`` (bad
syntax, blocklisted, undeliverable domain — counted again in ``errorStatistics``), contacts
``updated`` (already on the list: name, field values and tags are applied; a ``tag:x`` column
holding ``"0"`` never detaches) and ``addedToList``. Custom fields are mapped by name, tags
as ``tag:<name>`` (created if missing), the IP column is ``ip``. Like the real API, one import
may be active per list and two per account (409 / 1008 otherwise).
"""

from __future__ import annotations

import json
from typing import Any

from reconcile.sandbox.getresponse import queries, validate
from reconcile.sandbox.getresponse.catalog import Blocklist, Tags
from reconcile.sandbox.getresponse.contacts import Contacts
from reconcile.sandbox.getresponse.db import decode_id, fmt_time
from reconcile.sandbox.getresponse.errors import GetResponseError, invalid, not_found, taken
from reconcile.sandbox.getresponse.models import Campaigns, State
from reconcile.sandbox.getresponse.paging import Page
from reconcile.sandbox.getresponse.views import IMPORT, IMPORT_SOURCE

ACTIVE = ("uploaded", "to_review", "review", "approved")
ERROR_KINDS = (
    "syntaxErrors",
    "alreadyInQueue",
    "invalidDomains",
    "blacklist",
    "policyFailures",
    "mismatchedCriteria",
)


def _counters(uploaded: int) -> tuple[dict[str, int], dict[str, int]]:
    """An import's ``statistics`` and ``errorStatistics`` before any row is counted."""
    stats = {"uploaded": uploaded, "invalid": 0, "updated": 0, "addedToList": 0}
    return stats, dict.fromkeys(ERROR_KINDS, 0)


_STANDARD = ("email", "name", "ip", "dayOfCycle", "scoring", "note")


class Imports:
    def __init__(
        self,
        state: State,
        campaigns: Campaigns,
        tags: Tags,
        contacts: Contacts,
        blocklist: Blocklist,
    ) -> None:
        self.s = state
        self.campaigns = campaigns
        self.tags = tags
        self.contacts = contacts
        self.blocklist = blocklist

    def page(self, params: Any, base: str) -> Page:
        query = queries.parse(
            params, queries.IMPORT_FILTERS, queries.IMPORT_SORTS, [("i.created_on", "ASC")], "i.id"
        )
        return self.s.page(IMPORT, IMPORT_SOURCE, query, params, base)

    def get(self, cid: str, base: str, fields: str | None = None) -> dict[str, Any]:
        number = decode_id("import", cid) or -1
        doc = self.s.one(IMPORT, IMPORT_SOURCE, "i.id = :id", {"id": number}, base, fields)
        if doc is None:
            raise not_found(importId=cid)
        return doc

    def create(self, body: Any, base: str) -> dict[str, Any]:
        body = validate.body_object(body)
        campaign_id = validate.string(body, "campaignId", required=True)
        campaign = self.campaigns.row_id(campaign_id, missing="1001")
        mapping = body.get("fieldMapping")
        if not isinstance(mapping, list) or not all(isinstance(m, str) for m in mapping):
            raise invalid("fieldMapping", "This value should be an array of strings", mapping)
        if "email" not in mapping:
            raise invalid("fieldMapping", "The mapping must include email", mapping)
        for name in mapping:
            if name in _STANDARD or name.startswith("tag:"):
                continue
            if not self.s.conn.execute(
                "SELECT 1 FROM custom_fields WHERE name = ?", (name,)
            ).fetchone():
                raise GetResponseError(
                    1001, f"Custom field '{name}' not found", {"fieldMapping": name}
                )
        rows = body.get("contacts")
        if not isinstance(rows, list) or not rows:
            raise invalid("contacts", "This value should be a non-empty array")
        for i, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != len(mapping):
                raise invalid(
                    f"contacts[{i}]", "Each row must have one value per mapped field", row
                )
        active = self.s.conn.execute(
            f"SELECT campaign FROM imports WHERE status IN ({','.join('?' * len(ACTIVE))})", ACTIVE
        ).fetchall()
        if any(c == campaign for (c,) in active):
            raise taken(campaign_id, "An import is already running for this list")
        if len(active) >= 2:
            raise taken(campaign_id, "Two imports are already running for this account")
        stats, errors = _counters(len(rows))
        with self.s.write():
            _, cid = self.s.insert(
                "imports",
                "import",
                {
                    "campaign": campaign,
                    "status": "uploaded",
                    "statistics": json.dumps(stats),
                    "error_statistics": json.dumps(errors),
                    "created_on": self.s.now(),
                    "due": self.s.clock() + self.s.settings.contact_delay,
                    "rows": json.dumps({"mapping": mapping, "contacts": rows}),
                },
            )
        if self.s.settings.contact_delay <= 0:
            self.settle()
        return self.get(cid, base)

    def settle(self) -> int:
        due = self.s.conn.execute(
            "SELECT id, campaign, rows, due FROM imports WHERE status = 'uploaded' AND due <= ?",
            (self.s.clock(),),
        ).fetchall()
        for number, campaign, rows, when in due:
            self._run(number, campaign, json.loads(rows), when)
        return len(due)

    def _run(self, number: int, campaign: int, data: dict[str, Any], when: float) -> None:
        mapping, rows = data["mapping"], data["contacts"]
        fields = {
            name: fid for name, fid in self.s.conn.execute("SELECT name, id FROM custom_fields")
        }
        stats, errors = _counters(len(rows))
        stamp = fmt_time(when)
        tag_ids = {}
        for name in mapping:
            if name.startswith("tag:"):
                tag = name[4:]
                row = self.s.conn.execute(
                    "SELECT id FROM tags WHERE name_key = ?", (tag.lower(),)
                ).fetchone()
                tag_ids[name] = row[0] if row else self.tags.row_id(self.tags.add(tag, stamp))
        with self.s.write() as conn:
            for raw in rows:
                record = dict(zip(mapping, raw, strict=True))
                try:
                    email = validate.email(record["email"])
                except GetResponseError:
                    stats["invalid"] += 1
                    errors["syntaxErrors"] += 1
                    continue
                if self.blocklist.blocks(email):
                    stats["invalid"] += 1
                    errors["blacklist"] += 1
                    continue
                if self.s.settings.undeliverable(email.rsplit("@", 1)[1]):
                    stats["invalid"] += 1
                    errors["invalidDomains"] += 1
                    continue
                tags = [tag_ids[k] for k in tag_ids if str(record.get(k, "")).strip() == "1"]
                values = [
                    (fields[k], json.dumps([str(v)]))
                    for k, v in record.items()
                    if k in fields and str(v) != ""
                ]
                existing = conn.execute(
                    "SELECT id FROM contacts WHERE campaign = ? AND email_key = ?",
                    (campaign, email.lower()),
                ).fetchone()
                if existing:
                    contact = existing[0]
                    if record.get("name"):
                        conn.execute(
                            "UPDATE contacts SET name = ?, name_key = ? WHERE id = ?",
                            (record["name"], record["name"].lower(), contact),
                        )
                    conn.execute(
                        "UPDATE contacts SET changed_on = ? WHERE id = ?", (stamp, contact)
                    )
                    stats["updated"] += 1
                else:
                    contact = self.contacts.insert(
                        campaign,
                        email,
                        {
                            "name": record.get("name") or None,
                            "ipAddress": record.get("ip") or None,
                            "dayOfCycle": record.get("dayOfCycle") or None,
                        },
                        created_on=stamp,
                        origin="import",
                    )
                    stats["addedToList"] += 1
                self.contacts.set_tags(contact, tags, replace=False)
                self.contacts.set_fields(contact, values, replace=False)
            conn.execute(
                "UPDATE imports SET status = 'finished', finished_on = ?, statistics = ?,"
                " error_statistics = ?, rows = NULL WHERE id = ?",
                (stamp, json.dumps(stats), json.dumps(errors), number),
            )
