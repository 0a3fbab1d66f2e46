"""GetResponse's callbacks (query string, no time) and webhooks (JSON, one event or an array)
read into one event shape; what is not an event is refused with the reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconcile.getresponse.callback_events import (
    Event,
    InvalidEvent,
    from_callback,
    from_webhook_body,
)

RECEIVED = datetime(2026, 12, 7, 10, 0, 5, 123456, tzinfo=UTC)
LEGACY = {
    "action": "open", "ACCOUNT_ID": "A1", "account_login": "myaccount", "CAMPAIGN_ID": "C1",
    "campaign_name": "mycampaign", "MESSAGE_ID": "M1", "message_name": "My message",
    "message_subject": "Some subject", "CONTACT_ID": "pV3r", "contact_name": "Friend",
    "contact_email": "Friend@Implix.com",
}  # the documented sample  # fmt: skip
WEBHOOK = {
    "type": "contact_clicked_message_link",
    "contact": {"contactId": "abc123", "email": "example@example.com", "name": "Friend",
                "campaign": {"campaignId": "bcd234", "name": "my_first_campaign"}},
    "message": {"resourceType": "newsletters", "resourceId": "cde345",
                "name": "my_first_newsletter", "subject": "My First Newsletter"},
    "clickTrack": {"url": "https://shop.example/"},
    "account": {"accountId": "def456"},
    "event": {"occurredAt": "2021-04-27T12:56:00+00:00"},
}  # fmt: skip


def test_a_legacy_callback_is_dated_when_received() -> None:
    event = from_callback(LEGACY, RECEIVED)
    assert event.kind == "open"
    assert (event.contact_id, event.message_id, event.campaign_id) == ("pV3r", "M1", "C1")
    assert event.email == "friend@implix.com"
    assert event.message_name == "My message"
    assert event.at == datetime(2026, 12, 7, 10, 0, 5, tzinfo=UTC)
    assert event.dated is False
    assert event.origin == "callback"
    assert Event.from_json(event.as_json()) == event


def test_legacy_clicks_take_their_link_and_other_actions_are_kept_apart() -> None:
    click = from_callback({**LEGACY, "action": "click", "link_url": "https://a.example/"}, RECEIVED)
    assert click.url == "https://a.example/"
    survey = from_callback({"action": "survey", "CONTACT_ID": "pV3r"}, RECEIVED)
    assert survey.kind == "other"
    unsubscribe = from_callback({"action": "unsubscribe", "CONTACT_ID": "pV3r"}, RECEIVED)
    assert unsubscribe.kind == "unsubscribe"
    assert unsubscribe.message_id is None


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "action is missing"),
        ({"action": "bounce", "CONTACT_ID": "x"}, "is not one of"),
        ({"action": "open", "MESSAGE_ID": "M1"}, "CONTACT_ID is missing"),
        ({"action": "click", "CONTACT_ID": "x"}, "MESSAGE_ID is missing"),
    ],
)
def test_a_callback_that_is_no_event_is_refused(params: dict, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        from_callback(params, RECEIVED)


def test_webhooks_one_or_many_carry_their_own_time() -> None:
    (click,) = from_webhook_body(WEBHOOK)
    assert click.kind == "click"
    assert (click.contact_id, click.message_id, click.url) == (
        "abc123",
        "cde345",
        "https://shop.example/",
    )
    assert click.at == datetime(2021, 4, 27, 12, 56, tzinfo=UTC)
    assert click.dated is True
    opened = {**WEBHOOK, "type": "contact_opened_message"}
    subscribed = {**WEBHOOK, "type": "contact_subscribed", "message": None}
    kinds = [e.kind for e in from_webhook_body([opened, subscribed, WEBHOOK])]
    assert kinds == ["open", "subscribe", "click"]


def test_a_webhook_that_is_no_event_names_the_bad_one() -> None:
    with pytest.raises(InvalidEvent, match=r"event #2: event.occurredAt is missing"):
        from_webhook_body([WEBHOOK, {**WEBHOOK, "event": {}}])
    with pytest.raises(InvalidEvent, match="JSON object"):
        from_webhook_body("open")
    with pytest.raises(InvalidEvent, match="no event"):
        from_webhook_body([])
