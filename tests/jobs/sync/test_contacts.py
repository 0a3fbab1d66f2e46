"""``sync contacts`` over real HTTP against both sandboxes (SPEC 5.1-5.3, 8): records for new
contacts without CRM contact, refreshes of what changed and nothing else, email changes that
stay on the record, deletions found by the scan, merges, consent, a lost watermark, dry runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconcile.dataverse import schema
from reconcile.jobs.sync import environment_key
from reconcile.jobs.sync.callbacks import contact_events, contact_inbox
from reconcile.model import SyncStatus
from reconcile.state import StateStore
from tests.jobs.migrate_env import Env
from tests.jobs.sync.contacts_env import World, linked_to, seed, settings
from tests.jobs.sync.sync_env import Contexts

NEW = schema.SYNC_STATUS_VALUES[SyncStatus.NEW]
SYNCHRONIZED = schema.SYNC_STATUS_VALUES[SyncStatus.SYNCHRONIZED]
ERROR = schema.SYNC_STATUS_VALUES[SyncStatus.ERROR]
DELETED = schema.SYNC_STATUS_VALUES[SyncStatus.DELETED_IN_GETRESPONSE]
ANNA, JEAN, PAUL, ZOE = (
    "anna.martin@gmail.com", "jean.dupont@orange.fr", "paul.nouveau@free.fr",
    "zoe.leroy@laposte.net",
)  # fmt: skip


@pytest.fixture
def world(env: Env, tmp_path: Path) -> World:
    return seed(env, Contexts(env, tmp_path / "state.sqlite3"))


@pytest.fixture
def synced(world: World) -> World:
    """After a first run (the lists are new to the job: read whole) and the migration's
    links of Anna and Jean to their CRM contacts."""
    first = world.run()
    assert first.exit_code == 0, first.lines()
    world.link(ANNA)
    world.link(JEAN)
    return world


def test_first_run_writes_every_contact_without_creating_crm_contacts(world: World) -> None:
    crm_before = len(list(world.env.dataverse().query("contacts")))
    report = world.run()
    assert report.counts == {"contact records created": 5, "custom field values written": 3}
    anna = world.record(ANNA)
    assert (anna["grc_name"], anna["grc_email"]) == ("Anna Martin", ANNA)
    assert (anna["grc_engagementscore"], anna["grc_scoringpoints"]) == (4, 12)
    assert anna["grc_origin"] == "import"
    assert anna["grc_createdingetresponseon"] == "2021-03-04T10:00:00Z"
    assert anna["grc_tags"] == "client, vip"
    assert anna["grc_synchronizationstatus"] == NEW  # "GetResponse contact without CRM contact"
    assert anna["_grc_contactid_value"] is None
    assert world.record("marc.petit@sfr.fr")["grc_name"] == "marc.petit@sfr.fr"
    assert world.record(ZOE)["grc_scoringpoints"] == 4
    values = world.values(ANNA)
    assert {n: v["grc_value"] for n, v in values.items()} == {"ville": "Lyon", "pays": "France"}
    assert len(list(world.env.dataverse().query("contacts"))) == crm_before  # SPEC 5.1


def test_quiet_run_reads_one_page_per_list_and_writes_nothing(synced: World) -> None:
    report = synced.run()
    assert report.counts == {}
    assert report.requests == {"getresponse": 2, "dataverse": 2}
    assert report.exit_code == 0


def test_changes_refresh_what_changed_and_nothing_else(synced: World) -> None:
    ids, w = synced.gr_ids, synced
    before = synced.records()
    w.gr_post(f"contacts/{ids[ANNA]}", {"name": "Anna Martin-Roux", "note": "VIP since 2020"})
    w.gr_post(f"contacts/{ids[JEAN]}", {"email": "jean.dupont@gmail.com"})  # SPEC 8.2
    w.gr_post(f"contacts/{ids[PAUL]}/tags", {"tags": [{"tagId": w.tags["vip"]}]})
    nice = {"customFieldValues": [{"customFieldId": w.fields["ville"], "value": ["Nice"]}]}
    w.gr_post(f"contacts/{ids[ANNA]}/custom-fields", nice)
    w.gr_post(f"contacts/{ids[ANNA]}", nice)  # replaces the values: "pays" is removed
    w.gr_post(f"contacts/{ids['marc.petit@sfr.fr']}", {"note": "only a note"})  # unmapped
    scored = w.env.gr.contacts.rescore({ids[ZOE]: {"engagementScore": 5, "scoring": 9}})
    assert scored == [ids[ZOE]]
    w.gr_post("contacts", {"email": "nina.new@free.fr", "name": "Nina New",
                           "campaign": {"campaignId": w.campaigns["newsletter"]}})  # fmt: skip
    jean_crm = synced.crm_contact(JEAN)["emailaddress1"]

    report = synced.run()
    assert report.exit_code == 0, report.lines()
    assert report.counts == {
        "contact records created": 1,
        "contact records updated": 4,  # Anna, Jean, Paul, Zoé — not Marc (a note is not mapped)
        "custom field values written": 1,
        "custom field values removed": 1,
    }
    after = synced.records()
    assert after[ids[ANNA]]["grc_name"] == "Anna Martin-Roux"
    assert after[ids[JEAN]]["grc_email"] == "jean.dupont@gmail.com"
    assert synced.crm_contact(JEAN)["emailaddress1"] == jean_crm  # the CRM contact: untouched
    assert after[ids[JEAN]]["grc_synchronizationstatus"] == SYNCHRONIZED  # still linked
    assert after[ids[PAUL]]["grc_tags"] == "client, vip"
    assert (after[ids[ZOE]]["grc_engagementscore"], after[ids[ZOE]]["grc_scoringpoints"]) == (5, 9)
    marc = ids["marc.petit@sfr.fr"]
    assert after[marc]["modifiedon"] == before[marc]["modifiedon"]
    values = synced.values(ANNA)
    assert values["ville"]["grc_value"] == "Nice"
    assert values["ville"]["_grc_contactid_value"] == synced.crm[ANNA]
    gone = values["pays"]
    assert (gone["grc_value"], gone["statecode"]) == (None, 1)
    assert gone["grc_synchronizationstatus"] == DELETED
    assert "Removed in GetResponse" in gone["grc_synchronizationerror"]
    nina = [r for r in after.values() if r["grc_email"] == "nina.new@free.fr"]
    assert [r["grc_synchronizationstatus"] for r in nina] == [NEW]
    # The next run reads the same contacts again (its window overlaps): nothing to write.
    again = synced.run()
    assert again.counts == {}


def test_crm_side_changes_never_reach_getresponse(synced: World) -> None:
    """SPEC 8.1: a CRM email change or deactivation is not sent to GetResponse (the job never
    writes to GetResponse), and the record keeps GetResponse's address."""
    admin = synced.env.dataverse()
    admin.update("contacts", synced.crm[ANNA], {"emailaddress1": "anna@new-company.fr"})
    admin.update("contacts", synced.crm[JEAN], {"statecode": 1, "statuscode": 2})
    report = synced.run(full=True)
    assert report.counts == {}
    gr = synced.env.getresponse().get(f"contacts/{synced.gr_ids[ANNA]}")
    assert gr["email"] == ANNA
    assert synced.record(ANNA)["grc_email"] == ANNA
    assert synced.gr_ids[JEAN] in {
        c["contactId"] for c in synced.env.getresponse().items("contacts")
    }


