"""``POST /search-contacts/contacts``: the emulated subset (tag, email and name conditions,
subscribed and removed contacts), paging, and refusals of what is not emulated."""

from __future__ import annotations

from typing import Any

import httpx
from grsb_help import error_of

from reconcile.sandbox.getresponse import GetResponseSandbox


def body(campaigns: list[str], *conditions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    section = {
        "campaignIdsList": campaigns,
        "logicOperator": extra.pop("logic", "and"),
        "subscriberCycle": ["receiving_autoresponder", "not_receiving_autoresponder"],
        "subscriptionDate": extra.pop("since", "all_time"),
        "conditions": list(conditions),
    }
    return {
        "subscribersType": [extra.pop("kind", "subscribed")],
        "sectionLogicOperator": "or",
        "section": [section],
        **extra,
    }


def tag(tag_id: str, operator: str = "exists") -> dict[str, Any]:
    return {"conditionType": "tag", "operatorType": "exists", "operator": operator,
            "value": tag_id}  # fmt: skip


def text(kind: str, operator: str, value: str) -> dict[str, Any]:
    return {"conditionType": kind, "operatorType": "string_operator", "operator": operator,
            "value": value}  # fmt: skip


def seed(sandbox: GetResponseSandbox) -> dict[str, Any]:
    contacts = [
        {"email": f"p{i}@x.fr", "name": f"Person {i}", "campaign": "list_a",
         "tags": ["vip"] if i % 3 == 0 else []}
        for i in range(1, 31)
    ]  # fmt: skip
    contacts.append({"email": "other@y.fr", "name": "Other", "campaign": "list_b", "tags": ["vip"]})
    return sandbox.seed(
        {
            "campaigns": [{"name": "list_a"}, {"name": "list_b"}],
            "tags": [{"name": "vip"}],
            "contacts": contacts,
        }
    )


def emails(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["email"] for c in response.json()]


def test_tag_conditions_select_the_tagged_contacts_of_the_chosen_lists(
    api: httpx.Client, sandbox: GetResponseSandbox
) -> None:
    ids = seed(sandbox)
    a, b, vip = ids["campaigns"]["list_a"], ids["campaigns"]["list_b"], ids["tags"]["vip"]
    tagged = api.post("/search-contacts/contacts", json=body([a], tag(vip)))
    assert emails(tagged) == [f"p{i}@x.fr" for i in range(3, 31, 3)]
    assert tagged.headers["TotalCount"] == "10"
    both = api.post("/search-contacts/contacts", json=body([a, b], tag(vip)))
    assert "other@y.fr" in emails(both)
    untagged = api.post("/search-contacts/contacts", json=body([a], tag(vip, "not_exists")))
    assert len(emails(untagged)) == 20
    paged = api.post(
        "/search-contacts/contacts", params={"perPage": 4, "page": 3}, json=body([a], tag(vip))
    )
    assert emails(paged) == ["p27@x.fr", "p30@x.fr"]
    assert (paged.headers["TotalPages"], paged.headers["CurrentPage"]) == ("3", "3")


def test_string_conditions_and_logic(api: httpx.Client, sandbox: GetResponseSandbox) -> None:
    ids = seed(sandbox)
    a = ids["campaigns"]["list_a"]
    found = api.post(
        "/search-contacts/contacts",
        json=body([a], text("email", "starts", "P1"), text("name", "ends", "0"), logic="or"),
        params={"sort[email]": "ASC"},
    )
    assert emails(found) == sorted(
        ["p1@x.fr", *(f"p{i}@x.fr" for i in range(10, 20)), "p20@x.fr", "p30@x.fr"]
    )
    exact = api.post("/search-contacts/contacts", json=body([a], text("email", "is", "P7@X.FR")))
    assert emails(exact) == ["p7@x.fr"]
    none = api.post(
        "/search-contacts/contacts", json=body([a], text("email", "not_contains", "@x.fr"))
    )
    assert emails(none) == []


def test_removed_and_unconfirmed_contacts(
    api: httpx.Client, control: httpx.Client, sandbox: GetResponseSandbox
) -> None:
    ids = seed(sandbox)
    a = ids["campaigns"]["list_a"]
    gone = ids["contacts"]["p5@x.fr"]
    assert api.delete(f"/contacts/{gone}", params={"messageId": "x"}).status_code == 204
    removed = api.post(
        "/search-contacts/contacts", json=body([a], text("email", "is", "p5@x.fr"), kind="removed")
    )
    assert [(c["email"], c["reason"]) for c in removed.json()] == [("p5@x.fr", "unsubscribe")]
    waiting = api.post("/search-contacts/contacts", json=body([a], kind="unconfirmed"))
    assert emails(waiting) == []


def test_what_is_not_emulated_is_refused(api: httpx.Client, sandbox: GetResponseSandbox) -> None:
    ids = seed(sandbox)
    a = ids["campaigns"]["list_a"]
    geo = {"conditionType": "geo", "operatorType": "string_operator", "operator": "is",
           "value": "FR"}  # fmt: skip
    assert error_of(api.post("/search-contacts/contacts", json=body([a], geo))) == (400, 1000)
    recent = body([a], since="last_7_days")
    assert error_of(api.post("/search-contacts/contacts", json=recent)) == (400, 1000)
    assert error_of(api.post("/search-contacts/contacts", json=body(["zzz"]))) == (400, 1001)
