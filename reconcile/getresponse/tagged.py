"""Which contacts carry which tags, without one request per contact when that costs more.

The official contract shows a contact's tags only in ``GET /contacts/{id}``
(``ContactDetails.tags``; ``GET /contacts`` has no tag field, flag or filter): a list of
100,000 contacts would cost 100,000 requests. Instead, for each tag of the account, one
ad-hoc search (``POST /search-contacts/contacts``, official OpenAPI
``getContactsFromSearchContactsConditions``) with a ``tag`` condition (``operator: exists``,
GetResponse's segments manual as its contacts-search guide shows it) over the chosen lists
returns the contacts carrying it, 1000 per page. Cost: one request per tag plus one per 1000
tag assignments.

:func:`tags_by_contact` reads every tagged contact of some lists (the migration).
:func:`tags_of` wants the tags of *some* contacts (an incremental sync): when they are fewer
than the tags, their details are cheaper; otherwise it reads the first page of each tag's
search, learns from ``TotalPages`` what the rest would cost, and finishes whichever of the
searches or the details costs less — never more than twice the cheaper of the two.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconcile.getresponse.contacts import find_contact
from reconcile.getresponse.resources import iter_tags
from reconcile.progress import SILENT, Progress

if TYPE_CHECKING:
    from reconcile.getresponse.client import GetResponseClient
    from reconcile.getresponse.paging import Page
    from reconcile.getresponse.records import Contact

SUBSCRIBER_CYCLE = ["receiving_autoresponder", "not_receiving_autoresponder"]
SEARCH = "search-contacts/contacts"


def tag_search(campaign_ids: Sequence[str], tag_id: str) -> dict[str, Any]:
    """The search body: subscribed contacts of these lists that carry the tag."""
    return {
        "subscribersType": ["subscribed"],
        "sectionLogicOperator": "or",
        "section": [
            {
                "campaignIdsList": list(campaign_ids),
                "logicOperator": "and",
                "subscriberCycle": SUBSCRIBER_CYCLE,
                "subscriptionDate": "all_time",
                "conditions": [
                    {
                        "conditionType": "tag",
                        "operatorType": "exists",
                        "operator": "exists",
                        "value": tag_id,
                    }
                ],
            }
        ],
    }


def tags_by_contact(
    client: GetResponseClient, campaign_ids: Sequence[str], progress: Progress = SILENT
) -> dict[str, list[str]]:
    """Contact id → names of its tags, for the contacts of ``campaign_ids``."""
    out: dict[str, list[str]] = {}
    if not campaign_ids:
        return out
    tags = list(iter_tags(client))
    with progress.task("Reading GetResponse tags", total=len(tags)) as task:
        for tag in tags:
            body = tag_search(campaign_ids, tag.tag_id)
            for page in client.pages(SEARCH, method="POST", json=body):
                for item in page.items:
                    contact = item.get("contactId")
                    if contact:
                        out.setdefault(str(contact), []).append(tag.name)
            task.advance()
    return out


@dataclass
class TagsRead:
    """The tags of the contacts asked about, and how they were read."""

    tags: dict[str, tuple[str, ...]]  # contact id → tag names, sorted (() when none)
    details: dict[str, Contact] = field(default_factory=dict)  # read one by one (with values)
    gone: set[str] = field(default_factory=set)  # answered 404 to a details read: deleted
    method: str = "none"  # none | details | search


def tags_of(
    client: GetResponseClient,
    contact_ids: Collection[str],
    campaign_ids: Sequence[str],
    *,
    progress: Progress = SILENT,
) -> TagsRead:
    """The tags of ``contact_ids`` (contacts of ``campaign_ids``), at the lower of two costs:
    one ``GET /contacts/{id}`` each, or one search page per 1000 assignments of each tag."""
    wanted = set(contact_ids)
    if not wanted:
        return TagsRead({})
    tags = list(iter_tags(client))
    if not tags:
        return TagsRead(dict.fromkeys(wanted, ()), method="search")
    if len(wanted) <= len(tags):
        return _details(client, wanted, progress)
    found: dict[str, list[str]] = {}
    unfinished: list[tuple[str, Iterator[Page]]] = []
    remaining = 0
    with progress.task("Reading GetResponse tags", total=len(tags)) as task:
        for tag in tags:
            pages = client.pages(SEARCH, method="POST", json=tag_search(campaign_ids, tag.tag_id))
            first = next(pages)
            _collect(first, tag.name, wanted, found)
            if not first.is_last:
                unfinished.append((tag.name, pages))
                total = first.total_pages
                remaining += total - first.number if total else 1
            task.advance()
    if remaining > len(wanted):
        return _details(client, wanted, progress)
    for name, pages in unfinished:
        for page in pages:
            _collect(page, name, wanted, found)
    return TagsRead({c: tuple(sorted(found.get(c, ()))) for c in wanted}, method="search")


def _collect(page: Page, name: str, wanted: set[str], found: dict[str, list[str]]) -> None:
    for item in page.items:
        contact = str(item.get("contactId") or "")
        if contact in wanted:
            found.setdefault(contact, []).append(name)


def _details(client: GetResponseClient, wanted: set[str], progress: Progress) -> TagsRead:
    read = TagsRead({}, method="details")
    with progress.task("Reading GetResponse contacts' details", total=len(wanted)) as task:
        for contact_id in sorted(wanted):
            contact = find_contact(client, contact_id)
            if contact is None:
                read.gone.add(contact_id)
            else:
                read.details[contact_id] = contact
                read.tags[contact_id] = tuple(sorted(t.name for t in contact.tags))
            task.advance()
    return read
