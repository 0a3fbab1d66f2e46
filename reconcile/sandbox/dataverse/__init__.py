"""A local emulator of the Dataverse (Dynamics 365) Web API, backed by SQLite.

``DataverseSandbox`` is what ``reconcile sandbox serve``, ``reconcile demo`` and the tests start
(see :mod:`reconcile.sandbox`). The Web API is served at ``/api/data/v{8.2,9.0,9.1,9.2}/`` on
plain http; the OAuth authority that msal needs is served on a second, TLS port (started on
first use) with a throw-away local CA. What is emulated, and how faithfully, is written down in
``docs/dataverse-api.md`` and ``docs/dataverse-sandbox-coverage.md``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from reconcile.sandbox.dataverse.app import authority_app, build_app
from reconcile.sandbox.dataverse.auth import TENANT, Client, LocalCA, Tokens
from reconcile.sandbox.dataverse.limits import Limiter, Limits
from reconcile.sandbox.dataverse.models import stable_guid
from reconcile.sandbox.dataverse.security import ADMIN_ROLE_ID, Security
from reconcile.sandbox.dataverse.service import Service
from reconcile.sandbox.dataverse.store import Store, utc_now
from reconcile.sandbox.faults import FaultPlan
from reconcile.sandbox.server import SandboxServer

__all__ = ["DataverseSandbox", "Limits"]

READY_TOKEN_LIFETIME = 24 * 3600
# The identities every sandbox has: label -> (display name, roles).
IDENTITIES = {
    "admin": ("# Reconcile Admin", (ADMIN_ROLE_ID,)),
    "service": ("# GetResponse Service", ()),
}


class DataverseSandbox:
    name = "dataverse"

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
        self._authority: SandboxServer | None = None
        self._ca: LocalCA | None = None
        self._prepare()
        self.asgi_app = build_app(self)

    # ------------------------------------------------------------------------ state
    def _prepare(self) -> None:
        with self.store.lock, self.store.transaction():
            self.security.ensure_base()
            for label, (name, roles) in IDENTITIES.items():
                client = self.clients[label]
                self.security.add_user(
                    client.user_id, name, application_id=client.client_id, roles=roles
                )
            if self.seed is not None and not self.store.setting("seeded"):
                from reconcile.sandbox.dataverse.seed import generate

                generate(self, self.seed, contacts=self.sample_size)
                self.store.set_setting("seeded", str(self.seed))

    def reset(self) -> None:
        """Back to the initial state: no custom tables, the sample data again (if seeded)."""
        with self.store.lock:
            self.store.reset()
            self.faults.clear()
            self.limiter.limits = replace(self._limits)
            self.limiter.reset()
            self.service.published.clear()
            self._prepare()

    def load(self, document: dict[str, Any]) -> dict[str, Any]:
        """Exact scenarios: the JSON accepted by ``POST /__sandbox__/seed``."""
        from reconcile.sandbox.dataverse.seed import load

        with self.store.lock, self.store.transaction():
            return load(self, document)

    def bulk_contacts(self, rows: list[dict[str, Any]]) -> list[str]:
        """Insert many contacts fast (no HTTP); rows use Web API column names."""
        from reconcile.sandbox.dataverse.seed import bulk_insert

        with self.store.lock, self.store.transaction():
            return bulk_insert(self, "contact", rows)

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

    # ------------------------------------------------------------------- connecting
    def token(self, label: str = "admin", audience: str = "") -> str:
        """A ready bearer token (valid 24 h, for demos; msal's tokens last 1 h)."""
        return self.tokens.mint(self.clients[label], audience, lifetime=READY_TOKEN_LIFETIME)

    def ssl_authority(self) -> SandboxServer:
        """The TLS server of the OAuth authority, started on first use."""
        if self._authority is None:
            self._ca = LocalCA()
            server = SandboxServer(
                authority_app(self), ssl_certfile=self._ca.cert_file, ssl_keyfile=self._ca.key_file
            )
            # msal's requests session keeps TLS connections open; do not wait for it on stop.
            server._server.config.timeout_graceful_shutdown = 1
            self._authority = server.start()
        return self._authority

    def authority_url(self) -> str:
        return f"{self.ssl_authority().url}/{TENANT}"

    def connection_info(self, url: str) -> dict[str, Any]:
        admin = self.clients["admin"]
        info: dict[str, Any] = {
            "url": url,
            "api_version": "9.2",
            "token": self.token("admin", url),
            "client_id": admin.client_id,
            "client_secret": admin.client_secret,
            "authority": self.authority_url(),
            "ca_file": self._ca.ca_file if self._ca else None,
            "tenant_id": TENANT,
        }
        info["identities"] = {
            label: {
                "client_id": c.client_id,
                "client_secret": c.client_secret,
                "user_id": c.user_id,
                "token": self.token(label, url),
            }
            for label, c in self.clients.items()
        }
        return info

    def close(self) -> None:
        if self._authority is not None:
            self._authority.stop()
            self._authority = None
        if self._ca is not None:
            self._ca.remove()
            self._ca = None
        self.store.close()

    def __enter__(self) -> DataverseSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
