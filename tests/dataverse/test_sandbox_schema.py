"""`schema install|check` and the security roles on the sandbox: idempotent, complete, and
the service identity's privileges checked exactly."""

from __future__ import annotations

from typing import Any

from reconcile.dataverse import (
    check_identity,
    check_roles,
    check_schema,
    install_roles,
    install_schema,
)
from reconcile.dataverse import roles as r
from reconcile.dataverse import schema as s

Target = Any  # tests/dataverse/conftest.py::Target


def test_install_creates_everything_once_and_check_agrees(dv: Target) -> None:
    client = dv.client()
    before = check_schema(client)
    assert {f.kind for f in before.findings} == {"publisher", "solution", "table"}
    assert len([f for f in before.findings if f.kind == "table"]) == 6
    report = install_schema(client)
    assert report.ok, [str(f) for f in report.findings]
    created = report.created
    assert "publisher getresponseconnector" in created
    assert sum(1 for c in created if " key " in c) == 6
    assert sum(1 for c in created if " lookup " in c) == 11
    assert report.tables == {t.logical_name: t.entity_set for t in s.TABLES}
    again = install_schema(client)
    assert again.ok
    assert again.created == []
    assert check_schema(client).ok
    # the tables work: upsert by GetResponse id, statuses, lookups to CRM records
    cid = client.create("contacts", {"lastname": "O'Brien"}, id_column="contactid")
    client.upsert(
        s.CONTACTS.entity_set,
        {"grc_getresponseid": "gr-1"},
        {
            "grc_name": "O'Brien",
            "grc_email": "o'brien@example.com",
            "grc_synchronizationstatus": s.SYNC_STATUS_VALUES[s.SyncStatus.SYNCHRONIZED],
            f"{s.CONTACT.schema_name}@odata.bind": f"/contacts({cid})",
        },
    )
    row = client.retrieve(
        s.CONTACTS.entity_set,
        {"grc_getresponseid": "gr-1"},
        select=["grc_synchronizationstatus", s.CONTACT.value_property],
    )
    assert row[s.CONTACT.value_property] == cid
    assert row["grc_synchronizationstatus"] == 725100002


def test_check_reports_a_missing_column_and_install_adds_it(dv: Target) -> None:
    client = dv.client()
    install_schema(client)
    client.request(
        "DELETE",
        "EntityDefinitions(LogicalName='grc_getresponselist')/"
        "Attributes(LogicalName='grc_synchronizationerror')",
        idempotent=True,
    )
    report = check_schema(client)
    assert [str(f) for f in report.findings] == [
        "grc_getresponselist: column grc_synchronizationerror missing"
    ]
    fixed = install_schema(client)
    assert fixed.ok
    assert fixed.created == ["grc_getresponselist: column grc_synchronizationerror"]


def test_the_service_identity_without_roles_lacks_everything_it_needs(dv: Target) -> None:
    install_schema(dv.client())
    report = check_identity(dv.client(identity="service"))
    assert not report.ok
    assert len(report.missing) == len(r.SERVICE_USER.required())
    first = str(report.missing[0])
    assert "not held" in first
    admin = check_identity(dv.client())
    assert admin.ok


def test_a_role_at_too_shallow_a_depth_is_reported_as_such(dv: Target) -> None:
    install_schema(dv.client())
    required = r.SERVICE_USER.required()
    privileges = [
        {"name": r.privilege_name(t, p), "depth": d.value} for (t, p), d in required.items()
    ]
    privileges[0]["depth"] = "Basic"
    dv.load(
        {
            "roles": [
                {
                    "name": "Almost",
                    "businessunitid@odata.bind": f"/businessunits({_root(dv)})",
                    "privileges": privileges,
                }
            ],
            "identity_roles": {"service": ["Almost"]},
        }
    )
    report = check_identity(dv.client(identity="service"))
    assert [str(m) for m in report.missing] == [
        f"{privileges[0]['name']} ({_describe(required, privileges[0]['name'])}): held at User "
        "level only"
    ]


def _root(dv: Target) -> str:
    from reconcile.dataverse.security import root_business_unit

    return root_business_unit(dv.client())


def _describe(required: dict, name: str) -> str:
    for (table, privilege), depth in required.items():
        if r.privilege_name(table, privilege) == name:
            return f"{privilege.value} on {r.table_display(table)}, {depth.label} level"
    raise AssertionError(name)


def test_install_creates_the_four_roles_and_the_service_role_is_enough(dv: Target) -> None:
    client = dv.client()
    install_schema(client)
    assert not check_roles(client).ok
    report = install_roles(client)
    assert report.ok, report.to_json()
    assert [c for c in report.created if c.startswith("role ")] == [
        f"role {role.name}" for role in r.ROLES
    ]
    assert install_roles(client).created == []
    dv.load({"identity_roles": {"service": [r.SERVICE_USER.name]}})
    assert check_identity(dv.client(identity="service")).ok
