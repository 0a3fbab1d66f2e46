"""A Dataverse sandbox on 127.0.0.1 for the client's integration tests: one server per
session, reset before each test that uses it, clients that never sleep for real."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from reconcile.dataverse import BearerTokenAuth, DataverseClient
from reconcile.retrying import RetryPolicy


@dataclass
class Target:
    """The running sandbox and what a client needs to reach it."""

    sandbox: Any
    url: str
    info: dict[str, Any]
    slept: list[float] = field(default_factory=list)
    clients: list[DataverseClient] = field(default_factory=list)

    def client(self, version: str = "9.2", identity: str = "admin", **kw: Any) -> DataverseClient:
        token = self.info["identities"][identity]["token"]
        kw.setdefault("retry_policy", RetryPolicy(max_attempts=6, rng=random.Random(5)))
        client = DataverseClient(
            self.url,
            api_version=version,
            auth=BearerTokenAuth(token),
            sleep=self.slept.append,
            **kw,
        )
        self.clients.append(client)
        return client

    def faults(self, *faults: dict[str, Any]) -> None:
        httpx.post(f"{self.url}/__sandbox__/faults", json=list(faults)).raise_for_status()

    def load(self, document: dict[str, Any]) -> dict[str, Any]:
        return self.sandbox.load(document)


@pytest.fixture(scope="session")
def _dataverse_server() -> Iterator[tuple[Any, Any]]:
    from reconcile.sandbox.dataverse import DataverseSandbox
    from reconcile.sandbox.server import SandboxServer

    sandbox = DataverseSandbox(seed=None)
    with SandboxServer(sandbox.asgi_app, host="127.0.0.1", port=0) as server:
        yield sandbox, server
    sandbox.close()


@pytest.fixture
def dv(_dataverse_server: tuple[Any, Any]) -> Iterator[Target]:
    sandbox, server = _dataverse_server
    sandbox.reset()
    target = Target(sandbox, server.url, sandbox.connection_info(server.url))
    yield target
    for client in target.clients:
        client.close()
