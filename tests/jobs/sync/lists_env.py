"""Scenarios for the lists job: marketing lists with members in the Dataverse sandbox and
GetResponse List records pointing at them, the way an admin sets them up (SPEC 4.1-4.2)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from reconcile.dataverse import install_roles, install_schema, schema
from reconcile.dataverse.roles import SERVICE_USER
from reconcile.dataverse.schema import getresponse_id
from reconcile.model import SyncStatus
from tests.jobs.migrate_env import Env, rows
from tests.jobs.sync import sync_env

NEW = schema.SYNC_STATUS_VALUES[SyncStatus.NEW]
CREATED = schema.SYNC_STATUS_VALUES[SyncStatus.CREATED_IN_GETRESPONSE]
SYNCHRONIZED = schema.SYNC_STATUS_VALUES[SyncStatus.SYNCHRONIZED]
ERROR = schema.SYNC_STATUS_VALUES[SyncStatus.ERROR]
DELETED = schema.SYNC_STATUS_VALUES[SyncStatus.DELETED_IN_GETRESPONSE]


def fresh(env: Env) -> Iterator[Env]:
    """The job runs as the connector's Service User alone, as in production (SPEC 2)."""
    yield from sync_env.fresh(env)


def people(n: int, *, start: int = 0, domain: str = "example.com", **extra: Any) -> list[dict]:
    return [
        {"firstname": f"First{i}", "lastname": f"Last{i}",
         "emailaddress1": f"person{i}@{domain}", **extra}
        for i in range(start, start + n)
    ]  # fmt: skip


def add_contacts(env: Env, contacts: list[dict]) -> list[str]:
    return [str(i).lower() for i in env.dv.bulk_contacts([dict(c) for c in contacts])]


def static_list(env: Env, name: str, members: list[str], *, target: int = 2) -> str:
    made = env.dv.load(
        {"lists": [{"listname": name, "type": False, "createdfromcode": target,
                    "members": list(members)}]}
    )  # fmt: skip
    return str(made["lists"][0]).lower()


def dynamic_list(env: Env, name: str, query: str) -> str:
    made = env.dv.load(
        {"lists": [{"listname": name, "type": True, "createdfromcode": 2, "query": query}]}
    )
    return str(made["lists"][0]).lower()


def list_record(env: Env, name: str, marketing: str | None, status: int = NEW) -> str:
    record = str(uuid.uuid4())
    body: dict[str, Any] = {"grc_getresponselistid": record, "grc_name": name,
                            "grc_synchronizationstatus": status}  # fmt: skip
    if marketing:
        body["grc_MarketingListId@odata.bind"] = f"/lists({marketing})"
    env.dataverse().create("grc_getresponselists", body)
    return record


def lists(env: Env) -> dict[str, dict]:
    return {r["grc_name"]: r for r in rows(env.dataverse(), "grc_getresponselists")}


def contact_records(env: Env, list_record_id: str | None = None) -> list[dict]:
    found = rows(env.dataverse(), "grc_getresponsecontacts")
    if list_record_id is None:
        return found
    return [r for r in found if r.get("_grc_getresponselistid_value") == list_record_id]


def gr_contacts(env: Env, campaign_id: str) -> dict[str, str]:
    """email → contact id of one GetResponse list (straight from the sandbox)."""
    rows_ = env.gr.conn.execute(
        "SELECT c.email, c.cid FROM contacts c JOIN campaigns k ON k.id = c.campaign"
        " WHERE k.cid = ?",
        (campaign_id,),
    ).fetchall()
    return dict(rows_)


def campaign_of(record: dict) -> str:
    return getresponse_id(record["grc_getresponseid"])


def settings(**lists: Any) -> Any:
    """Settings with a [lists] section changed (the connections are the test's clients)."""
    from reconcile.config import (
        DynamicsSettings,
        GetResponseSettings,
        ListsSettings,
        Settings,
        SyncSettings,
    )

    return Settings(
        "default", None, DynamicsSettings(), GetResponseSettings(), SyncSettings(),
        lists=ListsSettings(**lists),
    )  # fmt: skip


def set_status(env: Env, record: str, status: int, **more: Any) -> None:
    env.dataverse().update("grc_getresponselists", record,
                           {"grc_synchronizationstatus": status, **more})  # fmt: skip


def queue(env: Env) -> list[tuple[str, str]]:
    """(email, state) of every asynchronous addition the GetResponse sandbox received."""
    return env.gr.conn.execute("SELECT email, state FROM queue ORDER BY id").fetchall()


def two_lists(env: Env, members: int) -> None:
    """The crash and fault tests' scenario, identical each time: ``members`` contacts (every
    97th does not allow bulk email) on a big static list, the first 15 also on a small one,
    and a GetResponse List record set New for each."""
    env.dv.reset()
    env.gr.reset()
    admin = env.dataverse()
    install_schema(admin)
    install_roles(admin)
    env.dv.load({"identity_roles": {"service": [SERVICE_USER.name]}})
    crowd = people(members)
    for i in range(0, members, 97):
        crowd[i]["donotbulkemail"] = True
    for i, person in enumerate(crowd):
        person["contactid"] = f"00000000-0000-4000-8000-{i:012d}"
    ids = add_contacts(env, crowd)
    big = static_list(env, "Big", ids)
    small = static_list(env, "Small", ids[:15])
    for name, marketing, n in (("big_list", big, 1), ("small_list", small, 2)):
        admin.create("grc_getresponselists", {
            "grc_getresponselistid": f"00000000-0000-4000-9000-{n:012d}", "grc_name": name,
            "grc_MarketingListId@odata.bind": f"/lists({marketing})",
            "grc_synchronizationstatus": NEW})  # fmt: skip
    for client in env.clients:
        client.close()
    env.clients.clear()


def end_state(env: Env) -> dict[str, Any]:
    """What the lists job leaves in both services, without ids the services chose: comparable
    between runs on identically seeded sandboxes."""
    gr = sorted(env.gr.conn.execute(
        "SELECT k.name, c.email FROM contacts c JOIN campaigns k ON k.id = c.campaign"
    ).fetchall())  # fmt: skip
    cids = {cid: email for email, cid in env.gr.conn.execute("SELECT email, cid FROM contacts")}
    admin = env.dataverse()
    records = sorted(
        (r["_grc_getresponselistid_value"], r["_grc_contactid_value"],
         r["grc_synchronizationstatus"],
         cids.get((r.get("grc_getresponseid") or "~").split("~")[0]))
        for r in rows(admin, "grc_getresponsecontacts")
    )  # fmt: skip
    lists = sorted((r["grc_name"], r["grc_synchronizationstatus"], r["grc_iscreatedingetresponse"])
                   for r in rows(admin, "grc_getresponselists"))  # fmt: skip
    campaigns = sorted(n for (n,) in env.gr.conn.execute("SELECT name FROM campaigns"))
    admin.close()
    return {"gr": gr, "records": records, "lists": lists, "campaigns": campaigns}
