"""Rows in SQLite: one SQLite table per Dataverse table, one column per Dataverse column.

Everything here speaks SQL values (booleans as 0/1, GUIDs as lowercase text, date-times as
``YYYY-MM-DDTHH:MM:SSZ`` text, so that string comparison is time order). The OData layer turns
JSON into those values and back. Each write takes a new ``versionnumber`` from one counter, as
the real row version does; it drives ETags, change tracking and optimistic concurrency.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from reconcile.sandbox.dataverse.catalog import Catalog
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.models import Entity, ManyToMany, OneToMany

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    """The sandbox's SQLite database. Not thread-safe by itself: callers hold :attr:`lock`."""

    def __init__(self, database: str = ":memory:", clock: Clock = utc_now) -> None:
        self.database = database
        self.clock = clock
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.execute("PRAGMA cache_size = -200000")
        if database != ":memory:":
            self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS _deleted (entity TEXT, id TEXT, version INTEGER)"
        )
        self.conn.execute("CREATE INDEX IF NOT EXISTS ix_deleted ON _deleted (entity, version)")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS _settings (name TEXT PRIMARY KEY, value TEXT)"
        )
        self.catalog = Catalog(self.conn)
        self._depth = 0
        self._version = self._max_version()

    # ------------------------------------------------------------------------ plumbing
    def _max_version(self) -> int:
        highest = self.conn.execute("SELECT COALESCE(MAX(version), 0) FROM _deleted").fetchone()[0]
        for entity in self.catalog.entities.values():
            value = self.conn.execute(
                f'SELECT COALESCE(MAX("versionnumber"), 0) FROM "{entity.table}"'
            ).fetchone()[0]
            highest = max(highest, value)
        return int(highest) + 1000

    def next_version(self, count: int = 1) -> int:
        """First of ``count`` fresh row versions."""
        first = self._version + 1
        self._version += count
        return first

    @property
    def version(self) -> int:
        return self._version

    def now(self) -> str:
        return iso(self.clock())

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing; nests (a changeset inside a batch inside a request)."""
        name = f"sp{self._depth}"
        self.conn.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield
        except BaseException:
            self.conn.execute(f"ROLLBACK TO {name}")
            self.conn.execute(f"RELEASE {name}")
            raise
        else:
            self.conn.execute(f"RELEASE {name}")
        finally:
            self._depth -= 1

    def setting(self, name: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM _settings WHERE name = ?", (name,)).fetchone()
        return row[0] if row else default

    def set_setting(self, name: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO _settings VALUES (?, ?)", (name, value))

    def close(self) -> None:
        self.conn.close()

    # -------------------------------------------------------------------------- reads
    def get(self, entity: Entity, record_id: str) -> dict[str, Any] | None:
        cursor = self.conn.execute(
            f'SELECT * FROM "{entity.table}" WHERE "{entity.primary_id}" = ?', (record_id.lower(),)
        )
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cursor.description], row, strict=True))

    def exists(self, entity: Entity, record_id: str) -> bool:
        return (
            self.conn.execute(
                f'SELECT 1 FROM "{entity.table}" WHERE "{entity.primary_id}" = ?',
                (record_id.lower(),),
            ).fetchone()
            is not None
        )

    def id_by_key(self, entity: Entity, values: dict[str, Any]) -> str | None:
        where = " AND ".join(f'"{name}" = ?' for name in values)
        row = self.conn.execute(
            f'SELECT "{entity.primary_id}" FROM "{entity.table}" WHERE {where} LIMIT 2',
            tuple(values.values()),
        ).fetchone()
        return row[0] if row else None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    # ------------------------------------------------------------------------- writes
    def stamp(
        self,
        entity: Entity,
        values: dict[str, Any],
        *,
        user: str | None,
        create: bool,
        version: int,
    ) -> dict[str, Any]:
        """Add the platform columns (timestamps, version, audit lookups, computed names)."""
        now = self.now()
        values = dict(values)
        values["versionnumber"] = version
        values["modifiedon"] = now
        if user is not None:
            values["modifiedby"] = user
        if create:
            values.setdefault("createdon", now)
            if user is not None:
                values.setdefault("createdby", user)
        return values

    def insert(self, entity: Entity, rows: list[dict[str, Any]]) -> None:
        """Insert rows (each with its primary id); raises DataverseError on key clashes."""
        if not rows:
            return
        groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for row in rows:
            names = tuple(row)
            groups.setdefault(names, []).append(tuple(row.values()))
        for names, values in groups.items():
            columns = ", ".join(f'"{n}"' for n in names)
            marks = ", ".join("?" * len(names))
            try:
                self.conn.executemany(
                    f'INSERT INTO "{entity.table}" ({columns}) VALUES ({marks})', values
                )
            except sqlite3.IntegrityError as exc:
                raise self._integrity_error(entity, exc, rows) from None

    def update(self, entity: Entity, record_id: str, values: dict[str, Any]) -> None:
        if not values:
            return
        sets = ", ".join(f'"{name}" = ?' for name in values)
        try:
            self.conn.execute(
                f'UPDATE "{entity.table}" SET {sets} WHERE "{entity.primary_id}" = ?',
                (*values.values(), record_id),
            )
        except sqlite3.IntegrityError as exc:
            raise self._integrity_error(entity, exc, [values]) from None

    def update_many(
        self, entity: Entity, names: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        """Rows are (values..., id) in ``names`` order."""
        sets = ", ".join(f'"{name}" = ?' for name in names)
        try:
            self.conn.executemany(
                f'UPDATE "{entity.table}" SET {sets} WHERE "{entity.primary_id}" = ?', rows
            )
        except sqlite3.IntegrityError as exc:
            raise self._integrity_error(entity, exc, []) from None

    def delete(self, entity: Entity, record_id: str) -> None:
        """Delete a row, applying each relationship's cascade rule to rows pointing at it."""
        for rel in list(self.catalog.relationships_of(entity.logical_name)):
            if isinstance(rel, OneToMany) and rel.referenced_entity == entity.logical_name:
                child, column, where, params = self.children_of(rel, entity, record_id)
                attribute = child.attributes[column]
                if child is entity and column == "masterid":
                    pass  # merged rows keep pointing at a deleted master, as audit data
                elif rel.cascade_delete == "Cascade":
                    ids = self.child_ids(child, where, params)
                    for child_id in ids:
                        self.delete(child, child_id)
                elif rel.cascade_delete == "RemoveLink":
                    # The children change (and show up in change tracking), as on the service.
                    ids = self.child_ids(child, where, params)
                    names = [column, *([f"{column}__target"] if attribute.polymorphic else [])]
                    first, now = self.next_version(len(ids)), self.now()
                    rows = [
                        (*([None] * len(names)), first + i, now, child_id)
                        for i, child_id in enumerate(ids)
                    ]
                    self.update_many(child, [*names, "versionnumber", "modifiedon"], rows)
            elif isinstance(rel, ManyToMany):
                intersect = self.catalog.entities[rel.intersect_entity]
                for side, column in (
                    (rel.entity1, rel.entity1_attribute),
                    (rel.entity2, rel.entity2_attribute),
                ):
                    if side == entity.logical_name:
                        self._delete_rows(intersect, f'"{column}" = ?', (record_id,))
        self._delete_rows(entity, f'"{entity.primary_id}" = ?', (record_id,))

    def children_of(
        self, rel: OneToMany, parent: Entity, parent_id: str
    ) -> tuple[Entity, str, str, tuple[Any, ...]]:
        """(child table, lookup column, WHERE text, parameters) for rows pointing at a parent."""
        child = self.catalog.entities[rel.referencing_entity]
        column = rel.referencing_attribute
        where = f'"{column}" = ?'
        params: tuple[Any, ...] = (parent_id,)
        if child.attributes[column].polymorphic:
            where += f' AND "{column}__target" = ?'
            params += (parent.logical_name,)
        return child, column, where, params

    def child_ids(self, child: Entity, where: str, params: tuple[Any, ...]) -> list[str]:
        sql = f'SELECT "{child.primary_id}" FROM "{child.table}" WHERE {where}'
        return [r[0] for r in self.rows(sql, params)]

    def _delete_rows(self, entity: Entity, where: str, params: tuple[Any, ...]) -> None:
        ids = [
            r[0]
            for r in self.rows(
                f'SELECT "{entity.primary_id}" FROM "{entity.table}" WHERE {where}', params
            )
        ]
        if not ids:
            return
        version = self.next_version(len(ids))
        self.conn.executemany(
            "INSERT INTO _deleted VALUES (?, ?, ?)",
            [(entity.logical_name, rid, version + i) for i, rid in enumerate(ids)],
        )
        self.conn.execute(f'DELETE FROM "{entity.table}" WHERE {where}', params)

    def reset(self) -> None:
        """Drop every table, custom ones included, and rebuild the built-in catalog.

        Settings (the token key and client secrets) stay, so issued tokens keep working.
        """
        for entity in list(self.catalog.entities.values()):
            self.conn.execute(f'DROP TABLE IF EXISTS "{entity.table}"')
        self.conn.execute("DELETE FROM _catalog")
        self.conn.execute("DELETE FROM _deleted")
        self.conn.execute("DELETE FROM _settings WHERE name = 'seeded'")
        self.catalog = Catalog(self.conn)

    def snapshot(self) -> sqlite3.Connection:
        """A copy of the whole database (rows, custom tables, catalog) in memory."""
        copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self.conn.backup(copy)
        return copy

    def restore(self, copy: sqlite3.Connection) -> None:
        """Back to a :meth:`snapshot`: its rows and catalog. Row versions keep growing (a
        change-tracking token of before never sees an older version as new)."""
        copy.backup(self.conn)
        self.catalog = Catalog(self.conn)
        self._version = max(self._version, self._max_version())

    _UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")

    def _integrity_error(
        self, entity: Entity, exc: sqlite3.IntegrityError, rows: list[dict[str, Any]]
    ) -> DataverseError:
        match = self._UNIQUE.search(str(exc))
        if match:
            columns = [part.split(".", 1)[1] for part in match.group(1).split(", ")]
            if columns == [entity.primary_id]:
                return DataverseError("DuplicateRecord")
            for key in entity.keys:
                if sorted(key.attributes) == sorted(columns):
                    shown = [entity.attributes[c].display_name for c in key.attributes]
                    return DataverseError(
                        "DuplicateRecordEntityKey", values=", ".join(shown), key=key.display_name
                    )
        return DataverseError("ValidationError", message=f"The record violates a constraint: {exc}")