def test_deleted_contacts_are_marked_once_and_never_synced_again(synced: World) -> None:
    """SPEC 8.3, with the deletion scan on its daily cadence: due on the first run (which
    scanned), not on the next; --full scans too."""
    synced.env.getresponse().delete(f"contacts/{synced.gr_ids[ANNA]}")
    quiet = synced.run()
    assert quiet.counts == {}  # the scan ran on the first run: not due for a day
    report = synced.run(full=True)
    assert report.counts == {
        "contact records marked deleted": 1,
        "custom field values removed": 2,
    }
    anna = synced.record(ANNA)
    assert anna["grc_synchronizationstatus"] == DELETED
    assert "no longer in list 'clients_fr'" in anna["grc_synchronizationerror"]
    assert anna["_grc_contactid_value"] == synced.crm[ANNA]  # stays on the CRM contact
    assert all(v["statecode"] == 1 for v in synced.values(ANNA).values())
    assert synced.run(full=True).counts == {}


def unsubscribe(world: World, env: Env, email: str) -> None:
    """What a click on a newsletter's unsubscribe link does (DELETE with its messageId)."""
    gr = env.getresponse()
    sender = env.gr.seed({"fromFields": [{"email": "a@b.fr", "name": "A"}]})["fromFields"]
    newsletter = gr.post("newsletters", {
        "subject": "Hi", "name": "hi", "campaign": {"campaignId": world.campaigns["clients_fr"]},
        "fromField": {"fromFieldId": sender["a@b.fr"]}, "content": {"html": "<p>hi</p>"},
        "sendSettings": {"selectedCampaigns": [world.campaigns["clients_fr"]]}},
        idempotent=False)  # fmt: skip
    gr.delete(f"contacts/{world.gr_ids[email]}", {"messageId": newsletter["newsletterId"]})


