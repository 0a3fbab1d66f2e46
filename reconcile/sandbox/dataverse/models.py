"""The shapes the Dataverse sandbox reasons with: tables, columns, keys and relationships.

These are plain dataclasses, persisted as JSON in the sandbox's SQLite file so that tables an
admin creates through the metadata API survive a restart. Names follow Dataverse: a table has a
``LogicalName`` (lowercase), a ``SchemaName`` (publisher prefix, PascalCase), an
``EntitySetName`` (the plural in URLs) and a primary id column ``<logicalname>id``.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

# Column types, as Dataverse's AttributeTypeCode names them.
STRING_TYPES = frozenset({"String", "Memo", "EntityName"})
INTEGER_TYPES = frozenset({"Integer", "BigInt", "Picklist", "State", "Status"})
FLOAT_TYPES = frozenset({"Decimal", "Double", "Money"})
LOOKUP_TYPES = frozenset({"Lookup", "Customer", "Owner"})
ATTRIBUTE_TYPES = (
    STRING_TYPES
    | INTEGER_TYPES
    | FLOAT_TYPES
    | LOOKUP_TYPES
    | {
        "Boolean",
        "DateTime",
        "Uniqueidentifier",
    }
)

# EDM type of each column type, for $metadata and for type checks in $filter.
EDM_TYPES = {
    "String": "Edm.String",
    "Memo": "Edm.String",
    "EntityName": "Edm.String",
    "Integer": "Edm.Int32",
    "BigInt": "Edm.Int64",
    "Picklist": "Edm.Int32",
    "State": "Edm.Int32",
    "Status": "Edm.Int32",
    "Decimal": "Edm.Decimal",
    "Double": "Edm.Double",
    "Money": "Edm.Decimal",
    "Boolean": "Edm.Boolean",
    "DateTime": "Edm.DateTimeOffset",
    "Uniqueidentifier": "Edm.Guid",
    "Lookup": "Edm.Guid",
    "Customer": "Edm.Guid",
    "Owner": "Edm.Guid",
}

# The metadata @odata.type of each column type (``Microsoft.Dynamics.CRM.<name>``).
METADATA_TYPES = {
    "String": "StringAttributeMetadata",
    "Memo": "MemoAttributeMetadata",
    "EntityName": "EntityNameAttributeMetadata",
    "Integer": "IntegerAttributeMetadata",
    "BigInt": "BigIntAttributeMetadata",
    "Picklist": "PicklistAttributeMetadata",
    "State": "StateAttributeMetadata",
    "Status": "StatusAttributeMetadata",
    "Decimal": "DecimalAttributeMetadata",
    "Double": "DoubleAttributeMetadata",
    "Money": "MoneyAttributeMetadata",
    "Boolean": "BooleanAttributeMetadata",
    "DateTime": "DateTimeAttributeMetadata",
    "Uniqueidentifier": "UniqueIdentifierAttributeMetadata",
    "Lookup": "LookupAttributeMetadata",
    "Customer": "LookupAttributeMetadata",
    "Owner": "LookupAttributeMetadata",
}
TYPE_OF_METADATA = {v: k for k, v in METADATA_TYPES.items() if k not in ("Customer", "Owner")}

# Columns the platform maintains; clients may read them but never write them.
SYSTEM_COLUMNS = frozenset(
    {"createdon", "modifiedon", "createdby", "modifiedby", "versionnumber", "owningbusinessunit"}
)


def new_guid() -> str:
    return str(uuid.uuid4())


def stable_guid(*parts: object) -> str:
    """A GUID derived from names, so that built-in metadata ids are the same in every run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "reconcile-sandbox:" + ":".join(map(str, parts))))


@dataclass
class Attribute:
    logical_name: str
    type: str
    schema_name: str = ""
    display_name: str = ""
    max_length: int | None = None
    required: str = "None"  # None | ApplicationRequired | SystemRequired | Recommended
    targets: list[str] = field(default_factory=list)  # lookups: target table logical names
    options: dict[int, str] = field(default_factory=dict)  # choices: value -> label
    readonly: bool = False  # valid for read only (computed or platform-maintained)
    create_only: bool = False  # valid for create, not for update (e.g. list.createdfromcode)
    is_primary_id: bool = False
    is_primary_name: bool = False
    is_custom: bool = False
    min_value: float | None = None
    max_value: float | None = None
    precision: int | None = None
    format: str | None = None  # DateTime: DateOnly | DateAndTime; String: Text | Email ...
    metadata_id: str = ""

    def __post_init__(self) -> None:
        self.schema_name = self.schema_name or self.logical_name
        self.display_name = self.display_name or self.schema_name
        if self.type not in ATTRIBUTE_TYPES:
            raise ValueError(f"unknown column type {self.type!r}")

    @property
    def is_lookup(self) -> bool:
        return self.type in LOOKUP_TYPES

    @property
    def polymorphic(self) -> bool:
        return self.is_lookup and len(self.targets) > 1

    @property
    def edm_type(self) -> str:
        return EDM_TYPES[self.type]

    @property
    def wire_name(self) -> str:
        """The property name in JSON and $filter: ``_x_value`` for lookups."""
        return f"_{self.logical_name}_value" if self.is_lookup else self.logical_name

    @property
    def sql_type(self) -> str:
        if self.type in INTEGER_TYPES or self.type == "Boolean":
            return "INTEGER"
        if self.type in FLOAT_TYPES:
            return "REAL"
        if self.type in STRING_TYPES:
            return "TEXT COLLATE NOCASE"  # Dataverse compares strings case-insensitively
        return "TEXT"


