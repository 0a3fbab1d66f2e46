"""FetchXML queries and multipart $batch over real HTTP."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree as ET

import httpx
import pytest

from reconcile.sandbox.dataverse import DataverseSandbox

COOKIE = "Microsoft.Dynamics.CRM.fetchxmlpagingcookie"
PAGING = f'odata.include-annotations="{COOKIE},Microsoft.Dynamics.CRM.morerecords"'


def fetch(
    api: httpx.Client, xml: str, entity_set: str = "contacts", **headers: str
) -> dict[str, Any]:
    response = api.get(f"/{entity_set}", params={"fetchXml": xml}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def crm(sandbox: DataverseSandbox, api: httpx.Client) -> dict[str, str]:
    account = api.post("/accounts", json={"name": "Contoso"}).headers["OData-EntityId"][-37:-1]
    ids = sandbox.bulk_contacts(
        [
            {
                "firstname": "Ann",
                "lastname": "Lee",
                "emailaddress1": "o'brien@example.com",
                "parentcustomerid_account@odata.bind": f"/accounts({account})",
            },
            {"firstname": "Bob", "lastname": "Ray", "address1_city": "Paris"},
            {"firstname": "Cid", "lastname": "Zed", "address1_city": "Paris", "statecode": 1},
        ]
    )
    return {"account": account, "ann": ids[0], "bob": ids[1], "cid": ids[2]}


def test_fetchxml_filters_orders_and_omits_nulls(api: httpx.Client, crm: dict[str, str]) -> None:
    xml = """<fetch><entity name="contact">
      <attribute name="firstname" /><attribute name="address1_city" />
      <order attribute="lastname" descending="true" />
      <filter type="or"><condition attribute="address1_city" operator="eq" value="Paris" />
        <condition attribute="emailaddress1" operator="eq" value="o'brien@example.com" /></filter>
    </entity></fetch>"""
    body = fetch(api, xml)
    assert [r["firstname"] for r in body["value"]] == ["Cid", "Bob", "Ann"]
    assert "address1_city" not in body["value"][2]
    assert body["value"][0]["contactid"] == crm["cid"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('<condition attribute="lastname" operator="like" value="%e%" />', ["Ann", "Cid"]),
        ('<condition attribute="lastname" operator="begins-with" value="R" />', ["Bob"]),
        (
            '<condition attribute="firstname" operator="in">'
            "<value>Ann</value><value>Cid</value></condition>",
            ["Ann", "Cid"],
        ),
        ('<condition attribute="emailaddress1" operator="null" />', ["Bob", "Cid"]),
        ('<condition attribute="statecode" operator="ne" value="0" />', ["Cid"]),
        (
            '<condition attribute="createdon" operator="last-x-days" value="1" />',
            ["Ann", "Bob", "Cid"],
        ),
        ('<condition attribute="ownerid" operator="eq-userid" />', ["Ann", "Bob", "Cid"]),
    ],
)
def test_fetchxml_operators(
    api: httpx.Client, crm: dict[str, str], condition: str, expected: list[str]
) -> None:
    xml = (
        '<fetch><entity name="contact"><attribute name="firstname" />'
        f'<order attribute="firstname" /><filter>{condition}</filter></entity></fetch>'
    )
    assert [r["firstname"] for r in fetch(api, xml)["value"]] == expected


def test_fetchxml_link_entity(api: httpx.Client, crm: dict[str, str]) -> None:
    xml = """<fetch><entity name="contact"><attribute name="firstname" />
      <link-entity name="account" from="accountid" to="parentcustomerid" alias="a">
        <attribute name="name" />
        <filter><condition attribute="name" operator="eq" value="Contoso" /></filter>
      </link-entity></entity></fetch>"""
    assert fetch(api, xml)["value"] == [
        {"firstname": "Ann", "a.name": "Contoso", "contactid": crm["ann"]}
    ]


def test_fetchxml_paging_cookie(api: httpx.Client, sandbox: DataverseSandbox) -> None:
    sandbox.bulk_contacts([{"lastname": f"P{i:02}"} for i in range(12)])
    xml = """<fetch count="5" page="1"><entity name="contact">
      <attribute name="lastname" /><order attribute="lastname" /></entity></fetch>"""
    seen: list[str] = []
    while True:
        body = fetch(api, xml, Prefer=PAGING)
        seen += [r["lastname"] for r in body["value"]]
        if not body["@Microsoft.Dynamics.CRM.morerecords"]:
            assert f"@{COOKIE}" not in body
            break
        cookie = ET.fromstring(body[f"@{COOKIE}"])  # noqa: S314 - our own sandbox's answer
        inner = unquote(unquote(cookie.get("pagingcookie", "")))
        assert inner.startswith('<cookie page="')
        assert "<lastname last=" in inner
        root = ET.fromstring(xml)  # noqa: S314 - the test's own query
        root.set("paging-cookie", inner)
        root.set("page", cookie.get("pagenumber", ""))
        xml = ET.tostring(root, encoding="unicode")
    assert seen == [f"P{i:02}" for i in range(12)]


def test_fetchxml_simple_paging_and_errors(api: httpx.Client, sandbox: DataverseSandbox) -> None:
    sandbox.bulk_contacts([{"lastname": f"P{i:02}"} for i in range(7)])
    page2 = fetch(
        api,
        '<fetch count="3" page="2"><entity name="contact"><attribute name="lastname" />'
        '<order attribute="lastname" /></entity></fetch>',
    )
    assert [r["lastname"] for r in page2["value"]] == ["P03", "P04", "P05"]
    for xml, fragment in [
        ("<fetch><entity name='contact'>", "not well formed"),
        ("<fetch><entity name='widget' /></fetch>", "The entity with a name = 'widget'"),
        (
            "<fetch><entity name='contact'><attribute name='nickname' /></entity></fetch>",
            "'contact' entity doesn't contain attribute with Name = 'nickname'",
        ),
        ("<fetch><entity name='account' /></fetch>", "not on the 'contacts' entity set"),
    ]:
        response = api.get("/contacts", params={"fetchXml": xml})
        assert response.status_code == 400
        assert fragment in response.json()["error"]["message"]


# --------------------------------------------------------------------------------- $batch
def batch_body(boundary: str, parts: list[str]) -> str:
    return "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n"


def http_part(method: str, url: str, body: str | None = None, content_id: str | None = None) -> str:
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if content_id:
        head += f"Content-ID: {content_id}\r\n"
    inner = f"{method} {url} HTTP/1.1\r\n"
    if body is not None:
        inner += "Content-Type: application/json; type=entry\r\n\r\n" + body
    else:
        inner += "\r\n"
    return head + "\r\n" + inner


def changeset(boundary: str, parts: list[str]) -> str:
    return f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n" + batch_body(
        boundary, parts
    )


def post_batch(api: httpx.Client, body: str, prefer: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "multipart/mixed; boundary=batch_abc"}
    if prefer:
        headers["Prefer"] = prefer
    return api.post("/$batch", content=body.encode(), headers=headers)


def statuses(response: httpx.Response) -> list[int]:
    return [int(s) for s in re.findall(r"^HTTP/1\.1 (\d{3})", response.text, re.M)]


def test_batch_with_content_id_references(api: httpx.Client, info: dict[str, Any]) -> None:
    root = "/api/data/v9.2"
    body = batch_body(
        "batch_abc",
        [
            changeset(
                "changeset_1",
                [
                    http_part("POST", f"{root}/accounts", '{"name": "Contoso"}', content_id="1"),
                    http_part(
                        "POST",
                        f"{info['url']}{root}/contacts",
                        '{"lastname": "Lee", "parentcustomerid_account@odata.bind": "$1"}',
                        content_id="2",
                    ),
                    http_part("PATCH", "$2", '{"jobtitle": "Buyer"}', content_id="3"),
                ],
            ),
            http_part("GET", f"{root}/contacts?$select=lastname,jobtitle,_parentcustomerid_value"),
        ],
    )
    response = post_batch(api, body)
    assert response.status_code == 200
    assert re.match(
        r"multipart/mixed; boundary=batchresponse_[0-9a-f-]{36}$", response.headers["content-type"]
    )
    assert "changesetresponse_" in response.text
    assert "\r\n" in response.text
    assert statuses(response) == [204, 204, 204, 200]
    row = api.get("/contacts?$select=jobtitle,_parentcustomerid_value").json()["value"][0]
    assert row["jobtitle"] == "Buyer"
    assert row["_parentcustomerid_value"] is not None
    assert re.search(r"Content-ID: 1\r\n", response.text)


def test_changeset_is_atomic_and_batch_stops_on_error(api: httpx.Client) -> None:
    body = batch_body(
        "batch_abc",
        [
            http_part("POST", "/api/data/v9.2/contacts", '{"lastname": "Before"}'),
            changeset(
                "changeset_1",
                [
                    http_part(
                        "POST", "/api/data/v9.2/contacts", '{"lastname": "Undone"}', content_id="1"
                    ),
                    http_part(
                        "POST",
                        "/api/data/v9.2/contacts",
                        '{"lastname": "' + "x" * 60 + '"}',
                        content_id="2",
                    ),
                ],
            ),
            http_part("POST", "/api/data/v9.2/contacts", '{"lastname": "Never"}'),
        ],
    )
    response = post_batch(api, body)
    assert response.status_code == 400
    assert statuses(response) == [204, 400]
    assert "0x80044331" in response.text
    assert "REQ_ID:" in response.text
    # the failed request nested in the change set's own part, with its Content-ID, as
    # Dataverse answers (tests/dataverse/recordings/batch_changeset_failure.json)
    nested = re.search(
        r"Content-Type: multipart/mixed; boundary=(changesetresponse_[0-9a-f-]{36})\r\n\r\n"
        r"--\1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        r"Content-ID: 2\r\n\r\nHTTP/1.1 400 Bad Request\r\n.*?--\1--",
        response.text,
        re.S,
    )
    assert nested, response.text
    names = [r["lastname"] for r in api.get("/contacts?$select=lastname").json()["value"]]
    assert names == ["Before"]


def test_continue_on_error(api: httpx.Client) -> None:
    body = batch_body(
        "batch_abc",
        [
            http_part("POST", "/api/data/v9.2/contacts", '{"lastname": "One"}'),
            http_part(
                "PATCH",
                "/api/data/v9.2/contacts(00000000-0000-0000-0000-000000000009)",
                '{"lastname": "Missing"}',
            ),
            http_part("DELETE", "/api/data/v9.2/contacts(00000000-0000-0000-0000-00000000000a)"),
            http_part("POST", "/api/data/v9.2/contacts", '{"lastname": "Two"}'),
        ],
    )
    response = post_batch(api, body, prefer="odata.continue-on-error")
    assert response.status_code == 200
    assert response.headers["Preference-Applied"] == "odata.continue-on-error"
    assert statuses(response) == [204, 204, 404, 204]  # PATCH without If-Match creates (upsert)


def test_batch_errors(api: httpx.Client) -> None:
    too_many = batch_body("batch_abc", [http_part("GET", "/api/data/v9.2/WhoAmI")] * 1001)
    response = post_batch(api, too_many)
    assert response.status_code == 400
    assert "exceeds the limit of 1000" in response.json()["error"]["message"]
    unknown_ref = batch_body("batch_abc", [changeset("cs", [http_part("PATCH", "$7", "{}")])])
    assert (
        "Content-ID Reference: '$7' does not exist in the batch context."
        in post_batch(api, unknown_ref).text
    )
    get_in_changeset = batch_body(
        "batch_abc", [changeset("cs", [http_part("GET", "/api/data/v9.2/contacts")])]
    )
    assert (
        "GET requests are not allowed inside a change set" in post_batch(api, get_in_changeset).text
    )
    not_multipart = api.post("/$batch", content=b"{}", headers={"Content-Type": "application/json"})
    assert not_multipart.status_code == 400
