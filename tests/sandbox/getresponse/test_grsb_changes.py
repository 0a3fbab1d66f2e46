"""``changedOn`` moves on every change an incremental reader must see (name, email, custom
field values, tags — also when their definition is deleted —, scoring and the engagement
score GetResponse recomputes over time), and only then; ``query[changedOn][from]`` finds them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconcile.sandbox.getresponse import GetResponseSandbox
from reconcile.sandbox.getresponse.db import fmt_time


@pytest.fixture
def seeded(sandbox: GetResponseSandbox) -> dict[str, Any]:
    ids = sandbox.seed(
        {
            "campaigns": [{"name": "clients_fr"}],
            "customFields": [{"name": "ville", "type": "string", "format": "text"}],
            "tags": ["vip", "client"],
            "contacts": [
                {"email": "anna@x.fr", "name": "Anna", "campaign": "clients_fr",
                 "customFields": {"ville": "Lyon"}, "tags": ["vip"], "scoring": 3,
                 "engagementScore": 2},
                {"email": "bob@x.fr", "name": "Bob", "campaign": "clients_fr"},
            ],
        }
    )  # fmt: skip
    start = sandbox.clock()
    ids["at"] = lambda minutes: fmt_time(start + 60 * minutes)
    return ids


def changed_since(api: httpx.Client, since: str) -> set[str]:
    answer = api.get("/contacts", params={"query[changedOn][from]": since, "perPage": 1000})
    return {c["email"] for c in answer.json()}


def changed_on(api: httpx.Client, contact: str) -> str:
    return str(api.get(f"/contacts/{contact}").json()["changedOn"])


CHANGES = {
    "name": ("", lambda ids: {"name": "Anna M."}),
    "email": ("", lambda ids: {"email": "anna.martin@x.fr"}),
    "scoring": ("", lambda ids: {"scoring": 8}),
    "custom field": (
        "/custom-fields",
        lambda ids: {
            "customFieldValues": [
                {"customFieldId": ids["customFields"]["ville"], "value": ["Nice"]}
            ]
        },
    ),
    "tag": ("/tags", lambda ids: {"tags": [{"tagId": ids["tags"]["client"]}]}),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_each_change_through_the_api_moves_changed_on(
    api: httpx.Client, sandbox: GetResponseSandbox, seeded: dict[str, Any], change: str
) -> None:
    anna = seeded["contacts"]["anna@x.fr"]
    path, build = CHANGES[change]
    body = build(seeded)
    assert changed_since(api, seeded["at"](5)) == set()
    sandbox.advance(600)
    assert api.post(f"/contacts/{anna}{path}", json=body).status_code == 200
    assert changed_on(api, anna) >= seeded["at"](10)  # the sandbox clock runs on meanwhile
    assert changed_since(api, seeded["at"](5)) == {body.get("email", "anna@x.fr")}


def test_deleting_a_tag_or_a_field_definition_changes_its_contacts_only(
    api: httpx.Client, sandbox: GetResponseSandbox, seeded: dict[str, Any]
) -> None:
    sandbox.advance(600)
    assert api.delete(f"/tags/{seeded['tags']['vip']}").status_code == 204
    assert changed_since(api, seeded["at"](5)) == {"anna@x.fr"}
    sandbox.advance(600)
    assert api.delete(f"/custom-fields/{seeded['customFields']['ville']}").status_code == 204
    assert changed_since(api, seeded["at"](15)) == {"anna@x.fr"}
    details = api.get(f"/contacts/{seeded['contacts']['anna@x.fr']}").json()
    assert details["tags"] == []
    assert details["customFieldValues"] == []


def test_scores_change_over_time_and_move_changed_on(
    api: httpx.Client, control: httpx.Client, sandbox: GetResponseSandbox, seeded: dict[str, Any]
) -> None:
    anna, bob = seeded["contacts"]["anna@x.fr"], seeded["contacts"]["bob@x.fr"]
    sandbox.advance(600)
    answer = control.post(
        "/__sandbox__/scores",
        json={"contacts": {anna: {"engagementScore": 4, "scoring": 3}, bob: {"scoring": 12}}},
    )
    assert answer.status_code == 200
    # Anna's scoring was already 3: only her engagement score changed; Bob's scoring did.
    assert sorted(answer.json()["changed"]) == sorted([anna, bob])
    assert api.get(f"/contacts/{anna}").json()["engagementScore"] == 4
    assert api.get(f"/contacts/{bob}").json()["scoring"] == 12
    assert changed_since(api, seeded["at"](5)) == {"anna@x.fr", "bob@x.fr"}
    sandbox.advance(600)
    same = control.post("/__sandbox__/scores", json={"contacts": {anna: {"engagementScore": 4}}})
    assert same.json()["changed"] == []
    assert changed_since(api, seeded["at"](15)) == set()


def test_engagement_is_recomputed_from_recent_activity(
    api: httpx.Client, control: httpx.Client, sandbox: GetResponseSandbox, seeded: dict[str, Any]
) -> None:
    anna = seeded["contacts"]["anna@x.fr"]
    number = sandbox.contacts.row_id(anna)
    sandbox.conn.executemany(
        "INSERT INTO activities (contact, contact_cid, email, newsletter, activity, created_on)"
        " VALUES (?, ?, 'anna@x.fr', 1, ?, ?)",
        [(number, anna, kind, seeded["at"](0)) for kind in ("send", "open", "click")],
    )
    answer = control.post("/__sandbox__/scores", json={"fromActivity": True})
    assert answer.json()["changed"] == [anna]
    assert api.get(f"/contacts/{anna}").json()["engagementScore"] == 5


@pytest.mark.parametrize(
    "body",
    [{"contacts": {"x": {"engagementScore": 9}}}, {"contacts": {"x": {"name": "n"}}}, {"y": 1}],
)
def test_bad_score_changes_are_refused(
    control: httpx.Client, seeded: dict[str, Any], body: dict[str, Any]
) -> None:
    anna = seeded["contacts"]["anna@x.fr"]
    if "contacts" in body:
        body = {"contacts": {anna: body["contacts"]["x"]}}
    assert control.post("/__sandbox__/scores", json=body).status_code == 400
