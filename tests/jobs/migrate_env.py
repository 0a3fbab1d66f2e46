"""Both sandboxes on 127.0.0.1 for the migrate tests, and small helpers to look at the CRM.

One server of each per test module; before each test the Dataverse sandbox is reset and the
connector's tables installed, the GetResponse sandbox emptied. Clients never sleep for real.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl

from reconcile.dataverse import BearerTokenAuth, DataverseClient, install_schema
from reconcile.dataverse import query as q
from reconcile.dataverse.schema import getresponse_id
from reconcile.getresponse import ApiKeyAuth, GetResponseClient
from reconcile.retrying import RetryPolicy
from reconcile.sandbox.dataverse import DataverseSandbox
from reconcile.sandbox.getresponse import GetResponseSandbox
from reconcile.sandbox.server import SandboxServer


@dataclass
class Env:
    dv: DataverseSandbox
    gr: GetResponseSandbox
    dv_url: str
    gr_url: str
    clients: list[Any] = field(default_factory=list)

    @property
    def dv_info(self) -> dict[str, Any]:
        return self.dv.connection_info(self.dv_url)

    @property
    def gr_info(self) -> dict[str, Any]:
        return self.gr.connection_info(self.gr_url)

    def dataverse(self, identity: str = "admin", version: str = "9.2") -> DataverseClient:
        token = self.dv_info["identities"][identity]["token"]
        client = DataverseClient(
            self.dv_url,
            api_version=version,
            auth=BearerTokenAuth(token),
            sleep=lambda s: None,
            retry_policy=RetryPolicy(max_attempts=3, rng=random.Random(1)),
        )
        self.clients.append(client)
        return client

    def getresponse(self) -> GetResponseClient:
        info = self.gr_info
        client = GetResponseClient(
            ApiKeyAuth(info["api_key"]), base_url=info["url"], sleep=lambda s: None
        )
        self.clients.append(client)
        return client

    def settings_env(self, identity: str = "admin") -> dict[str, str]:
        """Environment variables for the CLI: every setting and secret, no file."""
        return {
            "RECONCILE_DYNAMICS_ENVIRONMENT_URL": self.dv_url,
            "RECONCILE_DYNAMICS_API_VERSION": "v9.2",
            "RECONCILE_DYNAMICS_ACCESS_TOKEN": self.dv_info["identities"][identity]["token"],
            "RECONCILE_GETRESPONSE_API_URL": self.gr_info["url"],
            "RECONCILE_GETRESPONSE_API_KEY": self.gr_info["api_key"],
            "RECONCILE_CONFIG": "",
            "XDG_CONFIG_HOME": "/nonexistent",
        }


def servers() -> Iterator[Env]:
    dv = DataverseSandbox(seed=None)
    gr = GetResponseSandbox(contact_delay=0)
    with SandboxServer(dv.asgi_app) as dvs, SandboxServer(gr.asgi_app) as grs:
        yield Env(dv, gr, dvs.url, grs.url)
    dv.close()


def fresh(env: Env) -> Iterator[Env]:
    env.dv.reset()
    env.gr.reset()
    admin = env.dataverse()
    install_schema(admin)
    yield env
    for client in env.clients:
        client.close()
    env.clients.clear()


SCENARIO = {
    "campaigns": [{"name": "clients_fr"}, {"name": "newsletter"}],
    "customFields": [{"name": "ville", "type": "string", "format": "text"}],
    "tags": [{"name": "vip"}, {"name": "client"}],
    "contacts": [
        # linked to existing CRM contacts
        {"email": "anna.martin@gmail.com", "name": "Anna Martin", "campaign": "clients_fr",
         "scoring": 12, "engagementScore": 4, "origin": "api",
         "createdOn": "2021-03-04T10:00:00+0000", "customFields": {"ville": "Lyon"},
         "tags": ["vip", "client"]},
        {"email": "jean.dupont@orange.fr", "name": "DUPONT Jean", "campaign": "clients_fr"},
        # new: not in the CRM; the same person on both lists
        {"email": "paul.nouveau@free.fr", "name": "Paul Nouveau", "campaign": "clients_fr",
         "customFields": {"ville": "Nice"}},
        {"email": "paul.nouveau@free.fr", "name": "Paul Nouveau", "campaign": "newsletter"},
        # new, another person
        {"email": "zoe.leroy@laposte.net", "name": "Zoé Leroy", "campaign": "newsletter"},
        # a shared mailbox: the CRM has Jean, GetResponse has Marie → review
        {"email": "famille.roux@wanadoo.fr", "name": "Marie Roux", "campaign": "newsletter"},
    ],
}  # fmt: skip
CRM = [
    {"firstname": "Anna", "lastname": "Martin", "emailaddress1": "anna.martin@gmail.com"},
    {"firstname": "Jean", "lastname": "Dupont", "emailaddress1": "jean.dupont@orange.fr"},
    {"firstname": "Jean", "lastname": "Roux", "emailaddress1": "famille.roux@wanadoo.fr"},
    {"firstname": "Other", "lastname": "Person", "emailaddress1": "other@example.com"},
]


def seed_small(env: Env) -> dict[str, Any]:
    """The small scenario above; returns GetResponse ids and the CRM contact ids by email."""
    ids = env.gr.seed({k: v for k, v in SCENARIO.items() if k != "contacts"})
    contacts: dict[tuple[str, str], str] = {}
    for name in ("clients_fr", "newsletter"):
        mine = [c for c in SCENARIO["contacts"] if c["campaign"] == name]
        for email, cid in env.gr.seed({"contacts": mine})["contacts"].items():
            contacts[(name, email)] = cid
    crm = env.dv.bulk_contacts([dict(c) for c in CRM])
    return {
        "campaigns": ids["campaigns"],
        "contacts": contacts,
        "crm": {c["emailaddress1"]: i for c, i in zip(CRM, crm, strict=True)},
    }


def rows(client: DataverseClient, entity_set: str, **filters: Any) -> list[dict[str, Any]]:
    condition = q.and_(*(q.eq(k, v) for k, v in filters.items())) if filters else None
    return list(client.query(entity_set, q.Query(filter=condition)))


def records(client: DataverseClient) -> dict[str, dict[str, Any]]:
    """GetResponse Contact records by GetResponse id."""
    return {
        getresponse_id(r["grc_getresponseid"]): r for r in rows(client, "grc_getresponsecontacts")
    }


STATE_COLUMNS = (
    "grc_getresponseid", "grc_name", "grc_email", "grc_engagementscore", "grc_scoringpoints",
    "grc_origin", "grc_createdingetresponseon", "grc_tags", "grc_synchronizationstatus",
    "grc_synchronizationerror", "_grc_contactid_value", "_grc_getresponselistid_value",
)  # fmt: skip


def crm_state(client: DataverseClient) -> dict[str, Any]:
    """What a migration leaves in the CRM, without times and versions: comparable between
    runs against identically seeded sandboxes."""
    contacts = sorted(
        (r["contactid"], r.get("firstname"), r.get("lastname"), r.get("emailaddress1"),
         r.get("statecode"))
        for r in rows(client, "contacts")
    )  # fmt: skip
    grc = sorted(
        tuple(r.get(c) for c in STATE_COLUMNS) for r in rows(client, "grc_getresponsecontacts")
    )
    lists = sorted(
        (r["grc_getresponselistid"], r["grc_getresponseid"], r["grc_name"])
        for r in rows(client, "grc_getresponselists")
    )
    keys = {r["grc_getresponsecontactid"]: r["grc_getresponseid"]
            for r in rows(client, "grc_getresponsecontacts")}  # fmt: skip
    fields = sorted(  # a record's GUID is the service's choice: compare its GetResponse key
        (r["grc_getresponseid"], r["grc_contactgetresponseid"], r.get("grc_value"),
         r.get("_grc_contactid_value"), keys.get(r.get("_grc_getresponsecontactid_value")))
        for r in rows(client, "grc_getresponsecustomfields")
    )  # fmt: skip
    members = sorted(
        (r["_listid_value"], r["_entityid_value"]) for r in rows(client, "listmembers")
    )
    return {"contacts": contacts, "records": grc, "lists": lists, "fields": fields,
            "members": members}  # fmt: skip


ROW_SHEETS = ("Review", "Links")  # rows to decide, and the links


def set_decision(path: Path, gr_id: str, decision: str, crm_id: str | None = None) -> None:
    """Edit one row (on Review or Links) as a person would in Excel."""
    book = openpyxl.load_workbook(path)
    for sheet in (book[n] for n in book.sheetnames if n.startswith(ROW_SHEETS)):
        header = [c.value for c in sheet[1]]
        id_col, decision_col = header.index("GetResponse Contact"), header.index("Decision")
        crm_col = header.index("CRM Contact")
        for row in sheet.iter_rows(min_row=2):
            if row[id_col].value == gr_id:
                row[decision_col].value = decision
                if crm_id is not None:
                    row[crm_col].value = crm_id
                book.save(path)
                return
    raise AssertionError(f"{gr_id} is not on the Review or Links sheet")


def review_rows(path: Path) -> dict[str, dict[str, Any]]:
    """Every row of the Review and Links sheets, by GetResponse id."""
    out: dict[str, dict[str, Any]] = {}
    with closing(openpyxl.load_workbook(path, read_only=True)) as book:
        for name in (n for n in book.sheetnames if n.startswith(ROW_SHEETS)):
            values = list(book[name].iter_rows(values_only=True))
            header = list(values[0])
            out.update({r[0]: dict(zip(header, r, strict=True)) for r in values[1:]})
    return out
