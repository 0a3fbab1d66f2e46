"""Lists (campaigns): create, find by name, read, update, and detecting deletion."""

from __future__ import annotations

import httpx
import pytest
from grsb_help import error_of, make_list


def test_create_returns_201_with_the_campaign(api: httpx.Client) -> None:
    response = api.post("/campaigns", json={"name": "Clients FR", "languageCode": "FR"})
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Clients FR"
    assert body["languageCode"] == "FR"
    assert body["isDefault"] == "true"  # the account's first list
    assert body["href"].endswith(f"/v3/campaigns/{body['campaignId']}")
    assert body["optinTypes"]["api"] == "single"
    assert api.get(f"/campaigns/{body['campaignId']}").json() == body


def test_taken_name_is_409_code_1008_case_insensitively(api: httpx.Client) -> None:
    make_list(api, "newsletter_fr")
    response = api.post("/campaigns", json={"name": "Newsletter_FR"})
    assert error_of(response) == (409, 1008)
    assert response.json()["context"] == {"value": "Newsletter_FR"}


@pytest.mark.parametrize("name", ["ab", "x" * 65, "a/b list", "vip@list", "[list]", "fun 🎉"])
def test_invalid_names_are_400_code_1000_naming_the_field(api: httpx.Client, name: str) -> None:
    response = api.post("/campaigns", json={"name": name})
    assert error_of(response) == (400, 1000)
    assert response.json()["context"]["fieldName"] == "name"


def test_find_by_name_filters_and_sorts(api: httpx.Client) -> None:
    for name in ("beta_list", "alpha_list", "gamma"):
        make_list(api, name)
    found = api.get("/campaigns", params={"query[name]": "list", "sort[name]": "ASC"})
    assert [c["name"] for c in found.json()] == ["alpha_list", "beta_list"]
    assert found.headers["TotalCount"] == "2"
    element = found.json()[0]
    assert element["description"] == element["name"]
    assert set(element) == {
        "campaignId",
        "href",
        "name",
        "techName",
        "languageCode",
        "isDefault",
        "createdOn",
        "description",
    }


def test_update_renames_and_refuses_a_taken_name(api: httpx.Client) -> None:
    first, second = make_list(api, "first_list"), make_list(api, "second_list")
    renamed = api.post(f"/campaigns/{first}", json={"name": "renamed_list"})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "renamed_list"
    assert error_of(api.post(f"/campaigns/{second}", json={"name": "renamed_list"})) == (409, 1008)


def test_setting_a_default_list_unsets_the_other(api: httpx.Client) -> None:
    first, second = make_list(api, "first_list"), make_list(api, "second_list")
    without_name = api.post(f"/campaigns/{second}", json={"isDefault": "true"})
    assert error_of(without_name) == (400, 1000)  # the description requires name on update
    api.post(f"/campaigns/{second}", json={"name": "second_list", "isDefault": "true"})
    defaults = {c["campaignId"]: c["isDefault"] for c in api.get("/campaigns").json()}
    assert defaults == {first: "false", second: "true"}


def test_list_deleted_in_the_web_app_is_404(api: httpx.Client, control: httpx.Client) -> None:
    cid = make_list(api, "to_delete")
    assert control.post("/__sandbox__/delete", json={"campaigns": [cid]}).status_code == 200
    assert error_of(api.get(f"/campaigns/{cid}")) == (404, 1013)
    assert api.get("/campaigns").json() == []
    make_list(api, "to_delete")  # the name is free again


def test_fields_projection_keeps_the_id(api: httpx.Client) -> None:
    make_list(api, "projected")
    assert api.get("/campaigns", params={"fields": "name"}).json()[0].keys() == {
        "campaignId",
        "name",
    }


def test_tags_and_custom_fields_lifecycle(api: httpx.Client) -> None:
    tag = api.post("/tags", json={"name": "vip_client"})
    assert tag.status_code == 201
    assert set(tag.json()) >= {"tagId", "name", "color", "createdAt"}
    duplicate = api.post("/tags", json={"name": "VIP_client"})
    assert error_of(duplicate) == (400, 1000)  # the description gives createTag no 409
    assert error_of(api.post("/tags", json={"name": "no spaces"})) == (400, 1000)
    tag_id = tag.json()["tagId"]
    assert api.post(f"/tags/{tag_id}", json={"name": "renamed"}).json()["name"] == "vip_client"
    assert api.delete(f"/tags/{tag_id}").status_code == 204
    assert error_of(api.get(f"/tags/{tag_id}")) == (404, 1013)

    body = {
        "name": "tier",
        "type": "string",
        "format": "single_select",
        "hidden": "false",
        "values": ["gold", "silver"],
    }
    field = api.post("/custom-fields", json=body)
    assert field.status_code == 201
    assert field.json()["fieldType"] == "single_select"
    assert error_of(api.post("/custom-fields", json=body)) == (400, 1000)
    for bad in (
        {"name": "email"},
        {"name": "Tier2"},
        {"format": "radio", "values": ["one"]},
        {"type": "colour"},
        {"hidden": "maybe"},
    ):
        assert error_of(api.post("/custom-fields", json={**body, "name": "other", **bad})) == (
            400,
            1000,
        )
    field_id = field.json()["customFieldId"]
    updated = api.post(
        f"/custom-fields/{field_id}",
        json={"hidden": "true", "values": ["gold", "silver", "bronze"]},
    )
    assert updated.json()["values"] == ["gold", "silver", "bronze"]
    assert updated.json()["hidden"] == "true"
    assert [f["name"] for f in api.get("/custom-fields", params={"query[name]": "ti"}).json()] == [
        "tier"
    ]
    assert api.delete(f"/custom-fields/{field_id}").status_code == 204
    assert api.get("/custom-fields").json() == []
