"""Fidelity proof: Microsoft's own Python SDK for Dataverse (``powerplatform-dataverse-client``)
runs against the sandbox and gets what it expects.

The SDK refuses ``http://`` base URLs, so it is built with a dummy https URL and pointed at the
sandbox through ``_base_url`` before its first call (research file §9.2); its credential is a
duck-typed ``TokenCredential`` handing out the sandbox's ready token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from PowerPlatform.Dataverse.client import DataverseClient
from PowerPlatform.Dataverse.core.errors import HttpError

from reconcile.sandbox.dataverse import DataverseSandbox


class SandboxCredential:
    def __init__(self, token: str) -> None:
        self.token = token
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.extend(scopes)
        return AccessToken(self.token, 9_999_999_999)


@pytest.fixture
def sdk(info: dict[str, Any]) -> Iterator[DataverseClient]:
    client = DataverseClient("https://sandbox.invalid", SandboxCredential(info["token"]))
    client._base_url = info["url"]
    with client:
        yield client


def test_create_get_update_delete(sdk: DataverseClient) -> None:
    record_id = sdk.records.create(
        "contact",
        {"firstname": "Siobhan", "lastname": "O'Brien", "emailaddress1": "o'brien@example.com"},
    )
    got = sdk.records.retrieve("contact", record_id, select=["fullname", "emailaddress1"])
    assert got["fullname"] == "Siobhan O'Brien"
    assert got["emailaddress1"] == "o'brien@example.com"
    sdk.records.update("contact", record_id, {"jobtitle": "Buyer"})
    assert sdk.records.retrieve("contact", record_id, select=["jobtitle"])["jobtitle"] == "Buyer"
    sdk.records.delete("contact", record_id)
    assert sdk.records.retrieve("contact", record_id, select=["fullname"]) is None
    with pytest.raises(HttpError) as caught:
        sdk.records.update("contact", record_id, {"jobtitle": "Gone"})
    assert caught.value.status_code == 404
    assert caught.value.details["service_error_code"] == "0x80040217"


def test_create_many_goes_through_create_multiple(
    sdk: DataverseClient, sandbox: DataverseSandbox
) -> None:
    ids = sdk.records.create("contact", [{"lastname": f"Bulk {i}"} for i in range(25)])
    assert len(ids) == 25 == len(set(ids))
    assert sandbox.state()["rows"]["contacts"] == 25


def test_upsert_by_alternate_key(sdk: DataverseClient) -> None:
    key = sdk.tables.create_alternate_key("contact", "new_EmailKey", ["emailaddress1"])
    assert key.key_attributes == ["emailaddress1"]
    key_value = {"emailaddress1": "o'neil@example.com"}
    item = {"alternate_key": key_value, "record": {"lastname": "O'Neil"}}
    sdk.records.upsert("contact", [item])
    sdk.records.upsert("contact", [{**item, "record": {"lastname": "O'Neill"}}])
    rows = sdk.records.list(
        "contact", filter="emailaddress1 eq 'o''neil@example.com'", select=["lastname"]
    )
    assert [r["lastname"] for r in rows] == ["O'Neill"]
    sdk.records.upsert(
        "contact",
        [
            {"alternate_key": {"emailaddress1": "a@example.com"}, "record": {"lastname": "A"}},
            {
                "alternate_key": {"emailaddress1": "o'neil@example.com"},
                "record": {"lastname": "Neil"},
            },
        ],
    )
    names = sorted(r["lastname"] for r in sdk.records.list("contact", select=["lastname"]))
    assert names == ["A", "Neil"]


def test_paged_listing_follows_next_links(sdk: DataverseClient) -> None:
    sdk.records.create("contact", [{"lastname": f"Page {i:03}"} for i in range(230)])
    pages = list(
        sdk.records.list_pages(
            "contact", select=["lastname"], orderby=["lastname desc"], page_size=50
        )
    )
    assert [len(p) for p in pages] == [50, 50, 50, 50, 30]
    names = [r["lastname"] for page in pages for r in page]
    assert names == [f"Page {i:03}" for i in reversed(range(230))]
    counted = sdk.records.list("contact", filter="startswith(lastname,'Page 1')", count=True)
    assert len(counted) == 100


def test_fetchxml_with_paging_cookies(sdk: DataverseClient) -> None:
    rows = [{"lastname": f"F{i:02}", "jobtitle": "Buyer" if i % 2 else "Chef"} for i in range(40)]
    sdk.records.create("contact", rows)
    xml = """<fetch count="7"><entity name="contact"><attribute name="lastname" />
      <attribute name="emailaddress1" />
      <filter><condition attribute="jobtitle" operator="eq" value="Buyer" /></filter>
      <order attribute="lastname" /></entity></fetch>"""
    pages = list(sdk.query.fetchxml(xml).execute_pages())
    assert [len(p) for p in pages] == [7, 7, 6]
    rows = [r for page in pages for r in page]
    assert [r["lastname"] for r in rows] == [f"F{i:02}" for i in range(1, 40, 2)]
    assert "emailaddress1" not in rows[0].data  # FetchXML leaves null columns out


def test_batch_with_a_changeset_and_continue_on_error(sdk: DataverseClient) -> None:
    existing = sdk.records.create("contact", {"lastname": "Existing"})
    batch = sdk.batch.new()
    with batch.changeset() as changes:
        ref = changes.records.create("contact", {"lastname": "In changeset"})
        changes.records.update("contact", ref, {"jobtitle": "Set through $ref"})
    batch.records.update("contact", "00000000-0000-0000-0000-000000000001", {"lastname": "Missing"})
    batch.records.update("contact", existing, {"jobtitle": "Updated"})
    result = batch.execute(continue_on_error=True)
    statuses = [r.status_code for r in result.responses]
    assert statuses == [204, 204, 404, 204]
    assert result.has_errors
    created = sdk.records.list("contact", filter="lastname eq 'In changeset'", select=["jobtitle"])
    assert [r["jobtitle"] for r in created] == ["Set through $ref"]
    assert sdk.records.retrieve("contact", existing, select=["jobtitle"])["jobtitle"] == "Updated"


def test_failed_changeset_rolls_back(sdk: DataverseClient) -> None:
    batch = sdk.batch.new()
    with batch.changeset() as changes:
        changes.records.create("contact", {"lastname": "Rolled back"})
        changes.records.create("contact", {"lastname": "x" * 51})
    result = batch.execute(continue_on_error=True)
    assert [r.status_code for r in result.responses] == [400]
    assert "maximum allowed length of '50'" in (result.responses[0].error_message or "")
    assert len(sdk.records.list("contact", select=["lastname"])) == 0


def test_the_sdk_asks_for_the_environment_scope(info: dict[str, Any]) -> None:
    credential = SandboxCredential(info["token"])
    client = DataverseClient("https://sandbox.invalid", credential)
    client._base_url = info["url"]
    with client:
        client.records.create("contact", {"lastname": "Scope"})
    assert set(credential.scopes) == {f"{info['url']}/.default"}
