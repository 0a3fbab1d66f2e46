"""Unsubscribing in GetResponse a contact whose CRM contact stopped allowing bulk email.

GetResponse's API has no "unsubscribe" call; what it offers is ``DELETE /contacts/{id}``
with ``messageId``, which "simulates the unsubscribe process, as if the contact clicked the
unsubscribe link in a given message" (official OpenAPI, ``deleteContact``): the contact
leaves the list *as unsubscribed*, its history stays, and the API refuses to add the address
again (docs/getresponse-api.md). The message is the list's latest newsletter. A list that
has never had one cannot be unsubscribed from that way: the address goes on the account's
blocklist instead (``POST /accounts/blocklists?additionalFlags=add``), which stops every
message to it and deletes nothing. Neither is ever undone automatically.
"""

from __future__ import annotations

from reconcile.getresponse import iter_newsletters
from reconcile.getresponse.wire import path
from reconcile.jobs.sync.context import SyncContext

_CACHE = "lists:latest-message"


def latest_message(ctx: SyncContext, campaign_id: str) -> str | None:
    cache = ctx.gr.cache.setdefault(_CACHE, {})
    if campaign_id not in cache:
        found = iter_newsletters(ctx.gr, campaign_id=campaign_id, sort={"createdOn": "DESC"})
        first = next(iter(found), None)
        cache[campaign_id] = first.newsletter_id if first is not None else None
    return cache[campaign_id]


def unsubscribe(ctx: SyncContext, contact_id: str, campaign_id: str, email: str) -> str:
    """Unsubscribe one contact; returns how, in words for the record."""
    message = latest_message(ctx, campaign_id)
    if message is not None:
        ctx.gr.delete(path("contacts", contact_id), params={"messageId": message})
        return f"as if from newsletter {message}"
    ctx.gr.request(
        "POST",
        "accounts/blocklists",
        params={"additionalFlags": "add"},
        json={"masks": [email]},
        idempotent=True,
    )
    return "the list has no newsletter to unsubscribe from: address added to the blocklist"
