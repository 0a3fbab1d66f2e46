"""Contacts: listing and search, details, updates, tags and field values, deletion.

Adding contacts is asynchronous and lives in ``queue.py``; the rows are written here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from reconcile.sandbox.getresponse import queries, validate
from reconcile.sandbox.getresponse.catalog import CHOICE_FORMATS
from reconcile.sandbox.getresponse.db import decode_id, fmt_time, parse_time
from reconcile.sandbox.getresponse.errors import (
    invalid,
    not_found,
    related_missing,
    taken,
)
from reconcile.sandbox.getresponse.models import Campaigns, State
from reconcile.sandbox.getresponse.paging import Page
from reconcile.sandbox.getresponse.views import (
    ACTIVITY_SOURCE,
    CONTACT,
    CONTACT_ACTIVITY,
    CONTACT_SOURCE,
    CONTACT_WITH_FIELDS,
    projection,
)

ACTIVITY_DEFAULT_DAYS = 14
GEOLOCATION_KEYS = (
    "latitude",
    "longitude",
    "continentCode",
    "countryCode",
    "region",
    "postalCode",
    "dmaCode",
    "city",
)


class Contacts:
    def __init__(self, state: State, campaigns: Campaigns) -> None:
        self.s = state
        self.campaigns = campaigns

    # ---- reading ---------------------------------------------------------------------------

    def row_id(self, cid: str) -> int:
        number = decode_id("contact", cid) or -1
        if not self.s.conn.execute("SELECT 1 FROM contacts WHERE id = ?", (number,)).fetchone():
            raise not_found(contactId=cid)
        return number

    def page(self, params: Any, base: str, campaign_cid: str | None = None) -> Page:
        if campaign_cid is None:
            filters, sorts = queries.CONTACT_FILTERS, queries.CONTACT_SORTS
        else:
            filters, sorts = queries.CAMPAIGN_CONTACT_FILTERS, queries.CAMPAIGN_CONTACT_SORTS
        query = queries.parse(params, filters, sorts, [("c.id", "ASC")], "c.id")
        where = []
        if campaign_cid is not None:
            # The description gives this operation no 404: an unknown list is a related
            # resource not found (400 / 1001).
            number = self.campaigns.row_id(campaign_cid, missing="1001")
            where.append(f"c.campaign = {number}")
        needs_join = any("k." in clause for clause in query.where)
        flags = (params.get("additionalFlags") or "").split(",")
        view = (
            CONTACT_WITH_FIELDS
            if "customFieldValues" in flags and campaign_cid is None
            else CONTACT
        )
        return self.s.page(
            view,
            CONTACT_SOURCE,
            query,
            params,
            base,
            where=where,
            count_source=None if needs_join else "contacts c",
        )

    def get(self, cid: str, base: str, fields: str | None = None) -> dict[str, Any]:
        number = self.row_id(cid)
        doc = self.s.one(CONTACT, CONTACT_SOURCE, "c.id = :id", {"id": number}, base, fields)
        assert doc is not None
        wanted = projection(fields, "contactId")

        def want(key: str) -> bool:
            return wanted is None or key in wanted

        if want("geolocation"):
            raw = self.s.conn.execute(
                "SELECT geolocation FROM contacts WHERE id = ?", (number,)
            ).fetchone()[0]
            geo = json.loads(raw) if raw else {}
            doc["geolocation"] = {key: geo.get(key) for key in GEOLOCATION_KEYS}
            if doc["geolocation"]["continentCode"] is None:  # an enum: null is not one of it
                del doc["geolocation"]["continentCode"]
        if want("tags"):
            doc["tags"] = self.tags_of(number, base, with_date=False)
        if want("customFieldValues"):
            doc["customFieldValues"] = [
                {
                    "customFieldId": fid,
                    "name": name,
                    "value": vals,
                    "values": vals,
                    "type": fmt,
                    "fieldType": fmt,
                    "valueType": kind,
                }
                for fid, name, kind, fmt, vals in self._field_rows(number)
            ]
        return doc

    def tags_of(self, number: int, base: str, *, with_date: bool) -> list[dict[str, Any]]:
        rows = self.s.conn.execute(
            "SELECT t.cid, t.name, t.created_at FROM contact_tags ct JOIN tags t ON t.id = ct.tag"
            " WHERE ct.contact = ? ORDER BY t.name_key",
            (number,),
        ).fetchall()
        out = []
        for cid, name, created in rows:
            tag = {"tagId": cid, "name": name, "href": f"{base}/tags/{cid}", "color": ""}
            if with_date:
                tag["createdAt"] = created
            out.append(tag)
        return out

    def _field_rows(self, number: int) -> list[tuple[str, str, str, str, list[str]]]:
        rows = self.s.conn.execute(
            "SELECT f.cid, f.name, f.type, f.format, cf.vals FROM contact_fields cf"
            " JOIN custom_fields f ON f.id = cf.field WHERE cf.contact = ? ORDER BY f.name",
            (number,),
        ).fetchall()
        return [(fid, name, kind, fmt, json.loads(vals)) for fid, name, kind, fmt, vals in rows]

    def activities(self, cid: str, params: Any, base: str) -> Page:
        """A contact's sends, opens and clicks; the last 14 days unless ``query[createdOn]``."""
        number = decode_id("contact", cid) or -1
        query = queries.parse(
            params, queries.ACTIVITY_FILTERS, {}, [("a.created_on", "DESC")], "a.id"
        )
        where = [f"a.contact = {number}"]
        if not any(key.startswith("query[createdOn]") for key in params):
            since = fmt_time(self.s.clock() - ACTIVITY_DEFAULT_DAYS * 86400)
            where.append(f"a.created_on >= '{since}'")
        return self.s.page(
            CONTACT_ACTIVITY,
            ACTIVITY_SOURCE,
            query,
            params,
            base,
            where=where,
            count_source="activities a",
        )

    # ---- validation shared by add, batch, update and import ---------------------------------

    def tag_ids(self, ids: list[str], label: str) -> list[int]:
        out = []
        for i, cid in enumerate(ids):
            number = decode_id("tag", cid) or -1
            if not self.s.conn.execute("SELECT 1 FROM tags WHERE id = ?", (number,)).fetchone():
                raise related_missing(f"{label}[{i}].tagId", cid)
            out.append(number)
        return out

    def field_values(self, items: Any, label: str = "customFieldValues") -> list[tuple[int, str]]:
        if items is None:
            return []
        if not isinstance(items, list):
            raise invalid(label, "This value should be of type array", items)
        out = []
        for i, item in enumerate(items):
            here = f"{label}[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("customFieldId"), str):
                raise invalid(f"{here}.customFieldId", "This value should not be blank", item)
            row = self.s.conn.execute(
                "SELECT id, type, format, vals FROM custom_fields WHERE id = ?",
                (decode_id("field", item["customFieldId"]) or -1,),
            ).fetchone()
            if row is None:
                raise related_missing(f"{here}.customFieldId", item["customFieldId"])
            values = item.get("value", item.get("values"))
            if not isinstance(values, list) or not values:
                raise invalid(f"{here}.value", "This value should be a non-empty array", values)
            values = [str(v) if isinstance(v, int | float) else v for v in values]
            if not all(isinstance(v, str) for v in values):
                raise invalid(f"{here}.value", "Values must be strings", values)
            _check_values(row[1], row[2], json.loads(row[3]), values, f"{here}.value")
            out.append((int(row[0]), json.dumps(values)))
        return out

    # ---- writing (synchronous, inside write()) -----------------------------------------------

    def insert(
        self,
        campaign: int,
        email: str,
        data: dict[str, Any],
        *,
        created_on: str | None = None,
        origin: str = "api",
    ) -> int:
        created = created_on or self.s.now()
        name = data.get("name")
        values = {
            "campaign": campaign,
            "email": email,
            "email_key": email.lower(),
            "name": name,
            "name_key": name.lower() if name else None,
            "origin": data.get("origin", origin),
            "time_zone": data.get("timeZone"),
            "created_on": created,
            "changed_on": data.get("changedOn", created),
            "day_of_cycle": data.get("dayOfCycle"),
            "scoring": data.get("scoring"),
            "engagement_score": data.get("engagementScore"),
            "note": data.get("note"),
            "ip_address": data.get("ipAddress"),
            "geolocation": json.dumps(data["geolocation"]) if data.get("geolocation") else None,
        }
        number, _ = self.s.insert("contacts", "contact", values)
        return number

    def set_tags(self, number: int, tags: Iterable[int], *, replace: bool = True) -> None:
        if replace:
            self.s.conn.execute("DELETE FROM contact_tags WHERE contact = ?", (number,))
        self.s.conn.executemany(
            "INSERT OR IGNORE INTO contact_tags (contact, tag) VALUES (?, ?)",
            [(number, tag) for tag in tags],
        )

    def set_fields(self, number: int, fields: Iterable[Any], *, replace: bool = True) -> None:
        if replace:
            self.s.conn.execute("DELETE FROM contact_fields WHERE contact = ?", (number,))
        self.s.conn.executemany(
            "INSERT OR REPLACE INTO contact_fields (contact, field, vals) VALUES (?, ?, ?)",
            [(number, field, vals) for field, vals in fields],
        )

    # ---- updating -------------------------------------------------------------------------

    def update(self, cid: str, body: Any, base: str) -> dict[str, Any]:
        """Omitted fields stay; ``tags`` and ``customFieldValues`` replace their collection;
        a new ``campaign`` moves the contact with its history."""
        number = self.row_id(cid)
        body = validate.body_object(body)
        campaign, email_key = self.s.conn.execute(
            "SELECT campaign, email_key FROM contacts WHERE id = ?", (number,)
        ).fetchone()
        sets: dict[str, Any] = {}
        if "name" in body:
            name = validate.string(body, "name", min_length=1, max_length=128)
            sets.update(name=name, name_key=name.lower() if name else None)
        if "email" in body:
            email = validate.email(body["email"])
            sets.update(email=email, email_key=email.lower())
        target = campaign
        if body.get("campaign") is not None:
            target = self.campaigns.row_id(
                validate.reference(body, "campaign", "campaignId"), missing="1001"
            )
            sets["campaign"] = target
        new_key = sets.get("email_key", email_key)
        if (target, new_key) != (campaign, email_key) and self.s.conn.execute(
            "SELECT 1 FROM contacts WHERE campaign = ? AND email_key = ? AND id != ?",
            (target, new_key, number),
        ).fetchone():
            raise taken(sets.get("email", new_key), "Another contact on the list has this email")
        if "dayOfCycle" in body:
            day = body["dayOfCycle"]
            sets["day_of_cycle"] = None if day is None else str(day)
        if "scoring" in body:
            sets["scoring"] = validate.number(body["scoring"], "scoring")
        if "note" in body:
            sets["note"] = validate.string(body, "note", max_length=255)
        tags = (
            None
            if body.get("tags") is None
            else self.tag_ids(validate.id_list(body["tags"], "tags", "tagId"), "tags")
        )
        fields = (
            None
            if body.get("customFieldValues") is None
            else self.field_values(body["customFieldValues"])
        )
        with self.s.write() as conn:
            sets["changed_on"] = self.s.now()
            assignments = ", ".join(f"{column} = :{column}" for column in sets)
            conn.execute(
                f"UPDATE contacts SET {assignments} WHERE id = :id", {**sets, "id": number}
            )
            if tags is not None:
                self.set_tags(number, tags)
            if fields is not None:
                self.set_fields(number, fields)
        return self.get(cid, base)

    def upsert_tags(self, cid: str, body: Any, base: str) -> list[dict[str, Any]]:
        number = self.row_id(cid)
        body = validate.body_object(body)
        tags = self.tag_ids(validate.id_list(body.get("tags"), "tags", "tagId"), "tags")
        with self.s.write() as conn:
            self.set_tags(number, tags, replace=False)
            conn.execute("UPDATE contacts SET changed_on = ? WHERE id = ?", (self.s.now(), number))
        return self.tags_of(number, base, with_date=True)

    def upsert_fields(self, cid: str, body: Any) -> list[dict[str, Any]]:
        number = self.row_id(cid)
        body = validate.body_object(body)
        fields = self.field_values(body.get("customFieldValues"))
        with self.s.write() as conn:
            self.set_fields(number, fields, replace=False)
            conn.execute("UPDATE contacts SET changed_on = ? WHERE id = ?", (self.s.now(), number))
        return [
            {"customFieldId": fid, "values": vals}
            for fid, _, _, _, vals in self._field_rows(number)
        ]

    def rescore(self, changes: dict[str, Any], *, from_activity: bool = False) -> list[str]:
        """What GetResponse itself does to contacts over time: scoring rules change
        ``scoring``, and the engagement score (1-5, read-only in the API) is recomputed from
        recent opens and clicks. ``changes``: contact id → ``{"engagementScore", "scoring"}``;
        ``from_activity``: recompute every contact's engagement score from its sends, opens
        and clicks of the last 90 days. ``changedOn`` moves for each contact whose values
        changed. Returns their ids."""
        rows: dict[int, dict[str, Any]] = {}
        for cid, values in changes.items():
            if not isinstance(values, dict) or not set(values) <= {"engagementScore", "scoring"}:
                raise ValueError(f"{cid}: give engagementScore and/or scoring")
            score = values.get("engagementScore")
            if score is not None and (not isinstance(score, int) or not 1 <= score <= 5):
                raise ValueError(f"{cid}: engagementScore is 1 to 5, or null")
            rows[self.row_id(cid)] = dict(values)
        if from_activity:
            since = fmt_time(self.s.clock() - 90 * 86400)
            for number, sends, opens, clicks in self.s.conn.execute(
                "SELECT contact, sum(activity = 'send'), sum(activity = 'open'),"
                " sum(activity = 'click') FROM activities WHERE created_on >= ?"
                " GROUP BY contact",
                (since,),
            ):
                ratio = (opens + 2 * clicks) / max(sends, 1)
                rows.setdefault(number, {})["engagementScore"] = 1 + min(4, int(ratio * 2))
        changed: list[str] = []
        columns = {"engagementScore": "engagement_score", "scoring": "scoring"}
        with self.s.write() as conn:
            for number, values in rows.items():
                found = conn.execute(
                    "SELECT cid, engagement_score, scoring FROM contacts WHERE id = ?", (number,)
                ).fetchone()
                if found is None:
                    continue
                current = {"engagementScore": found[1], "scoring": found[2]}
                new = {k: v for k, v in values.items() if current[k] != v}
                if not new:
                    continue
                sets = ", ".join(f"{columns[k]} = :{k}" for k in new)
                conn.execute(
                    f"UPDATE contacts SET {sets}, changed_on = :now WHERE id = :id",
                    {**new, "now": self.s.now(), "id": number},
                )
                changed.append(found[0])
        return changed

    def delete(self, cid: str, message_id: str | None = None) -> None:
        """Removes the contact; with ``messageId`` it counts as an unsubscribe from that message,
        and the address cannot be added back through the API (400 / 1002)."""
        number = self.row_id(cid)
        with self.s.write() as conn:
            if message_id:
                email_key, campaign = conn.execute(
                    "SELECT email_key, campaign FROM contacts WHERE id = ?", (number,)
                ).fetchone()
                conn.execute(
                    "INSERT INTO removals (email_key, campaign, reason, removed_on, contact_cid)"
                    " VALUES (?, ?, 'unsubscribed', ?, ?)",
                    (email_key, campaign, self.s.now(), cid),
                )
            conn.execute("DELETE FROM contact_tags WHERE contact = ?", (number,))
            conn.execute("DELETE FROM contact_fields WHERE contact = ?", (number,))
            conn.execute("DELETE FROM contacts WHERE id = ?", (number,))


def _check_values(kind: str, fmt: str, allowed: list[str], values: list[str], label: str) -> None:
    if fmt in CHOICE_FORMATS or (fmt == "checkbox" and allowed):
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise invalid(label, f"Allowed values: {', '.join(allowed)}", unknown)
    if fmt in ("radio", "single_select", "text", "textarea") and len(values) > 1:
        raise invalid(label, f"A {fmt} field takes one value", values)
    for value in values:
        try:
            if kind == "number":
                float(value)
            elif kind in ("date", "datetime"):
                parse_time(value)
        except ValueError:
            raise invalid(label, f"Not a valid {kind}", value) from None
