"""Authentication on the standard and MAX hosts, and the headers every answer carries."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from grsb_help import error_of


def test_api_key_with_prefix_is_accepted_and_rate_headers_are_sent(api: httpx.Client) -> None:
    response = api.get("/accounts")
    assert response.status_code == 200
    assert response.json()["href"].endswith("/v3/accounts")
    assert response.headers["X-RateLimit-Limit"] == "30000"
    assert response.headers["X-RateLimit-Remaining"] == "29999"
    assert response.headers["X-RateLimit-Reset"].endswith(" seconds")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Auth-Token": "api-key wrong"},
        {"X-Auth-Token": "KEY"},  # replaced by the real key without the "api-key " prefix
        {"Authorization": "Bearer wrong"},
    ],
)
def test_bad_credentials_are_401_code_1014(info: dict[str, Any], headers: dict[str, str]) -> None:
    if headers.get("X-Auth-Token") == "KEY":
        headers = {"X-Auth-Token": info["api_key"]}
    response = httpx.get(info["url"] + "/campaigns", headers=headers)
    assert error_of(response) == (401, 1014)
    assert "X-RateLimit-Limit" not in response.headers


def test_bearer_token_is_accepted(info: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {info['access_token']}"}
    assert httpx.get(info["url"] + "/accounts", headers=headers).status_code == 200


def test_max_host_requires_the_domain_header(info: dict[str, Any]) -> None:
    key = {"X-Auth-Token": f"api-key {info['api_key']}"}
    url = info["max"]["url"] + "/accounts"
    missing = httpx.get(url, headers=key)
    assert error_of(missing) == (401, 1014)
    assert "X-Domain" in missing.json()["message"]
    wrong = httpx.get(url, headers={**key, "X-Domain": "other.example"})
    assert error_of(wrong) == (401, 1014)
    right = httpx.get(url, headers={**key, "X-Domain": info["max"]["domain"]})
    assert right.status_code == 200
    assert right.json()["href"] == info["max"]["url"] + "/accounts"


def test_max_host_shares_the_account(info: dict[str, Any], api: httpx.Client) -> None:
    created = api.post("/campaigns", json={"name": "shared_list"}).json()
    headers = {"X-Auth-Token": f"api-key {info['api_key']}", "X-Domain": info["max"]["domain"]}
    listed = httpx.get(info["max"]["url"] + "/campaigns", headers=headers).json()
    assert [c["campaignId"] for c in listed] == [created["campaignId"]]
    assert listed[0]["href"].startswith(info["max"]["url"])


def test_unknown_path_and_verb_are_404_route_not_found(api: httpx.Client) -> None:
    """As recorded on GetResponse 360 (tests/getresponse/recordings/route_not_found.json):
    code 100001, not the 1013 of an id that does not exist."""
    missing = api.get("/no-such-resource")
    assert error_of(missing) == (404, 100001)
    assert missing.json()["codeDescription"] == "Route not found, please check url"
    assert missing.json()["message"] == (
        "Route not found - [requestedUrl => /v3/no-such-resource/, requestedMethod => GET]"
    )
    assert missing.headers["content-type"] == "application/json;charset=utf-8"
    assert error_of(api.put("/campaigns")) == (404, 100001)
    assert error_of(api.get("/contacts/nosuchid")) == (404, 1013)  # a route, an unknown id


def test_malformed_json_body_is_400_code_1000(api: httpx.Client) -> None:
    response = api.post(
        "/campaigns", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert error_of(response) == (400, 1000)
