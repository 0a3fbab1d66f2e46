"""The sandbox's SQLite schema, its opaque ids, its clock and its date format.

GetResponse ids are short opaque strings (``pV3r``, ``V3J``). Ours are the row id written in
base 62 over an alphabet shuffled per kind of resource, shifted so that contacts look like
contacts (four or five characters) and lists like lists: decodable without an index, so that
``GET /contacts/{id}`` is a primary-key lookup even with a million rows.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

_BASE = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

# kind -> first id number (so that ids have the length real ones have)
_OFFSETS = {
    "campaign": 62**2 + 1000,
    "contact": 62**3,
    "tag": 62,
    "field": 62**2,
    "newsletter": 62**2,
    "fromfield": 62,
    "import": 62**2,
    "click": 62**2,
    "report": 62**2,
    "reportfile": 62**3,
}


def _alphabet(kind: str) -> str:
    letters = list(_BASE)
    random.Random(f"getresponse-sandbox:{kind}").shuffle(letters)
    return "".join(letters)


_ALPHABETS = {kind: _alphabet(kind) for kind in _OFFSETS}
_INDEX = {kind: {ch: i for i, ch in enumerate(a)} for kind, a in _ALPHABETS.items()}


def encode_id(kind: str, number: int) -> str:
    """The opaque id of row ``number`` of ``kind``."""
    alphabet = _ALPHABETS[kind]
    value = number + _OFFSETS[kind]
    out = []
    while value:
        value, digit = divmod(value, 62)
        out.append(alphabet[digit])
    return "".join(reversed(out))


def encode_ids(kind: str, first: int) -> Iterator[str]:
    """``encode_id(kind, n)`` for n = first, first + 1, ...: a bulk load's ids, cheaply (the
    prefix changes once every 62 numbers)."""
    alphabet = _ALPHABETS[kind]
    value = first + _OFFSETS[kind]
    while True:
        prefix_value, digit = divmod(value, 62)
        prefix = encode_id(kind, prefix_value - _OFFSETS[kind]) if prefix_value else ""
        for d in range(digit, 62):
            yield prefix + alphabet[d]
        value += 62 - digit


MAX_ROW_ID = 2**63 - 1  # SQLite's largest INTEGER


def decode_id(kind: str, text: str) -> int | None:
    """The row number behind an opaque id, or None when it cannot be one of ours."""
    index = _INDEX[kind]
    if not text or len(text) > 12:
        return None
    value = 0
    for ch in text:
        digit = index.get(ch)
        if digit is None:
            return None
        value = value * 62 + digit
    number = value - _OFFSETS[kind]
    # Twelve base-62 digits reach 3e21, past SQLite's 64-bit integers: such an id is none of
    # ours (a row id this large never exists), not an OverflowError when it is looked up.
    return number if 0 < number <= MAX_ROW_ID else None


class SandboxClock:
    """Wall-clock time plus an offset that tests move forward instead of sleeping."""

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self.offset = 0.0

    def __call__(self) -> float:
        return self._source() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self.offset += seconds

    def set(self, epoch: float) -> None:
        now = self()
        if epoch < now:
            raise ValueError("the sandbox clock only moves forward")
        self.offset += epoch - now

    def reset(self) -> None:
        self.offset = 0.0


def fmt_time(epoch: float) -> str:
    """GetResponse's date-time: UTC, no fraction, offset without a colon."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(int(epoch)))


def parse_time(text: str) -> float:
    """Epoch seconds from an ISO 8601 date-time (with or without a colon in the offset) or a
    date; naive values are UTC. Raises ValueError."""
    value = text.strip()
    if len(value) == 10:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cid TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE,
    language_code TEXT NOT NULL DEFAULT 'EN', is_default TEXT NOT NULL DEFAULT 'false',
    created_on TEXT NOT NULL, settings TEXT NOT NULL DEFAULT '{}',
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cid TEXT NOT NULL, campaign INTEGER NOT NULL,
    email TEXT NOT NULL, email_key TEXT NOT NULL, name TEXT, name_key TEXT,
    origin TEXT NOT NULL DEFAULT 'api', time_zone TEXT,
    created_on TEXT NOT NULL, changed_on TEXT NOT NULL,
    day_of_cycle TEXT, scoring NUMERIC, engagement_score INTEGER, note TEXT, ip_address TEXT,
    geolocation TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS contacts_list_email ON contacts (campaign, email_key);
