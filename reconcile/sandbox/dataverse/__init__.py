"""A local emulator of the Dataverse (Dynamics 365) Web API, backed by SQLite.

``DataverseSandbox`` is what ``reconcile sandbox serve``, ``reconcile demo`` and the tests start
(see :mod:`reconcile.sandbox`). The Web API is served at ``/api/data/v{8.2,9.0,9.1,9.2}/`` on
plain http; the OAuth authority that msal needs is served on a second, TLS port (started on
first use) with a throw-away local CA. What is emulated, and how faithfully, is written down in
``docs/dataverse-api.md`` and ``docs/dataverse-sandbox-coverage.md``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from reconcile.sandbox.dataverse import seed as seeding
from reconcile.sandbox.dataverse.app import authority_app, build_app
from reconcile.sandbox.dataverse.auth import TENANT, LocalCA
from reconcile.sandbox.dataverse.environment import Environment
from reconcile.sandbox.dataverse.limits import Limits
from reconcile.sandbox.dataverse.store import utc_now
from reconcile.sandbox.server import SandboxServer

__all__ = ["DataverseSandbox", "Limits"]


class DataverseSandbox(Environment):
    """An :class:`Environment` with its ASGI app and the TLS OAuth authority msal needs."""

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
        super().__init__(
            database=database,
            seed=seed,
            api_versions=api_versions,
            limits=limits,
            clock=clock,
            monotonic=monotonic,
            sample_size=sample_size,
        )
        self._authority: SandboxServer | None = None
        self._ca: LocalCA | None = None
        seeding.prepare(self)
        self.asgi_app = build_app(self, self.authority_url)

    # ------------------------------------------------------------------------ state
    def reset(self) -> None:
        """Back to the initial state: no custom tables, the sample data again (if seeded)."""
        seeding.reset(self)

    def load(self, document: dict[str, Any]) -> dict[str, Any]:
        """Exact scenarios: the JSON accepted by ``POST /__sandbox__/seed``."""
        return seeding.load_document(self, document)

    def bulk_contacts(self, rows: list[dict[str, Any]]) -> list[str]:
        """Insert many contacts fast (no HTTP); rows use Web API column names."""
        with self.store.lock, self.store.transaction():
            return seeding.bulk_insert(self, "contact", rows)

    # ------------------------------------------------------------------- connecting
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
