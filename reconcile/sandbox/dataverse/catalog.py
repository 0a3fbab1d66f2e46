"""The sandbox's metadata: which tables exist, their columns, keys and relationships.

One :class:`Catalog` per sandbox. It owns the DDL: creating a table through the metadata API
creates its SQLite table, adding a column adds a SQLite column, adding an alternate key adds a
unique index (case-insensitive, as SQL Server's default collation). Definitions are saved as
JSON in ``_catalog`` so that a file-backed sandbox keeps its custom tables across restarts.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from reconcile.sandbox.dataverse.builtin import (
    builtin_entities,
    builtin_many_to_many,
    builtin_one_to_many,
)
from reconcile.sandbox.dataverse.customization_tables import entities as customization_tables
from reconcile.sandbox.dataverse.models import Attribute, Entity, Key, ManyToMany, OneToMany


class Catalog:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.entities: dict[str, Entity] = {}
        self.by_set: dict[str, Entity] = {}
        self.one_to_many: dict[str, OneToMany] = {}
        self.many_to_many: dict[str, ManyToMany] = {}
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _catalog (kind TEXT, name TEXT, body TEXT, "
            "PRIMARY KEY (kind, name))"
        )
        saved = conn.execute("SELECT kind, body FROM _catalog").fetchall()
        if saved:
            for kind, body in saved:
                data = json.loads(body)
                if kind == "entity":
                    self._register(Entity.from_json(data))
                elif kind == "1n":
                    self.one_to_many[data["schema_name"]] = OneToMany(**data)
                else:
                    self.many_to_many[data["schema_name"]] = ManyToMany(**data)
        else:
            for entity in [*builtin_entities(), *customization_tables()]:
                self.add_entity(entity)
            for rel in builtin_one_to_many():
                self.add_one_to_many(rel)
            for m2m in builtin_many_to_many():
                self.add_many_to_many(m2m)

    # ----------------------------------------------------------------------------- lookup
    def entity(self, logical_name: str) -> Entity | None:
        return self.entities.get(logical_name.lower())

    def entity_by_set(self, entity_set: str) -> Entity | None:
        return self.by_set.get(entity_set)

    def relationship(self, schema_name: str) -> OneToMany | ManyToMany | None:
        return self.one_to_many.get(schema_name) or self.many_to_many.get(schema_name)

    def relationships_of(self, entity: str) -> Iterator[OneToMany | ManyToMany]:
        for rel in self.one_to_many.values():
            if entity in (rel.referenced_entity, rel.referencing_entity):
                yield rel
        for m2m in self.many_to_many.values():
            if entity in (m2m.entity1, m2m.entity2):
                yield m2m

    def single_nav(self, entity: Entity, nav: str) -> tuple[Attribute, str | None] | None:
        """Resolve a single-valued navigation property to (lookup column, target or None).

        ``ownerid`` / ``masterid``-style names (the column's own name) bind any of the column's
        targets; ``parentcustomerid_account``-style names (from the relationship) pin one.
        """
        declared = False
        for rel in self.one_to_many.values():
            if rel.referencing_entity != entity.logical_name:
                continue
            if rel.referencing_nav == nav:
                return entity.attributes[rel.referencing_attribute], rel.referenced_entity
            declared = declared or rel.referencing_attribute == nav
        attribute = entity.attributes.get(nav)
        if attribute is None or not attribute.is_lookup:
            return None
        if attribute.type == "Owner":
            return attribute, None
        # A lookup whose relationship names its navigation property (custom lookups use the
        # SchemaName, case-sensitively) binds through that name only.
        if declared or attribute.polymorphic:
            return None
        return attribute, None

    def collection_nav(self, entity: Entity, nav: str) -> OneToMany | ManyToMany | None:
        rel = self.relationship(nav)
        if isinstance(rel, OneToMany) and rel.referenced_entity == entity.logical_name:
            return rel
        for rel_1n in self.one_to_many.values():
            if rel_1n.referenced_entity == entity.logical_name and rel_1n.referenced_nav == nav:
                return rel_1n
        for m2m in self.many_to_many.values():
            if (m2m.entity1 == entity.logical_name and m2m.entity1_nav == nav) or (
                m2m.entity2 == entity.logical_name and m2m.entity2_nav == nav
            ):
                return m2m
        return None

    # ------------------------------------------------------------------------------- DDL
    def _register(self, entity: Entity) -> None:
        self.entities[entity.logical_name] = entity
        self.by_set[entity.entity_set_name] = entity

    def save(self, entity: Entity) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO _catalog VALUES ('entity', ?, ?)",
            (entity.logical_name, json.dumps(entity.to_json())),
        )

    def add_entity(self, entity: Entity) -> None:
        columns = []
        for attribute in entity.attributes.values():
            columns.extend(self._column_sql(attribute))
        self.conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{entity.table}" ({", ".join(columns)}, '
            f'PRIMARY KEY ("{entity.primary_id}"))'
        )
        for name in ("createdon", "modifiedon", "versionnumber"):
            self.conn.execute(
                f'CREATE INDEX IF NOT EXISTS "ix_{entity.logical_name}_{name}" '
                f'ON "{entity.table}" ("{name}")'
            )
        for attribute in entity.attributes.values():
            if attribute.is_lookup or attribute.format == "Email" or attribute.is_primary_name:
                self._index(entity, attribute)
        for key in entity.keys:
            self._key_index(entity, key)
        self._register(entity)
        self.save(entity)

    def drop_entity(self, entity: Entity) -> None:
        self.conn.execute(f'DROP TABLE IF EXISTS "{entity.table}"')
        self.conn.execute(
            "DELETE FROM _catalog WHERE kind = 'entity' AND name = ?", (entity.logical_name,)
        )
        for rel in list(self.relationships_of(entity.logical_name)):
            self.drop_relationship(rel)
        self.entities.pop(entity.logical_name, None)
        self.by_set.pop(entity.entity_set_name, None)

    def add_attribute(self, entity: Entity, attribute: Attribute) -> None:
        for column in self._column_sql(attribute):
            self.conn.execute(f'ALTER TABLE "{entity.table}" ADD COLUMN {column}')
        entity.add(attribute)
        if attribute.is_lookup:
            self._index(entity, attribute)
        self.save(entity)

    def add_key(self, entity: Entity, key: Key) -> None:
        """Raise sqlite3.IntegrityError when existing rows already violate the key."""
        self._key_index(entity, key)
        entity.keys.append(key)
        self.save(entity)

    def drop_key(self, entity: Entity, key: Key) -> None:
        self.conn.execute(f'DROP INDEX IF EXISTS "{self._key_index_name(entity, key)}"')
        entity.keys.remove(key)
        self.save(entity)

    def add_one_to_many(self, rel: OneToMany) -> None:
        referenced = self.entities[rel.referenced_entity]
        rel.referenced_attribute = rel.referenced_attribute or referenced.primary_id
        self.one_to_many[rel.schema_name] = rel
        self.conn.execute(
            "INSERT OR REPLACE INTO _catalog VALUES ('1n', ?, ?)",
            (rel.schema_name, json.dumps(rel.__dict__)),
        )

    def add_many_to_many(self, rel: ManyToMany) -> None:
        self.many_to_many[rel.schema_name] = rel
        self.conn.execute(
            "INSERT OR REPLACE INTO _catalog VALUES ('nn', ?, ?)",
            (rel.schema_name, json.dumps(rel.__dict__)),
        )

    def drop_relationship(self, rel: OneToMany | ManyToMany) -> None:
        self.one_to_many.pop(rel.schema_name, None)
        self.many_to_many.pop(rel.schema_name, None)
        self.conn.execute(
            "DELETE FROM _catalog WHERE kind IN ('1n', 'nn') AND name = ?", (rel.schema_name,)
        )

    @staticmethod
    def _column_sql(attribute: Attribute) -> list[str]:
        columns = [f'"{attribute.logical_name}" {attribute.sql_type}']
        if attribute.polymorphic:
            # Which table a polymorphic lookup points at (``owneridtype`` in the real schema).
            columns.append(f'"{attribute.logical_name}__target" TEXT')
        return columns

    def _index(self, entity: Entity, attribute: Attribute) -> None:
        self.conn.execute(
            f'CREATE INDEX IF NOT EXISTS "ix_{entity.logical_name}_{attribute.logical_name}" '
            f'ON "{entity.table}" ("{attribute.logical_name}")'
        )

    @staticmethod
    def _key_index_name(entity: Entity, key: Key) -> str:
        return f"key_{entity.logical_name}_{key.logical_name}"

    def _key_index(self, entity: Entity, key: Key) -> None:
        columns = ", ".join(f'"{name}"' for name in key.attributes)
        self.conn.execute(
            f'CREATE UNIQUE INDEX IF NOT EXISTS "{self._key_index_name(entity, key)}" '
            f'ON "{entity.table}" ({columns})'
        )