CREATE INDEX IF NOT EXISTS contacts_list ON contacts (campaign);
CREATE INDEX IF NOT EXISTS contacts_email ON contacts (email_key);
CREATE INDEX IF NOT EXISTS contacts_created ON contacts (created_on);
CREATE INDEX IF NOT EXISTS contacts_changed ON contacts (changed_on);
CREATE TABLE IF NOT EXISTS contact_tags (
    contact INTEGER NOT NULL, tag INTEGER NOT NULL, PRIMARY KEY (contact, tag)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS contact_fields (
    contact INTEGER NOT NULL, field INTEGER NOT NULL, vals TEXT NOT NULL,
    PRIMARY KEY (contact, field)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY, campaign INTEGER NOT NULL, email TEXT NOT NULL,
    email_key TEXT NOT NULL, payload TEXT NOT NULL, due REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending', reason TEXT, queued_on TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_email ON queue (campaign, email_key);
CREATE INDEX IF NOT EXISTS queue_due ON queue (state, due);
CREATE TABLE IF NOT EXISTS removals (
    email_key TEXT NOT NULL, campaign INTEGER, reason TEXT NOT NULL, removed_on TEXT NOT NULL,
    contact_cid TEXT
);
CREATE INDEX IF NOT EXISTS removals_email ON removals (email_key);
CREATE TABLE IF NOT EXISTS blocklist (mask TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS custom_fields (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cid TEXT NOT NULL, name TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
    format TEXT NOT NULL, hidden TEXT NOT NULL DEFAULT 'false', vals TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cid TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS from_fields (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cid TEXT NOT NULL, email TEXT NOT NULL, name TEXT NOT NULL,
    is_active TEXT NOT NULL DEFAULT 'true', is_default TEXT NOT NULL DEFAULT 'false',
    created_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS newsletters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cid TEXT NOT NULL, name TEXT, type TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'enabled', editor TEXT NOT NULL DEFAULT 'custom',
    subject TEXT NOT NULL, from_field INTEGER, reply_to INTEGER, campaign INTEGER NOT NULL,
    html TEXT, plain TEXT, flags TEXT NOT NULL DEFAULT '[]',
    track_opens TEXT NOT NULL DEFAULT 'true',
    send_settings TEXT NOT NULL DEFAULT '{}', send_on TEXT, send_due REAL,
    send_status TEXT, created_on TEXT NOT NULL, click_tracks TEXT NOT NULL DEFAULT '[]',
    total INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS newsletters_due ON newsletters (send_status, send_due);
CREATE TABLE IF NOT EXISTS activities (
    id INTEGER PRIMARY KEY, contact INTEGER NOT NULL, contact_cid TEXT NOT NULL,
    email TEXT NOT NULL, newsletter INTEGER NOT NULL, activity TEXT NOT NULL,
    created_on TEXT NOT NULL, click_track TEXT
);
CREATE INDEX IF NOT EXISTS activities_contact ON activities (contact, created_on);
CREATE INDEX IF NOT EXISTS activities_newsletter ON activities (newsletter, created_on);
CREATE TABLE IF NOT EXISTS imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cid TEXT NOT NULL, campaign INTEGER NOT NULL,
    status TEXT NOT NULL, statistics TEXT NOT NULL, error_statistics TEXT NOT NULL,
    created_on TEXT NOT NULL, finished_on TEXT, due REAL NOT NULL, rows TEXT
);
CREATE TABLE IF NOT EXISTS callbacks (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS custom_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cid TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
    start_date TEXT NOT NULL, end_date TEXT NOT NULL, filters TEXT NOT NULL,
    created_on REAL NOT NULL, generated_on REAL
);
CREATE TABLE IF NOT EXISTS callback_outbox (
    id INTEGER PRIMARY KEY, target TEXT NOT NULL, payload TEXT NOT NULL, webhook_id TEXT NOT NULL,
    state TEXT NOT NULL, attempts INTEGER NOT NULL, next_at REAL NOT NULL, outcome TEXT
);
CREATE INDEX IF NOT EXISTS callback_outbox_due ON callback_outbox (state, next_at);
CREATE TABLE IF NOT EXISTS custom_report_files (
    id INTEGER PRIMARY KEY, report INTEGER NOT NULL, cid TEXT NOT NULL
);
"""

# Secondary indexes a bulk load drops and rebuilds (rebuilding is faster than maintaining).
BULK_INDEXES = {
    "contacts_list_email": "CREATE UNIQUE INDEX IF NOT EXISTS contacts_list_email"
    " ON contacts (campaign, email_key)",
    "contacts_list": "CREATE INDEX IF NOT EXISTS contacts_list ON contacts (campaign)",
    "contacts_email": "CREATE INDEX IF NOT EXISTS contacts_email ON contacts (email_key)",
    "contacts_created": "CREATE INDEX IF NOT EXISTS contacts_created ON contacts (created_on)",
    "contacts_changed": "CREATE INDEX IF NOT EXISTS contacts_changed ON contacts (changed_on)",
}

TABLES = (
    "campaigns",
    "contacts",
    "contact_tags",
    "contact_fields",
    "queue",
    "removals",
    "blocklist",
    "custom_fields",
    "tags",
    "from_fields",
    "newsletters",
    "activities",
    "imports",
    "callbacks",
    "custom_reports",
    "custom_report_files",
    "callback_outbox",
)


def connect(database: str) -> sqlite3.Connection:
    """One connection, used only from the server's event-loop thread (and by bulk seeding
    before serving), so no locking is needed; ``check_same_thread`` is off because the
    sandbox is built in one thread and served from another."""
    conn = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL" if database != ":memory:" else "PRAGMA temp_store=2")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -200000")
    conn.executescript(SCHEMA)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(removals)")}
    if "contact_cid" not in columns:  # a database file from before that column
        conn.execute("ALTER TABLE removals ADD COLUMN contact_cid TEXT")
    return conn


def wipe(conn: sqlite3.Connection) -> None:
    """Every row of every table gone, ids restarting at 1."""
    conn.execute("BEGIN")
    for table in TABLES:
        conn.execute(f"DELETE FROM {table}")
    conn.execute("DELETE FROM sqlite_sequence")  # AUTOINCREMENT's counters
    conn.execute("COMMIT")


def touch_contacts(conn: sqlite3.Connection, table: str, column: str, value: int, now: str) -> None:
    """Move ``changedOn`` of the contacts holding a tag or a custom field value that is about
    to be removed with its definition: their data changes, so an incremental reader
    (``query[changedOn][from]``) must see them again (docs/getresponse-api.md, assumption)."""
    conn.execute(
        f"UPDATE contacts SET changed_on = ? WHERE id IN (SELECT contact FROM {table}"
        f" WHERE {column} = ?)",
        (now, value),
    )
