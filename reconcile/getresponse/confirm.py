"""Confirm that contacts queued with 202 really arrived, and say why the others did not.

GetResponse documents no per-contact outcome for ``POST /contacts`` or ``/contacts/batch``:
"If your contact didn't appear on the list, there's a possibility that it was rejected at a
later stage of processing" (API reference, createContact). So we poll:

- a few pending emails: one exact lookup each (``query[email]`` + ``exactMatch``);
- many, and the caller knows when it submitted them (``since``): one paged scan of the list's
  contacts created since then (``query[createdOn][from]``), matched locally — far fewer calls.

Waits grow from ``poll_interval`` to ``max_interval`` until ``timeout``; a contact not seen by
then is *unresolved*, not rejected (double opt-in lists hide unconfirmed contacts from
``/contacts``). With ``explain=True`` the missing ones are looked up once more through
``POST /search-contacts/contacts``, which can list ``unconfirmed`` and ``removed`` contacts
(with a removal ``reason`` such as ``blacklisted``, ``bounce`` or ``complaint``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconcile.getresponse.client import GetResponseClient
from reconcile.getresponse.contacts import find_contacts_by_email, iter_contacts
from reconcile.getresponse.records import Contact

LOOKUP_LIMIT = 20  # up to this many pending emails, exact lookups beat a scan
# Email conditions per search request: the sandbox refuses more than 8 in a section (as a
# limit of the search form); 8 works under either rule.
EXPLAIN_CHUNK = 8
_EXPLAIN_TYPES = ("unconfirmed", "removed")


@dataclass
class Confirmation:
    """Which submitted emails are now contacts of the list, and which are not (yet)."""

    campaign_id: str
    found: dict[str, Contact] = field(default_factory=dict)  # keyed by the email as submitted
    missing: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # missing email → why, when known
    polls: int = 0

    @property
    def complete(self) -> bool:
        return not self.missing


def _lookup(
    client: GetResponseClient, campaign_id: str, pending: dict[str, str], since: datetime | None
) -> Iterator[Contact]:
    if since is not None and len(pending) > LOOKUP_LIMIT:
        yield from iter_contacts(client, campaign_id=campaign_id, created_from=since)
        return
    for email in list(pending.values()):
        yield from find_contacts_by_email(client, email, campaign_id=campaign_id)


def wait_for_contacts(
    client: GetResponseClient,
    campaign_id: str,
    emails: Iterable[str],
    *,
    since: datetime | None = None,
    timeout: float = 600.0,
    poll_interval: float = 5.0,
    max_interval: float = 60.0,
    explain: bool = False,
) -> Confirmation:
    """Poll until every email is a contact of ``campaign_id`` or ``timeout`` seconds pass.

    ``since``: when the contacts were submitted (take it *before* submitting); it enables
    the single-scan strategy for many emails. Contacts that already existed (409) have an
    older creation date: confirm those without ``since``.
    """
    pending = {e.strip().casefold(): e for e in emails if e and e.strip()}
    result = Confirmation(campaign_id)
    deadline = client.now() + timeout
    interval = poll_interval
    while pending:
        result.polls += 1
        for contact in _lookup(client, campaign_id, pending, since):
            key = contact.email.casefold()
            if key in pending and contact.campaign_id in (campaign_id, None):
                result.found[pending.pop(key)] = contact
        remaining = deadline - client.now()
        if not pending or remaining <= 0:
            break
        client.wait(min(interval, remaining))
        interval = min(max_interval, interval * 2)
    result.missing = sorted(pending.values())
    if explain and result.missing:
        result.reasons = explain_missing(client, campaign_id, result.missing)
    return result


def _search_body(subscribers_type: str, campaign_id: str, emails: list[str]) -> dict[str, Any]:
    return {
        "subscribersType": [subscribers_type],
        "sectionLogicOperator": "or",
        "section": [
            {
                "campaignIdsList": [campaign_id],
                "logicOperator": "or",
                "subscriberCycle": ["receiving_autoresponder", "not_receiving_autoresponder"],
                "subscriptionDate": "all_time",
                "conditions": [
                    {
                        "conditionType": "email",
                        "operatorType": "string_operator",
                        "operator": "is",
                        "value": email,
                    }
                    for email in emails
                ],
            }
        ],
    }


def explain_missing(
    client: GetResponseClient, campaign_id: str, emails: list[str]
) -> dict[str, str]:
    """Why each email is not an active contact, where ``/search-contacts/contacts`` knows:
    ``unconfirmed`` (waiting for the double opt-in click) or ``removed: <reason>``."""
    by_key = {e.strip().casefold(): e for e in emails}
    reasons: dict[str, str] = {}
    for kind in _EXPLAIN_TYPES:
        keys = [k for k in by_key if by_key[k] not in reasons]
        for start in range(0, len(keys), EXPLAIN_CHUNK):
            chunk = [by_key[k] for k in keys[start : start + EXPLAIN_CHUNK]]
            body = _search_body(kind, campaign_id, chunk)
            for page in client.pages("search-contacts/contacts", method="POST", json=body):
                for item in page.items:
                    email = by_key.get(str(item.get("email", "")).casefold())
                    if email is None or email in reasons:
                        continue
                    if kind == "unconfirmed":
                        reasons[email] = "unconfirmed: waiting for the double opt-in confirmation"
                    else:
                        reasons[email] = f"removed: {item.get('reason') or 'reason not given'}"
    return reasons
