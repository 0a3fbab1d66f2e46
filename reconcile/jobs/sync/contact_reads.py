"""What ``sync contacts`` reads from GetResponse, at the least cost the API allows.

**Changed contacts of a list** (:func:`changed_contacts`): ``GET /contacts`` with
``query[campaignId]``, ``query[changedOn][from]`` and ``sort[changedOn]=asc`` — 1000 a page,
with their custom field values when asked (``additionalFlags=customFieldValues``). Pages are
not walked by number: a contact that changes while we read moves to the end of the order,
every later page shifts by one, and page-number paging would skip a contact that did not
change. Each page instead starts where the previous one ended (``[from]`` = the last
``changedOn`` read, a closed start): the boundary second is read twice and de-duplicated by
id. When a whole page shares one second (an import stamps thousands alike), that second is
read alone (``[from]`` = ``[to]``), by page number, and read again if it shrank meanwhile.

**The ids of a list** (:func:`list_ids`, the deletion scan): ``fields=contactId``, 1000 a
page, in creation order (a contact created meanwhile comes last and shifts nothing). A contact
deleted meanwhile shifts the later pages, so a live contact can be missed: the ids missing
from a scan are checked one by one (``GET /contacts/{id}``: 404 is deleted) when they are few
(:func:`verify_missing`), or by a second scan when they are many.

GetResponse lists no deletions (no endpoint, no tombstones), and keeps no changes feed:
these reads are what the official contract (``getContactList``) offers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from reconcile.getresponse.contacts import contact_query, find_contact
from reconcile.getresponse.paging import MAX_PER_PAGE
from reconcile.getresponse.records import Contact
from reconcile.jobs.sync.contact_records import Seen
from reconcile.progress import SILENT, Progress

if TYPE_CHECKING:
    from reconcile.getresponse.client import GetResponseClient
    from reconcile.getresponse.paging import Page

SECOND = timedelta(seconds=1)
TIE_REREADS = 3  # a one-second window that keeps shrinking while read is read this often
VERIFY_ONE_BY_ONE = 200  # up to this many missing ids, one details read each beats a rescan


def _first_page(client: GetResponseClient, params: dict[str, Any]) -> Page:
    return next(client.pages("contacts", params, per_page=MAX_PER_PAGE))


def server_time(page: Page) -> datetime | None:
    """When GetResponse answered (its ``Date`` header): the clock ``changedOn`` is kept by,
    so a watermark taken from it does not depend on this machine's clock."""
    value = page.response.headers.get("date")
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def changed_contacts(
    client: GetResponseClient,
    campaign_id: str,
    since: datetime | None,
    *,
    with_fields: bool,
    progress: Progress = SILENT,
    label: str = "GetResponse contacts",
) -> tuple[dict[str, Seen], datetime | None]:
    """The contacts of the list created or changed at or after ``since`` (all of them when
    None), by id, and GetResponse's time when the read began. Costs one request per 1000
    contacts (plus one per boundary second read again), and one request when nothing
    changed."""
    seen: dict[str, Seen] = {}
    began: datetime | None = None

    def query(start: datetime | None, end: datetime | None = None) -> dict[str, Any]:
        return contact_query(
            campaign_id=campaign_id,
            changed_from=start,
            changed_to=end,
            sort={"changedOn": "asc"},
            with_custom_fields=with_fields,
        )

    start = since
    with progress.task(label) as task:
        while True:
            page = _first_page(client, query(start))
            if began is None:
                began = server_time(page)
            contacts = [Contact.from_api(item) for item in page.items]
            for contact in contacts:
                seen[contact.contact_id] = Seen.from_contact(contact, with_fields=with_fields)
            task.advance(len(contacts))
            if len(contacts) < MAX_PER_PAGE:
                return seen, began
            first, last = contacts[0].changed_on, contacts[-1].changed_on
            if first is None or last is None:  # no changedOn to seek by: page by number
                for rest in client.pages("contacts", query(start), per_page=MAX_PER_PAGE):
                    if rest.number > 1:
                        _add(seen, rest, with_fields)
                        task.advance(len(rest.items))
                return seen, began
            if first == last:  # a full page within one second: read that second alone
                _read_second(client, query(last, last), seen, with_fields)
                start = last + SECOND
            else:
                start = last


def _add(seen: dict[str, Seen], page: Page, with_fields: bool) -> None:
    for item in page.items:
        contact = Contact.from_api(item)
        seen[contact.contact_id] = Seen.from_contact(contact, with_fields=with_fields)


def _read_second(
    client: GetResponseClient, params: dict[str, Any], seen: dict[str, Seen], with_fields: bool
) -> None:
    """Every contact of a one-second window, by page number; a window that shrank while it
    was read (a contact of it changed, and moved out) may have shifted one past us: read
    it again."""
    for _ in range(TIE_REREADS):
        totals = []
        for page in client.pages("contacts", params, per_page=MAX_PER_PAGE):
            totals.append(page.total_count)
            _add(seen, page, with_fields)
        known = [t for t in totals if t is not None]
        if not known or min(known) == known[0]:
            return


def list_size(client: GetResponseClient, campaign_id: str) -> int | None:
    """How many contacts the list holds (``TotalCount`` of a one-contact page)."""
    params = contact_query(campaign_id=campaign_id, fields=["contactId"])
    page = next(client.pages("contacts", params, per_page=1))
    return page.total_count if page.total_count is not None else len(page.items)


def list_ids(
    client: GetResponseClient, campaign_id: str, *, progress: Progress = SILENT
) -> set[str]:
    """Every contact id of the list: ``fields=contactId``, 1000 a page, creation order."""
    params = contact_query(campaign_id=campaign_id, fields=["contactId"], sort={"createdOn": "asc"})
    ids: set[str] = set()
    with progress.task("Deletion scan (GetResponse contact ids)") as task:
        for page in client.pages("contacts", params, per_page=MAX_PER_PAGE):
            ids.update(str(item["contactId"]) for item in page.items)
            task.advance(len(page.items))
    return ids


def verify_missing(
    client: GetResponseClient, campaign_id: str, missing: set[str], *, progress: Progress = SILENT
) -> tuple[set[str], dict[str, Contact]]:
    """Which of the ids a scan did not see are really gone from the list: ``(gone, moved)``,
    ``moved`` being those now in another list (the same contact, moved there with its
    history). Few: one details read each (404 → gone). Many: a second scan; an id missing
    from both is gone (a live contact is missed only when a deletion shifts the page it is
    on while the page is read, which two scans do not both suffer)."""
    if len(missing) > VERIFY_ONE_BY_ONE:
        return missing - list_ids(client, campaign_id, progress=progress), {}
    gone: set[str] = set()
    moved: dict[str, Contact] = {}
    with progress.task("Checking contacts missing from GetResponse", total=len(missing)) as task:
        for contact_id in sorted(missing):
            contact = find_contact(client, contact_id)
            if contact is None:
                gone.add(contact_id)
            elif contact.campaign_id != campaign_id:
                moved[contact_id] = contact
            task.advance()
    return gone, moved
