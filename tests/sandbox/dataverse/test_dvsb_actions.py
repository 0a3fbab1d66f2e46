"""Functions and actions: WhoAmI, versions, marketing lists, campaigns, Merge, privileges and
roles, the bulk messages (v9.2 only), and change tracking."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from dvsb_help import entity_id

from reconcile.sandbox.dataverse import DataverseSandbox


def test_who_am_i_and_version(api: httpx.Client, info: dict[str, Any]) -> None:
    body = api.get("/WhoAmI").json()
    assert body["UserId"] == info["identities"]["admin"]["user_id"]
    assert set(body) == {"@odata.context", "BusinessUnitId", "UserId", "OrganizationId"}
    assert body["@odata.context"].endswith("$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse")
    assert api.get("/WhoAmI()").status_code == 200
    assert api.post("/WhoAmI").status_code == 405
    assert api.get("/RetrieveVersion").json()["Version"].startswith("9.2.")
    with httpx.Client(base_url=f"{info['url']}/api/data/v8.2", headers=dict(api.headers)) as old:
        assert old.get("/RetrieveVersion()").json()["Version"].startswith("8.2.")
    assert api.get("/NoSuchFunction").status_code == 404


# ------------------------------------------------------------------------------ lists
@pytest.fixture
def lists(api: httpx.Client, sandbox: DataverseSandbox) -> dict[str, str]:
    contacts = sandbox.bulk_contacts(
        [
            {"lastname": "Lee", "address1_city": "Paris"},
            {"lastname": "Ray", "address1_city": "Lyon"},
        ]
    )
    account = entity_id(api.post("/accounts", json={"name": "Contoso"}))
    static = entity_id(
        api.post("/lists", json={"listname": "Static", "type": False, "createdfromcode": 2})
    )
    query = (
        '<fetch><entity name="contact"><attribute name="lastname" /><filter><condition '
        'attribute="address1_city" operator="eq" value="Paris" /></filter></entity></fetch>'
    )
    dynamic = entity_id(
        api.post(
            "/lists",
            json={"listname": "Dynamic", "type": True, "createdfromcode": 2, "query": query},
        )
    )
    accounts = entity_id(
        api.post("/lists", json={"listname": "Accounts", "type": False, "createdfromcode": 1})
    )
    return {
        "lee": contacts[0],
        "ray": contacts[1],
        "account": account,
        "static": static,
        "dynamic": dynamic,
        "accounts": accounts,
    }


def members(api: httpx.Client, list_id: str) -> list[str]:
    found = api.get(
        "/listmembers",
        params={"$select": "_entityid_value", "$filter": f"_listid_value eq {list_id}"},
    )
    return sorted(r["_entityid_value"] for r in found.json()["value"])


def test_add_member_list_and_membercount(api: httpx.Client, lists: dict[str, str]) -> None:
    assert api.get(f"/lists({lists['static']})?$select=membercount").json()["membercount"] == 0
    assert api.get(f"/lists({lists['dynamic']})?$select=membercount").json()["membercount"] is None
    response = api.post(
        f"/lists({lists['static']})/Microsoft.Dynamics.CRM.AddMemberList",
        json={"EntityId": lists["lee"]},
    )
    assert response.status_code == 200
    member_row = response.json()["Id"]
    again = api.post(
        f"/lists({lists['static']})/Microsoft.Dynamics.CRM.AddMemberList",
        json={"EntityId": lists["lee"]},
    )
    assert again.json()["Id"] == member_row  # adding twice is a no-op
    assert members(api, lists["static"]) == [lists["lee"]]
    assert api.get(f"/lists({lists['static']})?$select=membercount").json()["membercount"] == 1
    via_nav = api.get(f"/lists({lists['static']})/listcontact_association?$select=lastname").json()[
        "value"
    ]
    assert [r["lastname"] for r in via_nav] == ["Lee"]


def test_list_rules(api: httpx.Client, lists: dict[str, str]) -> None:
    def add(list_id: str, member: str) -> httpx.Response:
        return api.post(
            f"/lists({list_id})/Microsoft.Dynamics.CRM.AddMemberList", json={"EntityId": member}
        )

    wrong_type = add(lists["static"], lists["account"])
    assert wrong_type.status_code == 400
    assert (
        "has members of type contact; a account cannot be added"
        in wrong_type.json()["error"]["message"]
    )
    assert (
        "dynamic marketing list" in add(lists["dynamic"], lists["lee"]).json()["error"]["message"]
    )
    assert add(lists["accounts"], lists["account"]).status_code == 200
    assert add(lists["static"], "00000000-0000-0000-0000-00000000000f").status_code == 404
    frozen = api.patch(f"/lists({lists['static']})", json={"createdfromcode": 1})
    assert "can be set only when the record is created" in frozen.json()["error"]["message"]
    api.patch(f"/lists({lists['static']})", json={"statecode": 1})
    assert "inactive" in add(lists["static"], lists["lee"]).json()["error"]["message"]


def test_add_list_members_list_remove_and_ref(api: httpx.Client, lists: dict[str, str]) -> None:
    body = {
        "List": {"listid": lists["static"], "@odata.type": "Microsoft.Dynamics.CRM.list"},
        "Members": [
            {"contactid": lists["lee"], "@odata.type": "Microsoft.Dynamics.CRM.contact"},
            {"contactid": lists["ray"], "@odata.type": "Microsoft.Dynamics.CRM.contact"},
        ],
    }
    assert api.post("/AddListMembersList", json=body).status_code == 204
    assert members(api, lists["static"]) == sorted([lists["lee"], lists["ray"]])
    count = api.get(f"/lists({lists['static']})?$select=membercount").json()["membercount"]
    assert count == 2  # recounted once for the whole call (members.add_members)
    again = {**body, "Members": [*body["Members"], *body["Members"]]}
    assert api.post("/AddListMembersList", json=again).status_code == 204  # repeats: no-ops
    count = api.get(f"/lists({lists['static']})?$select=membercount").json()["membercount"]
    assert count == 2
    stranger = {"accountid": lists["lee"], "@odata.type": "Microsoft.Dynamics.CRM.account"}
    refused = api.post("/AddListMembersList", json={**body, "Members": [stranger]})
    assert refused.status_code == 404
    untyped = {**body, "Members": [{"contactid": lists["lee"]}]}
    assert "@odata.type" in api.post("/AddListMembersList", json=untyped).json()["error"]["message"]
    removed = api.post(
        f"/lists({lists['static']})/Microsoft.Dynamics.CRM.RemoveMemberList",
        json={"EntityId": lists["ray"]},
    )
    assert removed.status_code == 204
    assert members(api, lists["static"]) == [lists["lee"]]
    assert (
        api.delete(
            f"/lists({lists['static']})/listcontact_association({lists['lee']})/$ref"
        ).status_code
        == 204
    )
    assert members(api, lists["static"]) == []
    ref = {"@odata.id": f"{api.base_url}/contacts({lists['ray']})"}
    assert (
        api.post(f"/lists({lists['static']})/listcontact_association/$ref", json=ref).status_code
        == 204
    )
    assert members(api, lists["static"]) == [lists["ray"]]
    assert api.get(f"/lists({lists['static']})?$select=membercount").json()["membercount"] == 1
    api.delete(f"/contacts({lists['ray']})")
    assert members(api, lists["static"]) == []
    assert api.get(f"/lists({lists['static']})?$select=membercount").json()["membercount"] == 0


def test_dynamic_list_query_and_copy_to_static(api: httpx.Client, lists: dict[str, str]) -> None:
    query = api.get(f"/lists({lists['dynamic']})?$select=query").json()["query"]
    found = api.get("/contacts", params={"fetchXml": query}).json()["value"]
    assert [r["contactid"] for r in found] == [lists["lee"]]
    copy = api.post(f"/lists({lists['dynamic']})/Microsoft.Dynamics.CRM.CopyDynamicListToStatic")
    assert copy.status_code == 200
    copied = copy.json()
    assert copied["type"] is False
    assert copied["listname"] == "Dynamic (static copy)"
    assert members(api, copied["listid"]) == [lists["lee"]]


def test_campaigns(api: httpx.Client, lists: dict[str, str]) -> None:
    campaign = entity_id(api.post("/campaigns", json={"name": "Spring", "typecode": 2}))
    body = {"CampaignId": campaign, "EntityId": lists["static"], "EntityName": "list"}
    response = api.post("/AddItemCampaign", json=body)
    assert response.status_code == 200
    assert "CampaignItemId" in response.json()
    linked = api.get(f"/campaigns({campaign})/campaignlist_association?$select=listname").json()[
        "value"
    ]
    assert [r["listname"] for r in linked] == ["Static"]
    row = api.get(f"/campaigns({campaign})?$select=statuscode,statecode").json()
    assert (row["statecode"], row["statuscode"]) == (0, 0)


def test_merge(api: httpx.Client, sandbox: DataverseSandbox) -> None:
    account = entity_id(api.post("/accounts", json={"name": "Child company"}))
    master, subordinate = sandbox.bulk_contacts(
        [
            {"lastname": "Master", "emailaddress1": "m@example.com"},
            {"lastname": "Dup", "jobtitle": "Buyer"},
        ]
    )
    api.patch(
        f"/accounts({account})", json={"primarycontactid@odata.bind": f"/contacts({subordinate})"}
    )
    body = {
        "Target": {"contactid": master, "@odata.type": "Microsoft.Dynamics.CRM.contact"},
        "Subordinate": {"contactid": subordinate, "@odata.type": "Microsoft.Dynamics.CRM.contact"},
        "UpdateContent": {"jobtitle": "Buyer", "@odata.type": "Microsoft.Dynamics.CRM.contact"},
        "PerformParentingChecks": False,
    }
    assert api.post("/Merge", json=body).status_code == 204
    sub = api.get(
        f"/contacts({subordinate})?$select=statecode,statuscode,merged,_masterid_value"
    ).json()
    assert (sub["statecode"], sub["statuscode"], sub["merged"], sub["_masterid_value"]) == (
        1,
        2,
        True,
        master,
    )
    assert api.get(f"/contacts({master})?$select=jobtitle").json()["jobtitle"] == "Buyer"
    moved = api.get(f"/accounts({account})?$select=_primarycontactid_value").json()
    assert moved["_primarycontactid_value"] == master
    merged_rows = api.get(
        "/contacts", params={"$filter": "merged eq true", "$select": "_masterid_value"}
    )
    assert [r["_masterid_value"] for r in merged_rows.json()["value"]] == [master]
    assert api.post("/Merge", json=body).status_code == 400  # already merged
    untyped = {**body, "Target": {"contactid": master}}
    assert "@odata.type" in api.post("/Merge", json=untyped).json()["error"]["message"]


# ------------------------------------------------------------------------- security
def test_privileges_of_the_running_identity(
    api: httpx.Client, service_api: httpx.Client, info: dict[str, Any]
) -> None:
    service_user = info["identities"]["service"]["user_id"]
    denied = service_api.get("/contacts")
    assert denied.status_code == 403
    error = denied.json()["error"]
    assert error["code"] == "0x80040220"
    assert "is missing prvReadContact privilege" in error["message"]
    assert service_api.get("/WhoAmI").json()["UserId"] == service_user
    own = service_api.get(
        f"/systemusers({service_user})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"
    ).json()
    assert own["RolePrivileges"] == []
    unit = api.get("/WhoAmI").json()["BusinessUnitId"]
    bind = f"/businessunits({unit})"
    role = entity_id(
        api.post(
            "/roles", json={"name": "GetResponse Service user", "businessunitid@odata.bind": bind}
        )
    )
    names = ["prvReadContact", "prvWriteContact", "prvReadList"]
    privileges = api.get(
        "/privileges",
        params={
            "$select": "name",
            "$filter": "Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=["
            + ",".join(f'"{n}"' for n in names)
            + "])",
        },
    ).json()["value"]
    assert sorted(p["name"] for p in privileges) == sorted(names)
    grant = {
        "Privileges": [
            {
                "PrivilegeId": p["privilegeid"],
                "Depth": "Global",
                "BusinessUnitId": unit,
            }
            for p in privileges
        ]
    }
    assert (
        api.post(f"/roles({role})/Microsoft.Dynamics.CRM.AddPrivilegesRole", json=grant).status_code
        == 204
    )
    assign = {"@odata.id": f"{api.base_url}/roles({role})"}
    assert (
        api.post(
            f"/systemusers({service_user})/systemuserroles_association/$ref", json=assign
        ).status_code
        == 204
    )
    assert service_api.get("/contacts").status_code == 200
    assert service_api.post("/contacts", json={"lastname": "X"}).status_code == 403
    held = service_api.get(
        f"/systemusers({service_user})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"
    ).json()
    assert sorted(p["PrivilegeName"] for p in held["RolePrivileges"]) == sorted(names)
    assert {p["Depth"] for p in held["RolePrivileges"]} == {"Global"}
    target = entity_id(api.post("/contacts", json={"lastname": "Target"}))
    access = service_api.get(
        f"/systemusers({service_user})/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@tid)",
        params={"@tid": f"{{'@odata.id':'contacts({target})'}}"},
    ).json()
    assert access["AccessRights"] == "ReadAccess, WriteAccess"
    role_privileges = api.get(f"/RetrieveRolePrivilegesRole(RoleId={role})").json()
    assert len(role_privileges["RolePrivileges"]) == 3
    roles = api.get(
        f"/systemusers({service_user})/systemuserroles_association?$select=name"
    ).json()["value"]
    assert [r["name"] for r in roles] == ["GetResponse Service user"]


# ----------------------------------------------------------------------- bulk messages
def test_bulk_messages_on_9_2_only(api: httpx.Client, info: dict[str, Any]) -> None:
    targets = [
        {"lastname": f"B{i}", "@odata.type": "Microsoft.Dynamics.CRM.contact"} for i in range(3)
    ]
    created = api.post("/contacts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": targets})
    assert created.status_code == 200
    ids = created.json()["Ids"]
    assert len(ids) == 3
    updates = [
        {"contactid": i, "jobtitle": "Bulk", "@odata.type": "Microsoft.Dynamics.CRM.contact"}
        for i in ids
    ]
    assert (
        api.post(
            "/contacts/Microsoft.Dynamics.CRM.UpdateMultiple", json={"Targets": updates}
        ).status_code
        == 204
    )
    assert {r["jobtitle"] for r in api.get("/contacts?$select=jobtitle").json()["value"]} == {
        "Bulk"
    }
    bad = [*targets, {"lastname": "x" * 99, "@odata.type": "Microsoft.Dynamics.CRM.contact"}]
    failed = api.post("/contacts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": bad})
    assert failed.status_code == 400
    assert failed.json()["error"]["message"].startswith("Targets[3]: ")
    assert len(api.get("/contacts").json()["value"]) == 3  # all or nothing
    api.post(
        "/EntityDefinitions(LogicalName='contact')/Keys",
        json={"SchemaName": "new_k", "KeyAttributes": ["emailaddress1"]},
    )
    upserts = [
        {
            "@odata.id": "contacts(emailaddress1='o''hara@example.com')",
            "lastname": "O'Hara",
            "@odata.type": "Microsoft.Dynamics.CRM.contact",
        }
    ]
    results = api.post(
        "/contacts/Microsoft.Dynamics.CRM.UpsertMultiple", json={"Targets": upserts}
    ).json()
    assert results["Results"][0]["RecordCreated"] is True
    for version in ("8.2", "9.0", "9.1"):
        with httpx.Client(
            base_url=f"{info['url']}/api/data/v{version}", headers=dict(api.headers)
        ) as old:
            response = old.post(
                "/contacts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": targets}
            )
            assert response.status_code == 404
            assert response.json()["error"]["message"] == (
                "Resource not found for the segment 'Microsoft.Dynamics.CRM.CreateMultiple'."
            )
    not_for_lists = api.post(
        "/listmembers/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": [{}]}
    )
    assert not_for_lists.status_code == 400


# --------------------------------------------------------------------- change tracking
def test_change_tracking(api: httpx.Client, sandbox: DataverseSandbox) -> None:
    ids = sandbox.bulk_contacts([{"lastname": f"T{i}"} for i in range(5)])
    first = api.get(
        "/contacts?$select=lastname", headers={"Prefer": "odata.track-changes,odata.maxpagesize=3"}
    )
    assert first.headers["Preference-Applied"] == "odata.track-changes"
    page = first.json()
    seen = [r["lastname"] for r in page["value"]]
    second = api.get(
        page["@odata.nextLink"], headers={"Prefer": "odata.track-changes,odata.maxpagesize=3"}
    ).json()
    seen += [r["lastname"] for r in second["value"]]
    assert sorted(seen) == [f"T{i}" for i in range(5)]
    delta = second["@odata.deltaLink"]
    assert "$deltatoken=" in delta
    assert api.get(delta).json()["value"] == []
    api.patch(f"/contacts({ids[0]})", json={"lastname": "Changed"})
    api.delete(f"/contacts({ids[1]})")
    api.post("/contacts", json={"lastname": "New"})
    changes = api.get(delta).json()
    values = changes["value"]
    assert [v.get("lastname") for v in values if "lastname" in v] == ["Changed", "New"]
    deleted = [v for v in values if v.get("reason") == "deleted"]
    assert deleted == [
        {"@odata.context": deleted[0]["@odata.context"], "id": ids[1], "reason": "deleted"}
    ]
    assert deleted[0]["@odata.context"].endswith("$metadata#contacts/$deletedEntity")
    assert api.get(changes["@odata.deltaLink"]).json()["value"] == []
    refused = api.get("/contacts?$filter=statecode eq 0", headers={"Prefer": "odata.track-changes"})
    assert refused.json()["error"]["message"] == (
        'The "$filter" query parameter isn\'t supported when Change Tracking is enabled.'
    )
    not_enabled = api.get("/campaigns", headers={"Prefer": "odata.track-changes"})
    assert not_enabled.status_code == 400


def test_replace_and_remove_role_privileges(api: httpx.Client) -> None:
    unit = api.get("/WhoAmI").json()["BusinessUnitId"]
    role = entity_id(
        api.post(
            "/roles", json={"name": "R", "businessunitid@odata.bind": f"/businessunits({unit})"}
        )
    )
    ids = {p["name"]: p["privilegeid"] for p in api.get("/privileges?$select=name").json()["value"]}
    url = f"/roles({role})/Microsoft.Dynamics.CRM."

    def held() -> dict[str, str]:
        found = api.get("/RetrieveRolePrivilegesRole(RoleId=@p1)", params={"@p1": role}).json()
        found = found["RolePrivileges"]
        return {p["PrivilegeName"]: p["Depth"] for p in found}

    add = {
        "Privileges": [
            {"PrivilegeId": ids["prvReadContact"], "Depth": "Basic"},
            {"PrivilegeId": ids["prvReadList"], "Depth": "Local"},
        ]
    }
    assert api.post(url + "AddPrivilegesRole", json=add).status_code == 204
    assert held() == {"prvReadContact": "Basic", "prvReadList": "Local"}
    replace = {"Privileges": [{"PrivilegeId": ids["prvWriteContact"], "Depth": "Deep"}]}
    assert api.post(url + "ReplacePrivilegesRole", json=replace).status_code == 204
    assert held() == {"prvWriteContact": "Deep"}
    remove = {"PrivilegeId": ids["prvWriteContact"]}
    assert api.post(url + "RemovePrivilegeRole", json=remove).status_code == 204
    assert held() == {}
    bound = api.get(f"/roles({role})/Microsoft.Dynamics.CRM.RetrieveRolePrivilegesRole()")
    assert bound.status_code == 404  # an unbound function on the service
    bad = api.post(
        url + "AddPrivilegesRole", json={"Privileges": [{"PrivilegeId": "x", "Depth": "All"}]}
    )
    assert bad.status_code == 400
