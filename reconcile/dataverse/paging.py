"""Reading collections page by page: ``@odata.nextLink`` and FetchXML paging cookies.

Dataverse has no ``$skip``. An OData read asks for a page size with
``Prefer: odata.maxpagesize=N`` (at most 5000) and follows each page's ``@odata.nextLink``
as given, sending the same ``Prefer`` header again. A FetchXML read asks for the paging
annotations and re-issues the query with ``page`` incremented and the returned cookie.

Both paginators refuse to loop: the same next link (or cookie) twice raises, because a
service that keeps answering "more" with the same position would otherwise be read
forever.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconcile.dataverse import fetchxml
from reconcile.dataverse import query as q
from reconcile.dataverse.errors import ValidationFailed
from reconcile.dataverse.odata import prefer

FETCH_ANNOTATIONS = "Microsoft.Dynamics.CRM.fetchxmlpagingcookie,Microsoft.Dynamics.CRM.morerecords"
FORMATTED_VALUES = "OData.Community.Display.V1.FormattedValue"


class JsonReader(Protocol):
    """What paging needs of a client: one JSON GET (:meth:`DataverseClient.get_json
    <reconcile.dataverse.client.DataverseClient.get_json>`, with its retries and errors).
    The client offers ``pages``/``query`` over this module, so it is typed here by what it
    does rather than imported."""

    def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        record: str | None = None,
    ) -> dict[str, Any]: ...


@dataclass
class Page:
    """One page of rows, with what the service said about the rest."""

    rows: list[dict[str, Any]]
    number: int
    next_link: str | None = None
    count: int | None = None  # @odata.count, when $count=true was asked
    delta_link: str | None = None  # @odata.deltaLink, on the last page of a change-tracking read
    more: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


class PagingLoop(ValidationFailed):
    """The service returned the same position twice."""


def pages(
    client: JsonReader,
    entity_set: str,
    query: q.Query | None = None,
    *,
    page_size: int = 5000,
    annotations: str | None = None,
    track_changes: bool = False,
    start: str | None = None,
) -> Iterator[Page]:
    """Every page of ``entity_set`` matching ``query``; ``start`` resumes from a link
    (a nextLink or a change-tracking deltaLink)."""
    header = prefer(page_size=page_size, annotations=annotations, track_changes=track_changes)
    url: str | None
    if start:
        url, params = start, None
    else:
        url, params = q.quote_segment(entity_set), (query or q.Query()).params()
    seen: set[str] = set()
    number = 0
    while url is not None:
        number += 1
        data = client.get_json(
            url,
            params=params,
            headers={"Prefer": header} if header else None,
            record=f"{entity_set} (page {number})",
        )
        next_link = data.get("@odata.nextLink") or data.get("odata.nextLink")
        yield Page(
            rows=list(data.get("value", [])),
            number=number,
            next_link=next_link,
            count=data.get("@odata.count"),
            delta_link=data.get("@odata.deltaLink"),
            more=bool(next_link),
            raw={k: v for k, v in data.items() if k != "value"},
        )
        if next_link and next_link in seen:
            raise PagingLoop(
                f"Dataverse returned the same next page link twice while reading {entity_set}.",
                record=entity_set,
                hint="Re-run the read; if it repeats, report the query to the administrator.",
            )
        if next_link:
            seen.add(next_link)
        url, params = next_link, None


def rows(
    client: JsonReader,
    entity_set: str,
    query: q.Query | None = None,
    **kwargs: Any,
) -> Iterator[dict[str, Any]]:
    """Every row of every page (see :func:`pages`)."""
    for page in pages(client, entity_set, query, **kwargs):
        yield from page.rows


def fetch_pages(
    client: JsonReader,
    entity_set: str,
    fetch: str,
    *,
    page_size: int = 5000,
    formatted_values: bool = False,
) -> Iterator[Page]:
    """Every page of a FetchXML query, with paging cookies (simple paging as a fallback
    when the service sends no cookie, as it does for some sorted link-entity queries).

    Note: FetchXML results leave out columns that are null (unlike OData reads)."""
    annotations = FETCH_ANNOTATIONS + ("," + FORMATTED_VALUES if formatted_values else "")
    header = prefer(annotations=annotations)
    cookie: str | None = None
    seen: set[str] = set()
    page = 1
    while True:
        document = fetchxml.with_paging(fetch, page=page, count=page_size, cookie=cookie)
        data = client.get_json(
            q.quote_segment(entity_set),
            params={"fetchXml": document},
            headers={"Prefer": header} if header else None,
            record=f"{entity_set} FetchXML (page {page})",
        )
        more = bool(data.get("@Microsoft.Dynamics.CRM.morerecords"))
        yield Page(
            rows=list(data.get("value", [])),
            number=page,
            more=more,
            raw={k: v for k, v in data.items() if k != "value"},
        )
        if not more:
            return
        cookie = fetchxml.parse_paging_cookie(
            data.get("@Microsoft.Dynamics.CRM.fetchxmlpagingcookie")
        )
        if cookie is not None:
            if cookie in seen:
                raise PagingLoop(
                    f"Dataverse returned the same paging cookie twice for a FetchXML query on "
                    f"{entity_set}.",
                    record=entity_set,
                    hint="Add an <order> on the primary key to the query and run again.",
                )
            seen.add(cookie)
        page += 1


def fetch_rows(
    client: JsonReader, entity_set: str, fetch: str, **kwargs: Any
) -> Iterator[dict[str, Any]]:
    for page in fetch_pages(client, entity_set, fetch, **kwargs):
        yield from page.rows
