"""Crash and fault tests of ``reconcile sync contacts``: after a first run, GetResponse changes
(renames, email changes, scores, custom field values, tags, new contacts, deletions); then the
job is killed with SIGKILL at seeded request points (either service, before it sees the
request or after it acted), or runs through 10 % faults (429, 5xx, dropped connections
before and after the service acts) — and run again until it finishes. The CRM must end
exactly as after an uninterrupted run: nothing duplicated, no stale value, nothing missing.

The job never writes to GetResponse, so only Dataverse is put back (a snapshot) before each
iteration, with a copy of the first run's state store. The sandboxes live in this process;
the killed job is the real CLI in a subprocess. ``RECONCILE_CRASH_ITERATIONS`` runs more.
"""

from __future__ import annotations

import os
import random
import re
import shutil
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from reconcile.dataverse import install_roles, install_schema
from reconcile.dataverse.roles import SERVICE_USER
from reconcile.getresponse import ApiKeyAuth, GetResponseClient
from reconcile.jobs.demo_data import bring_list_over
from reconcile.jobs.sync import SyncContext, environment_key, run_job
from reconcile.sandbox.faults import Fault
from reconcile.state import StateStore
from tests.jobs.migrate_env import Env, rows
from tests.jobs.sync.contacts_env import JOB, settings
from tests.jobs.sync.kill_switch import kill_then_finish, killable_sandboxes, run_sync
from tests.jobs.sync.sync_env import Contexts

