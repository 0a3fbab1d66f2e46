"""The metadata API: tables, columns, keys and relationships created as ``reconcile schema
install`` creates them, then used; $metadata."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest


def label(text: str) -> dict[str, Any]:
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.Label",
        "LocalizedLabels": [
            {
                "@odata.type": "Microsoft.Dynamics.CRM.LocalizedLabel",
                "Label": text,
                "LanguageCode": 1033,
            }
        ],
    }


def string_column(schema: str, length: int = 100, **extra: Any) -> dict[str, Any]:
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
        "AttributeType": "String",
        "SchemaName": schema,
        "MaxLength": length,
        "DisplayName": label(schema),
        "RequiredLevel": {"Value": "None"},
        "FormatName": {"Value": "Text"},
        **extra,
    }


@pytest.fixture
def solution(api: httpx.Client) -> str:
    publisher = api.post(
        "/publishers",
        json={
            "uniquename": "reconcile",
            "friendlyname": "Reconcile",
            "customizationprefix": "grc",
            "customizationoptionvalueprefix": 72700,
        },
    )
    publisher_id = publisher.headers["OData-EntityId"][-37:-1]
    api.post(
        "/solutions",
        json={
            "uniquename": "GetResponse",
            "friendlyname": "GetResponse",
            "version": "1.0",
            "publisherid@odata.bind": f"/publishers({publisher_id})",
        },
    )
    return "GetResponse"


def create_table(api: httpx.Client, solution: str) -> httpx.Response:
    return api.post(
        "/EntityDefinitions",
        headers={"MSCRM.SolutionUniqueName": solution},
        json={
            "@odata.type": "Microsoft.Dynamics.CRM.EntityMetadata",
            "SchemaName": "grc_GetResponseList",
            "DisplayName": label("GetResponse List"),
            "DisplayCollectionName": label("GetResponse Lists"),
            "Description": label("Lists synchronized with GetResponse"),
            "OwnershipType": "UserOwned",
            "IsActivity": False,
            "HasActivities": False,
            "HasNotes": False,
            "Attributes": [
                string_column("grc_Name", 100, IsPrimaryName=True),
                string_column("grc_GetResponseId", 50),
            ],
        },
    )


def test_create_table_then_use_it(api: httpx.Client, solution: str) -> None:
    response = create_table(api, solution)
    assert response.status_code == 204, response.text
    assert re.search(r"/EntityDefinitions\([0-9a-f-]{36}\)$", response.headers["OData-EntityId"])
    found = api.get(
        "/EntityDefinitions",
        params={
            "$select": "LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,"
            "IsCustomEntity",
            "$filter": "LogicalName eq 'grc_getresponselist'",
        },
    ).json()["value"]
    assert found[0]["EntitySetName"] == "grc_getresponselists"
    assert found[0]["PrimaryIdAttribute"] == "grc_getresponselistid"
    assert found[0]["PrimaryNameAttribute"] == "grc_name"
    assert found[0]["IsCustomEntity"] is True
    created = api.post(
        "/grc_getresponselists", json={"grc_name": "newsletter", "grc_getresponseid": "pX9"}
    )
    assert created.status_code == 204
    rows = api.get("/grc_getresponselists?$select=grc_name,statecode,statuscode").json()["value"]
    assert (rows[0]["grc_name"], rows[0]["statecode"], rows[0]["statuscode"]) == (
        "newsletter",
        0,
        1,
    )
    assert create_table(api, solution).status_code == 400  # exists already


def test_prefix_must_match_the_solution_publisher(api: httpx.Client, solution: str) -> None:
    response = api.post(
        "/EntityDefinitions",
        headers={"MSCRM.SolutionUniqueName": solution},
        json={
            "SchemaName": "new_Thing",
            "Attributes": [string_column("new_Name", IsPrimaryName=True)],
        },
    )
    assert response.status_code == 400
    assert "does not use the prefix 'grc'" in response.json()["error"]["message"]
    missing = api.post(
        "/EntityDefinitions",
        headers={"MSCRM.SolutionUniqueName": "Nope"},
        json={"SchemaName": "grc_X", "Attributes": []},
    )
    assert "does not exist" in missing.json()["error"]["message"]
    no_primary = api.post("/EntityDefinitions", json={"SchemaName": "new_X", "Attributes": []})
    assert "IsPrimaryName" in no_primary.json()["error"]["message"]


def test_columns_of_every_type(api: httpx.Client, solution: str) -> None:
    create_table(api, solution)
    url = "/EntityDefinitions(LogicalName='grc_getresponselist')/Attributes"
    columns = [
        {
            "@odata.type": "Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
            "SchemaName": "grc_SyncStatus",
            "OptionSet": {
                "@odata.type": "Microsoft.Dynamics.CRM.OptionSetMetadata",
                "IsGlobal": False,
                "OptionSetType": "Picklist",
                "Options": [
                    {"Value": 727000000, "Label": label("New")},
                    {"Value": 727000001, "Label": label("Created in GetResponse")},
                ],
            },
        },
        {
            "@odata.type": "Microsoft.Dynamics.CRM.BooleanAttributeMetadata",
            "SchemaName": "grc_IsCreated",
            "OptionSet": {
                "TrueOption": {"Value": 1, "Label": label("Yes")},
                "FalseOption": {"Value": 0, "Label": label("No")},
            },
        },
        {
            "@odata.type": "Microsoft.Dynamics.CRM.MemoAttributeMetadata",
            "SchemaName": "grc_SyncError",
            "MaxLength": 4000,
        },
        {
            "@odata.type": "Microsoft.Dynamics.CRM.IntegerAttributeMetadata",
            "SchemaName": "grc_Score",
            "MinValue": 0,
            "MaxValue": 100,
        },
        {
            "@odata.type": "Microsoft.Dynamics.CRM.DateTimeAttributeMetadata",
            "SchemaName": "grc_SyncedOn",
            "Format": "DateAndTime",
        },
    ]
    for column in columns:
        response = api.post(url, json=column)
        assert response.status_code == 204, response.text
        assert "/Attributes(" in response.headers["OData-EntityId"]
    again = api.post(url, json=columns[0])
    assert "already exists" in again.json()["error"]["message"]
    row = {
        "grc_name": "a",
        "grc_syncstatus": 727000001,
        "grc_iscreated": True,
        "grc_syncerror": "x" * 3000,
        "grc_score": 100,
        "grc_syncedon": "2024-05-01T10:00:00+02:00",
    }
    assert api.post("/grc_getresponselists", json=row).status_code == 204
    read = api.get(
        "/grc_getresponselists?$select=grc_syncstatus,grc_syncedon,grc_iscreated",
        headers={"Prefer": 'odata.include-annotations="*"'},
    ).json()["value"][0]
    assert (
        read["grc_syncstatus@OData.Community.Display.V1.FormattedValue"] == "Created in GetResponse"
    )
    assert read["grc_syncedon"] == "2024-05-01T08:00:00Z"
    assert read["grc_iscreated"] is True
    too_big = api.post("/grc_getresponselists", json={"grc_name": "b", "grc_score": 101})
    assert too_big.status_code == 400
    lookup = api.post(
        url,
        json={
            "@odata.type": "Microsoft.Dynamics.CRM.LookupAttributeMetadata",
            "SchemaName": "grc_X",
        },
    )
    assert "RelationshipDefinitions" in lookup.json()["error"]["message"]
    picklists = api.get(
        f"{url}/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        params={"$select": "LogicalName", "$expand": "OptionSet($select=Options)"},
    ).json()
    assert [p["LogicalName"] for p in picklists["value"]] == ["grc_syncstatus"]
    assert len(picklists["value"][0]["OptionSet"]["Options"]) == 2


def test_lookup_relationship_and_navigation(api: httpx.Client, solution: str) -> None:
    create_table(api, solution)
    response = api.post(
        "/RelationshipDefinitions",
        headers={"MSCRM.SolutionUniqueName": solution},
        json={
            "@odata.type": "Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
            "SchemaName": "grc_list_grc_getresponselist",
            "ReferencedEntity": "list",
            "ReferencedAttribute": "listid",
            "ReferencingEntity": "grc_getresponselist",
            "CascadeConfiguration": {"Delete": "RemoveLink"},
            "Lookup": {
                "@odata.type": "Microsoft.Dynamics.CRM.LookupAttributeMetadata",
                "AttributeType": "Lookup",
                "SchemaName": "grc_MarketingListId",
                "DisplayName": label("Marketing list"),
                "RequiredLevel": {"Value": "None"},
            },
        },
    )
    assert response.status_code == 204, response.text
    assert "/RelationshipDefinitions(" in response.headers["OData-EntityId"]
    mlist = api.post("/lists", json={"listname": "Newsletter", "createdfromcode": 2, "type": False})
    list_id = mlist.headers["OData-EntityId"][-37:-1]
    # Custom lookups bind through the lookup's SchemaName, which is case-sensitive.
    created = api.post(
        "/grc_getresponselists",
        json={"grc_name": "newsletter", "grc_MarketingListId@odata.bind": f"/lists({list_id})"},
    )
    assert created.status_code == 204, created.text
    lowercase = api.post(
        "/grc_getresponselists",
        json={"grc_name": "x", "grc_marketinglistid@odata.bind": f"/lists({list_id})"},
    )
    assert lowercase.status_code == 400
    row = api.get(
        "/grc_getresponselists?$select=_grc_marketinglistid_value&$expand=grc_MarketingListId($select=listname)"
    ).json()["value"][0]
    assert row["_grc_marketinglistid_value"] == list_id
    assert row["grc_MarketingListId"]["listname"] == "Newsletter"
    back = api.get(f"/lists({list_id})/grc_list_grc_getresponselist?$select=grc_name").json()[
        "value"
    ]
    assert [r["grc_name"] for r in back] == ["newsletter"]
    rel = api.get(
        "/RelationshipDefinitions",
        params={"$filter": "SchemaName eq 'grc_list_grc_getresponselist'"},
    )
    assert (
        rel.json()["value"][0]["ReferencingEntityNavigationPropertyName"] == "grc_MarketingListId"
    )
    assert (
        api.get("/RelationshipDefinitions(SchemaName='grc_list_grc_getresponselist')").status_code
        == 200
    )
    api.delete(f"/lists({list_id})")
    assert (
        api.get("/grc_getresponselists?$select=_grc_marketinglistid_value").json()["value"][0][
            "_grc_marketinglistid_value"
        ]
        is None
    )


def test_keys_and_change_tracking_settings(api: httpx.Client, solution: str) -> None:
    create_table(api, solution)
    keys_url = "/EntityDefinitions(LogicalName='grc_getresponselist')/Keys"
    response = api.post(
        keys_url,
        json={
            "SchemaName": "grc_GetResponseIdKey",
            "DisplayName": label("GR id"),
            "KeyAttributes": ["grc_getresponseid"],
        },
    )
    assert response.status_code == 204
    keys = api.get(keys_url).json()["value"]
    assert keys[0]["KeyAttributes"] == ["grc_getresponseid"]
    assert keys[0]["EntityKeyIndexStatus"] == "Active"
    assert (
        api.patch(
            "/grc_getresponselists(grc_getresponseid='pX9')", json={"grc_name": "n"}
        ).status_code
        == 204
    )
    assert api.get("/grc_getresponselists(grc_getresponseid='pX9')").json()["grc_name"] == "n"
    entity = "/EntityDefinitions(LogicalName='grc_getresponselist')"
    assert api.get(entity).json()["ChangeTrackingEnabled"] is False
    assert api.put(entity, json={"ChangeTrackingEnabled": True}).status_code == 204
    assert (
        api.get(f"{entity}?$select=ChangeTrackingEnabled").json()["ChangeTrackingEnabled"] is True
    )
    assert api.put(entity, json={"ChangeTrackingEnabled": False}).status_code == 400
    tracked = api.get(
        "/EntityDefinitions",
        params={"$select": "LogicalName", "$filter": "ChangeTrackingEnabled eq true"},
    ).json()
    assert "grc_getresponselist" in [e["LogicalName"] for e in tracked["value"]]


def test_key_on_duplicated_values_fails(api: httpx.Client) -> None:
    api.post("/contacts", json={"lastname": "A", "emailaddress1": "same@example.com"})
    api.post("/contacts", json={"lastname": "B", "emailaddress1": "same@example.com"})
    url = "/EntityDefinitions(LogicalName='contact')/Keys"
    assert (
        api.post(
            url, json={"SchemaName": "new_mail", "KeyAttributes": ["emailaddress1"]}
        ).status_code
        == 204
    )
    assert api.get(url).json()["value"][0]["EntityKeyIndexStatus"] == "Failed"


def test_entity_definition_expand_and_csdl(api: httpx.Client) -> None:
    body = api.get(
        "/EntityDefinitions(LogicalName='list')?$select=LogicalName&$expand=Attributes($select=LogicalName,AttributeType)"
    ).json()
    assert {"LogicalName": "type", "AttributeType": "Boolean"} in [
        {k: a[k] for k in ("LogicalName", "AttributeType")} for a in body["Attributes"]
    ]
    csdl = api.get("/$metadata?annotations=true")
    assert csdl.headers["content-type"] == "application/xml"
    root = ET.fromstring(csdl.text)  # noqa: S314 - our own sandbox's answer
    ns = {"edm": "http://docs.oasis-open.org/odata/ns/edm"}
    contact = root.find(".//edm:EntityType[@Name='contact']", ns)
    assert contact is not None
    assert contact.attrib["BaseType"] == "mscrm.crmbaseentity"
    names = {p.attrib["Name"] for p in contact.findall("edm:Property", ns)}
    assert {"emailaddress1", "_parentcustomerid_value", "merged", "_masterid_value"} <= names
    sets = root.findall(".//edm:EntitySet[@Name='contacts']/edm:Annotation", ns)
    assert "Org.OData.Capabilities.V1.ChangeTracking" in [a.attrib["Term"] for a in sets]


def test_publish_and_metadata_privileges(
    api: httpx.Client, service_api: httpx.Client, sandbox: Any
) -> None:
    assert (
        api.post(
            "/PublishXml",
            json={
                "ParameterXml": "<importexportxml><entities><entity>grc_x</entity>"
                "</entities></importexportxml>"
            },
        ).status_code
        == 204
    )
    assert api.post("/PublishAllXml").status_code == 204
    assert len(sandbox.state()["published"]) == 2
    denied = service_api.post("/EntityDefinitions", json={"SchemaName": "new_X"})
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "0x80040220"
    assert "is missing prvCreateEntity privilege" in denied.json()["error"]["message"]


def test_schema_names_are_identifiers(api: httpx.Client) -> None:
    bad = api.post(
        "/EntityDefinitions",
        json={
            "SchemaName": 'new_x"; DROP TABLE t_contact; --',
            "Attributes": [string_column("new_Name", IsPrimaryName=True)],
        },
    )
    assert bad.status_code == 400
    assert "Invalid SchemaName" in bad.json()["error"]["message"]
    column = api.post(
        "/EntityDefinitions(LogicalName='contact')/Attributes", json=string_column("new_a b")
    )
    assert "Invalid attribute SchemaName" in column.json()["error"]["message"]
    assert api.get("/contacts").status_code == 200
