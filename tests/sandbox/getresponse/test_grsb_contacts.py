"""Contacts: queued creation, listing and search, details, updates, tags, fields, deletion."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from grsb_help import DELAY, advance, error_of, make_list


def add(api: httpx.Client, campaign: str, email: str, **extra: Any) -> httpx.Response:
    return api.post(
        "/contacts", json={"email": email, "campaign": {"campaignId": campaign}, **extra}
    )


def only(api: httpx.Client, email: str) -> dict[str, Any]:
    found = api.get("/contacts", params={"query[email]": email, "additionalFlags": "exactMatch"})
    assert len(found.json()) == 1, found.json()
    return found.json()[0]


def test_create_is_202_empty_and_visible_after_the_delay(
    api: httpx.Client, control: httpx.Client
) -> None:
    campaign = make_list(api)
    response = add(api, campaign, "anna.martin@gmail.com", name="Anna Martin")
    assert response.status_code == 202
    assert response.content == b"[]"  # as recorded on GetResponse 360
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    assert api.get("/contacts").json() == []
    advance(control, DELAY - 1)
    assert api.get("/contacts").json() == []
    advance(control, 1)
    contact = only(api, "anna.martin@gmail.com")
    assert contact["name"] == "Anna Martin"
    assert contact["origin"] == "api"
    assert contact["campaign"]["campaignId"] == campaign
    assert contact["href"].endswith(f"/v3/contacts/{contact['contactId']}")
    assert contact["activities"] == contact["href"] + "/activities"


def test_adding_an_email_already_on_the_list_or_queued_is_409_code_1008(
    api: httpx.Client, control: httpx.Client
) -> None:
    campaign, other = make_list(api), make_list(api, "other_list")
    add(api, campaign, "jean@orange.fr")
    assert error_of(add(api, campaign, "Jean@Orange.fr")) == (409, 1008)  # still queued
    advance(control, DELAY)
    assert error_of(add(api, campaign, "jean@orange.fr")) == (409, 1008)  # on the list
    assert add(api, other, "jean@orange.fr").status_code == 202  # another list: another contact


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b.fr", "name": ""}, "name"),
        ({"email": "a@b.fr", "ipAddress": "999.1.1.1"}, "ipAddress"),
        ({"email": "a@b.fr", "scoring": "lots"}, "scoring"),
    ],
)
def test_invalid_contact_is_400_code_1000_naming_the_field(
    api: httpx.Client, body: dict[str, Any], field: str
) -> None:
    campaign = make_list(api)
    response = api.post("/contacts", json={**body, "campaign": {"campaignId": campaign}})
    assert error_of(response) == (400, 1000)
    assert response.json()["context"]["fieldName"] == field


def test_unknown_list_tag_or_field_is_400_code_1001(api: httpx.Client) -> None:
    assert error_of(add(api, "nope", "a@b.fr")) == (400, 1001)
    campaign = make_list(api)
    assert error_of(add(api, campaign, "a@b.fr", tags=[{"tagId": "zz"}])) == (400, 1001)
    missing_field = [{"customFieldId": "zz", "value": ["x"]}]
    assert error_of(add(api, campaign, "a@b.fr", customFieldValues=missing_field)) == (400, 1001)


def test_undeliverable_address_is_rejected_later_and_then_refused_with_1002(
    api: httpx.Client, control: httpx.Client
) -> None:
    campaign = make_list(api)
    control.post("/__sandbox__/config", json={"undeliverable_domains": ["nowhere.fr"]})
    assert add(api, campaign, "ghost@nowhere.fr").status_code == 202
    assert add(api, campaign, "ghost@mail.invalid").status_code == 202
    advance(control, DELAY)
    assert api.get("/contacts").json() == []
    again = add(api, campaign, "ghost@nowhere.fr")
    assert error_of(again) == (400, 1002)
    assert again.json()["context"]["reason"] == "invalid_email"
    queue = {item["email"]: item for item in control.get("/__sandbox__/queue").json()}
    assert queue["ghost@mail.invalid"]["state"] == "rejected"
    assert queue["ghost@mail.invalid"]["reason"] == "invalid_email"


def test_blocklisted_address_is_refused_now_or_rejected_if_listed_while_queued(
    api: httpx.Client, control: httpx.Client
) -> None:
    campaign = make_list(api)
    api.post("/accounts/blocklists", json={"masks": ["@spam.example"]})
    refused = add(api, campaign, "bob@spam.example")
    assert error_of(refused) == (400, 1002)
    assert refused.json()["context"]["reason"] == "blacklisted"
    assert add(api, campaign, "carl@gmail.com").status_code == 202
    api.post("/accounts/blocklists", json={"masks": ["@spam.example", "carl@gmail.com"]})
    advance(control, DELAY)
    assert api.get("/contacts").json() == []
    assert control.get("/__sandbox__/queue").json()[-1]["reason"] == "blacklisted"


def test_zero_delay_makes_contacts_visible_at_once(
    api: httpx.Client, control: httpx.Client
) -> None:
    control.post("/__sandbox__/config", json={"contact_delay": 0})
    campaign = make_list(api)
    add(api, campaign, "now@gmail.com")
    assert only(api, "now@gmail.com")["email"] == "now@gmail.com"


def test_search_by_email_is_like_unless_exact_match(
    api: httpx.Client, sandbox: Any, control: httpx.Client
) -> None:
    campaign = make_list(api)
    sandbox.bulk_add_contacts(
        campaign, [{"email": e} for e in ("jo@gmail.com", "jo@gmail.com.br", "ajo@gmail.com")]
    )
    like = api.get("/contacts", params={"query[email]": "jo@gmail.com"}).json()
    assert sorted(c["email"] for c in like) == ["ajo@gmail.com", "jo@gmail.com", "jo@gmail.com.br"]
    assert only(api, "JO@gmail.com")["email"] == "jo@gmail.com"
    underscore = api.get("/contacts", params={"query[email]": "_o@"}).json()
    assert underscore == []  # LIKE wildcards in the value are literal


def test_details_carry_tags_fields_and_geolocation(api: httpx.Client, sandbox: Any) -> None:
    ids = sandbox.seed(
        {
            "campaigns": [{"name": "clients_fr"}],
            "tags": [{"name": "vip"}],
            "customFields": [
                {"name": "tier", "format": "single_select", "values": ["gold", "silver"]}
            ],
            "contacts": [
                {
                    "email": "anna@x.fr",
                    "name": "Anna",
                    "campaign": "clients_fr",
                    "tags": ["vip"],
                    "customFields": {"tier": ["gold"]},
                    "scoring": 12,
                    "engagementScore": 4,
                    "origin": "import",
                }
            ],
        }
    )
    contact = api.get(f"/contacts/{ids['contacts']['anna@x.fr']}").json()
    assert contact["tags"][0]["name"] == "vip"
    assert contact["tags"][0]["href"].endswith(f"/tags/{ids['tags']['vip']}")
    value = contact["customFieldValues"][0]
    assert value["name"] == "tier"
    assert value["value"] == value["values"] == ["gold"]
    assert (value["type"], value["fieldType"], value["valueType"]) == (
        "single_select",
        "single_select",
        "string",
    )
    assert contact["scoring"] == 12
    assert contact["engagementScore"] == 4
    assert contact["origin"] == "import"
    assert set(contact["geolocation"]) >= {"latitude", "countryCode", "city"}


def test_update_replaces_tags_and_fields_and_moves_lists(api: httpx.Client, sandbox: Any) -> None:
    ids = sandbox.seed(
        {
            "campaigns": [{"name": "list_a"}, {"name": "list_b"}],
            "tags": [{"name": "vip"}, {"name": "new"}],
            "customFields": [{"name": "city"}],
            "contacts": [
                {
                    "email": "anna@x.fr",
                    "campaign": "list_a",
                    "tags": ["vip"],
                    "customFields": {"city": "Paris"},
                },
                {"email": "anna@x.fr", "campaign": "list_b"},
            ],
        }
    )
    contact_id = api.get(
        "/contacts", params={"query[campaignId]": ids["campaigns"]["list_a"]}
    ).json()[0]["contactId"]
    updated = api.post(
        f"/contacts/{contact_id}",
        json={
            "name": "Anna Martin",
            "tags": [{"tagId": ids["tags"]["new"]}],
            "customFieldValues": [
                {"customFieldId": ids["customFields"]["city"], "value": ["Lyon"]}
            ],
        },
    )
    assert updated.status_code == 200
    body = updated.json()
    assert body["name"] == "Anna Martin"
    assert [t["name"] for t in body["tags"]] == ["new"]
    assert body["customFieldValues"][0]["value"] == ["Lyon"]
    assert body["changedOn"] >= body["createdOn"]
    cleared = api.post(f"/contacts/{contact_id}", json={"tags": []}).json()
    assert cleared["tags"] == []
    assert cleared["customFieldValues"][0]["value"] == ["Lyon"]  # omitted: untouched
    moved = api.post(
        f"/contacts/{contact_id}", json={"campaign": {"campaignId": ids["campaigns"]["list_b"]}}
    )
    assert error_of(moved) == (409, 1008)  # anna@x.fr is already on list_b


def test_upserts_add_without_removing(api: httpx.Client, sandbox: Any) -> None:
    ids = sandbox.seed(
        {
            "campaigns": [{"name": "list_a"}],
            "tags": [{"name": "vip"}, {"name": "new"}],
            "customFields": [{"name": "city"}, {"name": "zip"}],
            "contacts": [
                {
                    "email": "anna@x.fr",
                    "campaign": "list_a",
                    "tags": ["vip"],
                    "customFields": {"city": "Paris"},
                }
            ],
        }
    )
    cid = ids["contacts"]["anna@x.fr"]
    tags = api.post(f"/contacts/{cid}/tags", json={"tags": [{"tagId": ids["tags"]["new"]}]})
    assert tags.status_code == 200
    assert sorted(t["name"] for t in tags.json()) == ["new", "vip"]
    assert all("createdAt" in t for t in tags.json())
    fields = api.post(
        f"/contacts/{cid}/custom-fields",
        json={
            "customFieldValues": [{"customFieldId": ids["customFields"]["zip"], "value": ["75007"]}]
        },
    )
    assert sorted(map(tuple, (f["values"] for f in fields.json()))) == [("75007",), ("Paris",)]


def test_custom_field_values_are_checked_against_the_definition(
    api: httpx.Client, sandbox: Any
) -> None:
    ids = sandbox.seed(
        {
            "campaigns": [{"name": "list_a"}],
            "customFields": [
                {"name": "tier", "format": "single_select", "values": ["gold", "silver"]},
                {"name": "age", "type": "number"},
            ],
        }
    )
    tier, age = ids["customFields"]["tier"], ids["customFields"]["age"]
    bad_choice = [{"customFieldId": tier, "value": ["bronze"]}]
    not_number = [{"customFieldId": age, "value": ["old"]}]
    for values in (bad_choice, not_number):
        response = add(api, ids["campaigns"]["list_a"], "a@b.fr", customFieldValues=values)
        assert error_of(response) == (400, 1000)


def test_delete_is_204_then_404_and_unsubscribe_blocks_readding(
    api: httpx.Client, sandbox: Any
) -> None:
    ids = sandbox.seed(
        {
            "campaigns": [{"name": "list_a"}],
            "contacts": [
                {"email": "a@b.fr", "campaign": "list_a"},
                {"email": "c@d.fr", "campaign": "list_a"},
            ],
        }
    )
    first, second = ids["contacts"]["a@b.fr"], ids["contacts"]["c@d.fr"]
    assert api.delete(f"/contacts/{first}").status_code == 204
    assert error_of(api.get(f"/contacts/{first}")) == (404, 1013)
    assert error_of(api.delete(f"/contacts/{first}")) == (404, 1013)
    assert add(api, ids["campaigns"]["list_a"], "a@b.fr").status_code == 202
    assert api.delete(f"/contacts/{second}", params={"messageId": "N1"}).status_code == 204
    assert error_of(add(api, ids["campaigns"]["list_a"], "c@d.fr")) == (400, 1002)


def test_list_contacts_endpoint_and_date_filters(api: httpx.Client, sandbox: Any) -> None:
    ids = sandbox.seed(
        {
            "campaigns": [{"name": "list_a"}, {"name": "list_b"}],
            "contacts": [
                {
                    "email": "old@x.fr",
                    "campaign": "list_a",
                    "createdOn": "2023-05-01T10:00:00+0000",
                },
                {
                    "email": "new@x.fr",
                    "campaign": "list_a",
                    "createdOn": "2024-05-01T10:00:00+0000",
                    "changedOn": "2024-06-02T10:00:00+0000",
                },
                {"email": "else@x.fr", "campaign": "list_b"},
            ],
        }
    )
    list_a = ids["campaigns"]["list_a"]
    listed = api.get(f"/campaigns/{list_a}/contacts", params={"sort[email]": "DESC"}).json()
    assert [c["email"] for c in listed] == ["old@x.fr", "new@x.fr"]
    since = api.get(
        "/contacts", params={"query[createdOn][from]": "2024-01-01", "query[campaignId]": list_a}
    ).json()
    assert [c["email"] for c in since] == ["new@x.fr"]
    changed = api.get(
        "/contacts",
        params={
            "query[changedOn][from]": "2024-06-02T00:00:00+0000",
            "query[changedOn][to]": "2024-06-02",
        },
    ).json()
    assert [c["email"] for c in changed] == ["new@x.fr"]
    bad = api.get("/contacts", params={"query[createdOn][from]": "yesterday"})
    assert error_of(bad) == (400, 1000)
    assert error_of(api.get(f"/campaigns/{list_a}/contacts", params={"query[origin]": "api"})) == (
        400,
        1000,
    )
    assert error_of(api.get("/contacts", params={"sort[score]": "ASC"})) == (400, 1000)
    assert error_of(api.get("/campaigns/nope/contacts")) == (400, 1001)


def test_batch_queues_the_new_and_the_queue_rejects_the_forbidden(
    api: httpx.Client, control: httpx.Client, sandbox: Any
) -> None:
    campaign = make_list(api)
    sandbox.seed({"blacklist": ["@spam.example"]})
    sandbox.seed(
        {
            "campaigns": [{"name": "other"}],
            "contacts": [{"email": "left@x.fr", "campaign": "other"}],
        }
    )
    left = only(api, "left@x.fr")["contactId"]
    api.delete(f"/contacts/{left}", params={"messageId": "N1"})  # unsubscribed
    response = api.post(
        "/contacts/batch",
        json={
            "campaignId": campaign,
            "contacts": [
                {"email": "new@x.fr"},
                {"email": "NEW@x.fr"},
                {"email": "bad@spam.example"},
                {"email": "left@x.fr"},
            ],
        },
    )
    assert response.status_code == 202
    advance(control, DELAY)
    assert [c["email"] for c in api.get("/contacts").json()] == ["new@x.fr"]
    fate = {item["email"]: item["reason"] for item in control.get("/__sandbox__/queue").json()}
    assert fate == {
        "new@x.fr": None,
        "bad@spam.example": "blacklisted",
        "left@x.fr": "unsubscribed",
    }


def test_batch_refuses_more_than_1000_and_all_duplicates(
    api: httpx.Client, control: httpx.Client
) -> None:
    campaign = make_list(api)
    too_many = [{"email": f"u{i}@x.fr"} for i in range(1001)]
    assert error_of(
        api.post("/contacts/batch", json={"campaignId": campaign, "contacts": too_many})
    ) == (400, 1000)
    advance(control, 1)  # the batch endpoint takes one call per second
    first = api.post("/contacts/batch", json={"campaignId": campaign, "contacts": too_many[:2]})
    assert first.status_code == 202
    advance(control, 1)
    again = api.post("/contacts/batch", json={"campaignId": campaign, "contacts": too_many[:2]})
    assert error_of(again) == (409, 1008)
