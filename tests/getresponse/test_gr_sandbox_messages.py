"""Newsletters, drafts, activities, statistics and imports through the client, against the
sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from gr_fakes import FakeClock
from gr_live import SandboxHandle

from reconcile.getresponse import (
    ForbiddenState,
    GetResponseClient,
    cancel_newsletter,
    create_import,
    get_newsletter,
    get_newsletter_statistics,
    iter_contact_activities,
    iter_contacts,
    iter_drafts,
    iter_imports,
    iter_newsletter_activities,
    iter_newsletters,
    iter_sent_newsletters,
    list_time_zones,
    parse_datetime,
    send_draft,
    wait_for_import,
)

LIST = "clients_fr"


def test_activities_in_a_date_window(gr: SandboxHandle, client: GetResponseClient) -> None:
    ids = gr.seed(
        {
            "campaigns": [{"name": LIST}],
            "contacts": [{"email": "anna@example.fr", "campaign": LIST}],
            "newsletters": [
                {
                    "name": "June news",
                    "type": "broadcast",
                    "campaign": LIST,
                    "subject": "June",
                    "sendOn": "2024-06-01T08:00:00+0000",
                    "clickTracks": [{"name": "Shop", "url": "https://shop.example/"}],
                }
            ],
            "activities": [
                {
                    "email": "anna@example.fr",
                    "campaign": LIST,
                    "newsletter": "June news",
                    "activity": activity,
                    "createdOn": when,
                    **({"clickTrack": "Shop"} if activity == "click" else {}),
                }
                for activity, when in [
                    ("send", "2024-06-01T08:00:00+0000"),
                    ("open", "2024-06-01T09:00:00+0000"),
                    ("click", "2024-06-01T09:12:00+0000"),
                    ("open", "2024-07-15T09:00:00+0000"),
                ]
            ],
        }
    )
    contact_id = ids["contacts"]["anna@example.fr"]
    june = (datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 6, 30, tzinfo=UTC))
    found = list(iter_contact_activities(client, contact_id, since=june[0], until=june[1]))
    assert sorted(a.activity for a in found) == ["click", "open", "send"]
    clicks = [a for a in found if a.activity == "click"]
    assert clicks[0].url == "https://shop.example/"
    assert clicks[0].created_on == parse_datetime("2024-06-01T09:12:00+0000")
    only_clicks = iter_contact_activities(
        client, contact_id, since=june[0] - timedelta(days=1), until=june[1], kinds=["click"]
    )
    assert [a.activity for a in only_clicks] == ["click"]


def seed_messages(gr: SandboxHandle, recipients: int = 5) -> dict:
    future = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    return gr.seed(
        {
            "campaigns": [{"name": LIST}],
            "contacts": [
                {"email": f"r{i}@example.fr", "campaign": LIST, "engagementScore": 5}
                for i in range(recipients)
            ],
            "newsletters": [
                {"name": "MS CRM Welcome", "type": "draft", "campaign": LIST, "subject": "Hi"},
                {"name": "MS CRM Promo", "type": "draft", "campaign": LIST, "subject": "Sale"},
                {"name": "Private draft", "type": "draft", "campaign": LIST, "subject": "x"},
                {
                    "name": "June news",
                    "type": "broadcast",
                    "campaign": LIST,
                    "subject": "June",
                    "sendOn": "2024-06-01T08:00:00+0000",
                },
                {
                    "name": "Next week",
                    "type": "broadcast",
                    "campaign": LIST,
                    "subject": "Soon",
                    "sendOn": future,
                },
            ],
        }
    )


def test_drafts_by_prefix_and_sent_newsletters(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    seed_messages(gr)
    drafts = list(iter_drafts(client, name_prefix="MS CRM"))
    assert sorted(d.name for d in drafts) == ["MS CRM Promo", "MS CRM Welcome"]
    assert all(d.is_draft for d in drafts)
    assert [n.name for n in iter_sent_newsletters(client)] == ["June news"]
    broadcasts = {n.name: n for n in iter_newsletters(client, type="broadcast")}
    assert set(broadcasts) == {"June news", "Next week"}
    assert broadcasts["Next week"].send_status == "scheduled"
    assert broadcasts["June news"].send_on == parse_datetime("2024-06-01T08:00:00+0000")


def test_send_a_draft_at_a_scheduled_time_then_read_its_results(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    ids = seed_messages(gr, recipients=4)
    campaign_id = ids["campaigns"][LIST]
    draft_id = ids["newsletters"]["MS CRM Welcome"]
    when = (datetime.now(UTC) + timedelta(hours=2)).astimezone(ZoneInfo("Europe/Paris"))
    when = when.replace(microsecond=0)
    sent = send_draft(client, draft_id, campaign_ids=[campaign_id], send_on=when)
    assert sent.newsletter_id == draft_id  # the draft became the broadcast (sandbox default)
    assert sent.send_status == "scheduled"
    assert sent.send_on == when
    assert not get_newsletter(client, draft_id).is_draft

    gr.advance(3 * 3600)  # past the send time
    assert get_newsletter(client, sent.newsletter_id).send_status == "finished"
    sends = list(iter_newsletter_activities(client, sent.newsletter_id, kind="send"))
    assert sorted(a.email for a in sends) == [f"r{i}@example.fr" for i in range(4)]
    assert all(a.contact_id and a.created_on for a in sends)
    (total,) = get_newsletter_statistics(client, sent.newsletter_id)
    assert total.sent == 4


def test_send_a_draft_now_to_chosen_contacts(gr: SandboxHandle, client: GetResponseClient) -> None:
    ids = seed_messages(gr, recipients=3)
    picked = [c.contact_id for c in iter_contacts(client)][:2]
    sent = send_draft(client, ids["newsletters"]["MS CRM Promo"], contact_ids=picked)
    gr.advance(60)
    sends = list(iter_newsletter_activities(client, sent.newsletter_id, kind="send"))
    assert sorted(a.contact_id for a in sends) == sorted(picked)


def test_sending_something_that_is_not_a_draft_is_refused(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    ids = seed_messages(gr)
    with pytest.raises(ForbiddenState) as caught:
        send_draft(client, ids["newsletters"]["June news"], campaign_ids=[ids["campaigns"][LIST]])
    assert caught.value.code == 1002


def test_cancel_a_scheduled_newsletter(gr: SandboxHandle, client: GetResponseClient) -> None:
    ids = seed_messages(gr)
    cancelled = cancel_newsletter(client, ids["newsletters"]["Next week"])
    assert cancelled.is_draft


def test_time_zones_are_listed_with_ids(gr: SandboxHandle, client: GetResponseClient) -> None:
    zones = {z.name: z for z in list_time_zones(client)}
    assert {"Europe/Paris", "UTC"} <= set(zones)
    assert all(isinstance(z.time_zone_id, int) for z in zones.values())


def test_an_import_is_tracked_to_its_statistics(
    gr: SandboxHandle, client: GetResponseClient, clock: FakeClock
) -> None:
    campaign_id = gr.seed({"campaigns": [{"name": LIST}]})["campaigns"][LIST]
    rows = [["anna@example.fr", "Anna"], ["jan@example.fr", "Jan"], ["not-an-email", "Bad"]]
    job = create_import(client, campaign_id, ["email", "name"], rows)
    assert job.import_id
    assert job.campaign_id == campaign_id
    done = wait_for_import(client, job.import_id, expected_rows=3, poll_interval=5)
    assert done.status == "finished"
    assert done.statistics["addedToList"] == 2
    assert done.statistics["invalid"] == 1
    assert [j.import_id for j in iter_imports(client, campaign_id=campaign_id)] == [job.import_id]
    assert sorted(c.email for c in iter_contacts(client, campaign_id=campaign_id)) == [
        "anna@example.fr",
        "jan@example.fr",
    ]


def test_a_cancel_whose_answer_is_lost_is_repeated_and_reports_the_draft(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    ids = seed_messages(gr)
    target = ids["newsletters"]["Next week"]
    gr.fault(kind="drop", after=True, count=1, path=f"/v3/newsletters/{target}/cancel")
    cancelled = cancel_newsletter(client, target)  # the repeat finds it a draft already
    assert cancelled.is_draft
    assert cancelled.newsletter_id == target
    assert client.stats.retries == 1
    with pytest.raises(ForbiddenState):  # without a retry of ours, a draft is refused as before
        cancel_newsletter(client, target)
