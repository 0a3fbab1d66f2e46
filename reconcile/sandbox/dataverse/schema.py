"""Customizations: creating and changing tables, columns, alternate keys and relationships.

Names follow the platform: a custom ``SchemaName`` carries a publisher's customization prefix
(``grc_GetResponseList``), the logical name is its lowercase form, the primary id is
``<logicalname>id`` and the entity set the plural. With ``MSCRM.SolutionUniqueName`` the prefix
must be that solution's publisher's. A new table gets the platform columns, a
``statecode``/``statuscode`` pair (0/1 with statuses 1/2) and its eight record privileges.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from reconcile.sandbox.dataverse.api import ApiRequest, ApiResponse, no_content
from reconcile.sandbox.dataverse.builtin import platform_columns
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.models import (
    Attribute,
    Entity,
    Key,
    ManyToMany,
    OneToMany,
    new_guid,
)
from reconcile.sandbox.dataverse.shapes import (
    attribute_from_json,
    bad_metadata,
    label_text,
    plural,
    valid_schema_name,
)

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.service import Service

FIRST_CUSTOM_OTC = 10000
KEY_TYPES = ("String", "Integer", "BigInt", "Decimal", "DateTime", "Lookup", "Picklist")


def _body(request: ApiRequest) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise bad_metadata("The metadata body must be a JSON object.")
    return body


def check_prefix(service: Service, request: ApiRequest, schema_name: str) -> None:
    """The SchemaName's prefix must be a publisher's (the solution's, when one is named)."""
    valid_schema_name(schema_name)
    prefix, sep, rest = schema_name.partition("_")
    if not sep or not prefix or not rest:
        raise bad_metadata(
            f"The schema name '{schema_name}' must start with a publisher's "
            "customization prefix and an underscore, e.g. 'new_Name'."
        )
    store = service.store
    solution_name = request.header("mscrm.solutionuniquename")
    if solution_name:
        row = store.rows(
            "SELECT s.solutionid, p.customizationprefix FROM t_solution s LEFT JOIN "
            "t_publisher p ON p.publisherid = s.publisherid WHERE s.uniquename = ?",
            (solution_name,),
        )
        if not row:
            raise bad_metadata(
                f"The solution '{solution_name}' named in MSCRM.SolutionUniqueName does not exist."
            )
        if (row[0][1] or "").lower() != prefix.lower():
            raise bad_metadata(
                f"The schema name '{schema_name}' does not use the prefix "
                f"'{row[0][1]}' of solution '{solution_name}''s publisher."
            )
        return
    prefixes = {
        r[0].lower() for r in store.rows("SELECT customizationprefix FROM t_publisher") if r[0]
    }
    if prefix.lower() not in prefixes:
        raise bad_metadata(
            f"The prefix '{prefix}' of '{schema_name}' is not the customization prefix "
            f"of any publisher (known: {', '.join(sorted(prefixes))})."
        )


def _entity_id_header(request: ApiRequest, path: str) -> list[tuple[str, str]]:
    return [("OData-EntityId", f"{request.api_root}/{path}")]


def create_table(service: Service, request: ApiRequest) -> ApiResponse:
    service.security.require_named(request.user, "prvCreateEntity")
    body = _body(request)
    schema = body.get("SchemaName")
    if not isinstance(schema, str) or not schema:
        raise bad_metadata("EntityMetadata needs a SchemaName.")
    check_prefix(service, request, schema)
    logical = schema.lower()
    catalog = service.store.catalog
    if catalog.entity(logical) is not None:
        raise DataverseError("EntityNameExists")
    ownership = body.get("OwnershipType") or "UserOwned"
    if ownership not in ("UserOwned", "OrganizationOwned"):
        raise bad_metadata("OwnershipType must be UserOwned or OrganizationOwned.")
    posted = body.get("Attributes") or []
    attributes = [attribute_from_json(a) for a in posted if isinstance(a, dict)]
    primary = [a for a in attributes if a.is_primary_name]
    if len(primary) != 1 or primary[0].type != "String":
        raise bad_metadata(
            "A new table needs exactly one String attribute with IsPrimaryName true."
        )
    set_name = valid_schema_name(body.get("EntitySetName") or plural(logical), "EntitySetName")
    if catalog.entity_by_set(set_name) is not None:
        raise bad_metadata(f"The entity set name '{set_name}' is already used.")
    otc = max([FIRST_CUSTOM_OTC - 1, *(e.object_type_code for e in catalog.entities.values())]) + 1
    entity = Entity(
        logical,
        set_name,
        f"{logical}id",
        primary[0].logical_name,
        otc,
        schema_name=schema,
        display_name=label_text(body.get("DisplayName")) or schema,
        display_collection_name=label_text(body.get("DisplayCollectionName")) or set_name,
        description=label_text(body.get("Description")),
        ownership=ownership,
        change_tracking=bool(body.get("ChangeTrackingEnabled")),
        is_custom=True,
        metadata_id=new_guid(),
    )
    entity.add(
        Attribute(f"{logical}id", "Uniqueidentifier", schema_name=f"{schema}Id", is_primary_id=True)
    )
    for attribute in attributes:
        entity.add(attribute)
    entity.add(Attribute("statecode", "State", options={0: "Active", 1: "Inactive"}))
    entity.add(Attribute("statuscode", "Status", options={1: "Active", 2: "Inactive"}))
    for attribute in platform_columns(ownership):
        entity.add(attribute)
    catalog.add_entity(entity)
    if ownership == "UserOwned":
        for who in ("systemuser", "team"):
            catalog.add_one_to_many(
                OneToMany(
                    f"{'user' if who == 'systemuser' else 'team'}_{logical}",
                    who,
                    logical,
                    "ownerid",
                    referencing_nav="owninguser" if who == "systemuser" else "owningteam",
                )
            )
    service.security.add_table_privileges(entity)
    return no_content(_entity_id_header(request, f"EntityDefinitions({entity.metadata_id})"))


def update_table(service: Service, request: ApiRequest, entity: Entity) -> ApiResponse:
    """PUT replaces the definition's updatable properties (labels, change tracking)."""
    service.security.require_named(request.user, "prvWriteEntity")
    body = _body(request)
    if "ChangeTrackingEnabled" in body:
        if entity.change_tracking and not body["ChangeTrackingEnabled"]:
            raise bad_metadata("Change tracking cannot be disabled once it is enabled.")
        entity.change_tracking = bool(body["ChangeTrackingEnabled"])
    for field_name, attr in (
        ("DisplayName", "display_name"),
        ("DisplayCollectionName", "display_collection_name"),
        ("Description", "description"),
    ):
        if field_name in body:
            setattr(entity, attr, label_text(body[field_name]))
    service.store.catalog.save(entity)
    return no_content()


def delete_table(service: Service, request: ApiRequest, entity: Entity) -> ApiResponse:
    service.security.require_named(request.user, "prvDeleteEntity")
    if not entity.is_custom:
        raise bad_metadata(f"The system table '{entity.logical_name}' cannot be deleted.")
    service.store.catalog.drop_entity(entity)
    return no_content()


def create_attribute(service: Service, request: ApiRequest, entity: Entity) -> ApiResponse:
    service.security.require_named(request.user, "prvCreateAttribute")
    attribute = attribute_from_json(_body(request))
    check_prefix(service, request, attribute.schema_name)
    if attribute.logical_name in entity.attributes:
        raise DataverseError("AttributeExists", name=attribute.logical_name)
    attribute.is_primary_name = False
    service.store.catalog.add_attribute(entity, attribute)
    return no_content(
        _entity_id_header(
            request, f"EntityDefinitions({entity.metadata_id})/Attributes({attribute.metadata_id})"
        )
    )


def update_attribute(
    service: Service, request: ApiRequest, entity: Entity, attribute: Attribute
) -> ApiResponse:
    service.security.require_named(request.user, "prvWriteAttribute")
    body = _body(request)
    if "DisplayName" in body:
        attribute.display_name = label_text(body["DisplayName"])
    if isinstance(body.get("RequiredLevel"), dict):
        attribute.required = body["RequiredLevel"].get("Value", attribute.required)
    if isinstance(body.get("MaxLength"), int) and attribute.max_length is not None:
        if body["MaxLength"] < attribute.max_length:
            raise bad_metadata("MaxLength cannot be reduced.")
        attribute.max_length = body["MaxLength"]
    service.store.catalog.save(entity)
    return no_content()


def delete_attribute(
    service: Service, request: ApiRequest, entity: Entity, attribute: Attribute
) -> ApiResponse:
    service.security.require_named(request.user, "prvDeleteAttribute")
    if not attribute.is_custom:
        raise bad_metadata(f"The system column '{attribute.logical_name}' cannot be deleted.")
    if any(attribute.logical_name in k.attributes for k in entity.keys):
        raise bad_metadata(
            f"The column '{attribute.logical_name}' is part of an alternate key; "
            "delete the key first."
        )
    conn = service.store.conn
    conn.execute(f'DROP INDEX IF EXISTS "ix_{entity.logical_name}_{attribute.logical_name}"')
    conn.execute(f'ALTER TABLE "{entity.table}" DROP COLUMN "{attribute.logical_name}"')
    del entity.attributes[attribute.logical_name]
    service.store.catalog.save(entity)
    return no_content()


def create_key(service: Service, request: ApiRequest, entity: Entity) -> ApiResponse:
    service.security.require_named(request.user, "prvCreateEntityKey")
    body = _body(request)
    schema = valid_schema_name(body.get("SchemaName"), "key SchemaName")
    columns = body.get("KeyAttributes")
    if not isinstance(columns, list) or not columns:
        raise bad_metadata(
            "EntityKeyMetadata needs a SchemaName and a non-empty KeyAttributes list."
        )
    if len(columns) > 16:
        raise bad_metadata("An alternate key has at most 16 columns.")
    for name in columns:
        attribute = entity.attributes.get(name)
        if attribute is None:
            raise DataverseError(
                "QueryBuilderNoAttribute", entity=entity.logical_name, attribute=name
            )
        if attribute.type not in KEY_TYPES:
            raise bad_metadata(
                f"The column '{name}' ({attribute.type}) cannot be part of an alternate key."
            )
    logical = schema.lower()
    if any(k.logical_name == logical for k in entity.keys):
        raise bad_metadata(f"A key named '{logical}' already exists on '{entity.logical_name}'.")
    if len(entity.keys) >= 10:
        raise bad_metadata("A table has at most 10 alternate keys.")
    key = Key(
        logical,
        list(columns),
        schema_name=schema,
        display_name=label_text(body.get("DisplayName")) or schema,
        metadata_id=new_guid(),
    )
    try:
        service.store.catalog.add_key(entity, key)
    except sqlite3.IntegrityError:
        key.status = (
            "Failed"  # existing rows repeat these values: the index job fails, as on the service
        )
        entity.keys.append(key)
        service.store.catalog.save(entity)
    return no_content(
        _entity_id_header(
            request, f"EntityDefinitions({entity.metadata_id})/Keys({key.metadata_id})"
        )
    )


def create_relationship(service: Service, request: ApiRequest) -> ApiResponse:
    service.security.require_named(request.user, "prvCreateRelationship")
    body = _body(request)
    kind = str(body.get("@odata.type", "")).lstrip("#").removeprefix("Microsoft.Dynamics.CRM.")
    catalog = service.store.catalog
    schema = body.get("SchemaName")
    if not isinstance(schema, str) or not schema:
        raise bad_metadata("A relationship needs a SchemaName.")
    check_prefix(service, request, schema)
    if catalog.relationship(schema) is not None:
        raise bad_metadata(f"A relationship named '{schema}' already exists.")
    rel: OneToMany | ManyToMany
    if kind == "OneToManyRelationshipMetadata":
        rel = _one_to_many(service, request, body, schema)
    elif kind == "ManyToManyRelationshipMetadata":
        rel = _many_to_many(service, body, schema)
    else:
        raise bad_metadata(
            "@odata.type must be Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata or "
            "ManyToManyRelationshipMetadata."
        )
    return no_content(_entity_id_header(request, f"RelationshipDefinitions({rel.metadata_id})"))


def _one_to_many(
    service: Service, request: ApiRequest, body: dict[str, Any], schema: str
) -> OneToMany:
    catalog = service.store.catalog
    referenced = catalog.entity(str(body.get("ReferencedEntity", "")))
    referencing = catalog.entity(str(body.get("ReferencingEntity", "")))
    if referenced is None or referencing is None:
        raise bad_metadata("ReferencedEntity and ReferencingEntity must name existing tables.")
    lookup_body = body.get("Lookup")
    if not isinstance(lookup_body, dict):
        raise bad_metadata("A one-to-many relationship needs its Lookup (LookupAttributeMetadata).")
    lookup = attribute_from_json(
        {
            **lookup_body,
            "@odata.type": "Microsoft.Dynamics.CRM.LookupAttributeMetadata",
            "AttributeType": "Lookup",
        },
        allow_lookup=True,
    )
    check_prefix(service, request, lookup.schema_name)
    if lookup.logical_name in referencing.attributes:
        raise DataverseError("AttributeExists", name=lookup.logical_name)
    lookup.targets = [referenced.logical_name]
    config = body.get("CascadeConfiguration") or {}
    cascade = config.get("Delete", "RemoveLink")
    if cascade not in ("Cascade", "RemoveLink", "Restrict"):
        cascade = "RemoveLink"
    # Merge takes only Cascade or NoCascade (CascadeConfiguration.Merge); left out, the
    # child rows stay with the subordinate (assumption, docs/dataverse-api.md).
    merge = config.get("Merge", "NoCascade")
    if merge not in ("Cascade", "NoCascade"):
        raise DataverseError(
            "InvalidArgument",
            message=f"CascadeConfiguration.Merge must be Cascade or NoCascade, not {merge!r}.",
        )
    service.store.catalog.add_attribute(referencing, lookup)
    # Custom lookups' single-valued navigation property is the lookup's SchemaName (case-sensitive).
    rel = OneToMany(
        schema,
        referenced.logical_name,
        referencing.logical_name,
        lookup.logical_name,
        referenced_nav=body.get("ReferencedEntityNavigationPropertyName") or schema,
        referencing_nav=body.get("ReferencingEntityNavigationPropertyName") or lookup.schema_name,
        cascade_delete=cascade,
        cascade_merge=merge,
        metadata_id=new_guid(),
        is_custom=True,
    )
    catalog.add_one_to_many(rel)
    return rel


def _many_to_many(service: Service, body: dict[str, Any], schema: str) -> ManyToMany:
    catalog = service.store.catalog
    first = catalog.entity(str(body.get("Entity1LogicalName", "")))
    second = catalog.entity(str(body.get("Entity2LogicalName", "")))
    if first is None or second is None:
        raise bad_metadata("Entity1LogicalName and Entity2LogicalName must name existing tables.")
    intersect_name = valid_schema_name(
        body.get("IntersectEntityName") or schema, "IntersectEntityName"
    ).lower()
    if catalog.entity(intersect_name) is not None:
        raise DataverseError("EntityNameExists")
    col1 = f"{first.logical_name}id" if first is not second else f"{first.logical_name}idone"
    col2 = f"{second.logical_name}id" if first is not second else f"{second.logical_name}idtwo"
    otc = max(e.object_type_code for e in catalog.entities.values()) + 1
    intersect = Entity(
        intersect_name,
        intersect_name + "set",
        f"{intersect_name}id",
        None,
        otc,
        schema_name=intersect_name,
        ownership="None",
        is_custom=True,
        is_intersect=True,
        bulk_messages=False,
        metadata_id=new_guid(),
    )
    intersect.add(Attribute(f"{intersect_name}id", "Uniqueidentifier", is_primary_id=True))
    intersect.add(Attribute(col1, "Lookup", targets=[first.logical_name]))
    intersect.add(Attribute(col2, "Lookup", targets=[second.logical_name]))
    for attribute in platform_columns("None"):
        intersect.add(attribute)
    catalog.add_entity(intersect)
    rel = ManyToMany(
        schema,
        first.logical_name,
        second.logical_name,
        intersect_name,
        col1,
        col2,
        entity1_nav=body.get("Entity1NavigationPropertyName") or schema,
        entity2_nav=body.get("Entity2NavigationPropertyName") or schema,
        metadata_id=new_guid(),
        is_custom=True,
    )
    catalog.add_many_to_many(rel)
    return rel


def delete_relationship(
    service: Service, request: ApiRequest, rel: OneToMany | ManyToMany
) -> ApiResponse:
    service.security.require_named(request.user, "prvDeleteRelationship")
    if not rel.is_custom:
        raise bad_metadata(f"The system relationship '{rel.schema_name}' cannot be deleted.")
    catalog = service.store.catalog
    catalog.drop_relationship(rel)
    if isinstance(rel, ManyToMany):
        intersect = catalog.entity(rel.intersect_entity)
        if intersect is not None:
            catalog.drop_entity(intersect)
    return no_content()
