"""Page-number paging: headers, bounds, stable orders, and the keyset shortcut's correctness."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from grsb_help import make_list


@pytest.fixture
def listed(api: httpx.Client, sandbox: Any) -> str:
    campaign = make_list(api)
    rows = [
        {
            "email": f"p{i:05d}@gmail.com",
            "name": f"Person {(i * 7919) % 2503:05d}",
            "createdOn": f"2024-01-{1 + i % 28:02d}T10:00:00+0000",
        }
        for i in range(2503)
    ]
    assert sandbox.bulk_add_contacts(campaign, rows) == 2503
    return campaign


def read_all(raw: httpx.Client, path: str, per_page: int, **params: Any) -> list[dict[str, Any]]:
    out, page = [], 1
    while True:
        response = raw.get(path, params={**params, "perPage": per_page, "page": page})
        assert response.headers["CurrentPage"] == str(page)
        items = response.json()
        if not items:
            return out
        out.extend(items)
        page += 1


def test_headers_and_a_page_past_the_end(api: httpx.Client, listed: str) -> None:
    first = api.get("/contacts", params={"perPage": 1000})
    assert (first.headers["TotalCount"], first.headers["TotalPages"]) == ("2503", "3")
    assert len(first.json()) == 1000
    assert len(api.get("/contacts", params={"perPage": 1000, "page": 3}).json()) == 503
    beyond = api.get("/contacts", params={"perPage": 1000, "page": 4})
    assert beyond.status_code == 200
    assert beyond.json() == []
    assert api.get("/contacts").headers["TotalPages"] == "26"  # perPage defaults to 100


@pytest.mark.parametrize(("value", "size"), [("5000", 1000), ("0", 100), ("abc", 100)])
def test_out_of_range_per_page_is_clamped_like_the_live_api(
    info: dict[str, Any], listed: str, value: str, size: int
) -> None:
    headers = {"X-Auth-Token": f"api-key {info['api_key']}"}
    response = httpx.get(info["url"] + "/contacts", params={"perPage": value}, headers=headers)
    assert response.status_code == 200
    assert len(response.json()) == size


@pytest.mark.parametrize(
    "order",
    [
        {},
        {"sort[name]": "ASC"},
        {"sort[name]": "DESC"},
        {"sort[createdOn]": "DESC"},
        {"sort[createdOn]": "ASC", "sort[email]": "DESC"},
    ],
)
def test_sequential_pages_equal_one_sorted_read(
    raw: httpx.Client, listed: str, order: dict[str, str]
) -> None:
    paged = read_all(raw, f"/campaigns/{listed}/contacts", 250, **order)
    assert len(paged) == len({c["contactId"] for c in paged}) == 2503
    if "sort[name]" in order:
        names = [c["name"] for c in paged]
        assert names == sorted(names, reverse=order["sort[name]"] == "DESC")
    if order == {"sort[createdOn]": "ASC", "sort[email]": "DESC"}:
        keys = [(c["createdOn"], c["email"]) for c in paged]
        assert keys == sorted(keys, key=lambda k: (k[0], [-ord(ch) for ch in k[1]]))
    # random access agrees with sequential reading (the keyset shortcut is only an optimization)
    page_7 = raw.get(f"/campaigns/{listed}/contacts", params={**order, "perPage": 250, "page": 7})
    assert page_7.json() == paged[1500:1750]


def test_a_write_between_pages_is_seen(raw: httpx.Client, listed: str, sandbox: Any) -> None:
    first = raw.get("/contacts", params={"perPage": 1000, "sort[email]": "ASC"}).json()
    sandbox.bulk_add_contacts(listed, [{"email": "a0000@gmail.com"}])
    second = raw.get("/contacts", params={"perPage": 1000, "page": 2, "sort[email]": "ASC"})
    assert second.headers["TotalCount"] == "2504"
    assert second.json()[0]["email"] == first[-1]["email"]  # everything shifted by one


def test_page_ends_survive_reading_other_queries(api: httpx.Client, listed: str) -> None:
    a1 = api.get("/contacts", params={"perPage": 100, "page": 1}).json()
    api.get("/contacts", params={"perPage": 100, "page": 1, "sort[name]": "DESC"})
    a2 = api.get("/contacts", params={"perPage": 100, "page": 2}).json()
    assert a1[-1]["contactId"] != a2[0]["contactId"]
    assert [c["email"] for c in a1 + a2] == [f"p{i:05d}@gmail.com" for i in range(200)]
