"""Account, lists (campaigns), tags, custom-field definitions and time zones.

One function per endpoint, plain records out. Contacts live in :mod:`.contacts`,
newsletters in :mod:`.newsletters`, imports in :mod:`.imports`.

Creating something with a unique name (a list, a tag) is retried like a read: if a first
attempt failed in a way that leaves us unsure (5xx, timeout, dropped connection), the repeat
either creates it or is refused with 409 "already taken". A 409 *after a retry* is most
likely our own first attempt, so we look the resource up by name and return it; a 409 on the
first attempt is a real conflict and raises :class:`AlreadyExists` (the lists job reports it
as "the name already exists in GetResponse").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from reconcile.getresponse.client import GetResponseClient
from reconcile.getresponse.errors import AlreadyExists, NotFound
from reconcile.getresponse.records import Account, Campaign, CustomField, Tag, TimeZone
from reconcile.getresponse.wire import path
from reconcile.retrying import Attempt

T = TypeVar("T")


def create_unique(
    client: GetResponseClient, path: str, body: Any, find: Callable[[], T | None]
) -> tuple[Any, T | None]:
    """POST a create whose uniqueness makes repeating it safe; see the module docstring.

    Returns ``(answer, None)`` when the create succeeded, or ``(None, found)`` when a retried
    create was refused as a duplicate and ``find`` located the resource.
    """
    retried: list[Attempt] = []
    try:
        return client.post(path, body, idempotent=True, on_retry=retried.append), None
    except AlreadyExists:
        if not retried:
            raise
        found = find()
        if found is None:
            raise
        return None, found


def pick_by_name(records: Iterable[T], name: str, key: Callable[[T], str]) -> T | None:
    """The record named exactly ``name``; else the single one equal ignoring case."""
    folded = [r for r in records if key(r).casefold() == name.casefold()]
    exact = [r for r in folded if key(r) == name]
    if exact:
        return exact[0]
    return folded[0] if len(folded) == 1 else None


# -- account -------------------------------------------------------------------------------
def get_account(client: GetResponseClient) -> Account:
    """``GET /accounts``: the cheapest authenticated call, used as the connection check."""
    return Account.from_api(client.get("accounts"))


check_connection = get_account


def list_time_zones(client: GetResponseClient) -> list[TimeZone]:
    """``GET /accounts/timezones``: the ids ``sendOn.timeZone.timeZoneId`` expects."""
    return [TimeZone.from_api(item) for item in client.get("accounts/timezones") or []]


# -- campaigns (lists) ---------------------------------------------------------------------
def iter_campaigns(
    client: GetResponseClient,
    *,
    name: str | None = None,
    sort: Mapping[str, str] | None = None,
    fields: Sequence[str] | None = None,
) -> Iterator[Campaign]:
    """``GET /campaigns``: every list of the account (``name`` filters server-side)."""
    params = {"query": {"name": name}, "sort": sort, "fields": fields}
    for item in client.items("campaigns", params):
        yield Campaign.from_api(item)


def find_campaign(client: GetResponseClient, name: str) -> Campaign | None:
    """The list called ``name``, or None. The server's name filter is not exact, so the
    candidates are compared here."""
    return pick_by_name(iter_campaigns(client, name=name), name, lambda c: c.name)


def get_campaign(client: GetResponseClient, campaign_id: str) -> Campaign:
    """``GET /campaigns/{id}``; raises :class:`NotFound` when the list was deleted."""
    return Campaign.from_api(client.get(path("campaigns", campaign_id)))


def campaign_exists(client: GetResponseClient, campaign_id: str) -> bool:
    """False when the list is gone (deleted in the GetResponse panel: the API cannot)."""
    try:
        get_campaign(client, campaign_id)
    except NotFound:
        return False
    return True


def create_campaign(
    client: GetResponseClient,
    name: str,
    *,
    language_code: str | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Campaign:
    """``POST /campaigns`` → 201 Campaign. ``settings`` adds optional API fields as is
    (``optinTypes``, ``confirmation`` …). Raises :class:`AlreadyExists` if the name is taken."""
    body: dict[str, Any] = {"name": name, **(settings or {})}
    if language_code:
        body["languageCode"] = language_code
    created, found = create_unique(client, "campaigns", body, lambda: find_campaign(client, name))
    return found if found is not None else Campaign.from_api(created)


# -- tags ----------------------------------------------------------------------------------
def iter_tags(client: GetResponseClient, *, name: str | None = None) -> Iterator[Tag]:
    """``GET /tags``."""
    for item in client.items("tags", {"query": {"name": name}}):
        yield Tag.from_api(item)


def find_tag(client: GetResponseClient, name: str) -> Tag | None:
    return pick_by_name(iter_tags(client, name=name), name, lambda t: t.name)


def create_tag(client: GetResponseClient, name: str) -> Tag:
    """``POST /tags`` (name: 2-64 of ``[_a-zA-Z0-9]``)."""
    created, found = create_unique(client, "tags", {"name": name}, lambda: find_tag(client, name))
    return found if found is not None else Tag.from_api(created)


def ensure_tag(client: GetResponseClient, name: str) -> Tag:
    """The tag called ``name``, created if missing (also if someone creates it meanwhile)."""
    existing = find_tag(client, name)
    if existing is not None:
        return existing
    try:
        return create_tag(client, name)
    except AlreadyExists:
        found = find_tag(client, name)
        if found is None:
            raise
        return found


def delete_tag(client: GetResponseClient, tag_id: str) -> bool:
    """``DELETE /tags/{id}`` → True when deleted now, False when it was already gone."""
    return client.delete(path("tags", tag_id))


# -- custom fields -------------------------------------------------------------------------
def iter_custom_fields(
    client: GetResponseClient, *, name: str | None = None
) -> Iterator[CustomField]:
    """``GET /custom-fields``: the account's custom field definitions."""
    for item in client.items("custom-fields", {"query": {"name": name}}):
        yield CustomField.from_api(item)


def get_custom_field(client: GetResponseClient, custom_field_id: str) -> CustomField:
    return CustomField.from_api(client.get(path("custom-fields", custom_field_id)))


def find_custom_field(client: GetResponseClient, name: str) -> CustomField | None:
    return pick_by_name(iter_custom_fields(client, name=name), name, lambda f: f.name)


def create_custom_field(
    client: GetResponseClient,
    name: str,
    *,
    type: str = "string",
    format: str = "text",
    hidden: bool = False,
    values: Sequence[str] = (),
) -> CustomField:
    """``POST /custom-fields`` → 201. ``name``: lowercase letters, digits, underscores."""
    body = {
        "name": name,
        "type": type,
        "format": format,
        "hidden": "true" if hidden else "false",
        "values": list(values),
    }
    created, found = create_unique(
        client, "custom-fields", body, lambda: find_custom_field(client, name)
    )
    return found if found is not None else CustomField.from_api(created)
