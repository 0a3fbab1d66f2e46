"""Aggregate queries over real HTTP: FetchXML aggregate (count, countcolumn, distinct, sum, avg,
min, max, groupby, dategrouping, link-entity, order on an alias) and ``$apply``, with the
errors Dataverse gives, the 50,000-record AggregateQueryRecordLimit included."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconcile.sandbox.dataverse import DataverseSandbox, aggregate

FORMATTED = 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'


def fetch(api: httpx.Client, xml: str, entity_set: str = "contacts") -> httpx.Response:
    return api.get(f"/{entity_set}", params={"fetchXml": xml}, headers={"Prefer": FORMATTED})


def values(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return response.json()["value"]


@pytest.fixture
def people(sandbox: DataverseSandbox) -> list[str]:
    return sandbox.bulk_contacts(
        [
            {"firstname": "Ann", "lastname": "Lee", "gendercode": 2, "birthdate": "1980-03-04"},
            {"firstname": "Bob", "lastname": "Lee", "gendercode": 1, "birthdate": "1990-03-20"},
            {"firstname": "Cid", "lastname": "Lee", "gendercode": 1, "jobtitle": "Chef"},
            {"firstname": "Dee", "lastname": "Zed", "birthdate": "1990-11-02"},
        ]
    )


def test_count_countcolumn_and_distinct(api: httpx.Client, people: list[str]) -> None:
    xml = """<fetch aggregate='true'><entity name='contact'>
      <attribute name='contactid' alias='n' aggregate='count'/>
      <attribute name='jobtitle' alias='with_job' aggregate='countcolumn'/>
      <attribute name='lastname' alias='names' aggregate='countcolumn' distinct='true'/>
      <attribute name='birthdate' alias='first' aggregate='min'/>
    </entity></fetch>"""
    [row] = values(fetch(api, xml))
    assert (row["n"], row["with_job"], row["names"]) == (4, 1, 2)
    assert row["first"].startswith("1980-03-04")
    assert row["n@OData.Community.Display.V1.FormattedValue"] == "4"


def test_groupby_choice_with_labels_and_order_on_alias(
    api: httpx.Client, people: list[str]
) -> None:
    xml = """<fetch aggregate='true'><entity name='contact'>
      <attribute name='gendercode' alias='gender' groupby='true'/>
      <attribute name='contactid' alias='n' aggregate='count'/>
      <order alias='n' descending='true'/>
    </entity></fetch>"""
    rows = values(fetch(api, xml))
    assert [r.get("gender") for r in rows] == [1, None, 2]  # Male 2, (null) 1, Female 1
    assert rows[0]["gender@OData.Community.Display.V1.FormattedValue"] == "Male"
    assert "gender" not in rows[1]  # the null group has no member, as FetchXML leaves nulls out


def test_dategrouping_year_and_month(api: httpx.Client, people: list[str]) -> None:
    xml = """<fetch aggregate='true'><entity name='contact'>
      <attribute name='birthdate' alias='y' groupby='true' dategrouping='year'/>
      <attribute name='birthdate' alias='m' groupby='true' dategrouping='month'/>
      <attribute name='contactid' alias='n' aggregate='count'/>
      <filter><condition attribute='birthdate' operator='not-null'/></filter>
      <order alias='y'/><order alias='m'/>
    </entity></fetch>"""
    rows = values(fetch(api, xml))
    assert [(r["y"], r["m"], r["n"]) for r in rows] == [(1980, 3, 1), (1990, 3, 1), (1990, 11, 1)]


def test_link_entity_filter_and_group(api: httpx.Client, sandbox: DataverseSandbox) -> None:
    account = api.post("/accounts", json={"name": "Contoso"}).headers["OData-EntityId"]
    account_id = account.rsplit("(", 1)[1].rstrip(")")
    for name in ("Ann", "Bob"):
        api.post(
            "/contacts",
            json={
                "firstname": name,
                "parentcustomerid_account@odata.bind": f"/accounts({account_id})",
            },
        )
    api.post("/contacts", json={"firstname": "Solo"})
    xml = """<fetch aggregate='true'><entity name='contact'>
      <attribute name='parentcustomerid' alias='company' groupby='true'/>
      <attribute name='contactid' alias='n' aggregate='count'/>
      <link-entity name='account' from='accountid' to='parentcustomerid' alias='a'>
        <filter><condition attribute='name' operator='eq' value='Contoso'/></filter>
      </link-entity>
    </entity></fetch>"""
    [row] = values(fetch(api, xml))
    assert row["company"] == account_id
    assert row["n"] == 2
    assert row["company@OData.Community.Display.V1.FormattedValue"] == "Contoso"


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (
            "<fetch aggregate='true'><entity name='contact'><attribute name='firstname'/>"
            "</entity></fetch>",
            "needs an alias",
        ),
        (
            "<fetch aggregate='true'><entity name='contact'>"
            "<attribute name='firstname' alias='f'/></entity></fetch>",
            "needs aggregate or groupby",
        ),
        (
            "<fetch aggregate='true'><entity name='contact'>"
            "<attribute name='firstname' alias='f' aggregate='median'/></entity></fetch>",
            "'median' is not an aggregate function",
        ),
        (
            "<fetch aggregate='true'><entity name='contact'>"
            "<attribute name='firstname' alias='f' aggregate='sum'/></entity></fetch>",
            "sum needs a numeric attribute",
        ),
        (
            "<fetch aggregate='true' page='2'><entity name='contact'>"
            "<attribute name='contactid' alias='n' aggregate='count'/></entity></fetch>",
            "cannot be paged",
        ),
    ],
)
def test_malformed_aggregates_are_refused(api: httpx.Client, xml: str, message: str) -> None:
    response = fetch(api, xml)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_record_limit_is_refused_as_dataverse_refuses_it(
    api: httpx.Client, people: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    count = """<fetch aggregate='true'{limit}><entity name='contact'>
      <attribute name='contactid' alias='n' aggregate='count'/></entity></fetch>"""
    response = fetch(api, count.format(limit=" aggregatelimit='3'"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (
        "0x8004e023",
        "AggregateQueryRecordLimit exceeded. Cannot perform this operation.",
    )
    assert values(fetch(api, count.format(limit=" aggregatelimit='4'")))[0]["n"] == 4
    monkeypatch.setattr(aggregate, "RECORD_LIMIT", 3)  # the service's 50,000, made small
    assert fetch(api, count.format(limit="")).status_code == 400
    assert api.get("/contacts", params={"$apply": "aggregate($count as n)"}).status_code == 400
    # A filter that keeps the query under the limit is how a client counts a big table.
    narrow = count.format(limit="").replace(
        "</entity>",
        "<filter><condition attribute='lastname' operator='eq' value='Zed'/></filter></entity>",
    )
    assert values(fetch(api, narrow))[0]["n"] == 1


def test_apply_groupby_count_and_aggregate(api: httpx.Client, people: list[str]) -> None:
    rows = values(
        api.get(
            "/contacts",
            params={"$apply": "groupby((lastname),aggregate($count as n))"},
            headers={"Prefer": FORMATTED},
        )
    )
    assert [(r["lastname"], r["n"]) for r in rows] == [("Lee", 3), ("Zed", 1)]
    [total] = values(
        api.get(
            "/contacts",
            params={
                "$apply": "filter(lastname eq 'Lee')/aggregate(gendercode with sum as s,"
                "gendercode with max as hi,lastname with countdistinct as d,$count as n)"
            },
        )
    )
    assert total == {"s": 4, "hi": 2, "d": 1, "n": 3}


def test_apply_errors_follow_dataverse(api: httpx.Client, people: list[str]) -> None:
    by_date = api.get("/contacts", params={"$apply": "groupby((birthdate))"})
    assert by_date.status_code == 400
    assert "datetime" in by_date.json()["error"]["message"]
    ordered = api.get(
        "/contacts",
        params={"$apply": "groupby((lastname),aggregate($count as n))", "$orderby": "n desc"},
    )
    assert ordered.status_code == 400
    assert ordered.json()["error"]["message"] == (
        "The query node SingleValueOpenPropertyAccess is not supported."
    )
    unknown = api.get("/contacts", params={"$apply": "groupby((nickname))"})
    assert unknown.status_code == 400
    assert "nickname" in unknown.json()["error"]["message"]
