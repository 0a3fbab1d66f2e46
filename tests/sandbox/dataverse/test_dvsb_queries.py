"""Collection queries over real HTTP: $select, $filter (through the OData parser), $orderby,
$top, $count, $expand, nextLink paging, /$count, and the errors Dataverse gives."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from reconcile.sandbox.dataverse import DataverseSandbox


def rows(api: httpx.Client, path: str = "/contacts", **params: str) -> list[dict[str, Any]]:
    response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()["value"]


def odata_error(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    return response.json()["error"]["message"]


@pytest.fixture
def people(sandbox: DataverseSandbox) -> list[str]:
    return sandbox.bulk_contacts(
        [
            {
                "firstname": "Ann",
                "lastname": "Lee",
                "emailaddress1": "ann@example.com",
                "jobtitle": "Buyer",
            },
            {"firstname": "Bob", "lastname": "O'Brien", "emailaddress1": "o'brien@example.com"},
            {
                "firstname": "Cid",
                "lastname": "Lee",
                "emailaddress1": "cid@example.org",
                "statecode": 1,
            },
            {"firstname": "Dee", "lastname": "Zed", "emailaddress1": None, "jobtitle": "Chef"},
            {"firstname": "Eve", "lastname": "100% Sure", "emailaddress1": "eve_x@example.com"},
        ]
    )


def names(found: list[dict[str, Any]]) -> list[str]:
    return [r["firstname"] for r in found]


def test_select_returns_the_columns_asked_for(api: httpx.Client, people: list[str]) -> None:
    found = rows(api, **{"$select": "firstname,emailaddress1", "$filter": "firstname eq 'Ann'"})
    assert set(found[0]) == {"@odata.etag", "firstname", "emailaddress1", "contactid"}
    message = odata_error(api.get("/contacts", params={"$select": "firstname,nickname"}))
    assert (
        message
        == "Could not find a property named 'nickname' on type 'Microsoft.Dynamics.CRM.contact'."
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("emailaddress1 eq 'o''brien@example.com'", ["Bob"]),
        ("emailaddress1 eq 'O''BRIEN@EXAMPLE.COM'", ["Bob"]),  # strings compare case-insensitively
        ("lastname eq 'Lee' and statecode eq 0", ["Ann"]),
        ("lastname eq 'Lee' or firstname eq 'Dee'", ["Ann", "Cid", "Dee"]),
        ("not (lastname eq 'Lee')", ["Bob", "Dee", "Eve"]),
        ("emailaddress1 eq null", ["Dee"]),
        ("emailaddress1 ne null and statecode eq 0", ["Ann", "Bob", "Eve"]),
        ("jobtitle ne 'Buyer'", ["Bob", "Cid", "Dee", "Eve"]),
        ("contains(emailaddress1,'''')", ["Bob"]),
        ("startswith(lastname,'O''B')", ["Bob"]),
        ("endswith(emailaddress1,'.org')", ["Cid"]),
        ("contains(lastname,'100%')", ["Eve"]),
        ("contains(emailaddress1,'e_x')", ["Eve"]),
        ("contains(emailaddress1,'ex_mple')", []),  # _ is not a wildcard
        ("firstname in ('Ann','Dee')", ["Ann", "Dee"]),
        (
            'Microsoft.Dynamics.CRM.In(PropertyName=\'lastname\',PropertyValues=["O\'Brien","Zed"])',
            ["Bob", "Dee"],
        ),
        (
            "Microsoft.Dynamics.CRM.NotIn(PropertyName='lastname',PropertyValues=['Lee'])",
            ["Bob", "Dee", "Eve"],
        ),
        ("firstname eq lastname", []),
        ("statecode ge 1", ["Cid"]),
    ],
)
def test_filters(
    api: httpx.Client, people: list[str], expression: str, expected: list[str]
) -> None:
    found = rows(api, **{"$filter": expression, "$select": "firstname", "$orderby": "firstname"})
    assert names(found) == expected


def test_filter_with_a_parameter_alias(api: httpx.Client, people: list[str]) -> None:
    found = rows(api, **{"$filter": "emailaddress1 eq @mail", "@mail": "'o''brien@example.com'"})
    assert names(found) == ["Bob"]


def test_filter_plus_in_the_query_string_is_a_space(api: httpx.Client, people: list[str]) -> None:
    response = api.get("/contacts?$filter=lastname+eq+%27O%27%27Brien%27&$select=firstname")
    assert names(response.json()["value"]) == ["Bob"]


def test_a_filter_syntax_error_answers_dataverse_own_message(api: httpx.Client) -> None:
    """A real answer, quoted in AleksandrRogov/DynamicsWebApi#40 (a client that URL-encoded
    its parameter aliases into the filter)."""
    text = "Microsoft.Dynamics.CRM.LastXMonths(PropertyName=@p1,PropertyValue=@p2)&@p1='name'&p2=42"
    response = api.get("/contacts", params={"$filter": text})
    assert response.status_code == 400
    assert odata_error(response) == (
        f"Syntax error: character '&' is not valid at position 70 in '{text}'."
    )


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        (
            "statecode eq '0'",
            "Found operand types 'Edm.Int32' and 'Edm.String' for operator kind 'Equal'",
        ),
        (
            "contactid eq '00000000-0000-0000-0000-000000000000'",
            "Found operand types 'Edm.Guid' and 'Edm.String' for operator kind 'Equal'",
        ),
        ("nickname eq 'x'", "Could not find a property named 'nickname'"),
        ("tolower(lastname) eq 'lee'", "The 'tolower' function is not supported."),
        # Microsoft.OData's texts, as Dataverse answers them (reconcile/sandbox/dataverse/syntax.py)
        ("lastname eq", "Expression expected at position 11 in 'lastname eq'."),
        ("lastname eq 'lee", "There is an unterminated string literal at position 12 in"),
        ("lastname eq 'a' & x", "Syntax error: character '&' is not valid at position 16 in"),
        ("lastname eq 'a')", "Syntax error at position 15 in 'lastname eq 'a')'."),
        ("nosuch(lastname)", "An unknown function with name 'nosuch' was found."),
        ("parentcustomerid eq null", "Could not find a property named 'parentcustomerid'"),
    ],
)
def test_filter_errors(api: httpx.Client, expression: str, fragment: str) -> None:
    response = api.get("/contacts", params={"$filter": expression})
    assert fragment in odata_error(response)
    assert response.json()["error"]["code"] == "0x0"


def test_lookup_filters_take_guids(api: httpx.Client, sandbox: DataverseSandbox) -> None:
    account = api.post("/accounts", json={"name": "Contoso"}).headers["OData-EntityId"][-37:-1]
    sandbox.bulk_contacts(
        [
            {"lastname": "In", "parentcustomerid_account@odata.bind": f"/accounts({account})"},
            {"lastname": "Out"},
        ]
    )
    found = rows(api, **{"$filter": f"_parentcustomerid_value eq {account}", "$select": "lastname"})
    assert [r["lastname"] for r in found] == ["In"]
    found = rows(
        api, **{"$filter": "parentcustomerid_account/name eq 'Contoso'", "$select": "lastname"}
    )
    assert [r["lastname"] for r in found] == ["In"]
    found = rows(
        api, "/accounts", **{"$filter": "contact_customer_accounts/any(c:c/lastname eq 'In')"}
    )
    assert [r["name"] for r in found] == ["Contoso"]
    found = rows(
        api, "/accounts", **{"$filter": "contact_customer_accounts/any(c:c/lastname eq 'Out')"}
    )
    assert found == []


def test_orderby_and_top(api: httpx.Client, people: list[str]) -> None:
    found = rows(
        api, **{"$orderby": "lastname desc,firstname asc", "$top": "3", "$select": "firstname"}
    )
    assert names(found) == ["Dee", "Bob", "Ann"]
    assert "@odata.nextLink" not in api.get("/contacts", params={"$top": "2"}).json()
    assert "Syntax error in $orderby" in odata_error(
        api.get("/contacts", params={"$orderby": "lastname up"})
    )


@pytest.mark.parametrize("option", ["savedQuery", "sql", "$search"])
def test_options_not_emulated_are_refused(api: httpx.Client, option: str) -> None:
    message = odata_error(api.get("/contacts", params={option: "x"}))
    assert message == f"The sandbox does not emulate the '{option}' query option."


def test_skip_is_refused_as_on_dataverse(api: httpx.Client) -> None:
    assert (
        odata_error(api.get("/contacts", params={"$skip": "10"}))
        == "The query parameter $skip is not supported"
    )


def test_count(api: httpx.Client, people: list[str]) -> None:
    body = api.get(
        "/contacts",
        params={"$count": "true", "$filter": "statecode eq 0", "$select": "firstname"},
        headers={"Prefer": 'odata.include-annotations="Microsoft.Dynamics.CRM.*"'},
    ).json()
    assert body["@odata.count"] == 4
    assert body["@Microsoft.Dynamics.CRM.totalrecordcount"] == 4
    assert body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is False
    response = api.get("/contacts/$count")
    assert response.text == "5"
    assert response.headers["content-type"].startswith("text/plain")


def test_count_caps_at_5000(api: httpx.Client, sandbox: DataverseSandbox) -> None:
    sandbox.bulk_contacts([{"lastname": f"C{i}"} for i in range(5003)])
    body = api.get(
        "/contacts",
        params={"$count": "true", "$select": "lastname"},
        headers={"Prefer": "odata.maxpagesize=1"},
    ).json()
    assert body["@odata.count"] == 5000
    assert api.get("/contacts/$count").text == "5000"


def test_paging_over_many_pages_with_nulls_and_ties(
    api: httpx.Client, sandbox: DataverseSandbox
) -> None:
    sandbox.bulk_contacts(
        [
            {"lastname": f"L{i % 37:02}", "jobtitle": None if i % 5 == 0 else f"J{i % 7}"}
            for i in range(1234)
        ]
    )
    expected = rows(api, **{"$select": "jobtitle,lastname", "$orderby": "jobtitle desc,lastname"})
    assert len(expected) == 1234
    headers = {"Prefer": "odata.maxpagesize=100"}
    url: str | None = "/contacts?$select=jobtitle,lastname&$orderby=jobtitle desc,lastname"
    seen: list[dict[str, Any]] = []
    pages = 0
    while url:
        response = api.get(url, headers=headers)
        assert response.headers["Preference-Applied"] == "odata.maxpagesize=100"
        body = response.json()
        seen += body["value"]
        pages += 1
        url = body.get("@odata.nextLink")
        if url:
            assert "$skiptoken=%3Ccookie%20pagenumber=%22" in url
    assert pages == 13
    assert [r["contactid"] for r in seen] == [r["contactid"] for r in expected]
    titles = [r["jobtitle"] for r in seen]
    first_null = titles.index(None)
    assert all(t is None for t in titles[first_null:])  # NULLs sort last when descending
    pairs = [(r["jobtitle"], r["lastname"]) for r in seen[:first_null]]
    assert pairs == sorted(pairs, key=lambda p: (-int(p[0][1:]), p[1]))


def test_page_size_above_5000_is_ignored(api: httpx.Client, sandbox: DataverseSandbox) -> None:
    sandbox.bulk_contacts([{"lastname": f"C{i}"} for i in range(5001)])
    body = api.get(
        "/contacts?$select=lastname", headers={"Prefer": "odata.maxpagesize=9000"}
    ).json()
    assert len(body["value"]) == 5000
    assert "@odata.nextLink" in body


def test_top_is_ignored_with_a_page_size(api: httpx.Client, people: list[str]) -> None:
    body = api.get("/contacts?$top=1", headers={"Prefer": "odata.maxpagesize=2"}).json()
    assert len(body["value"]) == 2
    assert "@odata.nextLink" in body


def test_a_skiptoken_of_another_query_is_refused(api: httpx.Client, people: list[str]) -> None:
    first = api.get("/contacts?$select=lastname", headers={"Prefer": "odata.maxpagesize=2"}).json()
    token = first["@odata.nextLink"].split("$skiptoken=")[1]
    response = api.get(f"/contacts?$orderby=lastname&$skiptoken={token}")
    assert "does not belong to this query" in odata_error(response)


def test_expand_single_and_collection(api: httpx.Client, sandbox: DataverseSandbox) -> None:
    account = api.post("/accounts", json={"name": "Contoso"}).headers["OData-EntityId"][-37:-1]
    bind = {"parentcustomerid_account@odata.bind": f"/accounts({account})"}
    sandbox.bulk_contacts([{"lastname": "B", **bind}, {"lastname": "A", **bind}, {"lastname": "C"}])
    found = rows(
        api,
        **{
            "$select": "lastname",
            "$orderby": "lastname",
            "$expand": "parentcustomerid_account($select=name)",
        },
    )
    assert [
        r["parentcustomerid_account"] and r["parentcustomerid_account"]["name"] for r in found
    ] == ["Contoso", "Contoso", None]
    account_rows = rows(
        api,
        "/accounts",
        **{
            "$select": "name",
            "$expand": "contact_customer_accounts($select=lastname;$orderby=lastname desc;"
            "$filter=lastname ne 'Z')",
        },
    )
    assert [c["lastname"] for c in account_rows[0]["contact_customer_accounts"]] == ["B", "A"]
    one = api.get(
        f"/accounts({account})?$expand=contact_customer_accounts($select=lastname;$top=1)"
    ).json()
    assert len(one["contact_customer_accounts"]) == 1
    assert "Nested $expand" in odata_error(
        api.get(
            "/accounts",
            params={"$expand": "contact_customer_accounts($expand=parentcustomerid_account)"},
        )
    )


def test_formatted_values(api: httpx.Client, people: list[str]) -> None:
    body = api.get(
        "/contacts?$select=statecode,donotbulkemail,createdon&$filter=firstname eq 'Cid'",
        headers={"Prefer": 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'},
    )
    row = body.json()["value"][0]
    assert row["statecode@OData.Community.Display.V1.FormattedValue"] == "Inactive"
    assert row["donotbulkemail"] is False  # two-option columns default to false
    assert row["donotbulkemail@OData.Community.Display.V1.FormattedValue"] == "No"
    created = row["createdon@OData.Community.Display.V1.FormattedValue"]
    assert re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d (AM|PM)", created)
    assert (
        body.headers["Preference-Applied"]
        == 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'
    )


def test_annotations_of_null_values_are_left_out(api: httpx.Client, people: list[str]) -> None:
    prefer = {"Prefer": 'odata.include-annotations="*"'}
    row = api.get(
        "/contacts?$select=_parentcustomerid_value,statecode,birthdate&$filter=firstname eq 'Ann'",
        headers=prefer,
    ).json()["value"][0]
    assert row["_parentcustomerid_value"] is None
    assert row["birthdate"] is None
    assert not [
        k for k in row if k.startswith("_parentcustomerid_value@") or k.startswith("birthdate@")
    ]
    assert row["statecode@OData.Community.Display.V1.FormattedValue"] == "Active"


def test_watermark_on_modifiedon(api: httpx.Client, sandbox: DataverseSandbox) -> None:
    sandbox.bulk_contacts(
        [
            {"lastname": "Old", "modifiedon": "2024-01-01T00:00:00Z"},
            {"lastname": "Edge", "modifiedon": "2024-03-01T10:00:00Z"},
            {"lastname": "New", "modifiedon": "2024-06-30T23:59:59Z"},
        ]
    )
    found = rows(
        api,
        **{
            "$filter": "modifiedon ge 2024-03-01T10:00:00Z",
            "$orderby": "modifiedon",
            "$select": "lastname,modifiedon",
        },
    )
    assert [r["lastname"] for r in found] == ["Edge", "New"]
    assert found[0]["modifiedon"] == "2024-03-01T10:00:00Z"
    found = rows(
        api, **{"$filter": "modifiedon gt 2024-03-01T11:00:00+01:00", "$select": "lastname"}
    )
    assert [r["lastname"] for r in found] == ["New"]
    assert rows(
        api,
        **{"$filter": "modifiedon ge 2024-03-01", "$select": "lastname", "$orderby": "lastname"},
    ) == rows(
        api,
        **{
            "$filter": "modifiedon ge 2024-03-01T00:00:00Z",
            "$select": "lastname",
            "$orderby": "lastname",
        },
    )
    message = odata_error(api.get("/contacts", params={"$filter": "modifiedon ge '2024-03-01'"}))
    assert "Edm.DateTimeOffset" in message


def test_expand_polymorphic_member_of_listmembers(
    api: httpx.Client, sandbox: DataverseSandbox
) -> None:
    (contact,) = sandbox.bulk_contacts(
        [{"lastname": "Lee", "emailaddress1": "o'brien@example.com"}]
    )
    listed = api.post("/lists", json={"listname": "L", "createdfromcode": 2})
    list_id = listed.headers["OData-EntityId"][-37:-1]
    api.post(f"/lists({list_id})/Microsoft.Dynamics.CRM.AddMemberList", json={"EntityId": contact})
    found = rows(
        api,
        "/listmembers",
        **{
            "$select": "_entityid_value,_listid_value",
            "$expand": "entityid_contact($select=emailaddress1)",
        },
    )
    assert found[0]["entityid_contact"]["emailaddress1"] == "o'brien@example.com"
    annotated = api.get(
        "/listmembers?$select=_entityid_value", headers={"Prefer": 'odata.include-annotations="*"'}
    ).json()["value"][0]
    assert annotated["_entityid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "contact"
    assert (
        annotated["_entityid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"]
        == "entityid_contact"
    )


def test_quotes_survive_next_links_batches_and_fetchxml(
    api: httpx.Client, sandbox: DataverseSandbox
) -> None:
    sandbox.bulk_contacts(
        [{"lastname": f"L{i}", "emailaddress1": f"o'{i}@example.com"} for i in range(5)]
    )
    url: str | None = (
        "/contacts?$select=emailaddress1&$filter=startswith(emailaddress1,'o''')&$orderby=emailaddress1"
    )
    seen: list[str] = []
    while url:
        body = api.get(url, headers={"Prefer": "odata.maxpagesize=2"}).json()
        seen += [r["emailaddress1"] for r in body["value"]]
        url = body.get("@odata.nextLink")
    assert seen == [f"o'{i}@example.com" for i in range(5)]
    api.post(
        "/EntityDefinitions(LogicalName='contact')/Keys",
        json={"SchemaName": "new_mail", "KeyAttributes": ["emailaddress1"]},
    )
    part = (
        "--batch_q\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        "PATCH /api/data/v9.2/contacts(emailaddress1='o''3@example.com') HTTP/1.1\r\n"
        'Content-Type: application/json\r\n\r\n{"jobtitle": "Quoted"}\r\n--batch_q--\r\n'
    )
    response = api.post(
        "/$batch",
        content=part.encode(),
        headers={"Content-Type": "multipart/mixed; boundary=batch_q"},
    )
    assert "HTTP/1.1 204" in response.text
    xml = (
        "<fetch><entity name='contact'><attribute name='jobtitle' /><filter>"
        "<condition attribute='emailaddress1' operator='eq' value=\"o'3@example.com\" />"
        "</filter></entity></fetch>"
    )
    found = api.get("/contacts", params={"fetchXml": xml}).json()["value"]
    assert [r["jobtitle"] for r in found] == ["Quoted"]


def test_nested_expand_of_single_valued_navigation_properties(api: httpx.Client) -> None:
    """As Dataverse answers it ("Join tables using OData": nested expand of single-valued
    navigation properties); under a collection-valued one it is not emulated."""
    account = api.post("/accounts", json={"name": "Contoso"}).headers["OData-EntityId"][-37:-1]
    bind = {"parentcustomerid_account@odata.bind": f"/accounts({account})"}
    contact = api.post("/contacts", json={"lastname": "Lee", **bind}).headers["OData-EntityId"]
    contact_id = contact[-37:-1]
    assert (
        api.patch(
            f"/accounts({account})",
            json={"primarycontactid@odata.bind": f"/contacts({contact_id})"},
        ).status_code
        == 204
    )
    expand = "parentcustomerid_account($select=name;$expand=primarycontactid($select=lastname))"
    answer = api.get("/contacts", params={"$select": "lastname", "$expand": expand}).json()
    assert answer["@odata.context"].endswith(
        "#contacts(lastname,parentcustomerid_account(name,primarycontactid(lastname)))"
    )
    row = answer["value"][0]
    assert row["parentcustomerid_account"]["name"] == "Contoso"
    assert row["parentcustomerid_account"]["primarycontactid"]["lastname"] == "Lee"
    assert row["parentcustomerid_account"]["primarycontactid"]["contactid"] == contact_id
    one = api.get(f"/contacts({contact_id})", params={"$expand": expand}).json()
    assert one["parentcustomerid_account"]["primarycontactid"]["lastname"] == "Lee"
    under_collection = api.get(
        "/accounts",
        params={"$expand": "contact_customer_accounts($expand=parentcustomerid_account)"},
    )
    assert under_collection.status_code == 400
    too_many = ",".join(["primarycontactid"] * 16)
    assert api.get("/accounts", params={"$expand": too_many}).status_code == 400
