"""The account's catalogues: tags, custom-field definitions, senders (from-fields), blocklist."""

from __future__ import annotations

import json
import re
from typing import Any

from reconcile.sandbox.getresponse import queries, validate
from reconcile.sandbox.getresponse.db import decode_id, touch_contacts
from reconcile.sandbox.getresponse.errors import invalid, not_found, related_missing
from reconcile.sandbox.getresponse.models import State
from reconcile.sandbox.getresponse.paging import Page
from reconcile.sandbox.getresponse.views import CUSTOM_FIELD, FROM_FIELD, TAG

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
            touch_contacts(conn, "contact_tags", "tag", number, self.s.now())
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
            touch_contacts(conn, "contact_fields", "field", number, self.s.now())
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
