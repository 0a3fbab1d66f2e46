"""The connector's tables and roles as data: consistent, faithful to the source, documented."""

from __future__ import annotations

import pytest

from reconcile.dataverse import metadata, schemadoc
from reconcile.dataverse import roles as r
from reconcile.dataverse import schema as s
from reconcile.model import SyncStatus


def test_six_tables_under_one_prefix_each_with_id_status_and_key() -> None:
    assert [t.key for t in s.TABLES] == [
        "lists",
        "contacts",
        "custom_fields",
        "templates",
        "newsletters",
        "activities",
    ]
    for table in s.TABLES:
        names = [c.schema_name for c in (table.primary_name, *table.all_columns())]
        names += [lk.schema_name for lk in table.lookups] + [table.schema_name]
        assert all(n.startswith("grc_") for n in names), table.key
        logical = {c.logical_name for c in (table.primary_name, *table.all_columns())}
        assert "grc_getresponseid" in logical
        assert "grc_synchronizationstatus" in logical
        assert len(logical) == len(table.all_columns()) + 1  # no duplicates
        for key in table.keys:
            assert set(key.columns) <= logical
        for lookup in table.lookups:
            assert lookup.target in s.CRM_TABLES or lookup.target in s.BY_LOGICAL_NAME
            earlier = [t.logical_name for t in s.TABLES[: s.TABLES.index(table)]]
            assert lookup.target in s.CRM_TABLES or lookup.target in earlier  # creation order


def test_schema_names_are_unique_and_within_50_characters() -> None:
    names = [metadata.relationship_name(t, lk) for t in s.TABLES for lk in t.lookups]
    names += [t.schema_name for t in s.TABLES] + [k.schema_name for t in s.TABLES for k in t.keys]
    names += [c.schema_name for t in s.TABLES for c in t.all_columns()]
    assert max(len(n) for n in names) <= 50
    relationships = [metadata.relationship_name(t, lk) for t in s.TABLES for lk in t.lookups]
    assert len(set(relationships)) == len(relationships)
    assert metadata.relationship_name(s.CONTACTS, s.CONTACT) == "grc_contact_getresponsecontact"


def test_error_text_where_records_can_fail_and_merge_following_contact_lookups() -> None:
    assert {t.key for t in s.TABLES if t.has_error_text} == {
        "lists",
        "contacts",
        "custom_fields",
        "templates",
        "newsletters",
    }
    for table in s.TABLES:
        for lookup in table.lookups:
            assert lookup.follows_merge == (lookup.target == "contact")
    # SPEC 8.4: GetResponse contacts, custom fields and activities follow merges
    following = {t.key for t in s.TABLES if any(lk.follows_merge for lk in t.lookups)}
    assert following == {"contacts", "custom_fields", "activities"}


def test_status_values_are_stable_and_cover_the_spec() -> None:
    assert s.SYNC_STATUS_VALUES[SyncStatus.NEW] == 725100000
    assert len(set(s.SYNC_STATUS_VALUES.values())) == len(SyncStatus)
    assert SyncStatus.CREATED_IN_GETRESPONSE in s.LISTS.statuses
    assert SyncStatus.READY_FOR_REALIZATION in s.NEWSLETTERS.statuses
    assert SyncStatus.DELETED_IN_GETRESPONSE in s.TEMPLATES.statuses
    assert s.SYNC_STATUS_BY_VALUE[725100003] is SyncStatus.ERROR


def test_metadata_payloads_have_the_documented_shape() -> None:
    entity = metadata.entity_metadata(s.LISTS)
    assert entity["SchemaName"] == "grc_GetResponseList"
    assert entity["OwnershipType"] == "UserOwned"
    primary = entity["Attributes"][0]
    assert primary["IsPrimaryName"] is True
    assert primary["@odata.type"] == "Microsoft.Dynamics.CRM.StringAttributeMetadata"
    assert primary["MaxLength"] == 64
    status = metadata.attribute_metadata(s.LISTS.column("grc_synchronizationstatus"))
    assert status["OptionSet"]["Options"][0]["Value"] == 725100000
    assert status["OptionSet"]["Options"][0]["Label"]["LocalizedLabels"][0]["Label"] == "New"
    boolean = metadata.attribute_metadata(s.LISTS.column("grc_iscreatedingetresponse"))
    assert boolean["OptionSet"]["OptionSetType"] == "Boolean"
    relationship = metadata.relationship_metadata(s.CONTACTS, s.CONTACT)
    assert relationship["ReferencedEntity"] == "contact"
    assert relationship["ReferencedAttribute"] == "contactid"
    assert relationship["ReferencingEntity"] == "grc_getresponsecontact"
    assert relationship["CascadeConfiguration"]["Merge"] == "Cascade"
    assert relationship["Lookup"]["SchemaName"] == "grc_ContactId"
    key = metadata.key_metadata(s.CUSTOM_FIELDS.keys[0])
    assert key["KeyAttributes"] == ["grc_getresponseid", "grc_contactgetresponseid"]


