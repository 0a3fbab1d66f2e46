"""Helpers for the GetResponse sandbox tests (a uniquely named module, importable by name)."""

from __future__ import annotations

import httpx

DELAY = 30.0  # sandbox seconds before a queued contact appears (tests advance the clock)


def advance(control: httpx.Client, seconds: float) -> None:
    response = control.post("/__sandbox__/clock", json={"advance": seconds})
    assert response.status_code == 200, response.text


def make_list(api: httpx.Client, name: str = "clients_fr") -> str:
    response = api.post("/campaigns", json={"name": name})
    assert response.status_code == 201, response.text
    return str(response.json()["campaignId"])


def error_of(response: httpx.Response) -> tuple[int, int]:
    """(HTTP status, GetResponse code), after checking the body has all seven fields."""
    body = response.json()
    assert set(body) == {
        "httpStatus",
        "code",
        "codeDescription",
        "message",
        "moreInfo",
        "context",
        "uuid",
    }, body
    assert body["httpStatus"] == response.status_code
    assert body["moreInfo"].endswith(f"/errors/{body['code']}")
    return response.status_code, body["code"]
