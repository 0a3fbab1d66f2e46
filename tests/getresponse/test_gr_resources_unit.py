"""Request shapes and the deliberate retry/409 decisions of the resource functions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from gr_fakes import Script, error, make_client

from reconcile.errors import ConfigError
from reconcile.getresponse import (
    AlreadyExists,
    CreateOutcome,
    NewContact,
    create_campaign,
    create_contact,
    create_import,
    delete_contact,
    delete_tag,
    iter_contact_activities,
    send_draft,
    submit_batch,
    update_contact,
    wait_for_contacts,
    wait_for_import,
)

CAMPAIGN = {
    "campaignId": "C1",
    "name": "promo",
    "isDefault": "false",
    "createdOn": "2024-01-02T03:04:05+0000",
}


def body(request: httpx.Request) -> dict:
    return json.loads(request.content)


def test_create_contact_is_queued_on_202_with_the_documented_body() -> None:
    script = Script(httpx.Response(202))
    client, _ = make_client(script)
    contact = NewContact(
        "Anna@Example.com",
        name="Anna",
        custom_fields={"f1": "gold", "f2": ["a", "b"]},
        tag_ids=["t1"],
    )
    outcome = create_contact(client, "C1", contact)
    assert outcome.outcome is CreateOutcome.QUEUED
    assert not outcome.after_retry
    assert body(script.requests[0]) == {
        "email": "Anna@Example.com",
        "name": "Anna",
        "campaign": {"campaignId": "C1"},
        "customFieldValues": [
            {"customFieldId": "f1", "value": ["gold"]},
            {"customFieldId": "f2", "value": ["a", "b"]},
        ],
        "tags": [{"tagId": "t1"}],
    }


def test_409_on_first_attempt_means_it_was_there_before() -> None:
    client, _ = make_client(Script(error(409, 1008, "Contact already added")))
    outcome = create_contact(client, "C1", NewContact("a@x.test"))
    assert outcome.outcome is CreateOutcome.ALREADY_EXISTS
    assert not outcome.after_retry


def test_409_after_a_dropped_create_is_our_own_first_attempt() -> None:
    script = Script(httpx.RemoteProtocolError("peer closed"), error(409, 1008))
    client, _ = make_client(script)
    outcome = create_contact(client, "C1", NewContact("a@x.test"))
    assert outcome.outcome is CreateOutcome.ALREADY_EXISTS
    assert outcome.after_retry
    assert len(script.requests) == 2


def test_batch_uses_its_own_tag_shape_and_refuses_oversize_or_duplicates() -> None:
    script = Script(httpx.Response(202))
    client, _ = make_client(script)
    submit_batch(client, "C1", [NewContact("a@x.test", tag_ids=["t1"]), NewContact("b@x.test")])
    assert body(script.requests[0]) == {
        "campaignId": "C1",
        "contacts": [{"email": "a@x.test", "tags": {"ids": ["t1"]}}, {"email": "b@x.test"}],
    }
    with pytest.raises(ValueError, match="at most 1000"):
        submit_batch(client, "C1", [NewContact(f"{i}@x.test") for i in range(1001)])
    with pytest.raises(ValueError, match=r"twice: a@x\.test"):
        submit_batch(client, "C1", [NewContact("a@x.test"), NewContact("A@x.test")])


def test_update_sends_only_what_is_given_and_is_repeated_safely() -> None:
    details = {"contactId": "k1", "email": "a@x.test", "tags": [], "customFieldValues": []}
    script = Script(httpx.Response(502), httpx.Response(200, json=details))
    client, _ = make_client(script)
    contact = update_contact(client, "k1", name=None, tag_ids=[])
    assert contact.contact_id == "k1"
    assert body(script.requests[1]) == {"name": None, "tags": []}
    with pytest.raises(ValueError, match="at least one field"):
        update_contact(client, "k1")


def test_delete_reports_already_gone_but_counts_a_404_after_retry_as_deleted() -> None:
    client, _ = make_client(Script(httpx.Response(204)))
    assert delete_contact(client, "k1") is True
    client, _ = make_client(Script(error(404, 1013, contactId="k1")))
    assert delete_contact(client, "k1") is False
    client, _ = make_client(Script(httpx.ReadTimeout("slow"), error(404, 1013)))
    assert delete_contact(client, "k1") is True


def test_every_delete_counts_a_404_after_its_own_retry_as_deleted() -> None:
    # The first DELETE landed but its answer was lost; the repeat finds the tag gone.
    client, _ = make_client(Script(httpx.ReadTimeout("slow"), error(404, 1013, tagId="t1")))
    assert delete_tag(client, "t1") is True
    client, _ = make_client(Script(httpx.Response(204)))
    assert delete_tag(client, "t1") is True
    client, _ = make_client(Script(error(404, 1013, tagId="t1")))
    assert delete_tag(client, "t1") is False


def test_campaign_create_409_is_a_conflict_unless_it_follows_our_own_retry() -> None:
    client, _ = make_client(Script(error(409, 1008, "Name already taken", value="promo")))
    with pytest.raises(AlreadyExists, match="Name already taken"):
        create_campaign(client, "promo")

    lookup = httpx.Response(200, json=[CAMPAIGN], headers={"TotalPages": "1", "CurrentPage": "1"})
    script = Script(httpx.Response(503), error(409, 1008), lookup)
    client, _ = make_client(script)
    assert create_campaign(client, "promo").campaign_id == "C1"
    assert script.requests[2].url.params["query[name]"] == "promo"


def test_activities_window_and_kind_filter() -> None:
    items = [
        {"activity": "send", "createdOn": "2024-01-01T00:00:00+0000", "subject": "Hi"},
        {
            "activity": "click",
            "createdOn": "2024-01-02T00:00:00+0000",
            "resource": {"resourceId": "N1", "resourceType": "newsletters"},
            "clickTrack": {"id": "x", "name": "shop", "url": "https://shop.test/"},
        },
    ]
    script = Script(httpx.Response(200, json=items))
    client, _ = make_client(script)
    since = datetime(2023, 12, 1, tzinfo=UTC)
    found = list(iter_contact_activities(client, "k1", since=since, kinds=["click"]))
    assert [(a.activity, a.resource_id, a.url) for a in found] == [
        ("click", "N1", "https://shop.test/")
    ]
    assert script.requests[0].url.params["query[createdOn][from]"] == "2023-12-01T00:00:00+0000"
    with pytest.raises(ValueError, match="unknown activity"):
        list(iter_contact_activities(client, "k1", kinds=["bounce"]))


ZONES = [
    {"timezoneId": 282, "name": "Europe/Warsaw", "offset": "+01:00", "country": "Poland"},
    {"timezoneId": 1, "name": "UTC", "offset": "+00:00", "country": ""},
]


def test_send_draft_schedules_in_the_datetimes_own_zone() -> None:
    sent = {"newsletterId": "N2", "type": "broadcast", "sendMetrics": {"status": "scheduled"}}
    script = Script(httpx.Response(200, json=ZONES), httpx.Response(201, json=sent))
    client, _ = make_client(script)
    when = datetime(2024, 7, 14, 9, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
    result = send_draft(client, "N1", campaign_ids=["C1"], contact_ids=["k1"], send_on=when)
    assert result.newsletter_id == "N2"
    assert result.send_status == "scheduled"
    assert body(script.requests[1]) == {
        "messageId": "N1",
        "sendSettings": {
            "selectedCampaigns": ["C1"],
            "selectedSegments": [],
            "selectedContacts": ["k1"],
            "excludedCampaigns": [],
            "timeTravel": "false",
            "perfectTiming": "false",
            "sendOn": {"date": "2024-07-14T09:00:00", "timeZone": {"timeZoneId": 282}},
        },
    }


def test_send_draft_in_utc_and_unknown_zones() -> None:
    sent = {"newsletterId": "N2"}
    script = Script(httpx.Response(200, json=ZONES), httpx.Response(201, json=sent))
    client, _ = make_client(script)
    send_draft(client, "N1", campaign_ids=["C1"], send_on=datetime(2024, 7, 14, 7, tzinfo=UTC))
    assert body(script.requests[1])["sendSettings"]["sendOn"] == {
        "date": "2024-07-14T07:00:00",
        "timeZone": {"timeZoneId": 1},
    }
    with pytest.raises(ConfigError, match="Asia/Tokyo"):
        send_draft(
            client,
            "N1",
            campaign_ids=["C1"],
            send_on=datetime(2024, 7, 14, 7, tzinfo=UTC),
            time_zone="Asia/Tokyo",
        )
    with pytest.raises(ValueError, match="recipients"):
        send_draft(client, "N1")


def _contacts(*emails: str) -> httpx.Response:
    items = [{"contactId": f"id-{e}", "email": e, "campaign": {"campaignId": "C1"}} for e in emails]
    return httpx.Response(200, json=items, headers={"TotalPages": "1", "CurrentPage": "1"})


def test_wait_for_contacts_polls_until_they_appear_without_sleeping_for_real() -> None:
    script = Script(
        _contacts("b@x.test"),  # round 1: b@ is there ...
        _contacts(),  # ... a@ not yet
        _contacts("a@x.test"),  # round 2: only a@ is still looked up
    )
    client, clock = make_client(script)
    result = wait_for_contacts(client, "C1", ["b@x.test", "a@x.test"], poll_interval=5)
    assert result.complete
    assert set(result.found) == {"a@x.test", "b@x.test"}
    assert result.polls == 2
    assert clock.slept == [5]
    first = script.requests[0].url.params
    assert first["additionalFlags"] == "exactMatch"
    assert first["query[campaignId]"] == "C1"


def test_wait_for_contacts_gives_up_at_the_deadline_and_explains() -> None:
    removed = httpx.Response(
        200, json=[{"contactId": "x", "email": "gone@x.test", "reason": "blacklisted"}]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/search-contacts/contacts"):
            kind = json.loads(request.content)["subscribersType"][0]
            return removed if kind == "removed" else httpx.Response(200, json=[])
        return _contacts()

    client, clock = make_client(handler)
    start = clock.now
    result = wait_for_contacts(
        client, "C1", ["gone@x.test"], timeout=60, poll_interval=5, explain=True
    )
    assert result.missing == ["gone@x.test"]
    assert not result.complete
    assert result.reasons == {"gone@x.test": "removed: blacklisted"}
    assert clock.now - start == pytest.approx(60)
    assert clock.slept == [5, 10, 20, 25]


def test_wait_for_many_contacts_scans_new_contacts_once_per_poll() -> None:
    emails = [f"p{i}@x.test" for i in range(50)]
    script = Script(_contacts(*emails))
    client, _ = make_client(script)
    since = datetime(2024, 1, 1, tzinfo=UTC)
    result = wait_for_contacts(client, "C1", emails, since=since)
    assert result.complete
    assert len(script.requests) == 1
    assert script.requests[0].url.params["query[createdOn][from]"] == "2024-01-01T00:00:00+0000"


def test_import_checks_rows_and_waits_for_complete_statistics() -> None:
    created = {"importId": "I1", "status": "uploaded", "campaign": {"campaignId": "C1"}}
    early = {"importId": "I1", "status": "finished", "statistics": {"uploaded": 2}}
    final = {
        "importId": "I1",
        "status": "finished",
        "statistics": {"uploaded": 2, "invalid": 1, "updated": 0, "addedToList": 1},
        "errorStatistics": {"syntaxErrors": 1},
    }
    script = Script(
        httpx.Response(201, json=created),
        httpx.Response(200, json=early),
        httpx.Response(200, json=final),
    )
    client, _ = make_client(script)
    job = create_import(client, "C1", ["email", "name"], [["a@x.test", "A"], ["bad", "B"]])
    assert job.import_id == "I1"
    assert job.is_active
    done = wait_for_import(client, "I1", expected_rows=2)
    assert done.statistics["addedToList"] == 1
    assert done.error_statistics["syntaxErrors"] == 1
    with pytest.raises(ValueError, match="row 1 has 1 values"):
        create_import(client, "C1", ["email", "name"], [["a@x.test"]])
    with pytest.raises(ValueError, match="'email'"):
        create_import(client, "C1", ["name"], [["A"]])


def test_a_second_import_on_a_busy_list_says_what_to_do() -> None:
    client, _ = make_client(Script(error(409, 1008, "Import already in progress")))
    with pytest.raises(AlreadyExists) as caught:
        create_import(client, "C1", ["email"], [["a@x.test"]])
    assert "wait_for_import" in str(caught.value)
