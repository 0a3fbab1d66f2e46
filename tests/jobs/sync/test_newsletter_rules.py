"""The newsletters job's pure rules: send times across daylight-saving changes in three
zones (Dataverse stores UTC), recipients and consent, the copy's mark, later edits."""

from __future__ import annotations

import datetime as dt

import pytest

from reconcile.jobs.sync import newsletter_rules as rules

UTC = dt.UTC


@pytest.mark.parametrize(
    ("zone", "before", "after", "shown_before", "shown_after"),
    [
        # Europe/Paris: CET -> CEST on Sunday 29 March 2026 at 01:00 UTC
        ("Europe/Paris", "2026-03-28T08:00:00Z", "2026-03-29T08:00:00Z",
         "Sat 28 Mar 2026 09:00 CET (UTC+01:00)", "Sun 29 Mar 2026 10:00 CEST (UTC+02:00)"),
        # America/New_York: EST -> EDT on Sunday 8 March 2026 at 07:00 UTC
        ("America/New_York", "2026-03-07T14:00:00Z", "2026-03-08T14:00:00Z",
         "Sat 07 Mar 2026 09:00 EST (UTC-05:00)", "Sun 08 Mar 2026 10:00 EDT (UTC-04:00)"),
        # Australia/Sydney: AEDT -> AEST on Sunday 5 April 2026 at 16:00 UTC (the day before)
        ("Australia/Sydney", "2026-04-03T22:00:00Z", "2026-04-04T22:00:00Z",
         "Sat 04 Apr 2026 09:00 AEDT (UTC+11:00)", "Sun 05 Apr 2026 08:00 AEST (UTC+10:00)"),
    ],
)  # fmt: skip
def test_the_same_utc_hour_reads_right_on_each_side_of_a_dst_change(
    zone: str, before: str, after: str, shown_before: str, shown_after: str
) -> None:
    for stored, shown in ((before, shown_before), (after, shown_after)):
        moment = rules.parse_utc(stored)
        assert moment is not None
        text = rules.send_time_text(moment, zone, "Europe/Warsaw")
        assert text.startswith(f"{shown} in {zone} (CRM users)")
        assert f"{stored[:10]} {stored[11:16]} UTC" in text
        assert "in Europe/Warsaw (GetResponse account)" in text


def test_user_zone_defaults_to_the_account_zone_and_unknown_zones_to_utc() -> None:
    moment = dt.datetime(2026, 7, 14, 7, tzinfo=UTC)
    assert rules.send_time_text(moment, None, "Europe/Warsaw").startswith(
        "Tue 14 Jul 2026 09:00 CEST (UTC+02:00) in Europe/Warsaw (CRM users)"
    )
    assert rules.zone("Not/AZone").key == "UTC"


def test_recipients_once_each_who_allow_bulk_email_now() -> None:
    members = [
        {"contactid": "A", "emailaddress1": "a@x.fr", "statecode": 0},
        {"contactid": "B", "emailaddress1": "b@x.fr", "donotbulkemail": True},
        {"contactid": "C", "emailaddress1": "c@x.fr", "donotemail": True},
        {"contactid": "D", "emailaddress1": "d@x.fr", "statecode": 1},
        {"contactid": "E", "emailaddress1": "e@x.fr"},  # no GetResponse contact
        {"contactid": "F", "emailaddress1": "a@x.fr"},  # the same mailbox as A
    ]
    gr = {
        "a": [
            {"grc_getresponseid": "old", "_grc_getresponselistid_value": "other", "createdon": "1"},
            {"grc_getresponseid": "onList", "_grc_getresponselistid_value": "linked",
             "createdon": "2"},
        ],
        "b": [{"grc_getresponseid": "b1"}],
        "c": [{"grc_getresponseid": "c1"}],
        "d": [{"grc_getresponseid": "d1"}],
        "f": [{"grc_getresponseid": "f1", "grc_email": "A@x.fr"}],
    }  # fmt: skip
    chosen = rules.recipients(members, gr, "linked")
    assert chosen.contact_ids == ["onList"]  # the one on the linked list, case kept
    assert chosen.on_linked_list == 1
    assert chosen.left_out == {"no_bulk_email": 2, "inactive": 1, "no_getresponse_contact": 1,
                               "same_email": 1}  # fmt: skip
    assert chosen.reasons() == (
        "1 are inactive contacts; 2 do not allow bulk email now; 1 have no GetResponse "
        "contact; 1 share an email address with another recipient (sent once)"
    )


def test_the_copy_carries_the_record_it_was_sent_for() -> None:
    record = "0F8FAD5B-D9CB-469F-A165-70867728950E"
    name = rules.copy_name("A" * 200, record)
    assert len(name) <= 128
    assert rules.record_of(name) == record.lower()
    assert rules.record_of("MS CRM Welcome") is None
    assert rules.record_of("Sale [crm:") is None


def test_dashboards_show_the_copy_under_the_crm_newsletter_s_name() -> None:
    record = "0F8FAD5B-D9CB-469F-A165-70867728950E"
    assert rules.shown_name(rules.copy_name("June sale", record)) == "June sale"
    assert rules.shown_name("June sale [crm:") == "June sale [crm:"  # not a marker
    assert rules.shown_name("Made in GetResponse") == "Made in GetResponse"


def test_edits_compare_the_locked_fields_only() -> None:
    record = {
        "grc_name": "June",
        "_grc_templateid_value": "T1",
        "grc_scheduledon": "2026-06-01T08:00:00Z",
        "grc_synchronizationerror": "x",
    }
    scheduled = rules.load(rules.dump(rules.snapshot(record, by="me")))
    assert scheduled is not None
    assert rules.edits(scheduled, {**record, "grc_synchronizationerror": "y"}) == []
    moved = {**record, "grc_scheduledon": "2026-06-01T09:00:00Z", "_grc_templateid_value": "t1"}
    assert rules.edits(scheduled, moved) == ["send time"]
    assert rules.load("not json") is None
