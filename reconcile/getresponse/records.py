"""Plain records for what the GetResponse API returns: snake_case, typed, dates aware.

Each record is built by ``from_api(dict)`` and keeps the API's own dict in ``raw`` (not in
``repr`` or equality) so a job can reach a field we did not model without another request.
The API's quirks are absorbed here, once: string booleans (``"true"``), ``dayOfCycle`` as a
string, custom-field values in ``value`` *or* ``values``, ``createdAt`` vs ``createdOn``, and
a contact's ``timeZone`` / ``ipAddress`` sent as ``""`` when unknown (recorded GetResponse 360
answers, tests/getresponse/recordings/) — None here, like every other unknown value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconcile.getresponse.dates import parse_datetime

Raw = Mapping[str, Any]


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _int(value: Any) -> int | None:
    if type(value) is int:
        return value
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _map(data: Raw, key: str) -> Raw:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _ref(data: Raw, key: str, id_key: str) -> tuple[str | None, str | None]:
    ref = data.get(key)
    if isinstance(ref, Mapping):
        return ref.get(id_key), ref.get("name")
    return None, None


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    email: str | None
    first_name: str | None
    last_name: str | None
    company_name: str | None
    time_zone: str | None
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Raw) -> Account:
        zone = data.get("timeZone")
        return cls(
            account_id=str(data.get("accountId", "")),
            email=data.get("email"),
            first_name=data.get("firstName"),
            last_name=data.get("lastName"),
            company_name=data.get("companyName"),
            time_zone=zone.get("name") if isinstance(zone, Mapping) else zone,
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class Campaign:
    """A GetResponse list (the API calls lists "campaigns")."""

    campaign_id: str
    name: str
    language_code: str | None
    is_default: bool | None
    created_on: datetime | None
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Raw) -> Campaign:
        return cls(
            campaign_id=data["campaignId"],
            name=data.get("name", ""),
            language_code=data.get("languageCode"),
            is_default=_bool(data.get("isDefault")),
            created_on=parse_datetime(data.get("createdOn")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class Tag:
    tag_id: str
    name: str
    created_at: datetime | None
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Raw) -> Tag:
        return cls(
            tag_id=data["tagId"],
            name=data.get("name", ""),
            created_at=parse_datetime(data.get("createdAt") or data.get("createdOn")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class CustomFieldValue:
    """A contact's value(s) of one custom field; always strings, as the API stores them."""

    custom_field_id: str
    name: str | None
    values: tuple[str, ...]
    type: str | None

    @classmethod
    def from_api(cls, data: Raw) -> CustomFieldValue:
        values = data.get("value")
        if values is None:
            values = data.get("values")
        if values is None:
            values = []
        elif not isinstance(values, list):
            values = [values]
        return cls(
            custom_field_id=data["customFieldId"],
            name=data.get("name"),
            values=tuple(str(v) for v in values),
            type=data.get("valueType") or data.get("type"),
        )


@dataclass(frozen=True, slots=True)
class CustomField:
    """A custom field definition; ``format`` falls back to the legacy ``fieldType``."""

    custom_field_id: str
    name: str
    type: str | None
    value_type: str | None
    format: str | None
    hidden: bool | None
    values: tuple[str, ...]
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Raw) -> CustomField:
        return cls(
            custom_field_id=data["customFieldId"],
            name=data.get("name", ""),
            type=data.get("type"),
            value_type=data.get("valueType"),
            format=data.get("format") or data.get("fieldType"),
            hidden=_bool(data.get("hidden")),
            values=tuple(str(v) for v in data.get("values") or ()),
            raw=data,
        )


@dataclass(slots=True)
class Contact:
    """One contact *in one list*: the same email in two lists is two contacts.

    Not frozen, unlike the other records, for speed alone: a frozen dataclass's ``__init__``
    costs twice as much, and a list of a million contacts builds a million of these. Treat it
    as read-only all the same."""

    contact_id: str
    email: str
    name: str | None
    campaign_id: str | None
    campaign_name: str | None
    origin: str | None
    created_on: datetime | None
    changed_on: datetime | None
    scoring: float | None
    engagement_score: int | None
    day_of_cycle: int | None
    time_zone: str | None
    tags: tuple[Tag, ...]
    custom_field_values: tuple[CustomFieldValue, ...]
    raw: Raw = field(repr=False, compare=False)
    ip_address: str | None = None

    @classmethod
    def from_api(cls, data: Raw) -> Contact:
        # The hot path of every contact read: positional arguments, no generator when there
        # is nothing to convert, plain-dict checks before the general ones.
        get = data.get
        campaign = get("campaign")
        if type(campaign) is dict or isinstance(campaign, Mapping):
            campaign_id, campaign_name = campaign.get("campaignId"), campaign.get("name")
        else:
            campaign_id = campaign_name = None
        tags = get("tags")
        values = get("customFieldValues")
        scoring = get("scoring")
        return cls(
            data["contactId"],
            get("email", ""),
            get("name"),
            campaign_id,
            campaign_name,
            get("origin"),
            parse_datetime(get("createdOn")),
            parse_datetime(get("changedOn")),
            scoring if type(scoring) is float else _float(scoring),
            _int(get("engagementScore")),
            _int(get("dayOfCycle")),
            get("timeZone") or None,
            tuple([Tag.from_api(t) for t in tags]) if tags else (),
            tuple([CustomFieldValue.from_api(v) for v in values]) if values else (),
            data,
            get("ipAddress") or None,
        )


