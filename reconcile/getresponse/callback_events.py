"""What GetResponse posts as things happen, read into one shape (pure: no I/O).

Two generations, both documented by GetResponse (sources in docs/getresponse-api.md,
"Callbacks and webhooks"):

- **Callbacks** (legacy, managed by the API at ``/accounts/callbacks``): one event per
  request, its data in the query string — ``action=open&ACCOUNT_ID=…&CAMPAIGN_ID=…&
  campaign_name=…&MESSAGE_ID=…&message_name=…&message_subject=…&CONTACT_ID=…&contact_name=…&
  contact_email=…`` ("Those params are case-sensitive"); actions ``subscribe``,
  ``unsubscribe``, ``open``, ``click``, ``goal``, ``survey``. No time is sent: the event is
  dated when it is received. "Callback timeout is 4 seconds, callbacks that are not received
  are lost and will not be repeated." The click's link is not among the documented
  parameters; ``link_url`` / ``url`` / ``link`` are read when present.
- **Webhooks** (current, set up in the web app): JSON ``POST``, one event object — or an
  array of them — with ``type`` (``contact_opened_message``, ``contact_clicked_message_link``,
  ``contact_subscribed``, ``contact_unsubscribed`` …), ``contact`` (``contactId``, ``email``,
  ``campaign``), ``message`` (``resourceType``, ``resourceId``, ``name``, ``subject``) and
  ``event.occurredAt``. A 2xx answer must carry ``{"status": "OK"}``; otherwise, and on network
  errors, 429, 5xx and timeouts (5 s), "we will retry 3 more times at increasing intervals"
  with the same ``X-Webhook-ID``.

Either way an :class:`Event` comes out, or :class:`InvalidEvent` saying what is wrong (the
receiver answers 400, which GetResponse does not retry).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconcile.getresponse.dates import parse_datetime

ACTIVITY_KINDS = ("open", "click")  # what callbacks report of the three activity types
CONTACT_KINDS = ("subscribe", "unsubscribe")
LEGACY_ACTIONS = ("subscribe", "unsubscribe", "open", "click", "goal", "survey")
WEBHOOK_TYPES = {
    "contact_opened_message": "open",
    "contact_clicked_message_link": "click",
    "contact_subscribed": "subscribe",
    "contact_unsubscribed": "unsubscribe",
}
LINK_PARAMETERS = ("link_url", "LINK_URL", "url", "link", "click_url")
MAX_TEXT = 2000


class InvalidEvent(ValueError):
    """A request body that is not a GetResponse event; the message says why."""


@dataclass(frozen=True)
class Event:
    kind: str  # open | click | subscribe | unsubscribe | other (goal, survey, …: ignored)
    contact_id: str
    email: str | None
    campaign_id: str | None
    message_id: str | None
    message_name: str | None
    message_type: str | None  # newsletters, autoresponders, … (webhooks only)
    url: str | None
    at: datetime  # when it happened (webhooks) or was received (callbacks)
    dated: bool  # whether ``at`` is GetResponse's own time
    origin: str  # "callback" | "webhook"

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "contact_id": self.contact_id,
            "email": self.email,
            "campaign_id": self.campaign_id,
            "message_id": self.message_id,
            "message_name": self.message_name,
            "message_type": self.message_type,
            "url": self.url,
            "at": self.at.isoformat(),
            "dated": self.dated,
            "origin": self.origin,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Event:
        return cls(**{**data, "at": datetime.fromisoformat(str(data["at"]))})

    @property
    def is_activity(self) -> bool:
        return self.kind in ACTIVITY_KINDS


def _text(value: Any, name: str, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise InvalidEvent(f"{name} is missing")
        return None
    if not isinstance(value, str | int):
        raise InvalidEvent(f"{name} must be text, not {type(value).__name__}")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise InvalidEvent(f"{name} is longer than {MAX_TEXT} characters")
    return text or None


def from_callback(params: Mapping[str, str], received: datetime) -> Event:
    """A legacy callback (its query string or form fields)."""
    action = _text(params.get("action"), "action", required=True)
    if action not in LEGACY_ACTIONS:
        raise InvalidEvent(f"action {action!r} is not one of {', '.join(LEGACY_ACTIONS)}")
    kind = action if action in ACTIVITY_KINDS + CONTACT_KINDS else "other"
    message = _text(params.get("MESSAGE_ID"), "MESSAGE_ID", required=kind in ACTIVITY_KINDS)
    url = next((params[k] for k in LINK_PARAMETERS if params.get(k)), None)
    return Event(
        kind=kind,
        contact_id=_text(params.get("CONTACT_ID"), "CONTACT_ID", required=True) or "",
        email=(_text(params.get("contact_email"), "contact_email") or "").lower() or None,
        campaign_id=_text(params.get("CAMPAIGN_ID"), "CAMPAIGN_ID"),
        message_id=message,
        message_name=_text(params.get("message_name"), "message_name")
        or _text(params.get("message_subject"), "message_subject"),
        message_type=None,
        url=_text(url, "link_url"),
        at=received.astimezone(UTC).replace(microsecond=0),
        dated=False,
        origin="callback",
    )


def _object(value: Any, name: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidEvent(f"{name} must be an object")
    return value


def from_webhook(data: Any) -> Event:
    """One webhook event object."""
    if not isinstance(data, Mapping):
        raise InvalidEvent("a webhook event must be a JSON object")
    kind_name = _text(data.get("type"), "type", required=True) or ""
    kind = WEBHOOK_TYPES.get(kind_name, "other")
    contact = _object(data.get("contact"), "contact")
    message = _object(data.get("message"), "message")
    event = _object(data.get("event"), "event")
    occurred = _text(event.get("occurredAt"), "event.occurredAt", required=True)
    try:
        at = parse_datetime(occurred)
    except ValueError:
        raise InvalidEvent(f"event.occurredAt is not a date-time: {occurred!r}") from None
    assert at is not None
    link = _object(data.get("clickTrack") or data.get("link"), "clickTrack")
    url = link.get("url") or data.get("url") or message.get("url")
    campaign = _object(contact.get("campaign"), "contact.campaign")
    return Event(
        kind=kind,
        contact_id=_text(contact.get("contactId"), "contact.contactId", required=True) or "",
        email=(_text(contact.get("email"), "contact.email") or "").lower() or None,
        campaign_id=_text(campaign.get("campaignId"), "contact.campaign.campaignId"),
        message_id=_text(
            message.get("resourceId"), "message.resourceId", required=kind in ACTIVITY_KINDS
        ),
        message_name=_text(message.get("name"), "message.name")
        or _text(message.get("subject"), "message.subject"),
        message_type=_text(message.get("resourceType"), "message.resourceType"),
        url=_text(url, "clickTrack.url"),
        at=at.astimezone(UTC).replace(microsecond=0),
        dated=True,
        origin="webhook",
    )


def from_webhook_body(body: Any) -> list[Event]:
    """A webhook request body: one event object or an array of them."""
    items = body if isinstance(body, list) else [body]
    if not items:
        raise InvalidEvent("the body holds no event")
    events = []
    for n, item in enumerate(items):
        try:
            events.append(from_webhook(item))
        except InvalidEvent as exc:
            raise InvalidEvent(f"event #{n + 1}: {exc}" if len(items) > 1 else str(exc)) from None
    return events
