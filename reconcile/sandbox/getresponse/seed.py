"""Putting data into the sandbox: explicit scenarios, realistic samples, and bulk loads.

Explicit data (``POST /__sandbox__/seed`` or :meth:`Account.seed`), every key
optional, references by name (lists, tags, fields, newsletters) or email::

    {"campaigns": [{"name": "clients_fr", "createdOn": "2024-01-05T10:00:00+0000"}],
     "customFields": [{"name": "tier", "type": "string", "format": "single_select",
                       "values": ["gold", "silver"]}],
     "tags": [{"name": "vip"}],
     "fromFields": [{"email": "news@shop.example", "name": "Shop"}],
     "contacts": [{"email": "anna@x.fr", "name": "Anna Martin", "campaign": "clients_fr",
                   "origin": "import", "scoring": 12, "engagementScore": 4,
                   "tags": ["vip"], "customFields": {"tier": ["gold"]},
                   "createdOn": "2024-02-01T09:00:00+0000"}],
     "newsletters": [{"name": "MS CRM Welcome", "type": "draft", "campaign": "clients_fr",
                      "subject": "Welcome", "html": "<p>Hi</p>"},
                     {"name": "June news", "type": "broadcast", "campaign": "clients_fr",
                      "subject": "June", "sendOn": "2024-06-01T08:00:00+0000",
                      "clickTracks": [{"name": "Shop", "url": "https://shop.example/"}]}],
     "activities": [{"email": "anna@x.fr", "campaign": "clients_fr", "newsletter": "June news",
                     "activity": "click", "createdOn": "2024-06-01T09:12:00+0000",
                     "clickTrack": "Shop"}],
     "blacklist": ["spam@x.fr", "@blocked.example"]}

The answer maps what was created to its ids: ``{"campaigns": {"clients_fr": "V3J"},
"contacts": {"anna@x.fr": "pV3r"}, ...}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reconcile.sandbox.getresponse import validate
from reconcile.sandbox.getresponse.db import (
    BULK_INDEXES,
    encode_id,
    encode_ids,
    fmt_time,
    parse_time,
)

if TYPE_CHECKING:
    from reconcile.sandbox.getresponse.account import Account

_KEYS = (
    "campaigns",
    "customFields",
    "tags",
    "fromFields",
    "contacts",
    "newsletters",
    "activities",
    "blacklist",
)


def _time(value: Any, default: str) -> str:
    return fmt_time(parse_time(str(value))) if value else default


def _lookup(s: Account, table: str, key_column: str, value: str, label: str) -> int:
    row = s.conn.execute(
        f"SELECT id FROM {table} WHERE {key_column} = ? OR cid = ?",
        (value.lower() if key_column.endswith("_key") else value, value),
    ).fetchone()
    if row is None:
        raise ValueError(f"{label} {value!r} is not in the sandbox (seed it first)")
    return int(row[0])


def apply(s: Account, data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(_KEYS)
    if unknown:
        raise ValueError(f"unknown seed key(s): {', '.join(sorted(unknown))}; known: {_KEYS}")
    out: dict[str, Any] = {key: {} for key in _KEYS if key in data and key != "blacklist"}
    now = s.state.now()
    for item in data.get("campaigns", []):
        cid = s.campaigns.add(item["name"], item, created_on=_time(item.get("createdOn"), now))
        out["campaigns"][item["name"]] = cid
    for item in data.get("customFields", []):
        fmt = item.get("format", "text")
        values = list(item.get("values", []))
        out["customFields"][item["name"]] = s.fields.add(
            item["name"],
            item.get("type", "string"),
            fmt,
            validate.string_boolean(item.get("hidden"), "hidden", "false") or "false",
            values,
        )
    for item in data.get("tags", []):
        name = item["name"] if isinstance(item, dict) else str(item)
        out["tags"][name] = s.tags.add(name)
    for item in data.get("fromFields", []):
        out["fromFields"][item["email"]] = s.from_fields.add(
            item["email"], item.get("name", item["email"]), is_default=bool(item.get("isDefault"))
        )
    if data.get("contacts"):
        out["contacts"] = _contacts(s, data["contacts"], now)
    if data.get("blacklist"):
        s.blocklist.add([str(mask) for mask in data["blacklist"]])
    for item in data.get("newsletters", []):
        out["newsletters"][item.get("name") or item["subject"]] = newsletter(s, item)
    if data.get("activities"):
        out["activities"] = _activities(s, data["activities"])
    return out


def _from_field(s: Account, ref: str | None) -> int:
    if ref:
        return _lookup(s, "from_fields", "email", ref, "from field")
    found = s.from_fields.default_id()
    if found is None:
        found = s.from_fields.row_id(s.from_fields.add("news@sandbox.example", "Sandbox News"))
    return found


def newsletter(s: Account, item: dict[str, Any]) -> str:
    """A draft, or a broadcast: sent (with its ``send`` activities, and simulated opens and
    clicks when ``engagement`` > 0) if ``sendOn`` is past, scheduled if it is future."""
    kind = item.get("type", "draft")
    if kind not in ("draft", "broadcast"):
        raise ValueError(f"newsletter type must be draft or broadcast, not {kind!r}")
    campaign = _lookup(s, "campaigns", "name_key", str(item["campaign"]), "campaign")
    html = item.get("html")
    for track in item.get("clickTracks", []):
        html = (html or "") + f'<p><a href="{track["url"]}">{track["name"]}</a></p>'
    selected = [
        encode_id("campaign", _lookup(s, "campaigns", "name_key", str(c), "campaign"))
        for c in item.get("selectedCampaigns", [item["campaign"]])
    ]
    created = _time(item.get("createdOn"), s.state.now())
    values = {
        "name": item.get("name"),
        "type": kind,
        "subject": item.get("subject") or item["name"],
        "from_field": _from_field(s, item.get("fromField")),
        "campaign": campaign,
        "html": html,
        "plain": item.get("plain"),
        "created_on": created,
        "flags": json.dumps(item.get("flags", ["clicktrack"])),
        "send_settings": json.dumps(
            {"selectedCampaigns": selected, "timeTravel": "false", "perfectTiming": "false"}
        ),
    }
    if kind == "broadcast":
        due = parse_time(item["sendOn"]) if item.get("sendOn") else parse_time(created)
        values.update(
            send_due=due,
            send_on=fmt_time(due),
            send_status="scheduled" if due > s.clock() else "in_progress",
        )
    cid = s.messages._insert(values)
    if kind == "broadcast" and values["send_status"] == "in_progress":
        s.messages.send(s.messages.row_id(cid), float(item.get("engagement", 0)))
    return cid


def _activities(s: Account, items: list[dict[str, Any]]) -> int:
    rows = []
    for item in items:
        activity = item.get("activity")
        if activity not in ("send", "open", "click"):
            raise ValueError(f"activity must be send, open or click, not {activity!r}")
        email = str(item["email"]).lower()
        sql = "SELECT id, cid, email FROM contacts WHERE email_key = ?"
        args: list[Any] = [email]
        if item.get("campaign"):
            sql += " AND campaign = ?"
            args.append(_lookup(s, "campaigns", "name_key", str(item["campaign"]), "campaign"))
        contact = s.conn.execute(sql + " ORDER BY id LIMIT 1", args).fetchone()
        if contact is None:
            raise ValueError(f"contact {email!r} is not in the sandbox (seed it first)")
        newsletter = _lookup(s, "newsletters", "name", str(item["newsletter"]), "newsletter")
        click = None
        if activity == "click":
            tracks = json.loads(
                s.conn.execute(
                    "SELECT click_tracks FROM newsletters WHERE id = ?", (newsletter,)
                ).fetchone()[0]
            )
            wanted = item.get("clickTrack")
            chosen = [t for t in tracks if wanted in (t["name"], t["url"], t["clickTrackId"])]
            if not chosen:
                raise ValueError(f"newsletter {item['newsletter']!r} has no link {wanted!r}")
            track = chosen[0]
            click = json.dumps(
                {"id": track["clickTrackId"], "name": track["name"], "url": track["url"]}
            )
        rows.append(
            (
                contact[0],
                contact[1],
                contact[2],
                newsletter,
                activity,
                _time(item.get("createdOn"), s.state.now()),
                click,
            )
        )
    with s.state.write() as conn:
        conn.executemany(
            "INSERT INTO activities (contact, contact_cid, email, newsletter, activity,"
            " created_on, click_track) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return len(rows)


def _contacts(s: Account, items: list[dict[str, Any]], now: str) -> dict[str, str]:
    out = {}
    with s.state.write():
        for item in items:
            email = validate.email(item.get("email"))
            campaign = _lookup(s, "campaigns", "name_key", str(item["campaign"]), "campaign")
            created = _time(item.get("createdOn"), now)
            data = {**item, "changedOn": _time(item.get("changedOn"), created)}
            number = s.contacts.insert(
                campaign, email, data, created_on=created, origin=item.get("origin", "import")
            )
            tags = [_lookup(s, "tags", "name_key", str(t), "tag") for t in item.get("tags", [])]
            s.contacts.set_tags(number, tags)
            fields = [
                (
                    _lookup(s, "custom_fields", "name", name, "custom field"),
                    json.dumps(
                        [str(v) for v in (values if isinstance(values, list) else [values])]
                    ),
                )
                for name, values in (item.get("customFields") or {}).items()
            ]
            s.contacts.set_fields(number, fields)
            out[email] = encode_id("contact", number)
    return out


def bulk_contacts(s: Account, campaign_id: str, rows: Iterable[dict[str, Any]]) -> int:
    """Many contacts in one transaction with ``executemany`` and precomputed ids; addresses
    already on the list (or repeated in ``rows``) are skipped. A big load (more than one
    chunk) drops the contacts' indexes and rebuilds them at the end, which is several times
    faster than maintaining them row by row; into a list that already has contacts it keeps
    the (list, email) index, which then does the skipping (``INSERT OR IGNORE``)."""
    campaign = s.campaigns.row_id(campaign_id)
    now = s.state.now()
    conn = s.conn
    sql = (
        "INSERT OR IGNORE INTO contacts (id, cid, campaign, email, email_key, name, name_key,"
        " origin, time_zone, created_on, changed_on, day_of_cycle, scoring, engagement_score,"
        " note, ip_address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    empty_list = not conn.execute(
        "SELECT 1 FROM contacts WHERE campaign = ? LIMIT 1", (campaign,)
    ).fetchone()
    seen: set[str] = set()
    added = 0
    with s.state.write():
        number = conn.execute("SELECT coalesce(max(id), 0) FROM contacts").fetchone()[0]
        ids = encode_ids("contact", number + 1)
        dropped: list[str] = []
        for chunk in _chunks(rows, BULK_CHUNK):
            if not dropped and len(chunk) == BULK_CHUNK:
                dropped = [n for n in BULK_INDEXES if empty_list or n != "contacts_list_email"]
                for index in dropped:
                    conn.execute(f"DROP INDEX IF EXISTS {index}")
            values = []
            for row in chunk:
                email: str = row["email"]
                name: str | None = row.get("name")
                key = email.lower()
                if key in seen:
                    continue
                seen.add(key)
                number += 1
                created = row.get("createdOn") or now
                values.append(
                    (
                        number,
                        next(ids),
                        campaign,
                        email,
                        key,
                        name,
                        name.lower() if name else None,
                        row.get("origin", "import"),
                        row.get("timeZone"),
                        created,
                        row.get("changedOn") or created,
                        row.get("dayOfCycle"),
                        row.get("scoring"),
                        row.get("engagementScore"),
                        row.get("note"),
                        row.get("ipAddress"),
                    )
                )
            before = conn.total_changes
            conn.executemany(sql, values)
            added += conn.total_changes - before
        for index in dropped:
            conn.execute(BULK_INDEXES[index])
    return added


BULK_CHUNK = 50_000


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
