"""The account's state and rules: lists (campaigns), tags, custom fields, senders, blocklist.

Contacts live in ``contacts.py``, newsletters and activities in ``messages.py``, imports in
``imports.py``; they share one :class:`State` (connection, clock, pager, settings). Methods
return JSON-ready dicts or pages and raise :class:`GetResponseError` with the API's codes.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from reconcile.sandbox.getresponse import queries, validate
from reconcile.sandbox.getresponse.db import SandboxClock, decode_id, encode_id, fmt_time
from reconcile.sandbox.getresponse.errors import invalid, not_found, related_missing, taken
from reconcile.sandbox.getresponse.paging import Listing, Page, Pager, PageRequest
from reconcile.sandbox.getresponse.views import CAMPAIGN, CUSTOM_FIELD, FROM_FIELD, TAG, View


@dataclass
class Settings:
    contact_delay: float = 1.0
    # Domains whose addresses are accepted (202) and then rejected by the queue, as an
    # address whose domain does not exist would be. Reserved TLDs always are (RFC 2606).
    undeliverable_domains: set[str] = field(default_factory=set)

    def undeliverable(self, domain: str) -> bool:
        domain = domain.lower()
        tld = domain.rsplit(".", 1)[-1]
        return tld in ("invalid", "test", "localhost") or domain in self.undeliverable_domains


def root_of(base: str) -> str:
    """``http://host:port`` from an API root such as ``http://host:port/max/v3``."""
    return base.removesuffix("/v3").removesuffix("/max")


