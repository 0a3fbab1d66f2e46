"""``sync newsletters`` over real HTTP against both sandboxes (SPEC 7): checks, scheduling to
exactly the list's contacts who allow bulk email, following to Sent, later edits reported,
newsletters created in GetResponse shown, the quiet run's cost."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reconcile.jobs.sync import jobs, run_job
from reconcile.model import SyncStatus
from tests.jobs.migrate_env import Env, rows
from tests.jobs.sync import lists_env as le
from tests.jobs.sync import newsletter_env as ne
from tests.jobs.sync.sync_env import Contexts

JOB = jobs()["newsletters"]
S = ne.STATUS


@pytest.fixture
def world(env: Env, tmp_path: Path) -> ne.World:
    return ne.world(env, Contexts(env, tmp_path / "state.sqlite3"))


@pytest.mark.parametrize("keep", [False, True], ids=["draft-consumed", "draft-kept"])
def test_ready_newsletter_is_scheduled_once_then_sent(world: ne.World, keep: bool) -> None:
    world.env.gr.sending.rules.keep_drafts = keep
    when = ne.soon(1.5)
    record = world.newsletter(when=when)
    report = run_job(JOB, world.ctx())
    assert report.exit_code == 0, report.lines()
    assert report.counts["newsletters scheduled"] == 1
    found = world.record(record)
    assert found["grc_synchronizationstatus"] == S[SyncStatus.SCHEDULED]
    assert found["grc_recipients"] == 5
    assert found["grc_leftout"] == 0
    assert "UTC" in found["grc_sendtimetext"]
    (broadcast,) = world.broadcasts()
    assert found["grc_getresponseid"].split("~")[0] == broadcast["newsletterId"]
    assert broadcast["sendMetrics"]["status"] == "scheduled"
    assert dt.datetime.strptime(broadcast["sendOn"], "%Y-%m-%dT%H:%M:%S%z") == when  # same instant
    # The template's draft is untouched: the next newsletter can use it.
    draft = world.env.getresponse().get(f"newsletters/{world.draft}")
    assert draft["type"] == "draft"
    assert draft["name"] == "MS CRM Welcome"
    # Nothing more to send; once GetResponse has sent it, the record says Sent.
    again = run_job(JOB, world.ctx())
    assert again.counts == {}, again.lines()
    world.env.gr.advance(2 * 3600)
    sent = run_job(JOB, world.ctx())
    assert sent.counts == {"newsletter records updated": 1}
    assert world.record(record)["grc_synchronizationstatus"] == S[SyncStatus.SENT]
    assert world.sends(broadcast["newsletterId"]) == [f"person{i}@example.com" for i in range(5)]
    assert len(world.broadcasts()) == 1


def test_opted_out_members_are_left_out_and_counted(world: ne.World) -> None:
    ne.opt_out(world.env, world.contacts[1])
    ne.opt_out(world.env, world.contacts[3], "donotemail")
    record = world.newsletter()
    report = run_job(JOB, world.ctx())
    assert report.exit_code == 0, report.lines()
    found = world.record(record)
    assert found["grc_recipients"] == 3
    assert found["grc_leftout"] == 2
    assert found["grc_leftoutreasons"] == "2 do not allow bulk email now"
    (broadcast,) = world.broadcasts()
    world.env.gr.advance(2 * 3600)
    sent = world.sends(broadcast["newsletterId"])
    assert sent == ["person0@example.com", "person2@example.com", "person4@example.com"]
    assert "person1@example.com" not in sent
    assert "person3@example.com" not in sent


def test_the_whole_linked_list_is_selected_when_it_is_exactly_the_recipients(
    world: ne.World,
) -> None:
    world.newsletter()
    run_job(JOB, world.ctx())
    (broadcast,) = world.broadcasts()
    details = world.env.getresponse().get(f"newsletters/{broadcast['newsletterId']}")
    assert details["sendSettings"]["selectedCampaigns"] == [world.campaign]
    assert details["sendSettings"]["selectedContacts"] == []


def test_each_failed_check_is_an_error_in_words(world: ne.World) -> None:
    gone = world.newsletter("No list", marketing=None)
    no_template = world.newsletter("No template", template=None)
    past = world.newsletter("Late", when=ne.soon(-2))
    accounts = le.static_list(world.env, "Accounts", [], target=1)
    wrong = world.newsletter("Accounts", marketing=accounts)
    report = run_job(JOB, world.ctx())
    assert report.counts == {"newsletter records updated": 4}
    texts = {r: world.record(r) for r in (gone, no_template, past, wrong)}
    assert all(t["grc_synchronizationstatus"] == S[SyncStatus.ERROR] for t in texts.values())
    assert "marketing list not set" in texts[gone]["grc_synchronizationerror"]
    assert "template not set" in texts[no_template]["grc_synchronizationerror"]
    assert "has passed" in texts[past]["grc_synchronizationerror"]
    assert "does not target Contacts" in texts[wrong]["grc_synchronizationerror"]
    assert world.broadcasts() == []


def test_a_deleted_template_makes_newsletters_fail(world: ne.World) -> None:
    world.env.getresponse().delete(f"newsletters/{world.draft}")
    run_job(jobs()["templates"], world.contexts())
    record = world.newsletter()
    run_job(JOB, world.ctx())
    found = world.record(record)
    assert found["grc_synchronizationstatus"] == S[SyncStatus.ERROR]
    assert "was deleted in GetResponse" in found["grc_synchronizationerror"]


def test_an_environment_not_allowed_to_send_sends_nothing(world: ne.World) -> None:
    record = world.newsletter()
    report = run_job(JOB, world.ctx(settings=ne.settings(world.env, send=False)))
    found = world.record(record)
    assert found["grc_synchronizationstatus"] == S[SyncStatus.ERROR]
    assert "send_environments" in found["grc_synchronizationerror"]
    assert world.broadcasts() == []
    assert any("send_environments" in n for n in report.notes)


def test_getresponse_daily_limit_is_an_error_not_a_send(world: ne.World) -> None:
    first, second = world.newsletter("First"), world.newsletter("Second")
    # The template's draft was created today too: every newsletter created today counts.
    run_job(JOB, world.ctx(settings=ne.settings(world.env, daily_limit=2)))
    states = [world.record(r)["grc_synchronizationstatus"] for r in (first, second)]
    assert sorted(states) == sorted([S[SyncStatus.SCHEDULED], S[SyncStatus.ERROR]])
    failed = next(world.record(r) for r in (first, second) if states[(first, second).index(r)]
                  == S[SyncStatus.ERROR])  # fmt: skip
    assert "2 newsletters a day" in failed["grc_synchronizationerror"]
    assert len(world.broadcasts()) == 1


def test_edits_after_scheduling_are_reported_not_applied(world: ne.World) -> None:
    record = world.newsletter()
    run_job(JOB, world.ctx())
    world.env.dataverse().update(
        "grc_getresponsenewsletters", record, {"grc_scheduledon": "2030-01-01T09:00:00Z"}
    )
    report = run_job(JOB, world.ctx())
    assert report.exit_code == 1
    assert "send time changed after it was scheduled" in report.failures[0].message
    found = world.record(record)
    assert "Changed after it was scheduled (send time)" in found["grc_synchronizationerror"]
    (broadcast,) = world.broadcasts()
    assert not broadcast["sendOn"].startswith("2030")
    # Reported once, not on every run.
    assert run_job(JOB, world.ctx()).failures == []


def test_set_ready_again_after_scheduling_is_refused(world: ne.World) -> None:
    record = world.newsletter()
    run_job(JOB, world.ctx())
    world.env.dataverse().update(
        "grc_getresponsenewsletters", record, {"grc_synchronizationstatus": ne.READY}
    )
    run_job(JOB, world.ctx())
    found = world.record(record)
    assert found["grc_synchronizationstatus"] == S[SyncStatus.ERROR]
    assert "already scheduled" in found["grc_synchronizationerror"]
    assert len(world.broadcasts()) == 1


def test_newsletters_created_in_getresponse_appear_linked_to_their_list(world: ne.World) -> None:
    world.env.gr.seed(
        {"newsletters": [{"name": "Flash sale", "type": "broadcast", "campaign": "clients_fr",
                          "subject": "Flash!"}]}
    )  # fmt: skip
    report = run_job(JOB, world.ctx())
    assert report.counts == {"newsletters from GetResponse": 1}, report.lines()
    (found,) = rows(world.env.dataverse(), "grc_getresponsenewsletters")
    assert found["grc_name"] == "Flash sale"
    assert found["grc_createdingetresponse"] is True
    assert found["_grc_marketinglistid_value"] == world.marketing
    assert found["grc_synchronizationstatus"] == S[SyncStatus.SENT]
    assert run_job(JOB, world.ctx()).counts == {}


def test_scheduled_newsletters_are_followed_by_one_listing(world: ne.World) -> None:
    """However many are scheduled, one listing by send date follows them; one that no
    longer is in GetResponse is read by id (404: Deleted in GetResponse)."""
    records = [world.newsletter(f"News {i}", when=ne.soon(hours))
               for i, hours in enumerate((1, 2, 30))]  # fmt: skip
    scheduled = run_job(JOB, world.ctx())
    assert scheduled.counts["newsletters scheduled"] == 3, scheduled.lines()
    waiting = run_job(JOB, world.ctx())
    assert waiting.counts == {}, waiting.lines()
    assert waiting.requests["getresponse"] == 2  # broadcasts created since; the listing
    gone = world.record(records[1])["grc_getresponseid"].split("~")[0]
    world.env.gr.messages.delete(gone)
    deleted = run_job(JOB, world.ctx())
    assert deleted.counts == {"newsletter records updated": 1}, deleted.lines()
    assert deleted.requests["getresponse"] == 3  # and the one the listing did not show
    assert (
        world.record(records[1])["grc_synchronizationstatus"]
        == S[SyncStatus.DELETED_IN_GETRESPONSE]
    )
    world.env.gr.advance(3 * 3600)
    first = run_job(JOB, world.ctx())
    assert first.counts == {"newsletter records updated": 1}, first.lines()
    assert world.record(records[0])["grc_synchronizationstatus"] == S[SyncStatus.SENT]
    assert world.record(records[2])["grc_synchronizationstatus"] == S[SyncStatus.SCHEDULED]
    world.env.gr.advance(30 * 3600)
    last = run_job(JOB, world.ctx())
    assert last.counts == {"newsletter records updated": 1}, last.lines()
    assert world.record(records[2])["grc_synchronizationstatus"] == S[SyncStatus.SENT]
    assert run_job(JOB, world.ctx()).requests == {"getresponse": 1, "dataverse": 1}


def test_quiet_run_costs_two_requests(world: ne.World) -> None:
    run_job(JOB, world.ctx())
    quiet = run_job(JOB, world.ctx())
    assert quiet.counts == {}
    assert quiet.requests == {"getresponse": 1, "dataverse": 1}


def test_dry_run_plans_without_sending(world: ne.World) -> None:
    record = world.newsletter()
    report = run_job(JOB, world.ctx(dry_run=True))
    assert report.plan is not None
    assert report.plan["counts"] == {"schedule newsletter": 1}
    assert world.broadcasts() == []
    assert world.record(record)["grc_synchronizationstatus"] == ne.READY
