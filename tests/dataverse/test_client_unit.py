"""DataverseClient on httpx.MockTransport: request shape, retries, safety, error mapping."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import httpx
import pytest

from reconcile.dataverse import DataverseClient, Query, errors
from reconcile.dataverse import query as q
from reconcile.dataverse.paging import PagingLoop, fetch_rows, pages
from reconcile.retrying import RetryPolicy

ENV = "https://org.crm4.dynamics.com"
CID = "6f1c3d4e-0000-4000-8000-000000000001"
POLICY = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=8.0, rng=random.Random(3))


def make(
    handler: Callable[[httpx.Request], httpx.Response], **kw: object
) -> tuple[DataverseClient, list[float]]:
    slept: list[float] = []
    client = DataverseClient(
        ENV, transport=httpx.MockTransport(handler), sleep=slept.append, retry_policy=POLICY, **kw
    )  # type: ignore[arg-type]
    return client, slept


def odata_error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"code": code, "message": message}}, headers=headers
    )


def test_every_request_carries_the_odata_headers_and_the_versioned_path() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"UserId": CID, "BusinessUnitId": CID, "OrganizationId": CID}
        )

    client, _ = make(handler, api_version="9.0")
    assert client.who_am_i()["UserId"] == CID
    request = seen[0]
    assert str(request.url) == f"{ENV}/api/data/v9.0/WhoAmI"
    for name, value in {
        "OData-MaxVersion": "4.0",
        "OData-Version": "4.0",
        "Accept": "application/json",
        "If-None-Match": "null",
    }.items():
        assert request.headers[name] == value
    assert client.requests_sent == 1


def test_create_reads_the_id_from_odata_entityid() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url.path.endswith("/contacts")
        assert json.loads(request.content) == {"lastname": "O'Brien"}
        return httpx.Response(
            204, headers={"OData-EntityId": f"{ENV}/api/data/v9.2/contacts({CID})"}
        )

    client, _ = make(handler)
    assert client.create("contacts", {"lastname": "O'Brien"}) == CID


def test_a_create_without_client_chosen_id_is_never_repeated_after_a_5xx() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return odata_error(503, "", "Service Unavailable")

    client, slept = make(handler)
    with pytest.raises(errors.ServiceUnavailable):
        client.create("contacts", {"lastname": "x"})
    assert calls == ["POST"]
    assert slept == []


def test_a_create_with_client_chosen_id_survives_a_lost_answer_without_duplicating() -> None:
    store: dict[str, dict] = {}
    posts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal posts
        if request.method == "POST":
            posts += 1
            body = json.loads(request.content)
            if body["contactid"] in store:
                return odata_error(
                    412, "0x80040237", "A record with matching key values already exists."
                )
            store[body["contactid"]] = body
            if posts == 1:  # the record landed, the answer is lost
                raise httpx.RemoteProtocolError("peer closed connection", request=request)
            return httpx.Response(204)
        cid = request.url.path.rsplit("(", 1)[1].rstrip(")")
        if cid in store:
            return httpx.Response(200, json={"contactid": cid})
        return odata_error(404, "0x80040217", "Does Not Exist")

    client, slept = make(handler)
    new_id = client.create("contacts", {"lastname": "x"}, id_column="contactid")
    assert list(store) == [new_id]
    assert posts == 2
    assert len(slept) == 1


def test_429_waits_what_retry_after_says_then_succeeds_and_pauses_the_throttle() -> None:
    answers = [
        odata_error(429, "0x80072322", "Number of requests exceeded", **{"Retry-After": "7"}),
        httpx.Response(200, json={"value": []}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    client, slept = make(handler)
    assert list(client.query("contacts")) == []
    assert 7.0 <= slept[0] <= 7.1
    assert client.requests_sent == 2


def test_a_429_storm_that_outlasts_the_policy_becomes_throttled() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return odata_error(429, "-2147015898", "concurrent requests", **{"Retry-After": "2"})

    client, slept = make(handler)
    with pytest.raises(errors.Throttled) as info:
        client.update("contacts", CID, {"lastname": "x"})
    assert len(slept) == 3
    assert client.requests_sent == 4
    assert "52 concurrent requests" in str(info.value)


def test_update_upsert_and_delete_send_the_right_conditions() -> None:
    seen: list[httpx.Request] = []
    answers: list[httpx.Response] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0) if answers else httpx.Response(204)

    client, _ = make(handler)
    key = {"emailaddress1": "o'brien@example.com"}
    client.update("contacts", CID, {"lastname": "x"})
    client.upsert("contacts", key, {"lastname": "x"})
    answers.append(
        odata_error(412, "0x80040237", "A record with matching key values already exists.")
    )
    with pytest.raises(errors.DuplicateRecord) as info:
        client.upsert("contacts", key, {"lastname": "x"}, create_only=True)
    client.delete("contacts", CID)
    update, upsert, create_only, delete = seen
    assert update.method == "PATCH"
    assert update.headers["If-Match"] == "*"
    assert "If-Match" not in upsert.headers
    assert upsert.url.raw_path.decode() == (
        "/api/data/v9.2/contacts(emailaddress1='o''brien@example.com')"
    )
    assert create_only.headers["If-None-Match"] == "*"
    assert "contacts(emailaddress1='o''brien@example.com')" in str(info.value)
    assert delete.method == "DELETE"
    assert delete.headers["If-Match"] == "*"


def test_update_of_a_missing_record_names_it() -> None:
    client, _ = make(lambda r: odata_error(404, "0x80040217", "contact With Id = x Does Not Exist"))
    with pytest.raises(errors.RecordNotFound) as info:
        client.update("contacts", CID, {"lastname": "x"})
    assert f"update contacts({CID})" in str(info.value)


def test_delete_that_already_happened_on_a_lost_attempt_counts_as_done() -> None:
    answers: list[object] = ["drop", odata_error(404, "0x80040217", "Does Not Exist")]

    def handler(request: httpx.Request) -> httpx.Response:
        item = answers.pop(0)
        if item == "drop":
            raise httpx.ReadError("connection reset", request=request)
        assert isinstance(item, httpx.Response)
        return item

    client, _ = make(handler)
    client.delete("contacts", CID)  # no error
    client2, _ = make(lambda r: odata_error(404, "0x80040217", "Does Not Exist"))
    with pytest.raises(errors.RecordNotFound):
        client2.delete("contacts", CID)


def test_transport_failures_that_outlive_the_policy_become_typed_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client, slept = make(handler)
    with pytest.raises(errors.ConnectionFailed) as info:
        client.who_am_i()
    assert len(slept) == POLICY.max_refused - 1  # refused: a few quick tries, not an outage
    assert "WhoAmI" in str(info.value)
    assert f"Dataverse at {ENV.split('//')[1]} could not be reached" in str(info.value)
    assert "connection refused" in str(info.value)
    assert "dynamics.environment_url" in str(info.value.hint)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    client, slept = make(slow)
    with pytest.raises(errors.ConnectionFailed, match="no answer in time"):
        client.who_am_i()
    assert len(slept) == POLICY.max_attempts - 1  # a timeout may be an outage: patient


def test_paging_follows_next_links_with_the_same_prefer_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = int(request.url.params.get("page", "1"))
        body: dict = {"value": [{"contactid": f"{page}-{i}"} for i in range(2)]}
        if page < 3:
            body["@odata.nextLink"] = (
                f"{ENV}/api/data/v9.2/contacts?$select=contactid&page={page + 1}"
            )
        return httpx.Response(200, json=body)

    client, _ = make(handler)
    got = list(client.query("contacts", Query(select=("contactid",)), page_size=2))
    assert [r["contactid"] for r in got] == ["1-0", "1-1", "2-0", "2-1", "3-0", "3-1"]
    assert {r.headers["Prefer"] for r in seen} == {"odata.maxpagesize=2"}
    with pytest.raises(ValueError, match="page size"):
        list(client.query("contacts", page_size=5001))


def test_paging_refuses_to_loop() -> None:
    link = f"{ENV}/api/data/v9.2/contacts?$skiptoken=same"
    client, _ = make(lambda r: httpx.Response(200, json={"value": [], "@odata.nextLink": link}))
    with pytest.raises(PagingLoop):
        list(pages(client, "contacts"))


def test_fetchxml_paging_uses_the_cookie_and_increments_the_page() -> None:
    documents: list[str] = []
    cookie = (
        '<cookie pagenumber="2" pagingcookie="%253ccookie%2520page%253d%25221%2522%253e'
        "%253ccontactid%2520last%253d%2522%257bAA%257d%2522%2520%252f%253e%253c%252fcookie"
        '%253e" istracking="False" />'
    )

    def handler(request: httpx.Request) -> httpx.Response:
        documents.append(request.url.params["fetchXml"])
        assert "fetchxmlpagingcookie" in request.headers["Prefer"]
        if len(documents) == 1:
            return httpx.Response(
                200,
                json={
                    "value": [{"contactid": "a"}],
                    "@Microsoft.Dynamics.CRM.morerecords": True,
                    "@Microsoft.Dynamics.CRM.fetchxmlpagingcookie": cookie,
                },
            )
        return httpx.Response(
            200, json={"value": [{"contactid": "b"}], "@Microsoft.Dynamics.CRM.morerecords": False}
        )

    client, _ = make(handler)
    fetch = "<fetch><entity name='contact'><attribute name='contactid'/></entity></fetch>"
    rows = list(fetch_rows(client, "contacts", fetch, page_size=1))
    assert [r["contactid"] for r in rows] == ["a", "b"]
    assert 'page="1"' in documents[0]
    assert 'count="1"' in documents[0]
    assert 'page="2"' in documents[1]
    assert (
        'paging-cookie="&lt;cookie page=&quot;1&quot;&gt;&lt;contactid last=&quot;{AA}'
        in documents[1]
    )


def test_functions_use_parameter_aliases() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"RolePrivileges": []})

    client, _ = make(handler)
    client.function("RetrieveRolePrivilegesRole", {"RoleId": q.as_guid(CID)})
    client.function("RetrieveUserPrivileges", bound_to=f"systemusers({CID})")
    first, second = (r.url.raw_path.decode() for r in seen)
    assert first == f"/api/data/v9.2/RetrieveRolePrivilegesRole(RoleId=@p1)?@p1={CID}"
    assert second == (
        f"/api/data/v9.2/systemusers({CID})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"
    )


def test_repr_and_bad_settings() -> None:
    client, _ = make(lambda r: httpx.Response(200))
    assert repr(client) == f"DataverseClient('{ENV}', api_version='v9.2')"
    from reconcile.errors import ConfigError

    with pytest.raises(ConfigError, match=r"v8\.2, v9\.0, v9\.1, v9\.2"):
        DataverseClient(ENV, api_version="v10")
    with pytest.raises(ConfigError, match="not an http"):
        DataverseClient("org.crm.dynamics.com")


def test_a_429_holds_every_other_request_until_retry_after_has_passed() -> None:
    """The limits are per user: a 429 seen by one worker pauses the whole client."""
    sent: list[float] = []
    client, slept = make(
        lambda request: sent.append(client._clock()) or httpx.Response(200, json={"value": []})
    )
    throttled = odata_error(429, "0x80072322", "too many", **{"Retry-After": "30"})
    throttled.request = httpx.Request("GET", f"{ENV}/api/data/v9.2/contacts")
    paused_at = client._clock()
    assert client._wait_hint(throttled) == 30.0  # what another worker's request just got
    list(client.query("contacts"))  # this request waits for the pause before it starts
    assert sum(slept) >= 29.9
    assert sent[0] - paused_at >= 29.9


def test_contacts_changes_fall_back_to_modifiedon_when_tracking_is_off() -> None:
    from reconcile.dataverse import Watermark, contacts_changed_since

    seen: list[httpx.Request] = []
    rows = [
        {"contactid": CID, "modifiedon": "2024-05-01T10:00:00Z"},
        {"contactid": "x", "modifiedon": "2024-05-02T09:00:00Z"},
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"value": rows})  # no @odata.deltaLink: not tracked

    client, _ = make(handler)
    first = contacts_changed_since(client, None)
    assert "odata.track-changes" in seen[0].headers["Prefer"]
    assert first.watermark == Watermark("modifiedon", "2024-05-02T09:00:00Z")
    contacts_changed_since(client, first.watermark)
    assert seen[1].url.params["$filter"] == "modifiedon ge 2024-05-02T09:00:00Z"
    assert seen[1].url.params["$orderby"] == "modifiedon asc,contactid asc"
    with pytest.raises(errors.NotSupported, match="no longer returns"):
        contacts_changed_since(client, Watermark("delta", f"{ENV}/api/data/v9.2/contacts?t=1"))
