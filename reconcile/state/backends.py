"""The two databases a state store can live in, behind one small interface.

Why two: SQLite is embedded and needs no set-up, which is what one runner on one host wants;
PostgreSQL lets runners on several hosts share the journal, the watermarks and the leases
(a standby, or one host per environment). :class:`~reconcile.state.store.StateStore` is
written once against :class:`Backend`; a backend only connects, runs SQL (written with ``?``
placeholders), opens write transactions, keeps the schema version and translates the few DDL
words that differ. Nothing else in reconcile opens the state database.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from reconcile.state.schema import StateError, StateUnavailable

POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")
_MIGRATION_LOCK = 0x7265636F  # "reco": the advisory lock PostgreSQL migrations take


def is_postgresql(target: str) -> bool:
    return target.strip().lower().startswith(POSTGRESQL_SCHEMES)


def redact(target: str) -> str:
    """A state location fit for messages and logs: a URL loses its password."""
    if not is_postgresql(target):
        return target
    parts = urlsplit(target)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostinfo = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}@{hostinfo}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k.lower() != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def has_password(target: str) -> bool:
    return is_postgresql(target) and redact(target) != target


class Backend:
    """What :class:`StateStore` needs from a database."""

    dialect: str
    where: str  # the location, for messages (never a password)
    for_update: str = ""  # appended to a SELECT that must lock the rows it reads

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    @contextmanager
    def transaction(self) -> Iterator[None]:
        raise NotImplementedError
        yield

    def version(self) -> int:
        raise NotImplementedError

    def set_version(self, number: int) -> None:
        raise NotImplementedError

    @contextmanager
    def migrating(self) -> Iterator[None]:
        """Around the migration transaction: keep other processes from migrating at once."""
        yield

    def ddl(self, statement: str) -> str:
        return statement

    def close(self) -> None:
        raise NotImplementedError


class SQLiteBackend(Backend):
    """A file (or ``:memory:``): WAL, so readers never block the writer, and a committed
    transaction survives the process being killed."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.where = path
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            raise _unusable(path, exc) from exc
        except OSError as exc:  # a folder that cannot be made (read-only, /proc, a file)
            raise StateError(
                f"cannot create the state database {path}: {exc.strerror or exc}",
                hint="point --state (or RECONCILE_STATE, sync.state) at a file in a folder "
                "this user may write to",
            ) from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as exc:
            raise _busy(self.where, exc) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            self._db.executemany(sql, rows)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as exc:
            raise _busy(self.where, exc) from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock at once: a transaction that reads then writes cannot
        # be overtaken by another process between the two (leases, locks, watermarks).
        self.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def version(self) -> int:
        return int(self.execute("PRAGMA user_version").fetchone()[0])

    def set_version(self, number: int) -> None:
        self.execute(f"PRAGMA user_version = {int(number)}")

    def close(self) -> None:
        self._db.close()


class PostgreSQLBackend(Backend):
    """A PostgreSQL database (psycopg 3), shared by runners on several hosts.

    Autocommit outside :meth:`transaction`, as SQLite is used; read-then-write transactions
    lock the rows they read (``SELECT … FOR UPDATE``) and upserts are single statements, so
    two runners deciding at the same moment see each other."""

    dialect = "postgresql"
    for_update = " FOR UPDATE"
    _DDL = (
        (re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"), "BIGINT GENERATED BY DEFAULT AS "
         "IDENTITY PRIMARY KEY"),
        (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),  # PostgreSQL's REAL has 6 digits
        (re.compile(r"\bINTEGER\b"), "BIGINT"),
    )  # fmt: skip

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise StateError(
                "a PostgreSQL state store needs the psycopg package",
                hint="pip install 'reconcile[postgresql]' (or pip install 'psycopg[binary]')",
            ) from exc
        self._psycopg = psycopg
        self.where = redact(url)
        self._sql: dict[str, str] = {}
        try:
            self._db = psycopg.connect(
                url, autocommit=True, connect_timeout=15, application_name="reconcile"
            )
        except psycopg.Error as exc:
            raise StateUnavailable(
                f"cannot connect to the state database {self.where}: {_first_line(exc)}",
                hint="check the host, port, database and user in the URL; the password comes "
                "from PGPASSWORD or ~/.pgpass, never from the settings file",
            ) from exc

    def _translate(self, sql: str) -> str:
        found = self._sql.get(sql)
        if found is None:
            assert "%" not in sql, "state SQL never holds a literal %"
            found = self._sql[sql] = sql.replace("?", "%s")
        return found

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self._db.execute(self._translate(sql), tuple(params))
        except self._psycopg.OperationalError as exc:
            raise _lost(self.where, exc) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            with self._db.cursor() as cursor:
                cursor.executemany(self._translate(sql), [tuple(r) for r in rows])
        except self._psycopg.OperationalError as exc:
            raise _lost(self.where, exc) from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            with self._db.transaction():
                yield
        except self._psycopg.OperationalError as exc:
            raise _lost(self.where, exc) from exc

    def version(self) -> int:
        """PostgreSQL has no ``user_version``: a one-row table holds it."""
        if self.execute("SELECT to_regclass('reconcile_schema')").fetchone()[0] is None:
            return 0
        row = self.execute("SELECT MAX(version) FROM reconcile_schema").fetchone()
        return int(row[0] or 0)

    def set_version(self, number: int) -> None:
        self.execute("CREATE TABLE IF NOT EXISTS reconcile_schema (version BIGINT NOT NULL)")
        self.execute("DELETE FROM reconcile_schema")
        self.execute("INSERT INTO reconcile_schema (version) VALUES (?)", (int(number),))

    @contextmanager
    def migrating(self) -> Iterator[None]:
        # A session lock taken *before* the transaction: a transaction that starts after the
        # winner committed sees its tables (one that waited on a lock inside itself would
        # keep its stale catalog snapshot and create them again).
        self.execute("SELECT pg_advisory_lock(?)", (_MIGRATION_LOCK,))
        try:
            yield
        finally:
            self.execute("SELECT pg_advisory_unlock(?)", (_MIGRATION_LOCK,))

    def ddl(self, statement: str) -> str:
        for pattern, replacement in self._DDL:
            statement = pattern.sub(replacement, statement)
        return statement

    def close(self) -> None:
        self._db.close()


def connect(target: str) -> Backend:
    """The backend for a state location: a ``postgresql://`` URL, else a SQLite file."""
    return PostgreSQLBackend(target) if is_postgresql(target) else SQLiteBackend(target)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _unusable(where: str, exc: Exception) -> StateError:
    return StateError(
        f"cannot use the state database {where}: {exc}",
        hint="point --state at another file, or move this one aside if it is corrupt",
    )


def _busy(where: str, exc: sqlite3.DatabaseError) -> StateError:
    if "locked" in str(exc) or "busy" in str(exc):
        return StateError(
            f"the state database {where} stayed busy for 30 s ({exc})",
            hint="another reconcile process is writing to it; try again, or give each "
            "runner on another host a PostgreSQL state store instead of a shared file",
        )
    return _unusable(where, exc)


def _lost(where: str, exc: Exception) -> StateError:
    return StateUnavailable(
        f"the state database {where} failed: {_first_line(exc)}",
        hint="check that the PostgreSQL server is up and reachable; nothing is lost, the run "
        "resumes from its journal once the database answers again",
    )
