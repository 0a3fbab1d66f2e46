"""Role install and checks on a small fake of the security endpoints (the request shapes the
Web API documents: POST roles, AddPrivilegesRole, unbound RetrieveRolePrivilegesRole)."""

from __future__ import annotations

import json
import re
import uuid

import httpx

from reconcile.dataverse import DataverseClient, check_roles, install_roles
from reconcile.dataverse import roles as r

ENV = "https://org.crm.dynamics.com"
ROOT = "11111111-0000-0000-0000-000000000001"
GUID = r"[0-9a-f-]{36}"


class FakeSecurity:
    def __init__(self) -> None:
        names = {r.privilege_name(t, p) for role in r.ROLES for (t, p) in role.required()}
        self.privileges = {n: str(uuid.uuid5(uuid.NAMESPACE_URL, n)) for n in names}
        self.roles: dict[str, dict] = {}  # id -> {"name", "bu", "privileges": {pid: depth}}
        self.calls: list[str] = []
        self.added: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/data/v9.2/")
        query = request.url.params.get("$filter", "")
        self.calls.append(f"{request.method} {path.split('(')[0]}")
        if path == "businessunits":
            assert query == "_parentbusinessunitid_value eq null"
            return httpx.Response(200, json={"value": [{"businessunitid": ROOT, "name": "org"}]})
        if path == "privileges":
            wanted = re.findall(r"name eq '([^']+)'", query)
            rows = [
                {"name": n, "privilegeid": self.privileges[n]}
                for n in wanted
                if n in self.privileges
            ]
            return httpx.Response(200, json={"value": rows})
        if path == "roles" and request.method == "GET":
            name = re.search(r"name eq '((?:[^']|'')+)'", query).group(1).replace("''", "'")  # type: ignore[union-attr]
            assert f"_businessunitid_value eq {ROOT}" in query
            rows = [
                {"roleid": i, "name": v["name"]} for i, v in self.roles.items() if v["name"] == name
            ]
            return httpx.Response(200, json={"value": rows})
        if path == "roles" and request.method == "POST":
            body = json.loads(request.content)
            assert body["businessunitid@odata.bind"] == f"/businessunits({ROOT})"
            self.roles[body["roleid"]] = {"name": body["name"], "privileges": {}}
            return httpx.Response(204, headers={"OData-EntityId": f"{ENV}/roles({body['roleid']})"})
        match = re.fullmatch(
            rf"roles\(({GUID})\)/Microsoft\.Dynamics\.CRM\.AddPrivilegesRole", path
        )
        if match:
            body = json.loads(request.content)
            self.added.extend(body["Privileges"])
            for item in body["Privileges"]:
                assert set(item) == {"PrivilegeId", "Depth"}
                self.roles[match.group(1)]["privileges"][item["PrivilegeId"]] = item["Depth"]
            return httpx.Response(204)
        if path == "RetrieveRolePrivilegesRole(RoleId=@p1)":
            role = self.roles[request.url.params["@p1"]]
            rows = [
                {"PrivilegeId": pid, "Depth": depth, "BusinessUnitId": ROOT}
                for pid, depth in role["privileges"].items()
            ]
            return httpx.Response(200, json={"RolePrivileges": rows})
        raise AssertionError(f"unexpected {request.method} {request.url}")


def client_for(fake: FakeSecurity) -> DataverseClient:
    return DataverseClient(ENV, transport=httpx.MockTransport(fake), sleep=lambda s: None)


def test_install_creates_roles_in_the_root_unit_with_their_privileges_then_nothing() -> None:
    fake = FakeSecurity()
    client = client_for(fake)
    before = check_roles(client)
    assert not before.ok
    assert all(status.role_id is None for status in before.roles)
    report = install_roles(client)
    assert report.ok
    assert sorted(v["name"] for v in fake.roles.values()) == sorted(x.name for x in r.ROLES)
    service = next(v for v in fake.roles.values() if v["name"] == r.SERVICE_USER.name)
    by_id = {pid: name for name, pid in fake.privileges.items()}
    granted = {by_id[pid]: depth for pid, depth in service["privileges"].items()}
    assert granted["prvReadContact"] == "Global"
    assert granted["prvCreategrc_GetResponseContact"] == "Global"
    assert granted["prvWritegrc_GetResponseList"] == "Global"  # the lists sync sets statuses
    assert "prvWriteContact" not in granted  # the connector never changes a CRM contact (8.1)
    admin = next(v for v in fake.roles.values() if v["name"] == r.ADMINISTRATOR.name)
    assert {by_id[p]: d for p, d in admin["privileges"].items()}["prvWriteList"] == "Basic"
    assert len(fake.added) == sum(len(role.required()) for role in r.ROLES)
    fake.added.clear()
    again = install_roles(client)
    assert again.created == []
    assert fake.added == []


def test_a_role_missing_one_privilege_gets_only_that_one() -> None:
    fake = FakeSecurity()
    client = client_for(fake)
    install_roles(client)
    role_id, role = next((i, v) for i, v in fake.roles.items() if v["name"] == r.READ_ONLY.name)
    removed = fake.privileges["prvReadCampaign"]
    del role["privileges"][removed]
    status = next(s for s in check_roles(client).roles if s.key == "read_only")
    assert [str(x) for x in status.missing] == [
        "prvReadCampaign (Read on Campaign, Organization level): not held"
    ]
    fake.added.clear()
    report = install_roles(client)
    assert report.ok
    assert fake.added == [{"PrivilegeId": removed, "Depth": "Global"}]
    assert f"1 privileges on role {r.READ_ONLY.name}" in report.created
    assert role_id in fake.roles
