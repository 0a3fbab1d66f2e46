"""The account's shared state and its lists (campaigns).

Tags, custom fields, senders and the blocklist live in ``catalog.py``, contacts in
``contacts.py`` and ``queue.py``, newsletters and activities in ``messages.py``, imports in
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
from reconcile.sandbox.getresponse.views import CAMPAIGN, View


@dataclass
class Settings:
    contact_delay: float = 1.0
    # Domains whose addresses are accepted (202) and then rejected by the queue, as an
    # address whose domain does not exist would be. Reserved TLDs always are (RFC 2606).
    undeliverable_domains: set[str] = field(default_factory=set)
    # List names held by *other* GetResponse accounts: list names are unique across all
    # accounts (the connector's documentation), so creating one is 409 / 1008 although no
    # list of this account has it.
    taken_list_names: set[str] = field(default_factory=set)

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
        self._name({"name": name}, required=True)
        language = validate.string(body, "languageCode", max_length=8) or "EN"
        is_default = validate.string_boolean(body.get("isDefault"), "isDefault", "false")
        settings = {k: body[k] for k in DEFAULT_CAMPAIGN_SETTINGS if isinstance(body.get(k), dict)}
        if (
            name.lower() in self.s.settings.taken_list_names
            or self.s.conn.execute(
                "SELECT 1 FROM campaigns WHERE name_key = ?", (name.lower(),)
            ).fetchone()
        ):
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
