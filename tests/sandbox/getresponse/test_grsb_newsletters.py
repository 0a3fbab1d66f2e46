"""Newsletters: drafts as templates, send-draft at a scheduled time, activities, statistics."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from grsb_help import advance, error_of

HOUR = 3600


@pytest.fixture
def ids(sandbox: Any) -> dict[str, Any]:
    old = "2024-01-01T00:00:00+0000"
    return sandbox.seed(
        {
            "campaigns": [{"name": "clients_fr"}, {"name": "vip_fr"}],
            "fromFields": [{"email": "news@shop.example", "name": "Shop"}],
            "contacts": [
                {
                    "email": "anna@x.fr",
                    "campaign": "clients_fr",
                    "engagementScore": 5,
                    "createdOn": old,
                },
                {"email": "bob@x.fr", "campaign": "clients_fr", "createdOn": old},
                {"email": "bob@x.fr", "campaign": "vip_fr", "createdOn": old},
                {"email": "carl@x.fr", "campaign": "vip_fr", "createdOn": old},
            ],
            "newsletters": [
                {
                    "name": "MS CRM Welcome",
                    "type": "draft",
                    "campaign": "clients_fr",
                    "subject": "Welcome!",
                    "html": '<p><a href="https://shop.example/">Shop</a></p>',
                },
                {
                    "name": "Summer draft",
                    "type": "draft",
                    "campaign": "clients_fr",
                    "subject": "Summer",
                },
            ],
        }
    )


def test_drafts_are_listed_with_type_draft(api: httpx.Client, ids: dict[str, Any]) -> None:
    drafts = api.get("/newsletters", params={"query[type]": "draft", "query[name]": "MS CRM"})
    assert [d["name"] for d in drafts.json()] == ["MS CRM Welcome"]
    draft = drafts.json()[0]
    assert draft["type"] == "draft"
    assert draft["href"].endswith(f"/newsletters/{draft['newsletterId']}")
    assert draft["sendSettings"] == {"timeTravel": "false", "perfectTiming": "false"}
    assert isinstance(draft["flags"], str)
    details = api.get(f"/newsletters/{draft['newsletterId']}").json()
    assert details["content"]["html"].startswith("<p><a href=")
    assert details["clickTracks"][0]["url"] == "https://shop.example/"
    assert details["fromField"]["fromFieldId"] == ids["fromFields"]["news@shop.example"]


@pytest.mark.parametrize("keep", [False, True], ids=["draft-becomes-broadcast", "draft-kept"])
def test_send_draft_schedules_to_exactly_the_selection(
    api: httpx.Client, control: httpx.Client, ids: dict[str, Any], keep: bool
) -> None:
    """By default the draft itself becomes the scheduled broadcast (same id); with
    ``keep_drafts`` a new newsletter is made and the draft stays (docs/getresponse-api.md)."""
    control.post("/__sandbox__/config", json={"sending": {"keep_drafts": keep}})
    draft = ids["newsletters"]["MS CRM Welcome"]
    clock = control.get("/__sandbox__/clock").json()
    send_on = {"date": _local(clock["epoch"] + 2 * HOUR), "timeZone": {"timeZoneId": 39}}
    response = api.post(
        "/newsletters/send-draft",
        json={
            "messageId": draft,
            "sendSettings": {
                "selectedCampaigns": [ids["campaigns"]["vip_fr"]],
                "selectedContacts": [ids["contacts"]["anna@x.fr"]],
                "sendOn": send_on,
            },
        },
    )
    assert response.status_code == 201
    sent = response.json()
    assert (sent["newsletterId"] != draft) is keep
    assert sent["type"] == "broadcast"
    assert sent["name"] == "MS CRM Welcome"
    assert sent["sendMetrics"]["status"] == "scheduled"
    assert api.get(f"/newsletters/{draft}").json()["type"] == ("draft" if keep else "broadcast")
    advance(control, 2 * HOUR - 60)
    assert api.get(f"/newsletters/{sent['newsletterId']}").json()["sendMetrics"]["status"] == (
        "scheduled"
    )
    advance(control, 60)
    finished = api.get(f"/newsletters/{sent['newsletterId']}").json()
    assert finished["sendMetrics"]["status"] == "finished"
    assert finished["sendMetrics"]["total"] == "3"
    sends = api.get(
        f"/newsletters/{sent['newsletterId']}/activities", params={"query[activity]": "send"}
    ).json()
    # bob@x.fr is on vip_fr once; anna@x.fr is selected by id; clients_fr is not selected.
    assert sorted(a["contact"]["email"] for a in sends) == ["anna@x.fr", "bob@x.fr", "carl@x.fr"]
    assert sends[0]["contact"]["href"].endswith(f"/contacts/{sends[0]['contact']['contactId']}")
    listed = api.get("/newsletters", params={"query[type]": "broadcast"}).json()
    assert [n["newsletterId"] for n in listed] == [sent["newsletterId"]]
    limits = api.get("/accounts/sending-limits").json()
    assert limits == [{"timeFrame": 30 * 86400, "limit": 1_000_000, "used": 3}]


def test_send_draft_errors_of_the_real_api(
    api: httpx.Client, control: httpx.Client, ids: dict[str, Any]
) -> None:
    """A non-draft is 1002 (ERR); a deleted draft 400 / 1001; no list, segment or contact
    selected 400 / 1000 (OA lists only 400 for sendDraft)."""
    draft = ids["newsletters"]["Summer draft"]
    settings = {"selectedCampaigns": [ids["campaigns"]["clients_fr"]]}
    empty = {"messageId": draft, "sendSettings": {"selectedCampaigns": [], "timeTravel": "false"}}
    response = api.post("/newsletters/send-draft", json=empty)
    assert error_of(response) == (400, 1000)
    assert response.json()["context"]["fieldName"] == "sendSettings"
    sent = api.post("/newsletters/send-draft", json={"messageId": draft, "sendSettings": settings})
    again = {"messageId": sent.json()["newsletterId"], "sendSettings": settings}
    assert error_of(api.post("/newsletters/send-draft", json=again)) == (400, 1002)
    welcome = ids["newsletters"]["MS CRM Welcome"]
    control.post("/__sandbox__/delete", json={"newsletters": [welcome]})
    gone = api.post(
        "/newsletters/send-draft", json={"messageId": welcome, "sendSettings": settings}
    )
    assert error_of(gone) == (400, 1001)
    assert gone.json()["context"] == {"messageId": welcome}


def test_create_is_limited_per_utc_day(
    api: httpx.Client, control: httpx.Client, ids: dict[str, Any]
) -> None:
    control.post("/__sandbox__/config", json={"sending": {"newsletters_per_day": 2}})
    body = {
        "name": "Copy",
        "type": "draft",
        "subject": "Copy",
        "content": {"plain": "Hello"},
        "campaign": {"campaignId": ids["campaigns"]["clients_fr"]},
        "fromField": {"fromFieldId": ids["fromFields"]["news@shop.example"]},
        "sendSettings": {},
    }
    assert [api.post("/newsletters", json=body).status_code for _ in range(2)] == [201, 201]
    refused = api.post("/newsletters", json=body)
    assert error_of(refused) == (429, 1015)
    reset = int(refused.json()["context"]["timeToReset"].split()[0])
    assert 0 < reset <= 86400
    advance(control, reset)
    assert api.post("/newsletters", json=body).status_code == 201


def test_a_draft_renamed_in_the_web_app(
    api: httpx.Client, control: httpx.Client, ids: dict[str, Any]
) -> None:
    draft = ids["newsletters"]["MS CRM Welcome"]
    renamed = control.post("/__sandbox__/rename", json={"newsletters": {draft: "Welcome (old)"}})
    assert renamed.status_code == 200
    assert api.get(f"/newsletters/{draft}").json()["name"] == "Welcome (old)"
    assert (
        control.post("/__sandbox__/rename", json={"newsletters": {"nope": "x"}}).status_code == 404
    )


def test_cancel_turns_a_scheduled_newsletter_back_into_a_draft(
    api: httpx.Client, control: httpx.Client, ids: dict[str, Any]
) -> None:
    later = control.get("/__sandbox__/clock").json()["epoch"] + 5 * HOUR
    created = api.post(
        "/newsletters",
        json={
            "name": "Promo",
            "subject": "Promo!",
            "content": {"plain": "Hello"},
            "campaign": {"campaignId": ids["campaigns"]["clients_fr"]},
            "fromField": {"fromFieldId": ids["fromFields"]["news@shop.example"]},
            "sendSettings": {
                "selectedCampaigns": [ids["campaigns"]["clients_fr"]],
                "sendOn": {"date": _local(later), "timeZone": {"timeZoneId": 39}},
            },
        },
    )
    assert created.status_code == 201, created.text
    cid = created.json()["newsletterId"]
    cancelled = api.post(f"/newsletters/{cid}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["type"] == "draft"
    assert error_of(api.post(f"/newsletters/{cid}/cancel")) == (400, 1002)
    advance(control, 6 * HOUR)
    assert api.get(f"/newsletters/{cid}/activities").json() == []


def test_create_validates_references(api: httpx.Client, ids: dict[str, Any]) -> None:
    body = {
        "subject": "Hi there",
        "content": {"html": "<p>x</p>"},
        "campaign": {"campaignId": "nope"},
        "fromField": {"fromFieldId": "nope"},
        "sendSettings": {},
    }
    assert error_of(api.post("/newsletters", json=body)) == (400, 1001)
    body["campaign"] = {"campaignId": ids["campaigns"]["clients_fr"]}
    assert error_of(api.post("/newsletters", json=body)) == (400, 1001)
    body["fromField"] = {"fromFieldId": ids["fromFields"]["news@shop.example"]}
    del body["sendSettings"]
    assert error_of(api.post("/newsletters", json=body)) == (400, 1000)


def test_contact_activities_window_and_statistics(
    api: httpx.Client, control: httpx.Client, sandbox: Any, ids: dict[str, Any]
) -> None:
    now = control.get("/__sandbox__/clock").json()["epoch"]
    sandbox.seed(
        {
            "newsletters": [
                {
                    "name": "June",
                    "type": "broadcast",
                    "campaign": "clients_fr",
                    "subject": "June news",
                    "sendOn": _utc(now - 20 * 86400),
                    "clickTracks": [{"name": "Shop", "url": "https://shop.example/"}],
                }
            ],
            "activities": [
                {
                    "email": "anna@x.fr",
                    "campaign": "clients_fr",
                    "newsletter": "June",
                    "activity": "open",
                    "createdOn": _utc(now - 19 * 86400),
                },
                {
                    "email": "anna@x.fr",
                    "campaign": "clients_fr",
                    "newsletter": "June",
                    "activity": "click",
                    "createdOn": _utc(now - 2 * 86400),
                    "clickTrack": "Shop",
                },
            ],
        }
    )
    anna = ids["contacts"]["anna@x.fr"]
    recent = api.get(f"/contacts/{anna}/activities").json()
    assert [a["activity"] for a in recent] == ["click"]  # last 14 days by default
    assert recent[0]["clickTrack"]["url"] == "https://shop.example/"
    assert recent[0]["resource"]["resourceType"] == "newsletters"
    window = api.get(
        f"/contacts/{anna}/activities",
        params={"query[createdOn][from]": _utc(now - 30 * 86400)[:10]},
    ).json()
    assert sorted(a["activity"] for a in window) == ["click", "open", "send"]
    send = next(a for a in window if a["activity"] == "send")
    assert send["subject"] == "June news"
    assert send["previewUrl"].endswith(".html")
    assert "clickTrack" not in send
    preview = httpx.get(send["previewUrl"])
    assert preview.status_code == 200
    assert "shop.example" in preview.text
    june = sandbox.conn.execute("SELECT cid FROM newsletters WHERE name = 'June'").fetchone()[0]
    total = api.get(f"/newsletters/{june}/statistics").json()
    assert len(total) == 1
    assert (total[0]["sent"], total[0]["uniqueOpened"], total[0]["totalClicked"]) == (2, 1, 1)
    assert "/P" in total[0]["timeInterval"]
    daily = api.get(
        "/newsletters/statistics", params={"query[newsletterId]": june, "query[groupBy]": "day"}
    ).json()
    assert [d["timeInterval"][-4:] for d in daily] == ["/P1D"] * 3
    details = api.get(f"/newsletters/{june}").json()
    assert details["clickTracks"][0]["amount"] == "1"


def _local(epoch: float) -> str:
    """A date-time without offset, read by the sandbox in time zone 39 (UTC)."""
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


def _utc(epoch: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(epoch))