@dataclass
class Key:
    """An alternate key: a set of columns whose values are unique per row."""

    logical_name: str
    attributes: list[str]
    schema_name: str = ""
    display_name: str = ""
    metadata_id: str = ""
    status: str = "Active"  # EntityKeyIndexStatus: Pending | InProgress | Active | Failed

    def __post_init__(self) -> None:
        self.schema_name = self.schema_name or self.logical_name
        self.display_name = self.display_name or self.schema_name


@dataclass
class OneToMany:
    """A lookup column on ``referencing`` pointing at ``referenced`` rows."""

    schema_name: str
    referenced_entity: str
    referencing_entity: str
    referencing_attribute: str
    referenced_attribute: str = ""  # the referenced table's primary id
    referenced_nav: str = ""  # collection-valued navigation property on the referenced table
    referencing_nav: str = ""  # single-valued navigation property on the referencing table
    cascade_delete: str = "RemoveLink"  # Cascade | RemoveLink | Restrict
    # Merge: Cascade moves the subordinate's child rows to the master, NoCascade leaves them
    # (CascadeConfiguration.Merge). The built-in relationships to contact all cascade.
    cascade_merge: str = "Cascade"
    metadata_id: str = ""
    is_custom: bool = False

    def __post_init__(self) -> None:
        self.referenced_nav = self.referenced_nav or self.schema_name
        self.referencing_nav = self.referencing_nav or self.referencing_attribute
        self.metadata_id = self.metadata_id or stable_guid("rel", self.schema_name)


@dataclass
class ManyToMany:
    """Rows of two tables linked through an intersect table (e.g. list ↔ contact)."""

    schema_name: str
    entity1: str
    entity2: str
    intersect_entity: str
    entity1_attribute: str  # column of the intersect table pointing at entity1
    entity2_attribute: str
    entity1_nav: str = ""  # navigation property on entity1 (to entity2 rows)
    entity2_nav: str = ""
    metadata_id: str = ""
    is_custom: bool = False

    def __post_init__(self) -> None:
        self.entity1_nav = self.entity1_nav or self.schema_name
        self.entity2_nav = self.entity2_nav or self.schema_name
        self.metadata_id = self.metadata_id or stable_guid("rel", self.schema_name)


@dataclass
class Entity:
    logical_name: str
    entity_set_name: str
    primary_id: str
    primary_name: str | None
    object_type_code: int
    schema_name: str = ""
    display_name: str = ""
    display_collection_name: str = ""
    description: str = ""
    ownership: str = "UserOwned"  # UserOwned | OrganizationOwned | BusinessOwned | None
    attributes: dict[str, Attribute] = field(default_factory=dict)
    keys: list[Key] = field(default_factory=list)
    change_tracking: bool = False
    is_custom: bool = False
    is_intersect: bool = False
    bulk_messages: bool = True  # CreateMultiple/UpdateMultiple/UpsertMultiple available
    metadata_id: str = ""
    # statecode -> its default statuscode, and statuscode -> the statecode it belongs to.
    default_status: dict[int, int] = field(default_factory=lambda: {0: 1, 1: 2})
    status_state: dict[int, int] = field(default_factory=lambda: {1: 0, 2: 1})

    def __post_init__(self) -> None:
        self.schema_name = self.schema_name or self.logical_name
        self.display_name = self.display_name or self.schema_name
        self.display_collection_name = self.display_collection_name or self.entity_set_name
        self.metadata_id = self.metadata_id or stable_guid("entity", self.logical_name)
        for attribute in self.attributes.values():
            attribute.metadata_id = attribute.metadata_id or stable_guid(
                "attribute", self.logical_name, attribute.logical_name
            )
        for key in self.keys:
            key.metadata_id = key.metadata_id or stable_guid(
                "key", self.logical_name, key.logical_name
            )

    def add(self, attribute: Attribute) -> Attribute:
        attribute.metadata_id = attribute.metadata_id or stable_guid(
            "attribute", self.logical_name, attribute.logical_name
        )
        self.attributes[attribute.logical_name] = attribute
        return attribute

    @property
    def table(self) -> str:
        """The SQLite table holding this table's rows."""
        return f"t_{self.logical_name}"

    def by_wire_name(self, name: str) -> Attribute | None:
        """Resolve a JSON / $filter property name (``_x_value`` for lookups)."""
        if name.startswith("_") and name.endswith("_value"):
            attribute = self.attributes.get(name[1:-6])
            return attribute if attribute is not None and attribute.is_lookup else None
        attribute = self.attributes.get(name)
        return attribute if attribute is not None and not attribute.is_lookup else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entity:
        data = dict(data)
        attributes = {
            name: Attribute(
                **{**value, "options": {int(k): v for k, v in value["options"].items()}}
            )
            for name, value in data.pop("attributes").items()
        }
        keys = [Key(**key) for key in data.pop("keys")]
        status = {int(k): v for k, v in data.pop("default_status").items()}
        states = {int(k): v for k, v in data.pop("status_state").items()}
        return cls(
            **data, attributes=attributes, keys=keys, default_status=status, status_state=states
        )
