"""The chaos test's world: both sandboxes on 127.0.0.1 sharing one clock (the GetResponse
sandbox's, which the test moves forward), their fault plans, the settings a runner process
gets, and a snapshot of everything both services hold, normalized so that two runs of the same
scenario compare equal when — and only when — they left the same data.

Why normalize: ids are the services' choice (a GetResponse contact id, a record's GUID) and
times are the moment things happened; neither says whether a run lost or doubled something.
Every id is replaced by what it names (``contact clients_fr/anna@…``, ``list Clients FR``),
every date-time by ``<time>``, and rows are compared as multisets: a duplicate shows as a row
twice, a loss as a row missing.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from reconcile.dataverse import (
    BearerTokenAuth,
    DataverseClient,
    install_roles,
    install_schema,
    schema,
)
from reconcile.dataverse import query as q
from reconcile.dataverse.roles import SERVICE_USER
from reconcile.getresponse import ApiKeyAuth, GetResponseClient
from reconcile.jobs.sync import environment_key
from reconcile.retrying import RetryPolicy
from reconcile.sandbox.dataverse import DataverseSandbox
from reconcile.sandbox.getresponse import GetResponseSandbox
from reconcile.sandbox.server import SandboxServer

T0 = datetime(2031, 3, 3, 8, 0, tzinfo=UTC).timestamp()  # every trial starts here
NAMESPACE = uuid.UUID("5b7c0b8e-3d55-4a4e-9b0e-6f0c1a0d2e11")
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
HOLDER = re.compile(r"\b[\w.-]+:\d+:[0-9a-f]{8}\b")  # a runner: host:pid:random
TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
VOLATILE = (
    "versionnumber",
    "createdon",
    "modifiedon",
    "overriddencreatedon",
    "timezoneruleversionnumber",
    "utcconversiontimezonecode",
    "importsequencenumber",
    "statuscode",
)
DV_TABLES = [t.entity_set for t in schema.TABLES] + ["contacts", "lists", "listmembers"]
# Columns holding a bare GetResponse id (not a ``grc_getresponseid`` key): named like ids are.
GR_ID_COLUMNS = ("grc_contactgetresponseid", "grc_messageid")


def guid(name: str) -> str:
    """A deterministic GUID: the scenario's records have the same id in every trial."""
    return str(uuid.uuid5(NAMESPACE, name))