PER_LIST = 400
NEW, DELETED = 100, 30
ITERATIONS = int(os.environ.get("RECONCILE_CRASH_ITERATIONS", "3"))
PAST = "2026-01-05T08:00:00+0000"
ENVIRONMENT = {
    "RECONCILE_SYNC_SEND_CUSTOM_FIELDS": "true",
    "RECONCILE_SYNC_SEND_TAGS": "true",
    "RECONCILE_CONTACTS_DELETION_SCAN": "0",
    "RECONCILE_CONTACTS_LINK_BY_EMAIL": "true",
}
SETTINGS = settings(deletion_scan="0", link_by_email=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("contacts-crash")
    with killable_sandboxes() as (env, switch):
        baseline = _first_run(env, tmp / "baseline.sqlite3")
        _change_getresponse(env)
        yield {"env": env, "switch": switch, "tmp": tmp, "snapshot": baseline,
               "state": tmp / "baseline.sqlite3"}  # fmt: skip


def _first_run(env: Env, state: Path) -> Any:
    admin = env.dataverse()
    install_schema(admin)
    install_roles(admin)
    env.dv.load({"identity_roles": {"service": [SERVICE_USER.name]}})
    ids = env.gr.seed({
        "campaigns": [{"name": "clients_fr"}, {"name": "newsletter"}],
        "customFields": [{"name": "ville", "type": "string", "format": "text"},
                         {"name": "pays", "type": "string", "format": "text"}],
        "tags": ["vip", "client", "ancien"],
    })  # fmt: skip
    for name in ("clients_fr", "newsletter"):
        env.gr.seed({"contacts": [
            {"email": f"{name}.{i}@example.org", "name": f"Client {i}", "campaign": name,
             "createdOn": PAST, "changedOn": PAST, "scoring": i % 40, "engagementScore": 1 + i % 5,
             "customFields": {"ville": f"Ville {i % 7}", **({"pays": "France"} if i % 3 else {})},
             "tags": [t for n, t in enumerate(("vip", "client", "ancien")) if i % (n + 2) == 0]}
            for i in range(PER_LIST)
        ]})  # fmt: skip
    env.dv.bulk_contacts(
        [{"lastname": f"Client {i}", "emailaddress1": f"clients_fr.{i}@example.org"}
         for i in range(0, PER_LIST, 4)]
    )  # fmt: skip
    for name in ("clients_fr", "newsletter"):
        bring_list_over(admin, ids["campaigns"][name], name, f"{name} (marketing list)")
    first = run_job(JOB, Contexts(env, state)(settings=SETTINGS))
    assert first.exit_code == 0, first.lines()
    assert first.counts["contact records created"] == 2 * PER_LIST
    for client in env.clients:
        client.close()
    env.clients.clear()
    return env.dv.snapshot()


def _change_getresponse(env: Env) -> None:
    """What GetResponse users (and GetResponse itself) do between two runs."""
    conn = env.gr.conn
    gr = env.getresponse()
    contacts = [cid for (cid,) in conn.execute("SELECT cid FROM contacts ORDER BY id")]
    fields = dict(conn.execute("SELECT name, cid FROM custom_fields").fetchall())
    tags = dict(conn.execute("SELECT name, cid FROM tags").fetchall())
    rng = random.Random(5)
    sample = rng.sample(contacts, 200)
    for cid in sample[:60]:
        gr.post(f"contacts/{cid}", {"name": f"Renamed {cid}"}, idempotent=True)
    for n, cid in enumerate(sample[60:75]):
        gr.post(f"contacts/{cid}", {"email": f"moved.{n}@example.net"}, idempotent=True)
    for cid in sample[75:120]:  # replaces the values: "pays" goes where it was
        body = {"customFieldValues": [{"customFieldId": fields["ville"], "value": ["Nice"]}]}
        gr.post(f"contacts/{cid}", body, idempotent=True)
    for cid in sample[120:145]:
        gr.post(f"contacts/{cid}/tags", {"tags": [{"tagId": tags["ancien"]}]}, idempotent=True)
    for cid in sample[145 : 145 + DELETED]:
        gr.delete(f"contacts/{cid}")
    rescored = sample[145 + DELETED :]
    env.gr.contacts.rescore({cid: {"engagementScore": 5, "scoring": 99} for cid in rescored})
    env.gr.seed({"contacts": [
        {"email": f"new.{i}@example.org", "name": f"New {i}", "campaign": "clients_fr",
         "customFields": {"ville": "Lille"}, "tags": ["vip"]} for i in range(NEW)
    ]})  # fmt: skip
    gr.close()


class FakeClock:
    """The GetResponse client's clock and sleep: waits (a 429's reset, pacing) pass at once."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.0)


def _restore(world: dict[str, Any], state: Path) -> None:
    world["env"].dv.restore(world["snapshot"])
    shutil.copy(world["state"], state)


_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def crm(env: Env) -> dict[str, Any]:
    """What the job leaves in the CRM, without times and versions."""
    admin = env.dataverse()
    keys = {r["grc_getresponsecontactid"]: r["grc_getresponseid"]
            for r in rows(admin, "grc_getresponsecontacts")}  # fmt: skip
    records = sorted(
        tuple(_TIME.sub("T", str(r.get(c))) for c in (
            "grc_getresponseid", "grc_name", "grc_email", "grc_engagementscore",
            "grc_scoringpoints", "grc_origin", "grc_createdingetresponseon", "grc_tags",
            "grc_synchronizationstatus", "grc_synchronizationerror", "_grc_contactid_value",
            "_grc_getresponselistid_value", "statecode"))
        for r in rows(admin, "grc_getresponsecontacts")
    )  # fmt: skip
    fields = sorted(
        (r["grc_getresponseid"], r["grc_contactgetresponseid"], r.get("grc_value"),
         r["grc_synchronizationstatus"], r["statecode"], r.get("_grc_contactid_value"),
         keys.get(r.get("_grc_getresponsecontactid_value")))
        for r in rows(admin, "grc_getresponsecustomfields")
    )  # fmt: skip
    admin.close()
    return {"records": records, "fields": fields}


def _cli(world: dict[str, Any], state: Path, at: int | None, after: bool) -> tuple[int, int]:
    return run_sync(world["switch"], world["env"], "contacts", state, at, after, ENVIRONMENT)


@pytest.fixture(scope="module")
def reference(world: dict[str, Any]) -> dict[str, Any]:
    state = world["tmp"] / "reference.sqlite3"
    _restore(world, state)
    code, requests = _cli(world, state, None, False)
    assert code == 0
    found = crm(world["env"])
    assert len(found["records"]) == 2 * PER_LIST + NEW
    deleted = [r for r in found["records"] if "Deleted in GetResponse" in r[9]]
    assert len(deleted) == DELETED
    assert requests >= 15
    return {"crm": found, "requests": requests}


@pytest.mark.slow
def test_killed_anywhere_sync_contacts_ends_like_an_uninterrupted_run(
    world: dict[str, Any], reference: dict[str, Any]
) -> None:
    rng = random.Random(2026)
    kills = 0
    for iteration in range(ITERATIONS):
        state = world["tmp"] / f"state-{iteration}.sqlite3"
        _restore(world, state)
        kills += kill_then_finish(partial(_cli, world, state), reference["requests"], rng)
        found = crm(world["env"])
        for part in ("records", "fields"):
            extra = sorted(set(found[part]) - set(reference["crm"][part]))[:5]
            lost = sorted(set(reference["crm"][part]) - set(found[part]))[:5]
            assert (extra, lost) == ([], []), f"iteration {iteration}, {part}"
        assert found == reference["crm"], f"iteration {iteration}"
    assert kills >= ITERATIONS


@pytest.mark.slow
def test_ten_percent_faults_in_both_services_change_nothing_in_the_end(
    world: dict[str, Any], reference: dict[str, Any]
) -> None:
    env: Env = world["env"]
    state = world["tmp"] / "faults.sqlite3"
    _restore(world, state)
    faults = ({"kind": "status", "status": 429}, {"kind": "status", "status": 500},
              {"kind": "status", "status": 503}, {"kind": "drop"},
              {"kind": "drop", "after": True})  # fmt: skip
    for sandbox, path, seed in ((env.gr, "/v3/", 1), (env.dv, "/api/data/", 2)):
        for n, fault in enumerate(faults):  # 2 % each: 10 % of the requests fail
            sandbox.faults.add(Fault.from_json(
                {**fault, "probability": 0.02, "seed": seed * 10 + n, "path": path}))  # fmt: skip
    clock = FakeClock()
    outcomes = []
    with StateStore(state) as store:
        for _ in range(8):
            gr = GetResponseClient(ApiKeyAuth(env.gr_info["api_key"]), base_url=env.gr_info["url"],
                                   sleep=clock.sleep, clock=clock.now)  # fmt: skip
            ctx = SyncContext(
                dv=env.dataverse("service"), gr=gr, state=store, settings=SETTINGS,
                environment=environment_key(env.dv_url, env.gr_info["url"]),
            )  # fmt: skip
            report = run_job(JOB, ctx)
            gr.close()
            outcomes.append(report.exit_code)
            if report.exit_code == 0:
                break
    fired = sum(f["fired"] for s in (env.gr, env.dv) for f in s.faults.armed())
    env.gr.faults.clear()
    env.dv.faults.clear()
    assert outcomes[-1] == 0, outcomes
    assert fired >= 5
    assert crm(env) == reference["crm"]
