"""``sync lists`` over real HTTP against both sandboxes (SPEC 4.1-4.6, 5.3, 8.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconcile.jobs.sync import jobs, run_job
from tests.jobs.migrate_env import Env
from tests.jobs.sync import lists_env as le
from tests.jobs.sync import sync_env
from tests.jobs.sync.sync_env import Contexts

JOB = jobs()["lists"]


@pytest.fixture(scope="module")
def _servers() -> Iterator[Env]:
    yield from sync_env.servers()


@pytest.fixture
def env(_servers: Env) -> Iterator[Env]:
    yield from le.fresh(_servers)


@pytest.fixture
def contexts(env: Env, tmp_path: Path) -> Contexts:
    return Contexts(env, tmp_path / "state.sqlite3")


def test_new_static_list_is_created_with_its_members(env: Env, contexts: Contexts) -> None:
    ids = le.add_contacts(env, le.people(30))
    marketing = le.static_list(env, "Clients FR", ids)
    record = le.list_record(env, "clients_fr", marketing)
    report = run_job(JOB, contexts())
    assert report.exit_code == 0, report.lines()
    found = le.lists(env)["clients_fr"]
    assert found["grc_synchronizationstatus"] == le.CREATED
    assert found["grc_iscreatedingetresponse"] is True
    campaign = le.campaign_of(found)
    on_gr = le.gr_contacts(env, campaign)
    assert len(on_gr) == 30
    records = le.contact_records(env, record)
    assert len(records) == 30
    assert {r["_grc_contactid_value"] for r in records} == set(ids)
    assert all(r["grc_synchronizationstatus"] == le.SYNCHRONIZED for r in records)
    assert report.counts["contacts created in GetResponse"] == 30
    # nothing changed: the next run writes nothing, at a constant cost
    again = run_job(JOB, contexts())
    assert again.exit_code == 0, again.lines()
    assert not again.counts.get("contacts created in GetResponse")
    assert again.requests == {"getresponse": 1, "dataverse": 3}
