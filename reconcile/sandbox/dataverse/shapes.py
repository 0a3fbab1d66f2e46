"""Metadata as the Web API shows it (EntityMetadata, AttributeMetadata, EntityKeyMetadata,
RelationshipMetadata, Label), and the reverse: metadata bodies posted by clients to our models.
"""

from __future__ import annotations

import re
from typing import Any

from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.models import (
    METADATA_TYPES,
    TYPE_OF_METADATA,
    Attribute,
    Entity,
    Key,
    ManyToMany,
    OneToMany,
    stable_guid,
)

NS = "Microsoft.Dynamics.CRM."


def label(text: str, owner: str = "") -> dict[str, Any]:
    localized = {
        "Label": text,
        "LanguageCode": 1033,
        "IsManaged": False,
        "MetadataId": stable_guid("label", owner, text),
        "HasChanged": None,
    }
    return {
        "LocalizedLabels": [localized] if text else [],
        "UserLocalizedLabel": localized if text else None,
    }


def label_text(value: Any) -> str:
    """The 1033 (or first) text of a posted Label."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return ""
    labels = value.get("LocalizedLabels") or []
    for item in labels:
        if isinstance(item, dict) and item.get("LanguageCode") == 1033:
            return str(item.get("Label", ""))
    if labels and isinstance(labels[0], dict):
        return str(labels[0].get("Label", ""))
    user = value.get("UserLocalizedLabel")
    return str(user.get("Label", "")) if isinstance(user, dict) else ""


def _managed(value: Any) -> dict[str, Any]:
    return {"Value": value, "CanBeChanged": True, "ManagedPropertyLogicalName": ""}


def entity_json(entity: Entity) -> dict[str, Any]:
    return {
        "@odata.type": f"#{NS}EntityMetadata",
        "MetadataId": entity.metadata_id,
        "LogicalName": entity.logical_name,
        "SchemaName": entity.schema_name,
        "EntitySetName": entity.entity_set_name,
        "LogicalCollectionName": entity.entity_set_name,
        "CollectionSchemaName": entity.schema_name + "s",
        "PrimaryIdAttribute": entity.primary_id,
        "PrimaryNameAttribute": entity.primary_name,
        "ObjectTypeCode": entity.object_type_code,
        "OwnershipType": entity.ownership if entity.ownership != "None" else "None",
        "IsCustomEntity": entity.is_custom,
        "IsIntersect": entity.is_intersect,
        "IsActivity": False,
        "IsManaged": False,
        "IsCustomizable": _managed(entity.is_custom or not entity.is_intersect),
        "ChangeTrackingEnabled": entity.change_tracking,
        "HasNotes": False,
        "HasActivities": False,
        "DisplayName": label(entity.display_name, entity.metadata_id),
        "DisplayCollectionName": label(entity.display_collection_name, entity.metadata_id + "p"),
        "Description": label(entity.description, entity.metadata_id + "d"),
    }


def attribute_json(
    entity: Entity, attribute: Attribute, *, expand_options: bool = False
) -> dict[str, Any]:
    kind = METADATA_TYPES[attribute.type]
    data: dict[str, Any] = {
        "@odata.type": f"#{NS}{kind}",
        "MetadataId": attribute.metadata_id,
        "LogicalName": attribute.logical_name,
        "SchemaName": attribute.schema_name,
        "EntityLogicalName": entity.logical_name,
        "AttributeType": attribute.type,
        "AttributeTypeName": {"Value": f"{attribute.type}Type"},
        "DisplayName": label(attribute.display_name, attribute.metadata_id),
        "RequiredLevel": _managed(attribute.required),
        "IsCustomAttribute": attribute.is_custom,
        "IsPrimaryId": attribute.is_primary_id,
        "IsPrimaryName": attribute.is_primary_name,
        "IsValidForCreate": not attribute.readonly,
        "IsValidForUpdate": not attribute.readonly
        and not attribute.create_only
        and not attribute.is_primary_id,
        "IsValidForRead": True,
        "IsManaged": False,
    }
    if attribute.max_length is not None:
        data["MaxLength"] = attribute.max_length
        data["DatabaseLength"] = attribute.max_length * 2
    if attribute.format is not None:
        data["Format" if attribute.type == "DateTime" else "FormatName"] = (
            attribute.format if attribute.type == "DateTime" else {"Value": attribute.format}
        )
    if attribute.is_lookup:
        data["Targets"] = list(attribute.targets)
    if attribute.min_value is not None:
        data["MinValue"] = attribute.min_value
    if attribute.max_value is not None:
        data["MaxValue"] = attribute.max_value
    if attribute.precision is not None:
        data["Precision"] = attribute.precision
    if expand_options and attribute.options:
        data["OptionSet"] = {
            "Options": [
                {"Value": v, "Label": label(t, f"{attribute.metadata_id}{v}")}
                for v, t in attribute.options.items()
            ]
        }
    return data


def key_json(entity: Entity, key: Key) -> dict[str, Any]:
    return {
        "@odata.type": f"#{NS}EntityKeyMetadata",
        "MetadataId": key.metadata_id,
        "LogicalName": key.logical_name,
        "SchemaName": key.schema_name,
        "EntityLogicalName": entity.logical_name,
        "KeyAttributes": list(key.attributes),
        "EntityKeyIndexStatus": key.status,
        "DisplayName": label(key.display_name, key.metadata_id),
        "IsManaged": False,
    }


def relationship_json(rel: OneToMany | ManyToMany) -> dict[str, Any]:
    if isinstance(rel, OneToMany):
        return {
            "@odata.type": f"#{NS}OneToManyRelationshipMetadata",
            "MetadataId": rel.metadata_id,
            "SchemaName": rel.schema_name,
            "RelationshipType": "OneToManyRelationship",
            "ReferencedEntity": rel.referenced_entity,
            "ReferencedAttribute": rel.referenced_attribute,
            "ReferencingEntity": rel.referencing_entity,
            "ReferencingAttribute": rel.referencing_attribute,
            "ReferencedEntityNavigationPropertyName": rel.referenced_nav,
            "ReferencingEntityNavigationPropertyName": rel.referencing_nav,
            "IsCustomRelationship": rel.is_custom,
            "CascadeConfiguration": {
                "Assign": "NoCascade",
                "Delete": rel.cascade_delete,
                "Merge": rel.cascade_merge,
                "Reparent": "NoCascade",
                "Share": "NoCascade",
                "Unshare": "NoCascade",
            },
        }
    return {
        "@odata.type": f"#{NS}ManyToManyRelationshipMetadata",
        "MetadataId": rel.metadata_id,
        "SchemaName": rel.schema_name,
        "RelationshipType": "ManyToManyRelationship",
        "Entity1LogicalName": rel.entity1,
        "Entity2LogicalName": rel.entity2,
        "IntersectEntityName": rel.intersect_entity,
        "Entity1IntersectAttribute": rel.entity1_attribute,
        "Entity2IntersectAttribute": rel.entity2_attribute,
        "Entity1NavigationPropertyName": rel.entity1_nav,
        "Entity2NavigationPropertyName": rel.entity2_nav,
        "IsCustomRelationship": rel.is_custom,
    }


# ---------------------------------------------------------------------- posted bodies
def bad_metadata(message: str) -> DataverseError:
    return DataverseError("InvalidArgument", message=message)


_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,49}$")


def valid_schema_name(name: object, what: str = "SchemaName") -> str:
    """Schema names are letters, digits and underscores, starting with a letter (≤ 50)."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise bad_metadata(
            f"Invalid {what} {name!r}: use letters, digits and underscores, starting with a "
            "letter, at most 50 characters."
        )
    return name


