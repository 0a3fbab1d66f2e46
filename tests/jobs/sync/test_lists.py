"""``sync lists`` over real HTTP against both sandboxes (SPEC 4.1-4.6, 5.3, 8.1)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from reconcile.getresponse import ApiKeyAuth, GetResponseClient
from reconcile.jobs.sync import jobs, run_job
from reconcile.jobs.sync.context import StopSignal
from tests.jobs.migrate_env import Env
from tests.jobs.sync import lists_env as le
from tests.jobs.sync.sync_env import Contexts

JOB = jobs()["lists"]


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


def test_checks_errors_and_retries_one_list_never_stops_the_others(
    env: Env, contexts: Contexts
) -> None:
    ids = le.add_contacts(env, le.people(3))
    good, accounts = le.static_list(env, "Good", ids), le.static_list(env, "Acc", [], target=1)
    bad = le.list_record(env, "Bad Name", good)
    le.list_record(env, "no_marketing", None)
    le.list_record(env, "accounts_list", accounts)
    le.list_record(env, "taken_elsewhere", good)
    le.list_record(env, "good_one", good)
    env.gr.settings.taken_list_names = {"taken_elsewhere"}
    report = run_job(JOB, contexts())
    assert report.exit_code == 1  # one list failed, the rest applied
    found = le.lists(env)
    assert found["good_one"]["grc_synchronizationstatus"] == le.CREATED
    for name, words in (("Bad Name", "lowercase"), ("no_marketing", "No marketing list"),
                        ("accounts_list", "targets accounts"),
                        ("taken_elsewhere", "another account")):  # fmt: skip
        assert found[name]["grc_synchronizationstatus"] == le.ERROR, name
        assert words in found[name]["grc_synchronizationerror"], name
        assert found[name]["grc_iscreatedingetresponse"] is False
    # every list that failed is a failure of the run, named with its reason (exit 1)
    failed = {f.record: f.message for f in report.failures}
    assert set(failed) == {"list 'Bad Name'", "list 'no_marketing'", "list 'accounts_list'",
                           "list 'taken_elsewhere'"}  # fmt: skip
    assert "for example to 'bad_name'" in failed["list 'Bad Name'"]
    assert any("failed: list 'no_marketing': No marketing list" in line
               for line in report.lines())  # fmt: skip
    # An Error list stays as it is until the admin fixes it and sets it New again (SPEC 4.4).
    assert run_job(JOB, contexts()).counts == {}
    le.set_status(env, bad, le.NEW, grc_name="bad_name")
    again = run_job(JOB, contexts())
    assert le.lists(env)["bad_name"]["grc_synchronizationstatus"] == le.CREATED
    assert again.counts["contacts created in GetResponse"] == 3


def test_a_same_name_list_is_adopted_and_nobody_is_created_twice(
    env: Env, contexts: Contexts
) -> None:
    ids = le.add_contacts(env, le.people(5))
    made = env.gr.seed({"campaigns": [{"name": "prospects"}]})
    campaign = next(iter(made["campaigns"].values()))
    env.gr.seed({"contacts": [{"email": f"person{i}@example.com", "campaign": "prospects"}
                              for i in range(3)]})  # fmt: skip
    record = le.list_record(env, "prospects", le.static_list(env, "Prospects", ids))
    report = run_job(JOB, contexts())
    assert report.exit_code == 0, report.lines()
    assert le.campaign_of(le.lists(env)["prospects"]) == campaign
    assert len(le.gr_contacts(env, campaign)) == 5
    assert report.counts["contacts already on the list"] == 3
    assert report.counts["contacts created in GetResponse"] == 2
    assert len(le.contact_records(env, record)) == 5


def test_members_not_sent_say_why_and_a_setting_sends_them(env: Env, tmp_path: Path) -> None:
    ids = le.add_contacts(env, [
        *le.people(2), {"lastname": "NoMail"},
        *le.people(1, start=10, donotbulkemail=True), *le.people(1, start=11, donotemail=True),
    ])  # fmt: skip
    inactive = le.add_contacts(env, le.people(1, start=20, statecode=1, statuscode=2))
    le.list_record(env, "members", le.static_list(env, "Members", ids + inactive))
    report = run_job(JOB, Contexts(env, tmp_path / "a.sqlite3")(dry_run=True))
    why = {i["why"] for i in report.plan["items"] if i["action"] == "skip member"}
    assert any("no email" in w for w in why)
    assert any("bulk email" in w for w in why)
    assert any("does not allow email" in w for w in why)
    assert any("inactive" in w for w in why)
    report = run_job(JOB, Contexts(env, tmp_path / "a.sqlite3")())
    assert report.counts["contacts created in GetResponse"] == 2
    assert report.counts["members not sent: no bulk email"] == 1
    assert report.counts["members not sent: inactive"] == 1
    loose = le.settings(send_opted_out=True, send_inactive=True)
    again = run_job(JOB, Contexts(env, tmp_path / "a.sqlite3")(settings=loose, full=True))
    assert again.counts["contacts created in GetResponse"] == 3


def test_refused_contacts_get_an_error_record_with_the_reason(env: Env, contexts: Contexts) -> None:
    ids = le.add_contacts(env, [*le.people(2), *le.people(2, start=5, domain="nowhere.invalid")])
    record = le.list_record(env, "mixed", le.static_list(env, "Mixed", ids))
    report = run_job(JOB, contexts())
    assert report.exit_code == 1
    records = le.contact_records(env, record)
    errors = [r for r in records if r["grc_synchronizationstatus"] == le.ERROR]
    assert len(errors) == 2
    assert all("GetResponse did not add" in r["grc_synchronizationerror"] for r in errors), [
        r["grc_synchronizationerror"] for r in errors
    ]
    assert len(le.gr_contacts(env, le.campaign_of(le.lists(env)["mixed"]))) == 2
    # Refused is final: the next runs do not send them again.
    run_job(JOB, contexts(full=True))
    assert sum(1 for _, state in le.queue(env) if state == "rejected") == 2


def test_queued_contacts_are_confirmed_by_the_next_run_never_sent_twice(
    env: Env, contexts: Contexts
) -> None:
    env.gr.settings.contact_delay = 3600  # sandbox seconds: not visible during this run
    ids = le.add_contacts(env, le.people(25))
    record = le.list_record(env, "slow", le.static_list(env, "Slow", ids))
    first = run_job(JOB, contexts())
    assert first.counts["contacts still queued in GetResponse"] == 25, (first.counts, first.lines())
    assert le.contact_records(env, record) == []
    env.gr.advance(4000)
    second = run_job(JOB, contexts())
    assert second.counts["queued contacts confirmed"] == 25
    assert len(le.contact_records(env, record)) == 25
    assert len(le.queue(env)) == 25  # each sent once


class StopOnceQueued(StopSignal):
    """Ctrl-C / SIGTERM arriving once GetResponse has the contacts queued."""

    def __init__(self, env: Env) -> None:
        super().__init__()
        self.env = env

    @property
    def requested(self) -> bool:
        return bool(le.queue(self.env))


def test_a_stop_while_waiting_for_queued_contacts_ends_the_run_at_once(
    env: Env, contexts: Contexts
) -> None:
    # The waits for GetResponse to show queued contacts add up to ~9 minutes: a stop must
    # end them (systemd kills what does not stop); the next run confirms what was sent.
    env.gr.settings.contact_delay = 3600
    ids = le.add_contacts(env, le.people(25))
    record = le.list_record(env, "slow", le.static_list(env, "Slow", ids))
    slept: list[float] = []
    info = env.gr_info
    gr = GetResponseClient(ApiKeyAuth(info["api_key"]), base_url=info["url"], sleep=slept.append)
    env.clients.append(gr)
    first = run_job(JOB, replace(contexts(), gr=gr, stop=StopOnceQueued(env)))
    assert first.exit_code == 130, first.lines()
    assert sum(slept) <= 1.0, slept  # it slept the whole current wait first (up to 300 s)
    env.gr.advance(4000)
    second = run_job(JOB, contexts())
    assert second.counts["queued contacts confirmed"] == 25, second.lines()
    assert len(le.contact_records(env, record)) == 25
    assert len(le.queue(env)) == 25  # each sent once


def test_later_runs_push_added_members_and_handle_removed_and_opted_out(
    env: Env, tmp_path: Path
) -> None:
    ids = le.add_contacts(env, le.people(6))
    marketing = le.static_list(env, "Later", ids[:4])
    record = le.list_record(env, "later", marketing)
    state = Contexts(env, tmp_path / "s.sqlite3")
    run_job(JOB, state())
    admin = env.dataverse()
    from reconcile.dataverse.resources import add_members, marketing_list

    add_members(admin, marketing_list(admin, marketing), ids[4:])
    admin.action(f"lists({marketing})/Microsoft.Dynamics.CRM.RemoveMemberList",
                 {"EntityId": ids[0]}, idempotent=True)  # fmt: skip
    admin.update("contacts", ids[1], {"donotbulkemail": True})
    admin.update("contacts", ids[2], {"emailaddress1": "changed@example.com"})
    report = run_job(JOB, state())
    assert report.exit_code == 0, report.lines()
    assert report.counts["contacts created in GetResponse"] == 2
    assert report.counts.get("removed members handled") == 1, report.lines()
    assert report.counts["contacts unsubscribed"] == 1
    assert report.counts["emails that differ in the CRM, not sent (SPEC 8.1)"] == 1
    by_contact = {r["_grc_contactid_value"]: r for r in le.contact_records(env, record)}
    assert by_contact[ids[0]]["grc_synchronizationerror"].startswith("No longer on")
    assert by_contact[ids[1]]["grc_synchronizationstatus"] == le.DELETED
    assert "Unsubscribed" in by_contact[ids[1]]["grc_synchronizationerror"]
    campaign = le.campaign_of(le.lists(env)["later"])
    on_gr = le.gr_contacts(env, campaign)
    # no newsletter to unsubscribe from yet: blocklisted, never deleted
    assert "person1@example.com" in on_gr
    assert env.gr.blocklist.blocks("person1@example.com")
    assert "person0@example.com" in on_gr  # "mark" leaves the GetResponse contact
    assert "changed@example.com" not in on_gr  # SPEC 8.1
    quiet = run_job(JOB, state())
    assert quiet.counts == {}, quiet.lines()
    # "remove": the marked member's GetResponse contact is deleted
    removing = run_job(JOB, state(settings=le.settings(removed_members="remove"), full=True))
    assert removing.counts["removed members handled"] == 1
    assert "person0@example.com" not in le.gr_contacts(env, campaign)


def test_dynamic_list_is_evaluated_and_current_user_filters_are_flagged(
    env: Env, contexts: Contexts
) -> None:
    le.add_contacts(env, le.people(4, domain="paris.example"))
    le.add_contacts(env, le.people(3, start=10, domain="lyon.example"))
    query = (
        '<fetch><entity name="contact"><attribute name="fullname"/><filter type="and">'
        '<condition attribute="emailaddress1" operator="like" value="%@paris.example"/>'
        "</filter></entity></fetch>"
    )
    mine = query.replace("</filter>", '<condition attribute="ownerid" operator="eq-userid"/>'
                         "</filter>")  # fmt: skip
    le.list_record(env, "paris", le.dynamic_list(env, "Paris", query))
    le.list_record(env, "mine", le.dynamic_list(env, "Mine", mine))
    report = run_job(JOB, contexts())
    assert report.exit_code == 0, report.lines()
    found = le.lists(env)
    assert len(le.gr_contacts(env, le.campaign_of(found["paris"]))) == 4
    assert "current user" in (found["mine"]["grc_synchronizationerror"] or "")
    assert found["mine"]["grc_synchronizationstatus"] == le.CREATED
    assert any("current user" in n for n in report.notes)
    assert found["paris"].get("grc_synchronizationerror") is None


def test_list_deleted_in_getresponse_is_marked(env: Env, contexts: Contexts) -> None:
    ids = le.add_contacts(env, le.people(3))
    record = le.list_record(env, "gone", le.static_list(env, "Gone", ids))
    run_job(JOB, contexts())
    campaign = le.campaign_of(le.lists(env)["gone"])
    env.gr.campaigns.delete(campaign)
    report = run_job(JOB, contexts())
    assert report.counts["lists marked deleted"] == 1
    found = le.lists(env)["gone"]
    assert found["grc_synchronizationstatus"] == le.DELETED
    assert found["grc_iscreatedingetresponse"] is False
    assert all(r["grc_synchronizationstatus"] == le.DELETED
               for r in le.contact_records(env, record))  # fmt: skip
    assert run_job(JOB, contexts()).counts == {}


def test_dry_run_prints_the_plan_and_writes_nothing(env: Env, contexts: Contexts) -> None:
    ids = le.add_contacts(env, [*le.people(3), {"lastname": "NoMail"}])
    le.list_record(env, "dry", le.static_list(env, "Dry", ids))
    report = run_job(JOB, contexts(dry_run=True))
    assert report.plan["counts"] == {"create list": 1, "push contacts": 3, "skip member": 1}
    lines = report.lines()
    assert "create list:" in lines
    assert le.lists(env)["dry"]["grc_synchronizationstatus"] == le.NEW
    assert env.gr.conn.execute("SELECT COUNT(*) FROM campaigns").fetchone()[0] == 0
    assert contexts().state.runs() == []
