"""Row writes over real HTTP: create, read, update, upsert, delete, conditional headers,
lookups, single properties, validation errors and duplicate detection."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx
import pytest

GUID = re.compile(r"\(([0-9a-f-]{36})\)$")


def create(api: httpx.Client, entity_set: str, body: dict[str, Any], **headers: str) -> str:
    response = api.post(f"/{entity_set}", json=body, headers=headers)
    assert response.status_code == 204, response.text
    match = GUID.search(response.headers["OData-EntityId"])
    assert match, response.headers
    return match.group(1)


def error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


def test_create_answers_204_with_the_entity_id(api: httpx.Client, info: dict[str, Any]) -> None:
    response = api.post("/contacts", json={"firstname": "Ann", "lastname": "Lee"})
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["OData-Version"] == "4.0"
    entity_id = response.headers["OData-EntityId"]
    assert re.fullmatch(
        re.escape(info["url"]) + r"/api/data/v9\.2/contacts\([0-9a-f-]{36}\)", entity_id
    )


def test_create_with_return_representation_answers_201(api: httpx.Client) -> None:
    response = api.post(
        "/contacts?$select=fullname,emailaddress1",
        json={"firstname": "Ann", "lastname": "Lee", "emailaddress1": "ann@example.com"},
        headers={"Prefer": "return=representation"},
    )
    assert response.status_code == 201
    assert response.headers["Preference-Applied"] == "return=representation"
    body = response.json()
    assert body["@odata.context"].endswith("/$metadata#contacts(fullname,emailaddress1)/$entity")
    assert body["fullname"] == "Ann Lee"
    assert re.fullmatch(r'W/"\d+"', body["@odata.etag"])
    assert set(body) == {"@odata.context", "@odata.etag", "fullname", "emailaddress1", "contactid"}


def test_read_one_row_with_select(api: httpx.Client) -> None:
    contact = create(api, "contacts", {"firstname": "Ann", "lastname": "Lee", "donotemail": True})
    body = api.get(f"/contacts({contact})?$select=fullname,donotemail,statecode,merged").json()
    assert body["merged"] is False  # two-option columns default to false
    assert body["fullname"] == "Ann Lee"
    assert body["donotemail"] is True
    assert body["statecode"] == 0
    assert body["contactid"] == contact


def test_missing_row_is_404_object_does_not_exist(api: httpx.Client) -> None:
    missing = "5f2c7a4e-0000-4000-8000-000000000000"
    status, code, message = error(api.get(f"/contacts({missing})"))
    assert (status, code) == (404, "0x80040217")
    assert message == f"Entity 'contact' With Id = {missing} Does Not Exist"


def test_update_and_concurrency(api: httpx.Client) -> None:
    contact = create(api, "contacts", {"lastname": "Lee"})
    etag = api.get(f"/contacts({contact})?$select=lastname").json()["@odata.etag"]
    ok = api.patch(f"/contacts({contact})", json={"jobtitle": "Buyer"}, headers={"If-Match": etag})
    assert ok.status_code == 204
    stale = api.patch(
        f"/contacts({contact})", json={"jobtitle": "Chef"}, headers={"If-Match": etag}
    )
    assert error(stale)[:2] == (412, "0x80060882")
    fresh = api.get(f"/contacts({contact})?$select=jobtitle").json()
    assert fresh["jobtitle"] == "Buyer"
    assert fresh["@odata.etag"] != etag
    representation = api.patch(
        f"/contacts({contact})?$select=jobtitle",
        json={"jobtitle": "Chef"},
        headers={"If-Match": "*", "Prefer": "return=representation"},
    )
    assert representation.status_code == 200
    assert representation.json()["jobtitle"] == "Chef"


def test_if_match_star_prevents_create_and_if_none_match_prevents_update(api: httpx.Client) -> None:
    missing = "5f2c7a4e-0000-4000-8000-000000000001"
    blocked = api.patch(f"/contacts({missing})", json={"lastname": "X"}, headers={"If-Match": "*"})
    assert error(blocked)[:2] == (404, "0x80040217")
    created = api.patch(f"/contacts({missing})", json={"lastname": "X"})
    assert created.status_code == 204
    assert api.get(f"/contacts({missing})").json()["lastname"] == "X"
    refused = api.patch(
        f"/contacts({missing})", json={"lastname": "Y"}, headers={"If-None-Match": "*"}
    )
    assert error(refused)[:2] == (412, "0x80040237")


def test_conditional_get_answers_304(api: httpx.Client) -> None:
    contact = create(api, "contacts", {"lastname": "Lee"})
    etag = api.get(f"/contacts({contact})").json()["@odata.etag"]
    assert api.get(f"/contacts({contact})", headers={"If-None-Match": etag}).status_code == 304
    api.patch(f"/contacts({contact})", json={"lastname": "Li"})
    assert api.get(f"/contacts({contact})", headers={"If-None-Match": etag}).status_code == 200


def test_upsert_by_alternate_key_with_quotes(api: httpx.Client) -> None:
    key = {"SchemaName": "new_emailkey", "KeyAttributes": ["emailaddress1"]}
    assert api.post("/EntityDefinitions(LogicalName='contact')/Keys", json=key).status_code == 204
    url = "/contacts(emailaddress1='o''brien@example.com')"
    assert api.patch(url, json={"lastname": "O'Brien"}).status_code == 204
    assert api.patch(url, json={"firstname": "Siobhan"}).status_code == 204
    body = api.get(url + "?$select=fullname,emailaddress1").json()
    assert body["fullname"] == "Siobhan O'Brien"
    assert body["emailaddress1"] == "o'brien@example.com"
    # URL-encoded quotes are the same key.
    assert api.get("/contacts(emailaddress1=%27o%27%27brien%40example.com%27)").status_code == 200
    rows = api.get(
        "/contacts", params={"$filter": "emailaddress1 eq 'o''brien@example.com'"}
    ).json()
    assert len(rows["value"]) == 1
    clash = api.post(
        "/contacts", json={"lastname": "Again", "emailaddress1": "O'BRIEN@example.com"}
    )
    status, code, message = error(clash)
    assert (status, code) == (412, "0x80060892")
    assert "new_emailkey requires that this set of attributes contains unique values" in message
    missing = api.patch(
        "/contacts(emailaddress1='nobody@example.com')",
        json={"lastname": "N"},
        headers={"If-Match": "*"},
    )
    assert error(missing)[:2] == (404, "0x80060891")


@pytest.mark.parametrize("value", ["a+tag@example.com", "a/b@example.com", "50%@example.com"])
def test_a_key_value_the_service_cannot_route_in_a_url_is_refused(
    api: httpx.Client, value: str
) -> None:
    key = {"SchemaName": "new_emailkey", "KeyAttributes": ["emailaddress1"]}
    assert api.post("/EntityDefinitions(LogicalName='contact')/Keys", json=key).status_code == 204
    refused = api.patch(
        f"/contacts(emailaddress1='{quote(value, safe='')}')", json={"lastname": "X"}
    )
    assert refused.status_code == 400
    assert "Error in query syntax" in refused.json()["error"]["message"]


def test_key_segment_without_a_defined_key_is_refused(api: httpx.Client) -> None:
    status, _, message = error(api.get("/contacts(emailaddress1='a@example.com')"))
    assert status == 400
    assert "does not match any key defined for entity 'contact'" in message


def test_delete(api: httpx.Client) -> None:
    contact = create(api, "contacts", {"lastname": "Lee"})
    etag = api.get(f"/contacts({contact})").json()["@odata.etag"]
    api.patch(f"/contacts({contact})", json={"lastname": "Li"})
    assert api.delete(f"/contacts({contact})", headers={"If-Match": etag}).status_code == 412
    assert api.delete(f"/contacts({contact})", headers={"If-Match": "*"}).status_code == 204
    assert error(api.delete(f"/contacts({contact})"))[:2] == (404, "0x80040217")


def test_lookups_bind_read_and_clear(api: httpx.Client) -> None:
    account = create(api, "accounts", {"name": "Contoso"})
    contact = create(
        api,
        "contacts",
        {"lastname": "Lee", "parentcustomerid_account@odata.bind": f"/accounts({account})"},
    )
    body = api.get(
        f"/contacts({contact})?$select=_parentcustomerid_value",
        headers={"Prefer": 'odata.include-annotations="*"'},
    ).json()
    assert body["_parentcustomerid_value"] == account
    assert body["_parentcustomerid_value@OData.Community.Display.V1.FormattedValue"] == "Contoso"
    assert body["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "account"
    nav = "_parentcustomerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"
    assert body[nav] == "parentcustomerid_account"
    single = api.get(f"/contacts({contact})/parentcustomerid_account?$select=name").json()
    assert single["name"] == "Contoso"
    assert api.delete(f"/contacts({contact})/parentcustomerid_account/$ref").status_code == 204
    assert api.get(f"/contacts({contact})").json()["_parentcustomerid_value"] is None
    wrong = api.post(
        "/contacts",
        json={"lastname": "X", "parentcustomerid_account@odata.bind": f"/contacts({contact})"},
    )
    assert error(wrong)[0] == 400
    direct = api.post("/contacts", json={"lastname": "X", "_parentcustomerid_value": account})
    assert "Use Navigation properties instead" in error(direct)[2]


def test_owner_and_audit_columns(api: httpx.Client, info: dict[str, Any]) -> None:
    contact = create(api, "contacts", {"lastname": "Lee"})
    body = api.get(
        f"/contacts({contact})?$select=_ownerid_value,_createdby_value,createdon,modifiedon"
    ).json()
    admin = info["identities"]["admin"]["user_id"]
    assert body["_ownerid_value"] == admin == body["_createdby_value"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["createdon"])


def test_single_property_get_put_delete(api: httpx.Client) -> None:
    contact = create(api, "contacts", {"lastname": "Lee", "jobtitle": "Buyer"})
    value = api.get(f"/contacts({contact})/jobtitle").json()
    assert value["value"] == "Buyer"
    assert api.get(f"/contacts({contact})/jobtitle/$value").text == "Buyer"
    assert api.put(f"/contacts({contact})/jobtitle", json={"value": "Chef"}).status_code == 204
    assert api.get(f"/contacts({contact})/jobtitle").json()["value"] == "Chef"
    assert api.delete(f"/contacts({contact})/jobtitle").status_code == 204
    assert api.get(f"/contacts({contact})/jobtitle").status_code == 204


def test_validation_errors(api: httpx.Client) -> None:
    status, code, message = error(api.post("/contacts", json={"lastname": "x" * 51}))
    assert (status, code) == (400, "0x80044331")
    assert (
        "The length of the 'lastname' attribute of the 'contact' entity exceeded the maximum"
        in message
    )
    status, _, message = error(api.post("/contacts", json={"gendercode": 7}))
    assert status == 400
    assert "Accepted Values: 1,2" in message
    status, code, message = error(api.post("/contacts", json={"nickname": "x"}))
    assert (status, code) == (400, "0x0")
    assert (
        "The property 'nickname' does not exist on type 'Microsoft.Dynamics.CRM.contact'" in message
    )
    status, _, message = error(api.post("/contacts", json={"donotemail": "yes"}))
    assert status == 400
    assert "Edm.Boolean" in message
    status, _, message = error(api.post("/lists", json={"listname": "No type"}))
    assert status == 400
    assert "createdfromcode" in message


def test_state_and_status_pairs(api: httpx.Client) -> None:
    contact = create(api, "contacts", {"lastname": "Lee"})
    api.patch(f"/contacts({contact})", json={"statecode": 1})
    body = api.get(f"/contacts({contact})?$select=statecode,statuscode").json()
    assert (body["statecode"], body["statuscode"]) == (1, 2)
    bad = api.patch(f"/contacts({contact})", json={"statecode": 0, "statuscode": 2})
    assert error(bad)[0] == 400


def test_duplicate_detection_only_when_asked(api: httpx.Client) -> None:
    create(api, "contacts", {"lastname": "Lee", "emailaddress1": "lee@example.com"})
    create(api, "contacts", {"lastname": "Lee", "emailaddress1": "LEE@example.com"})
    detected = api.post(
        "/contacts",
        json={"lastname": "Lee", "emailaddress1": "lee@example.com"},
        headers={"MSCRM.SuppressDuplicateDetection": "false"},
    )
    assert error(detected) == (
        500,
        "0x80040333",
        "A record was not created or updated because a "
        "duplicate of the current record already exists.",
    )
    fine = api.post(
        "/contacts",
        json={"lastname": "Ko", "emailaddress1": "ko@example.com"},
        headers={"MSCRM.SuppressDuplicateDetection": "false"},
    )
    assert fine.status_code == 204


def test_intersect_tables_are_read_only(api: httpx.Client) -> None:
    status, _, message = error(api.post("/listmembers", json={}))
    assert status == 400
    assert "The 'Create' method does not support entities of type 'listmember'" in message


def test_unknown_entity_set_and_version(api: httpx.Client, info: dict[str, Any]) -> None:
    status, code, message = error(api.get("/widgets"))
    assert (status, code, message) == (404, "0x0", "Resource not found for the segment 'widgets'.")
    with httpx.Client(
        base_url=info["url"], headers={"Authorization": f"Bearer {info['token']}"}
    ) as raw:
        assert raw.get("/api/data/v7.0/contacts").status_code == 404
        assert raw.get("/api/data/v9.0/contacts").status_code == 200
