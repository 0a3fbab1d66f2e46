"""Merging contacts as Dataverse does it (SPEC 8.4): child rows move to the master only
through relationships whose ``CascadeConfiguration.Merge`` is Cascade; the subordinate ends
inactive, ``merged``, ``masterid`` = master, with a new version and ``modifiedon`` — so change
tracking and a ``modifiedon`` filter both see it, and the moved child rows too."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconcile.dataverse import BearerTokenAuth, DataverseClient, install_schema
from reconcile.sandbox.dataverse import DataverseSandbox

TRACK = {"Prefer": "odata.track-changes"}


@pytest.fixture
def connector(sandbox: DataverseSandbox, info: dict[str, Any]) -> DataverseSandbox:
    with DataverseClient(info["url"], auth=BearerTokenAuth(info["token"])) as client:
        install_schema(client)
    return sandbox


def merge(api: httpx.Client, master: str, subordinate: str) -> None:
    body = {
        "Target": {"contactid": master, "@odata.type": "Microsoft.Dynamics.CRM.contact"},
        "Subordinate": {"contactid": subordinate, "@odata.type": "Microsoft.Dynamics.CRM.contact"},
        "PerformParentingChecks": False,
    }
    assert api.post("/Merge", json=body).status_code == 204


def record(api: httpx.Client, key: str, contact: str) -> str:
    answer = api.post(
        "/grc_getresponsecontacts",
        json={"grc_getresponseid": key, "grc_ContactId@odata.bind": f"/contacts({contact})"},
    )
    assert answer.status_code == 204, answer.text
    return answer.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")


def linked_to(api: httpx.Client, record_id: str) -> str:
    row = api.get(f"/grc_getresponsecontacts({record_id})?$select=_grc_contactid_value").json()
    return str(row["_grc_contactid_value"])


@pytest.fixture
def pair(connector: DataverseSandbox) -> tuple[str, str]:
    master, subordinate = connector.bulk_contacts(
        [{"lastname": "Master", "emailaddress1": "m@x.fr"}, {"lastname": "Dup"}]
    )
    return master, subordinate


def test_relationship_metadata_shows_the_merge_cascade(api: httpx.Client, connector: Any) -> None:
    rel = api.get(
        "/RelationshipDefinitions(SchemaName='grc_contact_getresponsecontact')"
        "/Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata"
    )
    assert rel.status_code == 200, rel.text
    assert rel.json()["CascadeConfiguration"]["Merge"] == "Cascade"


def test_cascade_moves_child_rows_and_no_cascade_leaves_them(
    api: httpx.Client, connector: DataverseSandbox, pair: tuple[str, str]
) -> None:
    master, subordinate = pair
    moved = record(api, "moved", subordinate)
    rel = connector.store.catalog.one_to_many["grc_contact_getresponsecustomfield"]
    rel.cascade_merge = "NoCascade"  # as a connector solution installed without it would be
    field = api.post(
        "/grc_getresponsecustomfields",
        json={
            "grc_getresponseid": "f1",
            "grc_contactgetresponseid": "moved",
            "grc_ContactId@odata.bind": f"/contacts({subordinate})",
        },
    )
    assert field.status_code == 204, field.text
    field_id = field.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
    merge(api, master, subordinate)
    assert linked_to(api, moved) == master
    stayed = api.get(f"/grc_getresponsecustomfields({field_id})?$select=_grc_contactid_value")
    assert stayed.json()["_grc_contactid_value"] == subordinate


def test_change_tracking_and_modifiedon_see_the_merge(
    api: httpx.Client, connector: DataverseSandbox, pair: tuple[str, str]
) -> None:
    master, subordinate = pair
    moved = record(api, "moved", subordinate)
    contacts = api.get("/contacts?$select=lastname,merged,_masterid_value", headers=TRACK).json()
    records = api.get("/grc_getresponsecontacts?$select=grc_getresponseid", headers=TRACK).json()
    before = api.get(f"/contacts({subordinate})?$select=modifiedon,versionnumber").json()
    merge(api, master, subordinate)
    changed = api.get(contacts["@odata.deltaLink"]).json()["value"]
    assert [(r["contactid"], r["merged"], r["_masterid_value"]) for r in changed] == [
        (subordinate, True, master)
    ]
    assert [r["grc_getresponsecontactid"] for r in
            api.get(records["@odata.deltaLink"]).json()["value"]] == [moved]  # fmt: skip
    after = api.get(f"/contacts({subordinate})?$select=modifiedon,versionnumber").json()
    assert after["versionnumber"] > before["versionnumber"]
    since = before["modifiedon"]
    found = api.get(
        "/contacts",
        params={
            "$select": "contactid,_masterid_value",
            "$filter": f"merged eq true and modifiedon ge {since}",
        },
    ).json()["value"]
    assert [(r["contactid"], r["_masterid_value"]) for r in found] == [(subordinate, master)]


def test_merge_cascade_must_be_cascade_or_no_cascade(api: httpx.Client, connector: Any) -> None:
    body = {
        "@odata.type": "Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
        "SchemaName": "grc_contact_other",
        "ReferencedEntity": "contact",
        "ReferencingEntity": "grc_getresponselist",
        "CascadeConfiguration": {"Merge": "RemoveLink"},
        "Lookup": {
            "SchemaName": "grc_OtherContactId",
            "DisplayName": {"LocalizedLabels": [{"Label": "Other", "LanguageCode": 1033}]},
        },
    }
    answer = api.post("/RelationshipDefinitions", json=body)
    assert answer.status_code == 400
    assert "Merge must be Cascade or NoCascade" in answer.json()["error"]["message"]


def test_snapshot_and_restore_bring_tables_rows_and_catalog_back(
    api: httpx.Client, connector: DataverseSandbox
) -> None:
    """What the sync tests start every test from: the connector installed once."""
    snapshot = connector.snapshot()
    before = api.get("/contacts?$select=contactid").json()["value"]
    record(api, "r1", connector.bulk_contacts([{"lastname": "Later"}])[0])
    version = connector.store.version
    connector.store.catalog.one_to_many["grc_contact_getresponsecontact"].cascade_merge = "x"
    connector.restore(snapshot)
    assert api.get("/contacts?$select=contactid").json()["value"] == before
    assert api.get("/grc_getresponsecontacts").json()["value"] == []
    rel = connector.store.catalog.one_to_many["grc_contact_getresponsecontact"]
    assert rel.cascade_merge == "Cascade"
    assert connector.store.version >= version  # versions never go back
    assert record(api, "r2", connector.bulk_contacts([{"lastname": "After"}])[0])