def attribute_from_json(body: dict[str, Any], *, allow_lookup: bool = False) -> Attribute:
    kind = str(body.get("@odata.type", "")).lstrip("#").removeprefix(NS)
    type_ = TYPE_OF_METADATA.get(kind) or body.get("AttributeType")
    if type_ in (None, "Lookup", "Customer", "Owner") and not (allow_lookup and type_ == "Lookup"):
        if type_ == "Lookup":
            raise bad_metadata(
                "Lookup columns are created with POST RelationshipDefinitions "
                "(OneToManyRelationshipMetadata with a Lookup), not as attributes."
            )
        raise bad_metadata(f"Unknown or unsupported attribute type {kind or type_!r}.")
    schema = valid_schema_name(body.get("SchemaName"), "attribute SchemaName")
    required = (body.get("RequiredLevel") or {}).get("Value", "None")
    attribute = Attribute(
        schema.lower(),
        type_,
        schema_name=schema,
        display_name=label_text(body.get("DisplayName")) or schema,
        required=required,
        is_custom=True,
    )
    if type_ in ("String", "Memo"):
        attribute.max_length = int(body.get("MaxLength") or (100 if type_ == "String" else 2000))
        fmt = body.get("FormatName") or {}
        attribute.format = fmt.get("Value") if isinstance(fmt, dict) else None
    if type_ == "DateTime":
        attribute.format = body.get("Format") or "DateAndTime"
    for field_name, attr_name in (("MinValue", "min_value"), ("MaxValue", "max_value")):
        if isinstance(body.get(field_name), (int, float)):
            setattr(attribute, attr_name, body[field_name])
    if isinstance(body.get("Precision"), int):
        attribute.precision = body["Precision"]
    if type_ == "Picklist":
        options = (body.get("OptionSet") or {}).get("Options")
        if body.get("GlobalOptionSet@odata.bind"):
            raise bad_metadata(
                "Global choices (GlobalOptionSet@odata.bind) are not emulated; "
                "use a local OptionSet."
            )
        if not isinstance(options, list) or not options:
            raise bad_metadata(f"Choice column {schema} needs OptionSet.Options.")
        attribute.options = {int(o["Value"]): label_text(o.get("Label")) for o in options}
    if type_ == "Boolean":
        option_set = body.get("OptionSet") or {}
        attribute.options = {
            0: label_text((option_set.get("FalseOption") or {}).get("Label")) or "No",
            1: label_text((option_set.get("TrueOption") or {}).get("Label")) or "Yes",
        }
    if body.get("IsPrimaryName"):
        attribute.is_primary_name = True
    return attribute


def plural(name: str) -> str:
    if name.endswith(("s", "x", "z", "ch", "sh")):
        return name + "es"
    if name.endswith("y") and name[-2:-1] not in "aeiou":
        return name[:-1] + "ies"
    return name + "s"
