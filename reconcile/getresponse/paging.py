"""Page-number paging for GetResponse list endpoints, with loop detection.

GetResponse pages with ``page`` (from 1) and ``perPage`` (1-1000, default 100) and answers
every list with ``TotalCount``, ``TotalPages`` and ``CurrentPage`` headers; a page past the
end is ``[]``. We stop on the first of: an empty page, ``CurrentPage >= TotalPages``, or
(when the headers are missing) a short page. The server is not trusted to validate paging
(live ``/contacts`` accepted ``perPage=0``), so we validate it here.

The contract is meltano's/dlt's, kept tiny so it can be tested on hand-built responses:
``first_request``, then for each answer ``advance`` (which raises :class:`PagingError` if the
server hands back a page it already gave us) and ``has_more`` / ``next_request``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from reconcile.getresponse.errors import PagingError, UnexpectedResponse

MAX_PER_PAGE = 1000


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


@dataclass
class Page:
    """One page of a list: its records plus what the response said about the whole list."""

    items: list[dict[str, Any]]
    number: int
    per_page: int
    total_pages: int | None
    total_count: int | None
    response: httpx.Response = field(repr=False)

    @property
    def is_last(self) -> bool:
        if not self.items:
            return True
        if self.total_pages is not None:
            return self.number >= self.total_pages
        return len(self.items) < self.per_page


def page_from_response(response: httpx.Response, number: int, per_page: int) -> Page:
    """Decode a list response into a :class:`Page`; a body that is not a list is an error."""
    try:
        items = response.json() if response.content else []
    except ValueError as exc:
        raise UnexpectedResponse(
            f"GetResponse answered {response.request.method} {response.request.url.path} "
            "with a body that is not JSON",
            http_status=response.status_code,
        ) from exc
    if not isinstance(items, list):
        raise UnexpectedResponse(
            f"GetResponse answered {response.request.method} {response.request.url.path} "
            f"with a {type(items).__name__} where a list of records was expected",
            http_status=response.status_code,
        )
    current = _int_header(response, "CurrentPage")
    if current is not None and current != number and items:
        raise PagingError(
            f"GetResponse returned page {current} when page {number} of "
            f"{response.request.url.path} was asked for",
            http_status=response.status_code,
        )
    return Page(
        items=items,
        number=number,
        per_page=per_page,
        total_pages=_int_header(response, "TotalPages"),
        total_count=_int_header(response, "TotalCount"),
        response=response,
    )


def _signature(items: list[dict[str, Any]]) -> str:
    """A fingerprint of a page's first and last record, to notice a repeated page."""
    ends = [items[0], items[-1], len(items)]
    return hashlib.sha1(
        json.dumps(ends, sort_keys=True, default=str).encode(), usedforsecurity=False
    ).hexdigest()


class PageNumberPaginator:
    """Walks ``page=1, 2, …`` with a fixed ``perPage`` until the list ends."""

    def __init__(self, per_page: int = MAX_PER_PAGE, *, start_page: int = 1) -> None:
        if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be between 1 and {MAX_PER_PAGE}, not {per_page!r}")
        if start_page < 1:
            raise ValueError("start_page must be >= 1")
        self.per_page = per_page
        self.page = start_page
        self.pages_read = 0
        self._seen: dict[str, int] = {}

    def first_request(self, request: httpx.Request) -> httpx.Request:
        return self._with_page(request, self.page)

    def request_for(self, request: httpx.Request, number: int) -> httpx.Request:
        """The same request for another page (concurrent reads use this)."""
        return self._with_page(request, number)

    def _with_page(self, request: httpx.Request, number: int) -> httpx.Request:
        url = request.url.copy_merge_params({"page": number, "perPage": self.per_page})
        return httpx.Request(request.method, url, headers=request.headers, content=request.content)

    def advance(self, page: Page) -> None:
        """Record a page; raise :class:`PagingError` when the server repeats one."""
        self.pages_read += 1
        if page.items:
            signature = _signature(page.items)
            earlier = self._seen.get(signature)
            if earlier is not None and earlier != page.number:
                raise PagingError(
                    f"GetResponse returned the same records for pages {earlier} and "
                    f"{page.number} of {page.response.request.url.path}",
                    http_status=page.response.status_code,
                )
            self._seen[signature] = page.number
        self.page = page.number

    def has_more(self, page: Page) -> bool:
        return not page.is_last

    def next_request(self, request: httpx.Request) -> httpx.Request:
        self.page += 1
        return self._with_page(request, self.page)
