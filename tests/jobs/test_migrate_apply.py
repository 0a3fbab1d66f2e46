"""``migrate apply`` against both sandboxes over real HTTP: what it writes, dry run = real run,
a second run changes nothing, duplicates with and without ``allow_duplicates``, privileges,
merged contacts, and a run stopped by an outage then resumed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.config import SyncSettings
from reconcile.dataverse import install_roles, schema
from reconcile.dataverse.roles import CONNECTION_USER, SERVICE_USER
from reconcile.dataverse.schema import getresponse_id
from reconcile.errors import InputError
from reconcile.jobs.migrate import RunReport, apply_plan, contact_guid, list_guid, load_plan
from reconcile.jobs.migrate.checks import MissingPrivileges
from reconcile.jobs.migrate.job import make_plan
from reconcile.model import SyncStatus
from reconcile.state import StateStore
from tests.jobs import migrate_env
from tests.jobs.migrate_env import Env, crm_state, records, rows, seed_small

SYNCHRONIZED = schema.SYNC_STATUS_VALUES[SyncStatus.SYNCHRONIZED]
NEW = schema.SYNC_STATUS_VALUES[SyncStatus.NEW]
ERROR = schema.SYNC_STATUS_VALUES[SyncStatus.ERROR]


@pytest.fixture(scope="module")
def _servers() -> Iterator[Env]:
    yield from migrate_env.servers()


@pytest.fixture
def env(_servers: Env) -> Iterator[Env]:
    yield from migrate_env.fresh(_servers)


def planned(env: Env, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    ids = seed_small(env)
    out = tmp_path / "review.xlsx"
    sync = SyncSettings(send_custom_fields=True, send_tags=True)
    make_plan(env.dataverse(), out, gr=env.getresponse(), sync=sync)
    return out, ids


def apply(
    env: Env,
    path: Path,
    state: Path,
    *,
    dry_run: bool = False,
    allow: bool = False,
    identity: str = "admin",
) -> RunReport:
    plan = load_plan(path, allow_duplicates=allow)
    with StateStore(state) as store:
        return apply_plan(
            env.dataverse(identity), plan, workbook=str(path), state=store, dry_run=dry_run
        )


def test_apply_writes_contacts_records_lists_fields_and_members(env: Env, tmp_path: Path) -> None:
    review, ids = planned(env, tmp_path)
    report = apply(env, review, tmp_path / "state.sqlite3")
    assert report.exit_code == 0, report.summary()
    counts = report.counts
    assert counts["contacts_created"] == 2
    assert counts["linked_existing"] == 2
    assert counts["linked_new"] == 3
    assert counts["unlinked_written"] == 1
    assert counts["lists_created"] == 2
    assert counts["custom_field_values"] == 2
    admin = env.dataverse()
    paul = contact_guid(env.dv_url, "paul.nouveau@free.fr", "Paul", "Nouveau")
    created = {r["contactid"]: r for r in rows(admin, "contacts")}
    assert len(created) == len(migrate_env.CRM) + 2
    assert (created[paul]["firstname"], created[paul]["lastname"]) == ("Paul", "Nouveau")
    grc = records(admin)
    contact = ids["contacts"]
    anna = grc[contact[("clients_fr", "anna.martin@gmail.com")]]
    assert anna["_grc_contactid_value"] == ids["crm"]["anna.martin@gmail.com"]
    assert anna["grc_synchronizationstatus"] == SYNCHRONIZED
    assert (anna["grc_engagementscore"], anna["grc_scoringpoints"]) == (4, 12)
    assert (anna["grc_origin"], anna["grc_tags"]) == ("api", "client, vip")
    assert anna["grc_createdingetresponseon"] == "2021-03-04T10:00:00Z"
    assert anna["_grc_getresponselistid_value"] == list_guid(
        env.dv_url, ids["campaigns"]["clients_fr"]
    )
    for name in ("clients_fr", "newsletter"):
        assert grc[contact[(name, "paul.nouveau@free.fr")]]["_grc_contactid_value"] == paul
    marie = grc[contact[("newsletter", "famille.roux@wanadoo.fr")]]
    assert marie["_grc_contactid_value"] is None
    assert marie["grc_synchronizationstatus"] == NEW
    lists = rows(admin, "grc_getresponselists")
    assert {r["grc_name"] for r in lists} == {"clients_fr", "newsletter"}
    assert all(r["grc_iscreatedingetresponse"] for r in lists)
    fields = {
        getresponse_id(r["grc_contactgetresponseid"]): r
        for r in rows(admin, "grc_getresponsecustomfields")
    }
    lyon = fields[contact[("clients_fr", "anna.martin@gmail.com")]]
    assert (lyon["grc_name"], lyon["grc_value"]) == ("ville", "Lyon")
    assert lyon["_grc_contactid_value"] == ids["crm"]["anna.martin@gmail.com"]
    assert lyon["_grc_getresponsecontactid_value"] == anna["grc_getresponsecontactid"]


def test_dry_run_says_exactly_what_the_real_run_does(env: Env, tmp_path: Path) -> None:
    review, _ = planned(env, tmp_path)
    before = crm_state(env.dataverse())
    dry = apply(env, review, tmp_path / "state.sqlite3", dry_run=True)
    assert crm_state(env.dataverse()) == before  # nothing written
    real = apply(env, review, tmp_path / "state.sqlite3")
    skip = {"dry_run", "run_id", "requests", "seconds", "report_path", "resumed", "started_at"}
    assert {k: v for k, v in dry.as_dict().items() if k not in skip} == {
        k: v for k, v in real.as_dict().items() if k not in skip
    }


def test_a_second_apply_changes_nothing(env: Env, tmp_path: Path) -> None:
    review, _ = planned(env, tmp_path)
    state = tmp_path / "state.sqlite3"
    first = apply(env, review, state)
    admin = env.dataverse()
    versions = {k: r["versionnumber"] for k, r in records(admin).items()}
    snapshot = crm_state(admin)
    second = apply(env, review, state)
    assert second.already_applied
    assert second.counts == first.counts
    assert second.exit_code == 0
    assert crm_state(admin) == snapshot
    after = {k: r["versionnumber"] for k, r in records(admin).items()}
    assert after == versions
    assert second.requests["dataverse"] == 0  # not even a read: the journal says it all
    # Even with the journal lost, a re-run duplicates nothing: planned GUIDs and keys.
    third = apply(env, review, tmp_path / "other-state.sqlite3")
    assert third.counts["contacts_existed"] == 2
    assert crm_state(admin) == snapshot


def test_duplicates_are_reported_unless_allowed(env: Env, tmp_path: Path) -> None:
    review, ids = planned(env, tmp_path)
    # After the plan, a colleague creates Zoé in the CRM.
    env.dv.bulk_contacts(
        [{"firstname": "Zoe", "lastname": "L", "emailaddress1": "ZOE.LEROY@laposte.net"}]
    )
    # ... and a duplicate detection rule on last names catches Paul.
    env.dv.load({"duplicate_rules": {"contact": [["lastname"]]}})
    env.dv.bulk_contacts([{"firstname": "X", "lastname": "Nouveau", "emailaddress1": "x@y.fr"}])
    report = apply(env, review, tmp_path / "state.sqlite3")
    assert report.exit_code == 1
    assert report.counts["contacts_created"] == 0
    assert {d.email for d in report.duplicates} == {"zoe.leroy@laposte.net", "paul.nouveau@free.fr"}
    zoe = next(d for d in report.duplicates if d.email.startswith("zoe"))
    assert "already has the email zoe.leroy@laposte.net" in zoe.message
    assert "--allow-duplicates" in zoe.action
    paul = next(d for d in report.duplicates if d.email.startswith("paul"))
    assert "duplicate detection" in paul.message
    grc = records(env.dataverse())
    unlinked = grc[ids["contacts"][("newsletter", "zoe.leroy@laposte.net")]]
    assert unlinked["_grc_contactid_value"] is None
    assert unlinked["grc_synchronizationstatus"] == ERROR
    assert "not created" in unlinked["grc_synchronizationerror"]
    again = apply(env, review, tmp_path / "state.sqlite3")
    assert again.already_applied  # duplicates are an outcome, not something to retry
    allowed = apply(env, review, tmp_path / "state.sqlite3", allow=True)
    assert allowed.exit_code == 0
    assert allowed.counts["contacts_created"] == 2
    zoe_record = records(env.dataverse())[ids["contacts"][("newsletter", "zoe.leroy@laposte.net")]]
    assert zoe_record["grc_synchronizationstatus"] == SYNCHRONIZED


def test_privileges_are_checked_before_anything_is_written(env: Env, tmp_path: Path) -> None:
    review, _ = planned(env, tmp_path)
    before = crm_state(env.dataverse())
    with pytest.raises(MissingPrivileges) as info:
        apply(env, review, tmp_path / "state.sqlite3", identity="service")
    assert info.value.exit_code == 3
    assert "prvCreateContact (Create on Contact, Organization level): not held" in str(info.value)
    assert "prvCreategrc_GetResponseContact" in str(info.value)
    install_roles(env.dataverse())
    env.dv.load({"identity_roles": {"service": [SERVICE_USER.name]}})
    with pytest.raises(MissingPrivileges) as info:
        apply(env, review, tmp_path / "state.sqlite3", identity="service")
    assert "lacks 1 privilege(s)" in str(info.value)
    assert "prvCreateContact" in str(info.value)
    assert crm_state(env.dataverse()) == before
    env.dv.load({"identity_roles": {"service": [CONNECTION_USER.name]}})
    assert apply(env, review, tmp_path / "state.sqlite3", identity="service").exit_code == 0


def test_links_follow_merges_and_inactive_contacts_are_reported(env: Env, tmp_path: Path) -> None:
    review, ids = planned(env, tmp_path)
    anna, jean = ids["crm"]["anna.martin@gmail.com"], ids["crm"]["jean.dupont@orange.fr"]
    master = env.dv.bulk_contacts([{"firstname": "Anna", "lastname": "Martin-Roy"}])[0]
    env.dv.load({"merges": [{"master": master, "subordinate": anna}]})
    env.dataverse().update("contacts", jean, {"statecode": 1, "statuscode": 2})
    report = apply(env, review, tmp_path / "state.sqlite3")
    grc = records(env.dataverse())
    contact = ids["contacts"]
    assert grc[contact[("clients_fr", "anna.martin@gmail.com")]]["_grc_contactid_value"] == master
    assert report.counts["linked_master"] == 1
    assert any(row["note"].startswith("merged into") for row in report.linked)
    jean_record = grc[contact[("clients_fr", "jean.dupont@orange.fr")]]
    assert jean_record["_grc_contactid_value"] is None
    assert jean_record["grc_synchronizationstatus"] == ERROR
    assert [f.what for f in report.failures] == ["link"]
    assert "is inactive" in report.failures[0].message
    assert report.exit_code == 1


def test_an_outage_stops_the_run_and_the_same_command_resumes_it(env: Env, tmp_path: Path) -> None:
    review, _ = planned(env, tmp_path)
    state = tmp_path / "state.sqlite3"
    fault = {"kind": "status", "status": 503, "count": 50,
             "path": "/api/data/v9.2/grc_getresponsecontacts"}  # fmt: skip
    httpx.post(f"{env.dv_url}/__sandbox__/faults", json=[fault]).raise_for_status()
    stopped = apply(env, review, state)
    assert stopped.exit_code == 3
    assert stopped.aborted
    assert stopped.counts["contacts_created"] == 2
    assert stopped.counts["linked_existing"] == 0
    httpx.delete(f"{env.dv_url}/__sandbox__/faults").raise_for_status()
    resumed = apply(env, review, state)
    assert resumed.resumed
    assert resumed.exit_code == 0
    assert resumed.counts["contacts_created"] == 2  # done before the outage, not redone
    assert resumed.counts["linked_existing"] == 2
    assert len(rows(env.dataverse(), "contacts")) == len(migrate_env.CRM) + 2


def test_a_plan_for_another_environment_is_refused(env: Env, tmp_path: Path) -> None:
    review, _ = planned(env, tmp_path)
    plan = load_plan(review, allow_duplicates=False)
    plan.environment = "https://elsewhere.crm4.dynamics.com"
    with StateStore(tmp_path / "s.sqlite3") as store, pytest.raises(InputError) as info:
        apply_plan(env.dataverse(), plan, workbook=str(review), state=store)
    assert "this plan was made for https://elsewhere.crm4.dynamics.com" in str(info.value)


def test_two_applies_cannot_run_at_once(env: Env, tmp_path: Path) -> None:
    import socket

    from reconcile.state import StateError

    review, _ = planned(env, tmp_path)
    state = tmp_path / "state.sqlite3"
    with StateStore(state) as store:  # another live process (pid 1) holds the lock
        store._db.execute(
            "INSERT INTO locks (name, owner, acquired_at) VALUES (?, ?, 0)",
            (f"migrate:{env.dv_url}", f"{socket.gethostname()}:1"),
        )
    before = crm_state(env.dataverse())
    with pytest.raises(StateError) as info:
        apply(env, review, state)
    assert "already doing 'migrate:" in str(info.value)
    assert crm_state(env.dataverse()) == before
    assert apply(env, review, state, dry_run=True).counts["contacts_created"] == 2  # reads only