@dataclass
class World:
    """Both sandboxes (threads of the test process) with their servers."""

    gr: GetResponseSandbox
    dv: DataverseSandbox
    gr_url: str  # the API root, …/v3
    dv_url: str
    rng: random.Random = field(default_factory=lambda: random.Random(11))
    clients: list[Any] = field(default_factory=list)
    hours: int = 0  # cycles' hours since T0: the scenario's own time, without the ticks
    fired: int = 0  # faults that fired since the last reset

    @property
    def environment(self) -> str:
        return environment_key(self.dv_url, self.gr_url)

    def now(self) -> float:
        return self.gr.clock()

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock (a tick: a few minutes for a job cut short by a fault)."""
        self.gr.advance(seconds)

    def next_hour(self) -> None:
        """A cycle: the scenario's time moves an hour, and so does the clock."""
        self.hours += 1
        self.gr.advance(3600)

    def scenario_time(self) -> float:
        """T0 plus the cycles' hours: the same in every trial, whatever ticks happened."""
        return T0 + self.hours * 3600

    def dataverse(self, identity: str = "admin") -> DataverseClient:
        info = self.dv.connection_info(self.dv_url)
        client = DataverseClient(
            self.dv_url,
            auth=BearerTokenAuth(info["identities"][identity]["token"]),
            sleep=lambda s: None,
            retry_policy=RetryPolicy(max_attempts=3, rng=random.Random(1)),
        )
        self.clients.append(client)
        return client

    def getresponse(self) -> GetResponseClient:
        info = self.gr.connection_info(self.gr_url.removesuffix("/v3"))
        client = GetResponseClient(
            ApiKeyAuth(info["api_key"]), base_url=info["url"], sleep=lambda s: None
        )
        self.clients.append(client)
        return client

    def settings_env(self, state: str) -> dict[str, str]:
        """What a runner process gets: every setting and secret, no file."""
        dv = self.dv.connection_info(self.dv_url)
        gr = self.gr.connection_info(self.gr_url.removesuffix("/v3"))
        return {
            "RECONCILE_DYNAMICS_ENVIRONMENT_URL": self.dv_url,
            "RECONCILE_DYNAMICS_API_VERSION": "v9.2",
            "RECONCILE_DYNAMICS_ACCESS_TOKEN": dv["identities"]["service"]["token"],
            "RECONCILE_GETRESPONSE_API_URL": gr["url"],
            "RECONCILE_GETRESPONSE_API_KEY": gr["api_key"],
            "RECONCILE_NEWSLETTERS_SEND_ENVIRONMENTS": self.dv_url,
            "RECONCILE_SCHEDULE_LEASE": "6s",
            "RECONCILE_ALERTS_STALE_AFTER": "off",
            "RECONCILE_STATE": state,
            "RECONCILE_CONFIG": "",
            "XDG_CONFIG_HOME": "/nonexistent",
        }

    # -- faults ----------------------------------------------------------------------------
    def faults(self, rate: float, seed: int) -> None:
        """``rate`` of the requests to each sandbox fail: a quarter each 429, 5xx, a dropped
        connection before the service sees the request, and one after it acted."""
        share = 1 - (1 - rate) ** 0.25  # four independent draws add up to ``rate``
        kinds = [
            {"kind": "status", "status": 429},
            {"kind": "status", "status": 503},
            {"kind": "drop"},
            {"kind": "drop", "after": True},
        ]
        for n, root in enumerate((self.gr_url.removesuffix("/v3"), self.dv_url)):
            plan = [
                {**k, "probability": share, "seed": seed * 10 + n * 4 + i}
                for i, k in enumerate(kinds)
            ]
            httpx.post(f"{root}/__sandbox__/faults", json=plan).raise_for_status()

    def calm(self) -> None:
        """No more faults (their count so far is kept in :attr:`fired`)."""
        for root in (self.gr_url.removesuffix("/v3"), self.dv_url):
            armed = httpx.get(f"{root}/__sandbox__/faults").json()
            self.fired += sum(f["fired"] for f in armed)
            httpx.delete(f"{root}/__sandbox__/faults").raise_for_status()

    # -- resetting -------------------------------------------------------------------------
    def reset(self) -> None:
        for client in self.clients:
            client.close()
        self.clients.clear()
        self.calm()
        self.dv.reset()
        self.gr.reset()
        self.gr.clock.set(T0)
        self.hours, self.fired = 0, 0
        admin = self.dataverse()
        install_schema(admin)
        install_roles(admin)
        self.dv.load({"identity_roles": {"service": [SERVICE_USER.name]}})


def servers() -> Iterator[World]:
    """One pair of servers for the whole module; the Dataverse clock follows GetResponse's."""
    gr = GetResponseSandbox(
        contact_delay=0,
        # 429s say "wait for the next frame": a 2-second frame keeps that wait short.
        rate_limits={"window_seconds": 2, "batch_per_window": 1000, "batch_per_second": 1000},
    )
    dv = DataverseSandbox(seed=None, clock=lambda: datetime.fromtimestamp(gr.clock(), UTC))
    with SandboxServer(dv.asgi_app) as dvs, SandboxServer(gr.asgi_app) as grs:
        world = World(gr, dv, f"{grs.url}/v3", dvs.url)
        yield world
        for client in world.clients:
            client.close()
    dv.close()


# -- the snapshot ----------------------------------------------------------------------------
def _gr_labels(gr: GetResponseSandbox) -> dict[str, str]:
    conn = gr.conn
    labels: dict[str, str] = {}
    campaigns = {i: n for i, n in conn.execute("SELECT id, name FROM campaigns")}
    for cid, name in conn.execute("SELECT cid, name FROM campaigns"):
        labels[cid] = f"campaign {name}"
    for cid, campaign, email in conn.execute("SELECT cid, campaign, email FROM contacts"):
        labels[cid] = f"contact {campaigns.get(campaign)}/{email}"
    for cid, name in conn.execute("SELECT cid, name FROM newsletters"):
        labels[cid] = f"newsletter {name}"
    for table in ("tags", "custom_fields"):
        for cid, name in conn.execute(f"SELECT cid, name FROM {table}"):
            labels[cid] = f"{table} {name}"
    return labels


def _text(value: str, dv: dict[str, str]) -> str:
    value = GUID.sub(lambda m: dv.get(m.group(0).lower(), "<guid>"), value)
    return HOLDER.sub("<runner>", TIME.sub("<time>", value))