@dataclass(frozen=True, slots=True)
class ContactActivity:
    """A send / open / click of one message by one contact."""

    contact_id: str
    activity: str
    subject: str | None
    created_on: datetime | None
    resource_id: str | None
    resource_type: str | None
    url: str | None  # the clicked link (clicks) or the preview (sends)
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, contact_id: str, data: Raw) -> ContactActivity:
        resource = _map(data, "resource")
        click = _map(data, "clickTrack")
        return cls(
            contact_id=contact_id,
            activity=data.get("activity", ""),
            subject=data.get("subject"),
            created_on=parse_datetime(data.get("createdOn")),
            resource_id=resource.get("resourceId"),
            resource_type=resource.get("resourceType"),
            url=click.get("url") or data.get("previewUrl"),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class Newsletter:
    """A newsletter or a draft (``type == "draft"``); ``send_status`` from ``sendMetrics``."""

    newsletter_id: str
    name: str | None
    subject: str | None
    type: str | None
    status: str | None
    campaign_id: str | None
    campaign_name: str | None
    created_on: datetime | None
    send_on: datetime | None
    send_status: str | None  # scheduled | in_progress | finished
    raw: Raw = field(repr=False, compare=False)

    @property
    def is_draft(self) -> bool:
        return self.type == "draft"

    @classmethod
    def from_api(cls, data: Raw) -> Newsletter:
        campaign_id, campaign_name = _ref(data, "campaign", "campaignId")
        metrics = _map(data, "sendMetrics")
        return cls(
            newsletter_id=data["newsletterId"],
            name=data.get("name"),
            subject=data.get("subject"),
            type=data.get("type"),
            status=data.get("status"),
            campaign_id=campaign_id,
            campaign_name=campaign_name,
            created_on=parse_datetime(data.get("createdOn")),
            send_on=parse_datetime(data.get("sendOn")),
            send_status=metrics.get("status"),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class NewsletterActivity:
    newsletter_id: str
    activity: str
    created_on: datetime | None
    contact_id: str | None
    email: str | None
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, newsletter_id: str, data: Raw) -> NewsletterActivity:
        contact = _map(data, "contact")
        return cls(
            newsletter_id=newsletter_id,
            activity=data.get("activity", ""),
            created_on=parse_datetime(data.get("createdOn")),
            contact_id=contact.get("contactId"),
            email=contact.get("email"),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class NewsletterStatistics:
    """Counters for one time interval (``total`` grouping: the whole life of the message)."""

    time_interval: str | None
    sent: int
    unique_opened: int
    unique_clicked: int
    bounced: int
    unsubscribed: int
    complaints: int
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Raw) -> NewsletterStatistics:
        def n(key: str) -> int:
            return _int(data.get(key)) or 0

        return cls(
            time_interval=data.get("timeInterval"),
            sent=n("sent"),
            unique_opened=n("uniqueOpened"),
            unique_clicked=n("uniqueClicked"),
            bounced=n("bounced"),
            unsubscribed=n("unsubscribed"),
            complaints=n("complaints"),
            raw=data,
        )


ACTIVE_IMPORT_STATES = frozenset({"uploaded", "to_review", "review", "approved"})


@dataclass(frozen=True, slots=True)
class ImportJob:
    """A tracked contact import (``POST /imports``)."""

    import_id: str
    campaign_id: str | None
    status: str
    statistics: Mapping[str, int]
    error_statistics: Mapping[str, int]
    created_on: datetime | None
    finished_on: datetime | None
    raw: Raw = field(repr=False, compare=False)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_IMPORT_STATES

    @classmethod
    def from_api(cls, data: Raw) -> ImportJob:
        campaign_id, _ = _ref(data, "campaign", "campaignId")
        return cls(
            import_id=data["importId"],
            campaign_id=campaign_id,
            status=data.get("status", ""),
            statistics={k: _int(v) or 0 for k, v in (data.get("statistics") or {}).items()},
            error_statistics={
                k: _int(v) or 0 for k, v in (data.get("errorStatistics") or {}).items()
            },
            created_on=parse_datetime(data.get("createdOn")),
            finished_on=parse_datetime(data.get("finishedOn")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class TimeZone:
    time_zone_id: int
    name: str
    offset: str | None
    country: str | None

    @classmethod
    def from_api(cls, data: Raw) -> TimeZone:
        return cls(
            time_zone_id=int(data.get("timezoneId", data.get("timeZoneId", 0))),
            name=data.get("name", ""),
            offset=data.get("offset"),
            country=data.get("country"),
        )