class State:
    """What every resource shares. Confined to the server's event-loop thread."""

    def __init__(self, conn: sqlite3.Connection, clock: SandboxClock, settings: Settings) -> None:
        self.conn = conn
        self.clock = clock
        self.settings = settings
        self.pager = Pager(conn)

    def now(self) -> str:
        return fmt_time(self.clock())

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction; page ends and totals remembered by the pager are dropped."""
        self.conn.execute("BEGIN")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        self.pager.invalidate()

    def one(
        self,
        view: View,
        source: str,
        where: str,
        params: dict[str, Any],
        base: str,
        fields: str | None = None,
    ) -> dict[str, Any] | None:
        row = self.conn.execute(
            f"SELECT {view.select(fields)} FROM {source} WHERE {where}",
            {**params, "base": base, "root": root_of(base)},
        ).fetchone()
        return json.loads(row[0]) if row else None

    def page(
        self,
        view: View,
        source: str,
        query: queries.Query,
        params: Any,
        base: str,
        *,
        where: list[str] | None = None,
        count_source: str | None = None,
    ) -> Page:
        listing = Listing(
            select=view.select(params.get("fields")),
            source=source,
            where=[*(where or []), *query.where],
            params={**query.params, "base": base, "root": root_of(base)},
            order=query.order,
            count_source=count_source,
        )
        return self.pager.page(listing, PageRequest.from_params(params))

    def insert(self, table: str, kind: str, values: dict[str, Any]) -> tuple[int, str]:
        """Insert a row and give it its opaque id; inside a write()."""
        columns = ", ".join(values)
        marks = ", ".join(f":{name}" for name in values)
        cursor = self.conn.execute(
            f"INSERT INTO {table} (cid, {columns}) VALUES ('', {marks})", values
        )
        number = int(cursor.lastrowid or 0)
        cid = encode_id(kind, number)
        self.conn.execute(f"UPDATE {table} SET cid = ? WHERE id = ?", (cid, number))
        return number, cid


ACCOUNT = {
    "accountId": "sb1",
    "email": "admin@sandbox.example",
    "countryCode": {"countryCodeId": "73", "countryCode": "FR"},
    "industryTag": {"industryTagId": "1"},
    "timeZone": {"name": "Europe/Paris", "offset": "+01:00"},
    "firstName": "Sandbox",
    "lastName": "Admin",
    "companyName": "Reconcile Sandbox",
    "phone": "+33100000000",
    "state": "Ile-de-France",
    "city": "Paris",
    "street": "1 rue du Bac",
    "zipCode": "75007",
    "numberOfEmployees": "50",
    "timeFormat": "24h",
}

_CAMPAIGN_NAME_FORBIDDEN = re.compile(r"[/\\@\[\]\U0001F000-\U0001FAFF\u2600-\u27BF]")
_TAG_NAME = re.compile(r"^[_a-zA-Z0-9]{2,64}$")
_FIELD_NAME = re.compile(r"^[a-z0-9_]{1,128}$")
MERGE_WORDS = frozenset(
    [
        "name",
        "email",
        "twitter",
        "facebook",
        "buzz",
        "myspace",
        "linkedin",
        "digg",
        "googleplus",
        "pinterest",
        "responder",
        "campaign",
        "change",
    ]
)
FIELD_TYPES = (
    "string",
    "number",
    "date",
    "datetime",
    "country",
    "currency",
    "phone",
    "gender",
    "ip",
    "url",
)
FIELD_FORMATS = ("text", "textarea", "radio", "checkbox", "single_select", "multi_select")
CHOICE_FORMATS = ("radio", "single_select", "multi_select")

DEFAULT_CAMPAIGN_SETTINGS = {
    "postal": {
        "addPostalToMessages": "false",
        "city": "Paris",
        "companyName": "Reconcile Sandbox",
        "country": "France",
        "design": "[[name]], [[address]], [[city]]",
        "state": "",
        "street": "1 rue du Bac",
        "zipCode": "75007",
    },
    "confirmation": {"redirectType": "hosted", "mimeType": "combo"},
    "optinTypes": {"email": "single", "api": "single", "import": "single", "webform": "single"},
    "subscriptionNotifications": {"status": "disabled", "recipients": []},
    "profile": {"industryTagId": "1"},
}


class Campaigns:
    """Contact lists. There is no DELETE in the API: deletion happens in the web app, which the
    control surface simulates (``delete``), so that clients can practise detecting it."""

    def __init__(self, state: State) -> None:
        self.s = state

    def row_id(self, cid: str | None, *, missing: str = "404") -> int:
        number = decode_id("campaign", cid or "")
        row = self.s.conn.execute(
            "SELECT id FROM campaigns WHERE id = ? AND deleted = 0", (number or -1,)
        ).fetchone()
        if row:
            return int(row[0])
        if missing == "1001":
            raise related_missing("campaignId", cid)
        raise not_found(campaignId=cid)

    def page(self, params: Any, base: str) -> Page:
        query = queries.parse(
            params,
            queries.CAMPAIGN_FILTERS,
            queries.CAMPAIGN_SORTS,
            [("k.created_on", "ASC")],
            "k.id",
        )
        return self.s.page(CAMPAIGN, "campaigns k", query, params, base, where=["k.deleted = 0"])

    def get(self, cid: str, base: str, fields: str | None = None) -> dict[str, Any]:
        number = self.row_id(cid)
        doc = self.s.one(CAMPAIGN, "campaigns k", "k.id = :id", {"id": number}, base, fields)
        assert doc is not None
        doc.pop("description", None)
        settings = json.loads(
            self.s.conn.execute(
                "SELECT settings FROM campaigns WHERE id = ?", (number,)
            ).fetchone()[0]
        )
        profile = {"description": doc.get("name", ""), "title": doc.get("name", "")}
        defaults = {**DEFAULT_CAMPAIGN_SETTINGS, "profile": {"industryTagId": "1", **profile}}
        for key, value in {**defaults, **settings}.items():
            if not fields or key in fields.split(","):
                doc[key] = value
        return doc

    def _name(self, body: dict[str, Any], *, required: bool) -> str | None:
        name = validate.string(body, "name", required=required, min_length=3, max_length=64)
        if name is not None and _CAMPAIGN_NAME_FORBIDDEN.search(name):
            raise invalid("name", "Name cannot contain emojis or the characters / \\ @ [ ]", name)
        return name

    def create(self, body: Any, base: str) -> dict[str, Any]:
        body = validate.body_object(body)
        name = self._name(body, required=True)
        assert name is not None
        return self.get(self.add(name, body), base)

    def add(
        self, name: str, body: dict[str, Any] | None = None, created_on: str | None = None
    ) -> str:
        body = body or {}
        language = validate.string(body, "languageCode", max_length=8) or "EN"
        is_default = validate.string_boolean(body.get("isDefault"), "isDefault", "false")
        settings = {k: body[k] for k in DEFAULT_CAMPAIGN_SETTINGS if isinstance(body.get(k), dict)}
        if self.s.conn.execute(
            "SELECT 1 FROM campaigns WHERE name_key = ?", (name.lower(),)
        ).fetchone():
            raise taken(name, "Campaign with this name already exists")
        with self.s.write():
            if is_default == "true":
                self.s.conn.execute("UPDATE campaigns SET is_default = 'false'")
            first = not self.s.conn.execute("SELECT 1 FROM campaigns WHERE deleted = 0").fetchone()
            _, cid = self.s.insert(
                "campaigns",
                "campaign",
                {
                    "name": name,
                    "name_key": name.lower(),
                    "language_code": language,
                    "is_default": "true" if first else is_default,
                    "created_on": created_on or self.s.now(),
                    "settings": json.dumps(settings),
                },
            )
        return cid

    def update(self, cid: str, body: Any, base: str) -> dict[str, Any]:
        number = self.row_id(cid)
        body = validate.body_object(body)
        name = self._name(body, required=True)  # UpdateCampaign requires it (OpenAPI)
        language = validate.string(body, "languageCode", max_length=8)
        is_default = validate.string_boolean(body.get("isDefault"), "isDefault")
        if (
            name is not None
            and self.s.conn.execute(
                "SELECT 1 FROM campaigns WHERE name_key = ? AND id != ?", (name.lower(), number)
            ).fetchone()
        ):
            raise taken(name, "Campaign with this name already exists")
        old = json.loads(
            self.s.conn.execute(
                "SELECT settings FROM campaigns WHERE id = ?", (number,)
            ).fetchone()[0]
        )
        for key in DEFAULT_CAMPAIGN_SETTINGS:
            if isinstance(body.get(key), dict):
                old[key] = {**old.get(key, DEFAULT_CAMPAIGN_SETTINGS[key]), **body[key]}
        with self.s.write() as conn:
            if name is not None:
                conn.execute(
                    "UPDATE campaigns SET name = ?, name_key = ? WHERE id = ?",
                    (name, name.lower(), number),
                )
            if language is not None:
                conn.execute(
                    "UPDATE campaigns SET language_code = ? WHERE id = ?", (language, number)
                )
            if is_default == "true":
                conn.execute(
                    "UPDATE campaigns SET is_default = CASE WHEN id = ? THEN 'true'"
                    " ELSE 'false' END",
                    (number,),
                )
            conn.execute(
                "UPDATE campaigns SET settings = ? WHERE id = ?", (json.dumps(old), number)
            )
        return self.get(cid, base)

    def delete(self, cid: str) -> None:
        """What deleting a list in the web app does: the list and its contacts are gone."""
        number = self.row_id(cid)
        with self.s.write() as conn:
            conn.execute(
                "DELETE FROM contact_tags WHERE contact IN"
                " (SELECT id FROM contacts WHERE campaign = ?)",
                (number,),
            )
            conn.execute(
                "DELETE FROM contact_fields WHERE contact IN"
                " (SELECT id FROM contacts WHERE campaign = ?)",
                (number,),
            )
            conn.execute("DELETE FROM contacts WHERE campaign = ?", (number,))
            conn.execute("DELETE FROM queue WHERE campaign = ? AND state = 'pending'", (number,))
            conn.execute(
                "UPDATE campaigns SET deleted = 1, is_default = 'false',"
                " name_key = name_key || '#deleted#' || id WHERE id = ?",
                (number,),
            )


class Tags:
    def __init__(self, state: State) -> None:
        self.s = state

    def row_id(self, cid: str) -> int:
        number = decode_id("tag", cid) or -1
        if not self.s.conn.execute("SELECT 1 FROM tags WHERE id = ?", (number,)).fetchone():
            raise not_found(tagId=cid)
        return number

    def page(self, params: Any, base: str) -> Page:
        query = queries.parse(
            params, queries.TAG_FILTERS, queries.TAG_SORTS, [("t.created_at", "ASC")], "t.id"
        )
        return self.s.page(TAG, "tags t", query, params, base)

    def get(self, cid: str, base: str, fields: str | None = None) -> dict[str, Any]:
        doc = self.s.one(TAG, "tags t", "t.id = :id", {"id": self.row_id(cid)}, base, fields)
        assert doc is not None
        return doc

    def create(self, body: Any, base: str) -> dict[str, Any]:
        body = validate.body_object(body)
        name = validate.string(body, "name", required=True)
        assert name is not None
        return self.get(self.add(name), base)

    def add(self, name: str, created_at: str | None = None) -> str:
        if not _TAG_NAME.match(name):
            raise invalid("name", "Tag name must match ^[_a-zA-Z0-9]{2,64}$", name)
        if self.s.conn.execute("SELECT 1 FROM tags WHERE name_key = ?", (name.lower(),)).fetchone():
            # createTag lists no 409 in the description: a validation error (400 / 1000).
            raise invalid("name", "Tag with this name already exists", name)
        with self.s.write():
            _, cid = self.s.insert(
                "tags",
                "tag",
                {"name": name, "name_key": name.lower(), "created_at": created_at or self.s.now()},
            )
        return cid

    def delete(self, cid: str) -> None:
        number = self.row_id(cid)
        with self.s.write() as conn:
            conn.execute("DELETE FROM contact_tags WHERE tag = ?", (number,))
            conn.execute("DELETE FROM tags WHERE id = ?", (number,))


class CustomFields:
    def __init__(self, state: State) -> None:
        self.s = state

    def row_id(self, cid: str) -> int:
        number = decode_id("field", cid) or -1
        if not self.s.conn.execute(
            "SELECT 1 FROM custom_fields WHERE id = ?", (number,)
        ).fetchone():
            raise not_found(customFieldId=cid)
        return number

    def page(self, params: Any, base: str) -> Page:
        query = queries.parse(
            params, queries.FIELD_FILTERS, queries.FIELD_SORTS, [("f.name", "ASC")], "f.id"
        )
        return self.s.page(CUSTOM_FIELD, "custom_fields f", query, params, base)

    def get(self, cid: str, base: str, fields: str | None = None) -> dict[str, Any]:
        doc = self.s.one(
            CUSTOM_FIELD, "custom_fields f", "f.id = :id", {"id": self.row_id(cid)}, base, fields
        )
        assert doc is not None
        return doc

    @staticmethod
    def _values(body: dict[str, Any], fmt: str) -> list[str]:
        values = body.get("values")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise invalid("values", "This value should be an array of strings", values)
        if fmt in CHOICE_FORMATS and len(values) < 2:
            raise invalid("values", f"A {fmt} field needs at least two values", values)
        return values

    def create(self, body: Any, base: str) -> dict[str, Any]:
        body = validate.body_object(body)
        name = validate.string(body, "name", required=True, min_length=1, max_length=128)
        assert name is not None
        kind = validate.string(body, "type", required=True)
        fmt = validate.string(body, "format", required=True)
        hidden = validate.string_boolean(body.get("hidden"), "hidden")
        if hidden is None:
            raise invalid("hidden", "This value should not be blank")
        if kind not in FIELD_TYPES:
            raise invalid("type", f"Allowed types: {', '.join(FIELD_TYPES)}", kind)
        if fmt not in FIELD_FORMATS:
            raise invalid("format", f"Allowed formats: {', '.join(FIELD_FORMATS)}", fmt)
        return self.get(self.add(name, kind, fmt, hidden, self._values(body, fmt)), base)

    def add(self, name: str, kind: str, fmt: str, hidden: str, values: list[str]) -> str:
        if not _FIELD_NAME.match(name) or name in MERGE_WORDS:
            raise invalid(
                "name",
                "Use lowercase letters, digits and underscores; merge words are reserved",
                name,
            )
        if self.s.conn.execute("SELECT 1 FROM custom_fields WHERE name = ?", (name,)).fetchone():
            # createCustomField lists no 409 in the description: 400 / 1000.
            raise invalid("name", "Custom field with this name already exists", name)
        with self.s.write():
            _, cid = self.s.insert(
                "custom_fields",
                "field",
                {
                    "name": name,
                    "type": kind,
                    "format": fmt,
                    "hidden": hidden,
                    "vals": json.dumps(values),
                },
            )
        return cid

    def update(self, cid: str, body: Any, base: str) -> dict[str, Any]:
        number = self.row_id(cid)
        body = validate.body_object(body)
        hidden = validate.string_boolean(body.get("hidden"), "hidden")
        if hidden is None:
            raise invalid("hidden", "This value should not be blank")
        fmt = self.s.conn.execute(
            "SELECT format FROM custom_fields WHERE id = ?", (number,)
        ).fetchone()[0]
        values = self._values(body, fmt)
        with self.s.write() as conn:
            conn.execute(
                "UPDATE custom_fields SET hidden = ?, vals = ? WHERE id = ?",
                (hidden, json.dumps(values), number),
            )
        return self.get(cid, base)

    def delete(self, cid: str) -> None:
        number = self.row_id(cid)
        with self.s.write() as conn:
            conn.execute("DELETE FROM contact_fields WHERE field = ?", (number,))
            conn.execute("DELETE FROM custom_fields WHERE id = ?", (number,))


class FromFields:
    def __init__(self, state: State) -> None:
        self.s = state

    def row_id(self, cid: str | None, *, related: bool = False) -> int:
        number = decode_id("fromfield", cid or "") or -1
        if not self.s.conn.execute("SELECT 1 FROM from_fields WHERE id = ?", (number,)).fetchone():
            if related:
                raise related_missing("fromFieldId", cid)
            raise not_found(fromFieldId=cid)
        return number

    def page(self, params: Any, base: str) -> Page:
        query = queries.parse(
            params,
            queries.FROM_FIELD_FILTERS,
            queries.FROM_FIELD_SORTS,
            [("ff.created_on", "ASC")],
            "ff.id",
        )
        return self.s.page(FROM_FIELD, "from_fields ff", query, params, base)

    def get(self, cid: str, base: str, fields: str | None = None) -> dict[str, Any]:
        doc = self.s.one(
            FROM_FIELD, "from_fields ff", "ff.id = :id", {"id": self.row_id(cid)}, base, fields
        )
        assert doc is not None
        return doc

    def add(self, email: str, name: str, *, is_default: bool = False) -> str:
        with self.s.write() as conn:
            first = not conn.execute("SELECT 1 FROM from_fields").fetchone()
            _, cid = self.s.insert(
                "from_fields",
                "fromfield",
                {
                    "email": email,
                    "name": name,
                    "created_on": self.s.now(),
                    "is_default": "true" if (first or is_default) else "false",
                },
            )
        return cid

    def default_id(self) -> int | None:
        row = self.s.conn.execute(
            "SELECT id FROM from_fields ORDER BY is_default = 'true' DESC, id LIMIT 1"
        ).fetchone()
        return int(row[0]) if row else None


class Blocklist:
    """Account blocklist masks: an address (``john@example.com``) or a domain (``@example.com``)."""

    def __init__(self, state: State) -> None:
        self.s = state

    def masks(self) -> list[str]:
        return [r[0] for r in self.s.conn.execute("SELECT mask FROM blocklist ORDER BY mask")]

    def blocks(self, email: str) -> bool:
        email = email.lower()
        domain = "@" + email.rsplit("@", 1)[-1]
        return bool(
            self.s.conn.execute(
                "SELECT 1 FROM blocklist WHERE mask IN (?, ?, ?)", (email, domain, "*" + domain)
            ).fetchone()
        )

    def add(self, masks: list[str]) -> None:
        with self.s.write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO blocklist (mask) VALUES (?)",
                [(m.strip().lower(),) for m in masks if m.strip()],
            )

    def replace(self, masks: list[str]) -> None:
        with self.s.write() as conn:
            conn.execute("DELETE FROM blocklist")
            conn.executemany(
                "INSERT OR IGNORE INTO blocklist (mask) VALUES (?)",
                [(m.strip().lower(),) for m in masks if m.strip()],
            )

    def remove(self, masks: list[str]) -> None:
        with self.s.write() as conn:
            conn.executemany(
                "DELETE FROM blocklist WHERE mask = ?", [(m.strip().lower(),) for m in masks]
            )