def test_scan_every_run_and_unsubscribe_opts_the_crm_contact_out(world: World, env: Env) -> None:
    world.settings = settings(deletion_scan="0", unsubscribe_sets_donotbulkemail=True)
    world.run()
    world.link(ANNA)
    world.link(JEAN)
    unsubscribe(world, env, ANNA)
    env.getresponse().delete(f"contacts/{world.gr_ids[JEAN]}")
    refused = world.run()  # the Service User role does not grant Write on Contact
    assert refused.exit_code == 1
    assert "lacks prvWriteContact" in refused.failures[0].message
    assert refused.counts == {"contact records marked deleted": 1, "custom field values removed": 1}
    assert world.record(ANNA)["grc_synchronizationstatus"] == SYNCHRONIZED  # left for later
    env.dv.load({"identity_roles": {"service": ["System Administrator"]}})
    report = world.run()
    assert report.exit_code == 0, report.lines()
    assert report.counts == {
        "contact records marked deleted": 1,
        "custom field values removed": 2,
        "CRM contacts set no bulk email": 1,
    }
    assert world.crm_contact(ANNA)["donotbulkemail"] is True
    assert world.crm_contact(JEAN)["donotbulkemail"] is False  # deleted, not unsubscribed
    assert "Unsubscribed in GetResponse" in world.record(ANNA)["grc_synchronizationerror"]
    assert world.run().counts == {}  # never re-subscribed, never marked twice


def test_merged_crm_contacts_take_their_records_along(synced: World, env: Env) -> None:
    """SPEC 8.4: where Dynamics did not move the records itself (a relationship without the
    Merge cascade), the job re-points them to the surviving contact; where it did, nothing
    is left to write."""
    env.dv.store.catalog.one_to_many[
        "grc_contact_getresponsecustomfield"
    ].cascade_merge = "NoCascade"
    admin = synced.env.dataverse()
    lea = synced.crm["lea.roux@wanadoo.fr"]
    admin.action(
        "Merge",
        {
            "Target": {"contactid": lea, "@odata.type": "Microsoft.Dynamics.CRM.contact"},
            "Subordinate": {"contactid": synced.crm[ANNA],
                            "@odata.type": "Microsoft.Dynamics.CRM.contact"},
            "PerformParentingChecks": False,
        },
    )  # fmt: skip
    assert linked_to(env, lea) == [synced.gr_ids[ANNA]]  # moved by Dynamics (cascade)
    report = synced.run()
    assert report.counts == {"custom field values moved to master": 2}
    assert {v["_grc_contactid_value"] for v in synced.values(ANNA).values()} == {lea}
    assert synced.run().counts == {}


def test_link_by_email_links_only_to_the_single_holder(world: World, env: Env) -> None:
    env.dv.bulk_contacts([{"lastname": "Twin", "emailaddress1": "PAUL.nouveau@free.fr"},
                          {"lastname": "Twin 2", "emailaddress1": "paul.nouveau@free.fr"},
                          {"lastname": "Petit", "emailaddress1": "Marc.Petit@sfr.fr"}])  # fmt: skip
    world.settings = settings(link_by_email=True)
    report = world.run()
    assert report.exit_code == 0
    marc = world.record("marc.petit@sfr.fr")
    assert marc["_grc_contactid_value"] is not None
    assert marc["grc_synchronizationstatus"] == SYNCHRONIZED
    assert world.record(PAUL)["_grc_contactid_value"] is None  # two CRM contacts hold it
    assert world.record(ANNA)["_grc_contactid_value"] == world.crm[ANNA]
    assert any("several active CRM contacts" in n for n in report.notes)


def test_a_lost_watermark_is_reported_with_its_cost_and_read_only_when_asked(
    synced: World, tmp_path: Path
) -> None:
    synced.contexts = Contexts(synced.env, tmp_path / "new-state.sqlite3")
    report = synced.run()
    assert report.exit_code == 1
    assert report.counts == {}
    assert [f.record for f in report.failures] == ["list 'clients_fr'", "list 'newsletter'"]
    assert "costs about 1 GetResponse requests (3 contacts)" in report.failures[0].message
    assert "--full" in report.failures[0].action
    full = synced.run(full=True, options={"lists": ("clients_fr",)})
    assert full.exit_code == 0
    assert full.counts == {}  # read again, compared: nothing differs
    assert synced.run(options={"lists": ("clients_fr",)}).exit_code == 0


def test_one_refused_record_does_not_stop_the_run(world: World) -> None:
    world.gr_post(f"contacts/{world.gr_ids[PAUL]}", {"scoring": 5_000_000_000})
    report = world.run()
    assert report.exit_code == 1
    assert report.counts["contact records created"] == 4
    assert [f.record for f in report.failures] == [
        f"GetResponse contact {PAUL} ({world.gr_ids[PAUL]})"
    ]
    paul = world.record(PAUL)
    assert paul["grc_synchronizationstatus"] == ERROR
    assert "grc_scoringpoints" in paul["grc_synchronizationerror"]