def test_roles_transcribe_the_french_source() -> None:
    service = r.SERVICE_USER.required()
    assert all(service[("contacts", p)] is r.Depth.ORGANIZATION for p in r.Privilege)
    # Where the source's Service User lacks what the connector's own jobs do, the role holds it
    # and says why (docs/connector-schema.md): Write on lists (SPEC 4.3-4.5: « Créer, lire,
    # supprimer, … » has no modifier), everything on activities (5.5: the source says Read),
    # Append on newsletters (7.3: no « ajouter »). Nothing else departs from the source.
    assert service[("lists", r.Privilege.WRITE)] is r.Depth.ORGANIZATION
    assert {p for (t, p) in service if t == "activities"} == set(r.Privilege)
    assert service[("newsletters", r.Privilege.APPEND)] is r.Depth.ORGANIZATION
    assert {grant.table for grant in r.SERVICE_USER.grants if grant.note} == {
        "activities",
        "lists",
        "newsletters",
    }
    assert set(p for (t, p) in service if t == "contact") == {
        r.Privilege.READ,
        r.Privilege.APPEND,
        r.Privilege.APPEND_TO,
    }
    admin = r.ADMINISTRATOR.required()
    assert admin[("list", r.Privilege.CREATE)] is r.Depth.ORGANIZATION
    assert admin[("list", r.Privilege.WRITE)] is r.Depth.USER  # « modifier … leurs »
    assert admin[("campaign", r.Privilege.CREATE)] is r.Depth.USER
    assert admin[("campaign", r.Privilege.APPEND_TO)] is r.Depth.ORGANIZATION
    assert all(admin[("lists", p)] is r.Depth.ORGANIZATION for p in r.Privilege)
    # only the administrator creates GetResponse lists (SPEC 2, 4)
    creators = [
        role.key
        for role in r.ROLES
        if ("lists", r.Privilege.CREATE) in role.required() and role.key != "service_user"
    ]
    assert creators == ["administrator"]
    user = r.CONNECTION_USER.required()
    assert user[("newsletters", r.Privilege.CREATE)] is r.Depth.USER
    assert all(
        depth is r.Depth.ORGANIZATION and p is r.Privilege.READ
        for (t, p), depth in r.READ_ONLY.required().items()
    )
    assert {t for (t, _p) in r.READ_ONLY.required()} == {
        "contact",
        "list",
        "campaign",
        "activities",
        "contacts",
        "lists",
        "custom_fields",
        "templates",
        "newsletters",
    }


def test_privilege_names_depths_and_shortfalls() -> None:
    assert r.privilege_name("contact", r.Privilege.READ) == "prvReadContact"
    assert r.privilege_name("lists", r.Privilege.APPEND_TO) == "prvAppendTogrc_GetResponseList"
    assert r.Depth.parse("Global") is r.Depth.ORGANIZATION
    assert r.Depth.parse(0) is r.Depth.USER
    assert r.Depth.parse(8) is r.Depth.ORGANIZATION
    assert r.Depth.parse("basic") is r.Depth.USER
    with pytest.raises(ValueError, match="depth"):
        r.Depth.parse("Everywhere")
    required = {
        ("contact", r.Privilege.READ): r.Depth.ORGANIZATION,
        ("lists", r.Privilege.WRITE): r.Depth.USER,
    }
    held = {"prvreadcontact": r.Depth.BUSINESS_UNIT}
    missing = r.shortfalls(required, held)
    assert [str(m) for m in missing] == [
        "prvReadContact (Read on Contact, Organization level): held at Business Unit level only",
        "prvWritegrc_GetResponseList (Write on GetResponse List, User level): not held",
    ]
    held_enough = {
        "prvreadcontact": r.Depth.ORGANIZATION,
        "prvwritegrc_getresponselist": r.Depth.ORGANIZATION,
    }
    assert r.shortfalls(required, held_enough) == []


def test_the_generated_page_is_current() -> None:
    assert schemadoc.DOC_PATH.read_text(encoding="utf-8") == schemadoc.render(), (
        "docs/connector-schema.md is stale: run python -m reconcile.dataverse.schemadoc"
    )