def getresponse_state(gr: GetResponseSandbox) -> dict[str, Any]:
    conn = gr.conn
    rows: dict[str, list[Any]] = {
        "campaigns": conn.execute("SELECT name, deleted FROM campaigns").fetchall(),
        "contacts": conn.execute(
            "SELECT k.name, c.email, c.name, c.origin FROM contacts c "
            "JOIN campaigns k ON k.id = c.campaign"
        ).fetchall(),
        "tags": conn.execute(
            "SELECT k.name, c.email, t.name FROM contact_tags x JOIN contacts c ON c.id = x.contact"
            " JOIN campaigns k ON k.id = c.campaign JOIN tags t ON t.id = x.tag"
        ).fetchall(),
        "fields": conn.execute(
            "SELECT k.name, c.email, f.name, x.vals FROM contact_fields x JOIN contacts c"
            " ON c.id = x.contact JOIN campaigns k ON k.id = c.campaign"
            " JOIN custom_fields f ON f.id = x.field"
        ).fetchall(),
        "newsletters": conn.execute(
            "SELECT n.name, n.type, n.status, n.send_status, n.subject, k.name, n.total"
            " FROM newsletters n JOIN campaigns k ON k.id = n.campaign"
        ).fetchall(),
        "activities": conn.execute(
            "SELECT n.name, a.email, a.activity FROM activities a"
            " JOIN newsletters n ON n.id = a.newsletter"
        ).fetchall(),
        "removals": conn.execute("SELECT email_key, reason FROM removals").fetchall(),
        "blocklist": conn.execute("SELECT mask FROM blocklist").fetchall(),
    }
    return rows


def _dv_rows(client: DataverseClient) -> dict[str, list[dict[str, Any]]]:
    found = {}
    for entity_set in DV_TABLES:
        found[entity_set] = list(client.query(entity_set, q.Query()))
    return found


def _dv_label(entity_set: str, row: dict[str, Any], gr: dict[str, str]) -> str:
    key = row.get("grc_getresponseid")
    if key:
        return f"{entity_set} {gr.get(schema.getresponse_id(key), 'gr?')}"
    for column in ("emailaddress1", "listname", "grc_name"):
        if row.get(column):
            return f"{entity_set} {row[column]}"
    return f"{entity_set} ?"


def snapshot(world: World) -> dict[str, Any]:
    """Everything both services hold, ids named and times blanked (module doc)."""
    gr_labels = _gr_labels(world.gr)
    tables = _dv_rows(world.dataverse())
    dv_labels: dict[str, str] = {}
    for entity_set, rows in tables.items():
        for row in rows:
            for column, value in row.items():
                primary = column == entity_set.removesuffix("s") + "id"
                if primary and isinstance(value, str) and GUID.fullmatch(value):
                    dv_labels[value.lower()] = _dv_label(entity_set, row, gr_labels)
    out: dict[str, Any] = {}
    for entity_set, rows in tables.items():
        normalized = []
        for row in rows:
            clean: dict[str, Any] = {}
            for column, value in sorted(row.items()):
                if "@" in column or column in VOLATILE or column.startswith("_owning"):
                    continue
                if column in (
                    "ownerid",
                    "_ownerid_value",
                    "_createdby_value",
                    "_modifiedby_value",
                    "_owninguser_value",
                ):
                    continue
                if column == "grc_getresponseid" and value:
                    value = gr_labels.get(schema.getresponse_id(value), "gr?")
                elif column in GR_ID_COLUMNS and value:
                    value = gr_labels.get(str(value), "gr?")
                elif isinstance(value, str):
                    value = _text(value, dv_labels)
                clean[column] = value
            normalized.append(json.dumps(clean, sort_keys=True, default=str))
        out[entity_set] = sorted(Counter(normalized).items())
    gr_state = getresponse_state(world.gr)
    out["getresponse"] = {
        name: sorted(
            Counter(json.dumps([_text(str(v), dv_labels) for v in r]) for r in rows).items()
        )
        for name, rows in gr_state.items()
    }
    return out


def differences(a: dict[str, Any], b: dict[str, Any], limit: int = 20) -> list[str]:
    """What differs between two snapshots, readably (for the assertion message)."""
    lines = []
    flat_a, flat_b = _flat(a), _flat(b)
    for key in sorted(set(flat_a) | set(flat_b)):
        if flat_a.get(key, 0) != flat_b.get(key, 0):
            lines.append(f"{key}: {flat_a.get(key, 0)} vs {flat_b.get(key, 0)}")
    return lines[:limit] + ([f"… {len(lines) - limit} more"] if len(lines) > limit else [])


def _flat(snap: dict[str, Any]) -> dict[str, int]:
    flat: dict[str, int] = {}
    for table, rows in snap.items():
        if table == "getresponse":
            for name, inner in rows.items():
                for row, n in inner:
                    flat[f"getresponse.{name} {row}"] = n
        else:
            for row, n in rows:
                flat[f"{table} {row}"] = n
    return flat