def test_a_contact_moved_to_another_synced_list_follows_it(synced: World) -> None:
    synced.gr_post(f"contacts/{synced.gr_ids[PAUL]}",
                   {"campaign": {"campaignId": synced.campaigns["newsletter"]}})  # fmt: skip
    report = synced.run(full=True)
    assert report.counts == {"contact records updated": 1}
    record = synced.record(PAUL)
    assert record["grc_synchronizationstatus"] == NEW
    lists = {r["grc_name"]: r["grc_getresponselistid"] for r in
             synced.env.dataverse().query("grc_getresponselists")}  # fmt: skip
    assert record["_grc_getresponselistid_value"] == lists["newsletter"]


def test_fields_the_settings_stop_sending_are_marked(synced: World) -> None:
    synced.settings = settings(names=("ville",))
    report = synced.run(full=True)
    assert report.counts == {"custom field values removed": 1}
    pays = synced.values(ANNA)["pays"]
    assert "sync.custom_fields" in pays["grc_synchronizationerror"]


def test_dry_run_plans_without_writing(world: World) -> None:
    report = world.run(dry_run=True)
    assert report.plan is not None
    assert report.plan["counts"] == {"create record": 5, "write custom field value": 3}
    assert world.records() == {}
    assert "create record:" in report.lines()
    assert world.contexts().state.runs() == []


def test_a_list_the_lists_job_adopts_is_read_whole_by_the_next_contacts_run(
    world: World, env: Env
) -> None:
    """SPEC 5.3: an existing GetResponse list linked to a marketing list (Set as New): the
    lists job adopts it and links the members it knows; within the hour every other contact of
    the list appears as an unlinked record — no "missing watermark" refusal, no --full."""
    from reconcile.jobs.sync import jobs, run_job
    from tests.jobs.sync import lists_env as le

    jean = [world.crm[JEAN]]
    marketing = le.static_list(env, "Others", jean)
    le.list_record(env, "other", marketing)
    env.gr.seed({"contacts": [
        {"email": JEAN, "campaign": "other"},
        {"email": "solo@free.fr", "campaign": "other", "origin": "www", "scoring": 7},
    ]})  # fmt: skip
    lists = run_job(jobs()["lists"], world.contexts(settings=world.settings))
    assert lists.counts.get("lists adopted") == 1, lists.lines()
    report = world.run(options={"lists": ("other",)})
    assert report.exit_code == 0, report.lines()
    assert any("just linked to the CRM: read whole once" in n for n in report.notes)
    records = [r for r in world.records().values() if r["grc_email"] == "solo@free.fr"]
    assert [
        (r["grc_origin"], r["grc_scoringpoints"], r["_grc_contactid_value"]) for r in records
    ] == [("www", 7, None)]
    assert world.run(options={"lists": ("other",)}).counts == {}


def test_an_unsubscribe_reported_by_callbacks_is_checked_at_once_not_at_the_next_scan(
    synced: World, env: Env
) -> None:
    """SPEC 8.3 / issue: deletions are found by the daily scan, "and immediately when
    callbacks report them" — ``reconcile listen`` puts them in the contacts job's inbox."""
    unsubscribe(synced, env, ANNA)
    assert synced.run().counts == {}  # the daily scan is not due: nobody knows yet
    environment = environment_key(env.dv_url, env.gr_info["url"])
    inbox = contact_inbox(environment)

    def event(key: str, email: str, campaign: str) -> tuple[str, dict[str, Any]]:
        return key, {"kind": "unsubscribe", "contact_id": synced.gr_ids[email], "email": email,
                     "campaign_id": campaign, "at": "2026-12-07T10:00:00+00:00"}  # fmt: skip

    clients = synced.campaigns["clients_fr"]
    with StateStore(synced.contexts.state_path) as store:
        store.add_pending(inbox, [event("anna", ANNA, clients), event("jean", JEAN, clients),
                                  event("elsewhere", JEAN, "zzOther")])  # fmt: skip
    dry = synced.run(dry_run=True)
    assert dry.plan is not None
    assert dry.plan["counts"] == {"mark deleted": 1, "remove custom field value": 2}
    with StateStore(synced.contexts.state_path) as store:
        assert len(contact_events(store, environment)) == 3  # a dry run handles nothing
    report = synced.run()
    assert report.counts == {"contact records marked deleted": 1, "custom field values removed": 2}
    anna = synced.record(ANNA)
    assert anna["grc_synchronizationstatus"] == DELETED
    assert "reported by GetResponse" in anna["grc_synchronizationerror"]
    assert synced.record(JEAN)["grc_synchronizationstatus"] == SYNCHRONIZED  # still there
    with StateStore(synced.contexts.state_path) as store:
        assert contact_events(store, environment) == {}
    assert synced.run().counts == {}
