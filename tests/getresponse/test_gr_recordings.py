"""Our GetResponse client against real recorded answers (tests/getresponse/recordings/).

Each recording is replayed through ``httpx.MockTransport``: the client's request is matched to
the recorded one by method and path, and gets the recorded status, headers and body.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.errors import EXIT_BAD_INPUT
from reconcile.getresponse import (
    ApiKeyAuth,
    AuthenticationError,
    CreateOutcome,
    GetResponseClient,
    NewContact,
    NotFound,
    WrongAddress,
    create_contact,
    delete_contact,
    find_contact,
    get_contact,
    iter_campaigns,
    iter_contacts,
    iter_custom_fields,
)
from reconcile.retrying import RetryPolicy

RECORDINGS = Path(__file__).parent / "recordings"
KEY = "gr-recording-key-0123456789"


def recording(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))


def answer(recorded: dict[str, Any]) -> httpx.Response:
    response = recorded["response"]
    return httpx.Response(
        response["status"],
        headers=response["headers"],
        content=response["body"].encode("utf-8"),
        extensions={"reason_phrase": response["reason"].encode()},
    )


class Replay:
    """Answers each request with the recorded interaction of the same method and path; with
    ``every`` set, answers every request with that one (a wrong host answers all alike)."""

    def __init__(self, name: str, *, every: bool = False) -> None:
        self.interactions = recording(name)["interactions"]
        self.every = every
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.every:
            return answer(self.interactions[0])
        for item in self.interactions:
            url = httpx.URL(item["request"]["url"])
            if item["request"]["method"] == request.method and url.path == request.url.path:
                return answer(item)
        raise AssertionError(f"no recording for {request.method} {request.url}")

    def base_url(self) -> str:
        url = httpx.URL(self.interactions[0]["request"]["url"])
        return f"{url.scheme}://{url.host}/v3"


def client_for(replay: Replay) -> GetResponseClient:
    return GetResponseClient(
        ApiKeyAuth(KEY),
        base_url=replay.base_url(),
        transport=httpx.MockTransport(replay),
        sleep=lambda _: None,
        policy=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.01),
    )


def test_every_recording_names_its_source_and_holds_no_key_or_personal_data() -> None:
    files = sorted(RECORDINGS.glob("*.json"))
    assert len(files) >= 8
    for path in files:
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
        assert doc["source"]["repository"] == "kfit-dev/getresponse_ruby"
        assert len(doc["source"]["commit"]) == 40
        assert "api-key" not in text.lower()
        assert "x-auth-token" not in text.lower()
        emails = set(re.findall(r"[\w.%+-]+@[\w.-]+", text))
        assert emails <= {"contact@example.com", "email@example.com"}, (path.name, emails)


# -- a redirect is an error, never success ----------------------------------------------------
def _wrong_host() -> tuple[GetResponseClient, Replay]:
    replay = Replay("redirect_wrong_max_host", every=True)
    return client_for(replay), replay


def _assert_wrong_address(error: WrongAddress, method: str, path: str) -> None:
    text = str(error)
    assert f"{method} https://api3.getresponse360.pl/v3/{path}" in text
    assert "HTTP 301 Moved Permanently" in text
    assert "http://www.getresponse.com/enterprise" in text
    assert "not carried out" in text
    assert "getresponse.api_url" in (error.hint or "")
    assert "api3.getresponse360.com" in (error.hint or "")
    assert error.location == "http://www.getresponse.com/enterprise"
    assert error.exit_code == EXIT_BAD_INPUT
    assert "?" not in text.split("pointing to")[0]  # no query string (it holds the email)


def test_create_contact_on_a_redirect_raises_instead_of_returning_queued() -> None:
    client, replay = _wrong_host()
    with pytest.raises(WrongAddress) as caught:
        create_contact(client, "jeqeq1", NewContact("email@example.com", name="First Name"))
    _assert_wrong_address(caught.value, "POST", "contacts")
    assert len(replay.seen) == 1  # never retried, never followed


def test_iter_campaigns_on_a_redirect_raises_instead_of_returning_no_lists() -> None:
    client, _ = _wrong_host()
    with pytest.raises(WrongAddress) as caught:
        list(iter_campaigns(client))
    _assert_wrong_address(caught.value, "GET", "campaigns")


def test_get_contact_on_a_redirect_raises_wrong_address_not_attribute_error() -> None:
    client, _ = _wrong_host()
    with pytest.raises(WrongAddress):
        get_contact(client, "deSB")
    with pytest.raises(WrongAddress):
        find_contact(client, "deSB")


def test_delete_on_a_redirect_is_not_taken_for_done() -> None:
    client, _ = _wrong_host()
    with pytest.raises(WrongAddress):
        delete_contact(client, "deSB")


# -- "Route not found" is a wrong path, not a missing id ---------------------------------------
def test_route_not_found_is_a_wrong_address_not_a_missing_id() -> None:
    replay = Replay("route_not_found", every=True)
    client = client_for(replay)
    with pytest.raises(WrongAddress) as caught:
        get_contact(client, "resset")
    error = caught.value
    assert not isinstance(error, NotFound)
    assert error.code == 100001
    assert "the API path is wrong, not the id" in str(error)
    assert "Route not found" in str(error)
    with pytest.raises(WrongAddress):
        find_contact(client, "resset")  # not None: nothing says the contact is gone
    with pytest.raises(WrongAddress):
        delete_contact(client, "resset")  # not False ("already deleted")


def test_an_unknown_id_on_a_real_route_is_not_found() -> None:
    client = client_for(Replay("contact_id_not_found"))
    with pytest.raises(NotFound) as caught:
        get_contact(client, "contacts")
    assert caught.value.code == 1013
    assert "Could not find contact by id: contacts" in str(caught.value)
    assert find_contact(client, "contacts") is None


# -- the shapes of real answers -----------------------------------------------------------------
def test_an_accepted_contact_is_202_with_an_empty_json_list() -> None:
    replay = Replay("create_contact_accepted")
    outcome = create_contact(
        client_for(replay), "O", NewContact("contact@example.com", name="First Name")
    )
    assert outcome.outcome is CreateOutcome.QUEUED
    assert json.loads(replay.seen[0].content)["campaign"] == {"campaignId": "O"}


def test_contacts_with_unknown_time_zone_and_ip_address_read_as_none() -> None:
    # page 1 of 10,190: the three recorded contacts, without asking for page 2
    contacts = list(itertools.islice(iter_contacts(client_for(Replay("contacts_page"))), 3))
    assert [c.time_zone for c in contacts] == [None, None, "Asia/Kuala_Lumpur"]
    assert [c.ip_address for c in contacts] == [None, None, None]
    assert contacts[0].raw["timeZone"] == ""  # the API's own value stays in raw
    assert contacts[0].day_of_cycle is None
    assert contacts[0].scoring is None
    assert contacts[0].campaign_id == "A"


def test_a_page_of_a_large_account_says_how_many_pages_there_are() -> None:
    client = client_for(Replay("contacts_page"))
    first = next(client.pages("contacts", per_page=100))
    assert first.total_pages == 10190
    assert first.total_count == 1018927
    assert client.rate_limit.remaining == 29996
    assert client.rate_limit.reset_seconds == 337


def test_string_booleans_of_lists_and_custom_fields_are_booleans() -> None:
    (campaign,) = iter_campaigns(client_for(Replay("campaigns_page")))
    assert campaign.is_default is True
    fields = list(iter_custom_fields(client_for(Replay("custom_fields_page"))))
    assert fields
    assert all(f.hidden is False for f in fields)
    age = next(f for f in fields if f.name == "age")
    assert age.values == ("18-29", "30-44", "45-59", "60+", "<18")


def test_a_key_sent_to_the_wrong_host_is_an_authentication_error() -> None:
    client = client_for(Replay("unauthenticated", every=True))
    with pytest.raises(AuthenticationError) as caught:
        create_contact(client, "jeqeq1", NewContact("email@example.com"))
    assert caught.value.code == 1014
    assert KEY not in str(caught.value)
