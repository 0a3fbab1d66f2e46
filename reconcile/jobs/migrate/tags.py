"""The tags of every contact of some lists, without one request per contact.

The official contract shows a contact's tags only in ``GET /contacts/{id}``: a list of
100,000 contacts would cost 100,000 requests. Instead, for each tag of the account, one
ad-hoc search (``POST /search-contacts/contacts``, official OpenAPI
``getContactsFromSearchContactsConditions``) with a ``tag`` condition (``operator: exists``,
GetResponse's segments manual as its contacts-search guide shows it) over the chosen lists
returns the contacts carrying it, 1000 per page. Cost: one request per tag plus one per 1000
tag assignments, instead of one per contact. Only run when SPEC 1.3 "send tags" is on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reconcile.progress import SILENT, Progress

if TYPE_CHECKING:
    from reconcile.getresponse.client import GetResponseClient

SUBSCRIBER_CYCLE = ["receiving_autoresponder", "not_receiving_autoresponder"]


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
    from reconcile.getresponse import iter_tags

    out: dict[str, list[str]] = {}
    if not campaign_ids:
        return out
    tags = list(iter_tags(client))
    with progress.task("Reading GetResponse tags", total=len(tags)) as task:
        for tag in tags:
            body = tag_search(campaign_ids, tag.tag_id)
            for page in client.pages("search-contacts/contacts", method="POST", json=body):
                for item in page.items:
                    contact = item.get("contactId")
                    if contact:
                        out.setdefault(str(contact), []).append(tag.name)
            task.advance()
    return out
