"""Contacts: read a list page by page, look up by email, create, update, delete, activities.

Creating is asynchronous in GetResponse: ``POST /contacts`` and ``POST /contacts/batch``
answer 202 with no body ("preliminarily validated and added to the queue"); the contact shows
up minutes later, or never if it is rejected late. :func:`wait_for_contacts` is how a job
learns which of the contacts it submitted really arrived (see docs/getresponse-client.md).

Retry safety, decided per call:

- ``POST /contacts`` is repeated after an uncertain failure, because an email is unique within
  a list: the repeat either queues the contact or is refused with 409. A 409 after a retry is
  reported as ``ALREADY_EXISTS`` with ``after_retry=True`` (most likely our own first attempt);
  a 409 on the first attempt means the contact was there before we came.
- ``POST /contacts/batch`` is *not* repeated after an uncertain failure (no documented
  per-contact outcome): the error says the batch may have been applied.
- ``POST /contacts/{id}`` (update: replace semantics), ``/custom-fields`` and ``/tags``
  (upserts) and ``DELETE`` are safe to repeat.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from reconcile.getresponse.client import GetResponseClient
from reconcile.getresponse.errors import AlreadyExists, NotFound
from reconcile.getresponse.paging import MAX_PER_PAGE, Page
from reconcile.getresponse.records import Contact, ContactActivity, CustomFieldValue, Tag
from reconcile.getresponse.wire import path
from reconcile.progress import SILENT, Progress
from reconcile.retrying import Attempt

BATCH_SIZE = 1000  # POST /contacts/batch accepts at most 1000 contacts per request
ACTIVITY_KINDS = frozenset({"send", "open", "click"})

R = TypeVar("R")
When = date | datetime


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _values(value: str | Sequence[str]) -> list[str]:
    """Custom field values are always arrays of strings in the API, numbers and dates too."""
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def custom_field_payload(values: Mapping[str, str | Sequence[str]]) -> list[dict[str, Any]]:
    return [{"customFieldId": fid, "value": _values(v)} for fid, v in values.items()]


@dataclass(frozen=True)
class NewContact:
    """A contact to add to a list; ``custom_fields`` maps custom field id → value(s)."""

    email: str
    name: str | None = None
    custom_fields: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    tag_ids: Sequence[str] = ()
    day_of_cycle: int | None = None
    scoring: float | None = None
    ip_address: str | None = None

    def _common(self) -> dict[str, Any]:
        body: dict[str, Any] = {"email": self.email}
        if self.name is not None:
            body["name"] = self.name
        if self.day_of_cycle is not None:
            body["dayOfCycle"] = self.day_of_cycle
        if self.scoring is not None:
            body["scoring"] = self.scoring
        if self.ip_address is not None:
            body["ipAddress"] = self.ip_address
        if self.custom_fields:
            body["customFieldValues"] = custom_field_payload(self.custom_fields)
        return body

    def to_api(self, campaign_id: str) -> dict[str, Any]:
        """The ``POST /contacts`` body."""
        body = self._common()
        body["campaign"] = {"campaignId": campaign_id}
        if self.tag_ids:
            body["tags"] = [{"tagId": t} for t in self.tag_ids]
        return body

    def to_batch_api(self) -> dict[str, Any]:
        """One element of ``POST /contacts/batch`` — tags have another shape there."""
        body = self._common()
        if self.tag_ids:
            body["tags"] = {"ids": list(self.tag_ids)}
        return body


class CreateOutcome(StrEnum):
    QUEUED = "queued"  # 202: accepted for processing, not visible yet
    ALREADY_EXISTS = "already_exists"  # 409: a contact with this email is in the list


@dataclass(frozen=True)
class ContactCreation:
    email: str
    campaign_id: str
    outcome: CreateOutcome
    after_retry: bool = False  # the 409 came after our own earlier, uncertain attempt


# -- reading -------------------------------------------------------------------------------
def records_with_progress(
    pages: Iterator[Page], build: Callable[[dict], R], progress: Progress, label: str
) -> Iterator[R]:
    """Records of every page, advancing a progress task sized by the first ``TotalCount``."""
    first = next(pages, None)
    if first is None:
        return
    with progress.task(label, first.total_count) as task:
        for page in itertools.chain([first], pages):
            for item in page.items:
                yield build(item)
            task.advance(len(page.items))


def contact_query(
    *,
    campaign_id: str | None = None,
    email: str | None = None,
    name: str | None = None,
    exact: bool = False,
    origin: str | None = None,
    created_from: When | None = None,
    created_to: When | None = None,
    changed_from: When | None = None,
    changed_to: When | None = None,
    sort: Mapping[str, str] | None = None,
    fields: Sequence[str] | None = None,
    with_custom_fields: bool = False,
) -> dict[str, Any]:
    """Query parameters of ``GET /contacts`` (filters are ANDed; dates for incremental reads).

    ``with_custom_fields`` asks for each contact's custom field values in the list itself
    (``additionalFlags=customFieldValues``, documented in GetResponse's own API guide though
    not in the OpenAPI description), instead of one ``GET /contacts/{id}`` per contact."""
    flags = [
        f for f, on in (("exactMatch", exact), ("customFieldValues", with_custom_fields)) if on
    ]
    return {
        "query": {
            "campaignId": campaign_id,
            "email": email,
            "name": name,
            "origin": origin,
            "createdOn": {"from": created_from, "to": created_to},
            "changedOn": {"from": changed_from, "to": changed_to},
        },
        "sort": sort,
        "fields": fields,
        "additionalFlags": ",".join(flags) or None,
    }


def iter_contacts(
    client: GetResponseClient,
    *,
    per_page: int = MAX_PER_PAGE,
    concurrency: int = 1,
    progress: Progress = SILENT,
    **query: Any,
) -> Iterator[Contact]:
    """``GET /contacts`` with the filters of :func:`contact_query`, one page in memory at a
    time. ``campaign_id=`` reads one list; ``changed_from=`` makes an incremental read."""
    pages = client.pages(
        "contacts", contact_query(**query), per_page=per_page, concurrency=concurrency
    )
    yield from records_with_progress(pages, Contact.from_api, progress, "GetResponse contacts")


def find_contacts_by_email(
    client: GetResponseClient, email: str, *, campaign_id: str | None = None
) -> list[Contact]:
    """Contacts with exactly this email (one per list), using ``additionalFlags=exactMatch``
    and checking the answer too: without the flag the API matches substrings."""
    wanted = email.strip().casefold()
    found = iter_contacts(client, campaign_id=campaign_id, email=email.strip(), exact=True)
    return [
        c
        for c in found
        if c.email.casefold() == wanted and (campaign_id is None or c.campaign_id == campaign_id)
    ]


def get_contact(client: GetResponseClient, contact_id: str) -> Contact:
    """``GET /contacts/{id}``: details with tags and custom field values; 404 once deleted."""
    return Contact.from_api(client.get(path("contacts", contact_id)))


def find_contact(client: GetResponseClient, contact_id: str) -> Contact | None:
    """Like :func:`get_contact`, but None when the contact was deleted in GetResponse."""
    try:
        return get_contact(client, contact_id)
    except NotFound:
        return None


def iter_contact_activities(
    client: GetResponseClient,
    contact_id: str,
    *,
    since: When | None = None,
    until: When | None = None,
    kinds: Iterable[str] = ACTIVITY_KINDS,
) -> Iterator[ContactActivity]:
    """``GET /contacts/{id}/activities`` in a date window. Without ``since`` the API returns
    only the last 14 days. It cannot filter by kind, so ``kinds`` is applied here."""
    wanted = frozenset(kinds)
    unknown = wanted - ACTIVITY_KINDS
    if unknown:
        raise ValueError(f"unknown activity kinds {sorted(unknown)}; use send, open, click")
    params = {"query": {"createdOn": {"from": since, "to": until}}}
    for item in client.items(path("contacts", contact_id, "activities"), params):
        if item.get("activity") in wanted:
            yield ContactActivity.from_api(contact_id, item)


# -- writing -------------------------------------------------------------------------------
def create_contact(
    client: GetResponseClient, campaign_id: str, contact: NewContact
) -> ContactCreation:
    """``POST /contacts`` → 202 (queued) or 409 (already in the list); see module docstring."""
    retried: list[Attempt] = []
    try:
        client.post(
            "contacts", contact.to_api(campaign_id), idempotent=True, on_retry=retried.append
        )
    except AlreadyExists:
        return ContactCreation(
            contact.email, campaign_id, CreateOutcome.ALREADY_EXISTS, after_retry=bool(retried)
        )
    return ContactCreation(contact.email, campaign_id, CreateOutcome.QUEUED)


def submit_batch(
    client: GetResponseClient, campaign_id: str, contacts: Sequence[NewContact]
) -> CreateOutcome:
    """``POST /contacts/batch`` for up to 1000 contacts → 202 ``QUEUED`` (nothing to track but
    the emails). Paced by the client at the endpoint's limits (1 per second, 80 per 10 min).

    A 409 (``ALREADY_EXISTS``) refuses the batch because of contacts already on the list; the
    API does not say which or whether the others were queued, so confirm with
    :func:`~reconcile.getresponse.confirm.wait_for_contacts` and resubmit the missing ones."""
    if not contacts:
        raise ValueError("a batch needs at least one contact")
    if len(contacts) > BATCH_SIZE:
        raise ValueError(f"a batch holds at most {BATCH_SIZE} contacts, not {len(contacts)}")
    counts = Counter(c.email.strip().casefold() for c in contacts)
    duplicates = sorted(e for e, n in counts.items() if n > 1)
    if duplicates:
        raise ValueError(f"the batch lists these emails twice: {', '.join(duplicates[:5])}")
    body = {"campaignId": campaign_id, "contacts": [c.to_batch_api() for c in contacts]}
    try:
        client.post("contacts/batch", body, idempotent=False)
    except AlreadyExists:
        return CreateOutcome.ALREADY_EXISTS
    return CreateOutcome.QUEUED


def create_contacts(
    client: GetResponseClient,
    campaign_id: str,
    contacts: Iterable[NewContact],
    *,
    batch_size: int = BATCH_SIZE,
    progress: Progress = SILENT,
) -> Iterator[tuple[list[str], CreateOutcome]]:
    """Submit contacts in batches; yields each batch's emails and outcome, so that the caller
    can journal them before the next one (then confirm with ``wait_for_contacts``)."""
    if not 1 <= batch_size <= BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {BATCH_SIZE}")
    items = iter(contacts)
    with progress.task("GetResponse contacts submitted") as task:
        while chunk := list(itertools.islice(items, batch_size)):
            outcome = submit_batch(client, campaign_id, chunk)
            task.advance(len(chunk))
            yield [c.email for c in chunk], outcome


def update_contact(
    client: GetResponseClient,
    contact_id: str,
    *,
    name: str | None = UNSET,
    custom_fields: Mapping[str, str | Sequence[str]] = UNSET,
    tag_ids: Sequence[str] = UNSET,
    note: str | None = UNSET,
    scoring: float | None = UNSET,
    campaign_id: str = UNSET,
) -> Contact:
    """``POST /contacts/{id}`` → 200 details. Only the arguments given are sent. Careful:
    ``custom_fields`` and ``tag_ids`` *replace* the whole collection (``{}``/``()`` clear it);
    to add without removing use :func:`upsert_custom_fields` / :func:`add_tags`. A new
    ``campaign_id`` *moves* the contact to that list, with its history."""
    body: dict[str, Any] = {}
    if name is not UNSET:
        body["name"] = name
    if note is not UNSET:
        body["note"] = note
    if scoring is not UNSET:
        body["scoring"] = scoring
    if campaign_id is not UNSET:
        body["campaign"] = {"campaignId": campaign_id}
    if custom_fields is not UNSET:
        body["customFieldValues"] = custom_field_payload(custom_fields)
    if tag_ids is not UNSET:
        body["tags"] = [{"tagId": t} for t in tag_ids]
    if not body:
        raise ValueError("update_contact needs at least one field to change")
    return Contact.from_api(client.post(path("contacts", contact_id), body, idempotent=True))


def upsert_custom_fields(
    client: GetResponseClient, contact_id: str, values: Mapping[str, str | Sequence[str]]
) -> list[CustomFieldValue]:
    """``POST /contacts/{id}/custom-fields``: set these fields, leave the others alone."""
    body = {"customFieldValues": custom_field_payload(values)}
    answer = client.post(path("contacts", contact_id, "custom-fields"), body, idempotent=True) or []
    return [CustomFieldValue.from_api(v) for v in answer]


def add_tags(client: GetResponseClient, contact_id: str, tag_ids: Sequence[str]) -> list[Tag]:
    """``POST /contacts/{id}/tags``: attach these tags, detach none."""
    body = {"tags": [{"tagId": t} for t in tag_ids]}
    answer = client.post(path("contacts", contact_id, "tags"), body, idempotent=True) or []
    return [Tag.from_api(t) for t in answer]


def delete_contact(client: GetResponseClient, contact_id: str) -> bool:
    """``DELETE /contacts/{id}`` → True when deleted now, False when it was already gone
    (a 404 after our own retried attempt counts as deleted now)."""
    return client.delete(path("contacts", contact_id))
