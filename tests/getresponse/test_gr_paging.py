"""The paginator on hand-built responses, then the client's paging over a mock transport."""

from __future__ import annotations

import threading

import httpx
import pytest
from gr_fakes import Script, make_client, page

from reconcile.getresponse import PagingError, UnexpectedResponse
from reconcile.getresponse.paging import PageNumberPaginator, page_from_response

BASE = httpx.Request("GET", "https://api.test/v3/contacts?query%5BcampaignId%5D=C")


def _answer(
    items: list[dict], number: int, headers: dict[str, str] | None = None
) -> httpx.Response:
    response = httpx.Response(200, json=items, headers=headers or {})
    response.request = BASE
    return response


def _items(prefix: str, n: int) -> list[dict]:
    return [{"contactId": f"{prefix}{i}"} for i in range(n)]


def test_requests_carry_page_and_per_page_and_keep_filters() -> None:
    paginator = PageNumberPaginator(per_page=2)
    first = paginator.first_request(BASE)
    assert first.url.params["page"] == "1"
    assert first.url.params["perPage"] == "2"
    assert first.url.params["query[campaignId]"] == "C"
    assert paginator.next_request(first).url.params["page"] == "2"


@pytest.mark.parametrize("per_page", [0, -1, 1001, "100"])
def test_per_page_is_validated_locally(per_page: object) -> None:
    with pytest.raises(ValueError, match="per_page"):
        PageNumberPaginator(per_page=per_page)  # type: ignore[arg-type]


def test_stops_at_total_pages_even_when_the_page_is_full() -> None:
    paginator = PageNumberPaginator(per_page=2)
    headers = {"TotalPages": "1", "CurrentPage": "1", "TotalCount": "2"}
    page_one = page_from_response(_answer(_items("a", 2), 1, headers), 1, 2)
    paginator.advance(page_one)
    assert page_one.total_count == 2
    assert not paginator.has_more(page_one)


def test_without_headers_a_short_or_empty_page_ends() -> None:
    paginator = PageNumberPaginator(per_page=2)
    full = page_from_response(_answer(_items("a", 2), 1), 1, 2)
    short = page_from_response(_answer(_items("b", 1), 2), 2, 2)
    empty = page_from_response(_answer([], 3), 3, 2)
    assert paginator.has_more(full)
    assert not paginator.has_more(short)
    assert not paginator.has_more(empty)


def test_an_empty_page_ends_even_if_total_pages_says_more() -> None:
    headers = {"TotalPages": "9", "CurrentPage": "3"}
    empty = page_from_response(_answer([], 3, headers), 3, 2)
    assert not PageNumberPaginator(per_page=2).has_more(empty)


def test_a_repeated_page_is_a_loop() -> None:
    paginator = PageNumberPaginator(per_page=2)
    paginator.advance(page_from_response(_answer(_items("a", 2), 1), 1, 2))
    with pytest.raises(PagingError, match="same records for pages 1 and 2"):
        paginator.advance(page_from_response(_answer(_items("a", 2), 2), 2, 2))


def test_current_page_header_must_match_the_page_asked_for() -> None:
    with pytest.raises(PagingError, match="returned page 1 when page 2"):
        page_from_response(_answer(_items("a", 2), 2, {"CurrentPage": "1"}), 2, 2)


def test_a_body_that_is_not_a_list_is_unexpected() -> None:
    response = httpx.Response(200, json={"items": []})
    response.request = BASE
    with pytest.raises(UnexpectedResponse, match="a dict where a list"):
        page_from_response(response, 1, 2)


# -- through the client --------------------------------------------------------------------


class Pages:
    """A list endpoint over ``n`` records that honours page/perPage."""

    def __init__(self, n: int, *, headers: bool = True) -> None:
        self.n = n
        self.headers = headers
        self.seen: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self.release = threading.Event()
        self.release.set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["page"])
        per_page = int(request.url.params["perPage"])
        with self._lock:
            self.seen.append(number)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.release.wait(5)
        start = (number - 1) * per_page
        items = [{"contactId": f"c{i}", "email": f"c{i}@x.test"} for i in range(start, self.n)][
            :per_page
        ]
        with self._lock:
            self.in_flight -= 1
        total_pages = -(-self.n // per_page)
        if not self.headers:
            return httpx.Response(200, json=items)
        return page(items, number, total_pages, self.n)


def test_client_reads_every_page_lazily_and_stops_on_total_pages() -> None:
    server = Pages(25)
    client, _ = make_client(server)
    pages = client.pages("contacts", per_page=10)
    first = next(pages)
    assert [p for p in server.seen] == [1]  # nothing fetched ahead of the consumer
    rest = list(pages)
    ids = [item["contactId"] for p in [first, *rest] for item in p.items]
    assert ids == [f"c{i}" for i in range(25)]
    assert server.seen == [1, 2, 3]
    assert client.stats.requests == 3


def test_without_headers_the_client_needs_one_empty_page_only_when_pages_are_full() -> None:
    server = Pages(20, headers=False)
    client, _ = make_client(server)
    assert len(list(client.items("contacts", per_page=10))) == 20
    assert server.seen == [1, 2, 3]


def test_concurrent_pages_come_back_in_order_within_the_parallel_limit() -> None:
    server = Pages(95)
    client, _ = make_client(server)
    ids = [item["contactId"] for item in client.items("contacts", per_page=5, concurrency=4)]
    assert ids == [f"c{i}" for i in range(95)]
    assert sorted(server.seen) == list(range(1, 20))
    assert server.max_in_flight <= 4


def test_concurrency_is_capped_at_the_clients_parallel_limit() -> None:
    server = Pages(200)
    client, _ = make_client(server, max_parallel=3)
    assert len(list(client.items("contacts", per_page=5, concurrency=50))) == 200
    assert server.max_in_flight <= 3


def test_server_ignoring_page_is_caught_not_looped_forever() -> None:
    stuck = [{"contactId": "a"}, {"contactId": "b"}]
    script = Script(*[httpx.Response(200, json=stuck) for _ in range(3)])
    client, _ = make_client(script)
    with pytest.raises(PagingError):
        list(client.items("contacts", per_page=2))
    assert len(script.requests) == 2


def test_concurrent_pages_really_overlap() -> None:
    barrier = threading.Barrier(2, timeout=5)
    inner = Pages(30)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["page"] in ("2", "3"):
            barrier.wait()  # raises BrokenBarrierError unless pages 2 and 3 are in flight together
        return inner(request)

    client, _ = make_client(handler)
    assert len(list(client.items("contacts", per_page=10, concurrency=2))) == 30
