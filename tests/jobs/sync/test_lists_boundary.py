"""``sync lists``: the boundary second of its Dataverse watermarks (``modifiedon ge``, a closed
start). The rows of that second are read again by every run; they must neither count as
changes (cost) nor hide a change made in that same second after the read (correctness)."""

from __future__ import annotations

import datetime as dt

import pytest

from reconcile.jobs.sync import jobs, run_job
from tests.jobs.migrate_env import Env
from tests.jobs.sync import lists_env as le
from tests.jobs.sync.sync_env import Contexts

JOB = jobs()["lists"]
SECOND = dt.datetime(2026, 3, 2, 9, 30, 0, tzinfo=dt.UTC)


def test_many_contacts_in_the_boundary_second_cost_a_quiet_run_nothing(
    env: Env, contexts: Contexts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import puts hundreds of contacts in one second: the next runs read them again
    (one page) and look none of them up (they used to be counted as changed past 200)."""
    monkeypatch.setattr(env.dv.store, "clock", lambda: SECOND)
    ids = le.add_contacts(env, le.people(260))
    le.list_record(env, "imported", le.static_list(env, "Imported", ids))
    monkeypatch.undo()
    first = run_job(JOB, contexts())
    assert first.exit_code == 0, first.lines()
    assert first.counts["contacts created in GetResponse"] == 260
    for _ in range(2):
        quiet = run_job(JOB, contexts())
        assert quiet.counts == {}, quiet.lines()
        assert quiet.requests == {"getresponse": 1, "dataverse": 3}


def test_a_contact_changed_again_in_the_boundary_second_is_seen(
    env: Env, contexts: Contexts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dataverse's clock does not move between the run's read and the contact's next change
    (same second): its row version does, and the next run acts on the change."""
    monkeypatch.setattr(env.dv.store, "clock", lambda: SECOND)
    ids = le.add_contacts(env, le.people(3))
    record = le.list_record(env, "same_second", le.static_list(env, "Same second", ids))
    assert run_job(JOB, contexts()).exit_code == 0
    env.dataverse().update("contacts", ids[1], {"donotbulkemail": True})
    report = run_job(JOB, contexts())
    assert report.counts.get("contacts unsubscribed") == 1, report.lines()
    by_contact = {r["_grc_contactid_value"]: r for r in le.contact_records(env, record)}
    assert by_contact[ids[1]]["grc_synchronizationstatus"] == le.DELETED
    assert run_job(JOB, contexts()).counts == {}
