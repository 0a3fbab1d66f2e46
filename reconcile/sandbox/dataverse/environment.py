"""The state of one emulated Dataverse environment (what moto calls a backend): the SQLite
store, the security model, the Web API :class:`Service`, the application registrations and
their tokens, the service protection limits and the fault plan.

The layers above it, one direction: :mod:`.seed` puts data in an environment, :mod:`.app`
serves one over ASGI, :class:`reconcile.sandbox.dataverse.DataverseSandbox` adds the servers
(the TLS OAuth authority) and ties them up.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from reconcile.sandbox.dataverse.auth import Client, Tokens
from reconcile.sandbox.dataverse.limits import Limiter, Limits
from reconcile.sandbox.dataverse.models import stable_guid
from reconcile.sandbox.dataverse.security import ADMIN_ROLE_ID, Security
from reconcile.sandbox.dataverse.service import Service
from reconcile.sandbox.dataverse.store import Store, utc_now
from reconcile.sandbox.faults import FaultPlan

READY_TOKEN_LIFETIME = 24 * 3600
# The identities every sandbox has: label -> (display name, roles).
IDENTITIES = {
    "admin": ("# Reconcile Admin", (ADMIN_ROLE_ID,)),
    "service": ("# GetResponse Service", ()),
}


@dataclass(frozen=True)
class Snapshot:
    database: sqlite3.Connection
    published: list[str]


class Environment:
    def __init__(
        self,
        *,
        database: str = ":memory:",
        seed: int | None = None,
        api_versions: tuple[str, ...] = ("8.2", "9.0", "9.1", "9.2"),
        limits: Limits | None = None,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        sample_size: int = 500,
    ) -> None:
        self.seed = seed
        self.sample_size = sample_size
        self.store = Store(database, clock)
        self.security = Security(self.store)
        self.service = Service(self.store, self.security, tuple(api_versions))
        self.faults = FaultPlan()
        self._limits = limits or Limits()
        self.limiter = Limiter(replace(self._limits), monotonic)
        key = self.store.setting("token_key") or secrets.token_hex(32)
        self.store.set_setting("token_key", key)
        self.clients: dict[str, Client] = {}
        for label in IDENTITIES:
            secret = self.store.setting(f"secret:{label}") or secrets.token_urlsafe(24)
            self.store.set_setting(f"secret:{label}", secret)
            self.clients[label] = Client(
                label, stable_guid("client", label), secret, stable_guid("systemuser", label)
            )
        self.tokens = Tokens(bytes.fromhex(key), list(self.clients.values()), time.time)

    def add_identities(self) -> None:
        """The base security rows and the application users of :data:`IDENTITIES`
        (inside the caller's transaction)."""
        self.security.ensure_base()
        for label, (name, roles) in IDENTITIES.items():
            client = self.clients[label]
            self.security.add_user(
                client.user_id, name, application_id=client.client_id, roles=roles
            )

    def clear(self) -> None:
        """No rows, faults, throttling or published customizations left (the caller adds the
        identities and the sample data back: see :func:`reconcile.sandbox.dataverse.seed.reset`)."""
        with self.store.lock:
            self.store.reset()
            self.faults.clear()
            self.limiter.limits = replace(self._limits)
            self.limiter.reset()
            self.service.published.clear()

    def snapshot(self) -> Snapshot:
        """The environment's data as it is now (tables, rows, roles, what was published), to
        :meth:`restore` later: a test suite installs a schema once and starts every test
        from that instead of installing it again."""
        with self.store.lock:
            return Snapshot(self.store.snapshot(), list(self.service.published))

    def restore(self, snapshot: Snapshot) -> None:
        """Back to ``snapshot``, with no faults or throttling left."""
        with self.store.lock:
            self.store.restore(snapshot.database)
            self.service.published[:] = snapshot.published
            self.faults.clear()
            self.limiter.limits = replace(self._limits)
            self.limiter.reset()

    def state(self) -> dict[str, Any]:
        with self.store.lock:
            counts = {
                e.entity_set_name: self.store.scalar(f'SELECT COUNT(*) FROM "{e.table}"')
                for e in self.store.catalog.entities.values()
            }
            custom = sorted(
                e.logical_name for e in self.store.catalog.entities.values() if e.is_custom
            )
            return {
                "rows": counts,
                "custom_tables": custom,
                "published": list(self.service.published),
            }

    def token(self, label: str = "admin", audience: str = "") -> str:
        """A ready bearer token (valid 24 h, for demos; msal's tokens last 1 h)."""
        return self.tokens.mint(self.clients[label], audience, lifetime=READY_TOKEN_LIFETIME)
