"""The client against the Dataverse sandbox over real HTTP on 127.0.0.1: every API version,
every error path, many pages, 429 storms, dropped connections, and a quote in every query."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from reconcile.dataverse import (
    Changeset,
    DataverseClient,
    Operation,
    Query,
    contacts_by_email,
    create_many,
    delete_many,
    errors,
    execute_batch,
    fetch_pages,
    fetch_rows,
    pages,
    upsert_many,
    who_am_i,
)
from reconcile.dataverse import query as q
from reconcile.dataverse.fetchxml import simple_fetch

Target = Any  # tests/dataverse/conftest.py::Target

QUOTED = "o'brien@example.com"


@pytest.mark.parametrize("version", ["8.2", "9.0", "9.1", "9.2"])
def test_crud_on_every_api_version(dv: Target, version: str) -> None:
    client = dv.client(version)
    assert client.api_url.endswith(f"/api/data/v{version}/")
    me = who_am_i(client)
    assert me.user_id == dv.info["identities"]["admin"]["user_id"]
    cid = client.create(
        "contacts",
        {"firstname": "Siobhan", "lastname": "O'Brien", "emailaddress1": QUOTED},
        id_column="contactid",
    )
    assert [c["contactid"] for c in contacts_by_email(client, QUOTED)] == [cid]
    client.update("contacts", cid, {"jobtitle": "Buyer"})
    client.upsert("contacts", cid, {"firstname": "Sinéad"})
    row = client.retrieve("contacts", cid, select=["fullname", "jobtitle"])
    assert row["fullname"] == "Sinéad O'Brien"
    assert row["jobtitle"] == "Buyer"
    client.delete("contacts", cid)
    with pytest.raises(errors.RecordNotFound) as info:
        client.retrieve("contacts", cid)
    assert f"contacts({cid})" in str(info.value)


def test_a_quote_in_every_query_path(dv: Target) -> None:
    from reconcile.dataverse import install_schema
    from reconcile.dataverse import schema as s

    client = dv.client()
    cid = client.create(
        "contacts", {"lastname": "O'Brien", "emailaddress1": QUOTED}, id_column="contactid"
    )
    client.create("contacts", {"lastname": "Other", "emailaddress1": "obrien@example.com"})
    # $filter: eq, functions, or-chains
    assert [r["contactid"] for r in contacts_by_email(client, QUOTED)] == [cid]
    for condition in (
        q.startswith("emailaddress1", "o'b"),
        q.contains("lastname", "'Bri"),
        q.in_("emailaddress1", [QUOTED, "nobody@example.com"]),
    ):
        got = list(client.query("contacts", Query(select=("contactid",), filter=condition)))
        assert [r["contactid"] for r in got] == [cid], condition
    # FetchXML condition values
    fetch = simple_fetch("contact", ["contactid"], conditions=[("emailaddress1", "eq", QUOTED)])
    assert [r["contactid"] for r in fetch_rows(client, "contacts", fetch)] == [cid]
    # key segments: upsert / retrieve / batch / bulk by an alternate key holding a quote
    install_schema(client, [s.LISTS, s.CONTACTS])
    key = {"grc_getresponseid": "a'b c d"}
    client.upsert(s.CONTACTS.entity_set, key, {"grc_name": "first", "grc_email": QUOTED})
    client.upsert(s.CONTACTS.entity_set, key, {"grc_name": "second"})
    assert client.retrieve(s.CONTACTS.entity_set, key, select=["grc_name"])["grc_name"] == "second"
    results = execute_batch(
        client,
        [
            Operation("PATCH", q.record_path(s.CONTACTS.entity_set, key), {"grc_name": "third"}),
            Operation("GET", q.record_path(s.CONTACTS.entity_set, key) + "?$select=grc_name"),
        ],
    )
    assert [r.status for r in results] == [204, 200]
    assert results[1].json()["grc_name"] == "third"
    for version in ("9.2", "9.1"):
        result = upsert_many(
            dv.client(version),
            s.CONTACTS.entity_set,
            [{"grc_getresponseid": "x'y", "grc_name": version}],
            logical_name=s.CONTACTS.logical_name,
            key_columns=["grc_getresponseid"],
            id_column=s.CONTACTS.primary_id,
        )
        assert result.succeeded == 1
    assert (
        client.retrieve(s.CONTACTS.entity_set, {"grc_getresponseid": "x'y"}, select=["grc_name"])[
            "grc_name"
        ]
        == "9.1"
    )


def test_paging_over_many_pages(dv: Target) -> None:
    ids = set(
        dv.sandbox.bulk_contacts(
            [{"lastname": f"P{i:04d}", "emailaddress1": f"p{i}@example.com"} for i in range(2345)]
        )
    )
    client = dv.client()
    seen = [p for p in pages(client, "contacts", Query(select=("contactid",)), page_size=100)]
    assert len(seen) == 24
    assert all(len(p.rows) == 100 for p in seen[:-1])
    got = [r["contactid"] for p in seen for r in p.rows]
    assert len(got) == len(set(got)) == 2345
    assert set(got) == ids
    assert client.requests_sent == 24
    fetch = simple_fetch("contact", ["contactid", "lastname"])
    fetched = list(fetch_pages(client, "contacts", fetch, page_size=500))
    assert len(fetched) == 5
    assert {r["contactid"] for p in fetched for r in p.rows} == ids


def test_error_paths_are_typed_and_name_the_record(dv: Target) -> None:
    client = dv.client()
    missing = str(uuid.uuid4())
    with pytest.raises(errors.RecordNotFound, match=f"contacts\\({missing}\\)"):
        client.update("contacts", missing, {"lastname": "x"})
    with pytest.raises(errors.ValidationFailed) as bad:
        client.create("contacts", {"lastname": "x", "nosuchcolumn": 1}, record="contact x")
    assert "contact x" in str(bad.value)
    cid = client.create("contacts", {"lastname": "Twice"}, id_column="contactid")
    with pytest.raises(errors.DuplicateRecord):
        client.create("contacts", {"contactid": cid, "lastname": "Twice"})
    etag = client.retrieve("contacts", cid)["@odata.etag"]
    client.update("contacts", cid, {"firstname": "A"})
    with pytest.raises(errors.ConcurrencyConflict):
        client.update("contacts", cid, {"firstname": "B"}, etag=etag)
    with pytest.raises(errors.PrivilegeDenied) as denied:
        dv.client(identity="service").create("contacts", {"lastname": "x"}, record="contact x")
    assert "prvCreateContact" in str(denied.value)
    assert "GetResponse Service User" in str(denied.value.hint)
    with (
        DataverseClient(dv.url, sleep=dv.slept.append) as anonymous,
        pytest.raises(errors.AuthenticationFailed),
    ):
        anonymous.who_am_i()


def test_429_storms_are_waited_out_and_a_longer_one_is_reported(dv: Target) -> None:
    client = dv.client()
    client.create("contacts", {"lastname": "x"}, id_column="contactid")
    dv.faults({"kind": "status", "status": 429, "count": 5, "path": "/api/data/v9.2/contacts"})
    sent = client.requests_sent
    assert len(list(client.query("contacts"))) == 1
    assert client.requests_sent - sent == 6
    assert len(dv.slept) == 5
    assert all(2.0 <= s <= 2.1 for s in dv.slept)  # the sandbox's Retry-After: 2
    dv.faults({"kind": "status", "status": 429, "count": 10, "path": "/api/data/v9.2/contacts"})
    with pytest.raises(errors.Throttled) as info:
        list(client.query("contacts"))
    assert "6000 requests" in str(info.value.hint)


def test_dropped_connections_and_5xx_are_retried_only_when_safe(dv: Target) -> None:
    client = dv.client()
    dv.faults({"kind": "drop", "count": 2, "path": "/api/data/v9.2/contacts", "method": "GET"})
    assert list(client.query("contacts")) == []
    dv.faults({"kind": "drop", "count": 1, "path": "/api/data/v9.2/contacts", "method": "POST"})
    with pytest.raises(errors.ServiceUnavailable):
        client.create("contacts", {"lastname": "no id"})  # not repeated: it may have landed
    dv.faults({"kind": "drop", "count": 1, "path": "/api/data/v9.2/contacts", "method": "POST"})
    cid = client.create("contacts", {"lastname": "with id"}, id_column="contactid")
    dv.faults({"kind": "status", "status": 503, "count": 2, "method": "PATCH"})
    client.update("contacts", cid, {"firstname": "ok"})
    rows = list(client.query("contacts", Query(select=("lastname", "firstname"))))
    assert [(r["lastname"], r["firstname"]) for r in rows] == [("with id", "ok")]


def test_a_create_whose_answer_is_lost_is_repeated_without_a_second_record(dv: Target) -> None:
    # The sandbox creates the contact, then the connection drops before the answer: with a
    # client-chosen id the repeat meets its own record and counts it as created.
    client = dv.client()
    path = "/api/data/v9.2/contacts"
    dv.faults({"kind": "drop", "after": True, "count": 1, "path": path, "method": "POST"})
    cid = client.create("contacts", {"lastname": "answer lost"}, id_column="contactid")
    dv.faults({"kind": "drop", "after": True, "count": 1, "path": path, "method": "POST"})
    with pytest.raises(errors.ServiceUnavailable):  # no id of ours: not repeated
        client.create("contacts", {"lastname": "no id, answer lost"})
    rows = list(client.query("contacts", Query(select=("contactid", "lastname"))))
    assert sorted(r["lastname"] for r in rows) == ["answer lost", "no id, answer lost"]
    assert cid in {r["contactid"] for r in rows}


def test_batch_with_changesets_content_ids_and_continue_on_error(dv: Target) -> None:
    client = dv.client()
    results = execute_batch(
        client,
        [
            Changeset(
                [
                    Operation("POST", "accounts", {"name": "Contoso"}, content_id="1"),
                    Operation(
                        "POST",
                        "contacts",
                        {
                            "lastname": "O'Brien",
                            "emailaddress1": QUOTED,
                            "parentcustomerid_account@odata.bind": "$1",
                        },
                        content_id="2",
                    ),
                ]
            ),
            Operation(
                "POST", "contacts", {"lastname": "x", "nosuchcolumn": 1}, record="bad contact"
            ),
            Operation("GET", "contacts?$select=lastname,_parentcustomerid_value"),
        ],
    )
    assert [r.status for r in results][:2] == [204, 204]
    assert results[2].status == 400
    assert "bad contact" in str(results[2].error())
    assert results[3].ok
    row = results[3].json()["value"][0]
    assert row["lastname"] == "O'Brien"
    assert row["_parentcustomerid_value"] is not None
    stopped = execute_batch(
        client,
        [
            Operation("POST", "contacts", {"lastname": "y", "nosuchcolumn": 1}),
            Operation("POST", "contacts", {"lastname": "z"}),
        ],
        continue_on_error=False,
    )
    assert stopped[0].status == 400
    assert stopped[1].status is None


@pytest.mark.parametrize(("version", "mode"), [("9.2", "bulk"), ("9.1", "batch")])
def test_bulk_create_in_chunks_with_per_record_errors(dv: Target, version: str, mode: str) -> None:
    client = dv.client(version)
    records = [{"lastname": f"B{i}", "emailaddress1": f"b{i}@example.com"} for i in range(2500)]
    records[1234]["nosuchcolumn"] = "x"
    result = create_many(client, "contacts", records, logical_name="contact", id_column="contactid")
    assert result.used_bulk_messages is (mode == "bulk")
    assert result.succeeded == 2499
    assert list(result.errors) == [1234]
    assert "contact #1235" in str(result.errors[1234])
    # 3 chunks, plus (bulk only) the failed chunk replayed as a $batch to name the record
    assert client.requests_sent == (4 if mode == "bulk" else 3)
    count = sum(1 for _ in client.query("contacts", Query(select=("contactid",))))
    assert count == 2499


def test_parallel_bulk_workers_stay_correct(dv: Target) -> None:
    client = dv.client(concurrency=4)
    records = [{"lastname": f"W{i}"} for i in range(4000)]
    result = create_many(
        client,
        "contacts",
        records,
        logical_name="contact",
        id_column="contactid",
        chunk_size=500,
        workers=4,
    )
    assert result.succeeded == 4000
    assert client.requests_sent == 8
    assert len(set(result.ids)) == 4000


def test_msal_against_the_sandbox_authority_over_tls(dv: Target) -> None:
    from reconcile.config import DynamicsSettings, Secret
    from reconcile.dataverse import connect

    admin = dv.info["identities"]["admin"]
    settings = DynamicsSettings(
        environment_url=dv.url,
        api_version="v9.1",
        client_id=admin["client_id"],
        client_secret=Secret(admin["client_secret"], "test"),
        authority=dv.info["authority"],
        ca_file=dv.info["ca_file"],
    )
    with connect(settings) as client:
        assert who_am_i(client).user_id == admin["user_id"]
        assert client.api_version.value == "v9.1"
    wrong = DynamicsSettings(
        environment_url=dv.url,
        client_id=admin["client_id"],
        client_secret=Secret("not-the-secret", "test"),
        authority=dv.info["authority"],
        ca_file=dv.info["ca_file"],
    )
    with pytest.raises(errors.AuthenticationFailed) as info, connect(wrong) as client:
        client.who_am_i()
    assert "not-the-secret" not in str(info.value)
    assert admin["client_secret"] not in str(info.value)


def test_the_authority_is_discovered_from_the_environment(dv: Target) -> None:
    from reconcile.config import DynamicsSettings
    from reconcile.dataverse import discover_authority

    found = discover_authority(DynamicsSettings(environment_url=dv.url))
    assert found.rstrip("/") == dv.info["authority"].rstrip("/")


def test_formatted_values_and_counts_come_as_annotations(dv: Target) -> None:
    client = dv.client()
    cid = client.create("contacts", {"lastname": "x"}, id_column="contactid")
    row = client.retrieve(
        "contacts",
        cid,
        select=["statecode"],
        annotations="OData.Community.Display.V1.FormattedValue",
    )
    assert row["statecode@OData.Community.Display.V1.FormattedValue"] == "Active"
    page = next(pages(client, "contacts", Query(select=("contactid",), count=True)))
    assert page.count == 1


def test_raw_requests_are_plain_httpx_underneath(dv: Target) -> None:
    # the sandbox answers the OData headers the client sends
    client = dv.client()
    response = client.request("GET", "WhoAmI", idempotent=True)
    assert response.headers["OData-Version"] == "4.0"
    assert isinstance(response, httpx.Response)


@pytest.mark.parametrize(
    ("version", "path"),
    [
        ("9.2", "/api/data/v9.2/contacts/Microsoft.Dynamics.CRM.CreateMultiple"),
        ("9.1", "/api/data/v9.1/$batch"),
    ],
)
def test_a_bulk_create_whose_answer_is_lost_creates_every_record_once(
    dv: Target, version: str, path: str
) -> None:
    client = dv.client(version)
    dv.faults({"kind": "drop", "after": True, "count": 1, "path": path, "method": "POST"})
    records = [{"lastname": f"L{i}"} for i in range(30)]
    result = create_many(client, "contacts", records, logical_name="contact", id_column="contactid")
    assert result.succeeded == 30
    assert not result.errors
    rows = list(client.query("contacts", Query(select=("contactid", "lastname"))))
    assert len(rows) == 30
    assert {r["contactid"] for r in rows} == set(result.ids)


def test_associate_and_disassociate_survive_a_lost_answer(dv: Target) -> None:
    client = dv.client()
    account = client.create("accounts", {"name": "Contoso"}, id_column="accountid")
    contact = client.create("contacts", {"lastname": "Linked"}, id_column="contactid")
    nav = "contact_customer_accounts"  # 1:N account → contact (parentcustomerid)
    ref = f"/api/data/v9.2/accounts({account})/{nav}"
    dv.faults({"kind": "drop", "after": True, "count": 1, "path": ref, "method": "POST"})
    client.associate("accounts", account, nav, "contacts", contact)
    linked = client.retrieve("contacts", contact, select=["_parentcustomerid_value"])
    assert linked["_parentcustomerid_value"] == account
    dv.faults({"kind": "drop", "after": True, "count": 1, "path": ref, "method": "DELETE"})
    client.disassociate("accounts", account, nav, contact)  # the repeat finds no link: done
    unlinked = client.retrieve("contacts", contact, select=["_parentcustomerid_value"])
    assert unlinked["_parentcustomerid_value"] is None
    with pytest.raises(errors.RecordNotFound):  # without a retry of ours: not there
        client.disassociate("accounts", account, nav, contact)


def test_an_alternate_key_clash_is_a_duplicate_record(dv: Target) -> None:
    from reconcile.dataverse import install_schema
    from reconcile.dataverse import schema as s

    client = dv.client()
    install_schema(client, [s.LISTS, s.CONTACTS])
    row = {"grc_getresponseid": "pV3r~2", "grc_name": "first"}
    client.create(s.CONTACTS.entity_set, row, record="GetResponse contact pV3r")
    with pytest.raises(errors.DuplicateRecord) as clash:  # 412 0x80060892, not a conflict
        client.create(s.CONTACTS.entity_set, row, record="GetResponse contact pV3r")
    assert clash.value.status == 412
    assert "GetResponse contact pV3r" in str(clash.value)


def test_delete_many_in_batches_counts_gone_records_and_survives_a_lost_answer(dv: Target) -> None:
    client = dv.client()
    made = create_many(
        client,
        "contacts",
        [{"lastname": f"D{i}"} for i in range(1500)],
        logical_name="contact",
        id_column="contactid",
    )
    ids = [i for i in made.ids if i]
    client.delete("contacts", ids[7])  # someone else deleted one already
    dv.faults({"kind": "drop", "after": True, "count": 1, "path": "/api/data/v9.2/$batch"})
    before = client.requests_sent
    result = delete_many(client, "contacts", [*ids, str(uuid.uuid4())])
    assert result.succeeded == 1501  # gone or never there: deleted
    assert not result.errors
    assert client.requests_sent - before == 3  # 2 batches of at most 1,000, one sent twice
    assert not list(client.query("contacts", Query(select=("contactid",))))


def test_a_redirect_is_an_error_naming_url_and_location_never_success(dv: Target) -> None:
    """The sandbox's redirect fault answers as a front server does for a wrong environment
    URL; the client neither follows it nor takes it for success."""
    from reconcile.config import DynamicsSettings
    from reconcile.dataverse import discover_authority

    client = dv.client()
    moved = {"kind": "redirect", "status": 302, "location": "https://login.example/portal?x=1"}
    dv.faults({**moved, "count": 3})
    with pytest.raises(errors.WrongAddress) as caught:
        client.create("contacts", {"lastname": "lost?"}, id_column="contactid")
    text = str(caught.value)
    assert f"POST {dv.url}/api/data/v9.2/contacts with HTTP 302 Found" in text
    assert "pointing to https://login.example/portal" in text
    assert "x=1" not in text
    assert "dynamics.environment_url" in text
    assert caught.value.exit_code == 2
    with pytest.raises(errors.WrongAddress):
        list(client.query("contacts"))
    with pytest.raises(errors.WrongAddress):
        who_am_i(client)
    assert dv.slept == []  # not retried
    assert list(client.query("contacts")) == []  # nothing was created
    dv.faults({**moved, "count": 1})
    with pytest.raises(errors.WrongAddress, match="authority discovery"):
        discover_authority(DynamicsSettings(environment_url=dv.url))


def test_a_failed_change_set_names_the_operation_that_failed(dv: Target) -> None:
    client = dv.client()
    results = execute_batch(
        client,
        [
            Changeset(
                [
                    Operation(
                        "POST", "contacts", {"lastname": "Fine"}, content_id="1", record="Fine"
                    ),
                    Operation(
                        "POST", "contacts", {"lastname": "x" * 60}, content_id="2", record="Long"
                    ),
                ]
            ),
        ],
    )
    assert [r.status for r in results] == [400, 400]
    assert str(results[1].error()).startswith("Dataverse could not create Long:")
    assert str(results[0].error()).startswith(
        "Rolled back: Fine was in a change set that failed at Long: A validation error"
    )
    assert list(client.query("contacts")) == []
