"""One Dataverse sandbox per test session on 127.0.0.1, reset to its empty state before each
test; a second, seeded one for tests that only read the sample CRM."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconcile.sandbox.dataverse import DataverseSandbox
from reconcile.sandbox.server import SandboxServer

HEADERS = {"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"}


@pytest.fixture(scope="session")
def dv_running() -> Iterator[tuple[DataverseSandbox, SandboxServer]]:
    sandbox = DataverseSandbox()
    with SandboxServer(sandbox.asgi_app) as server:
        yield sandbox, server
    sandbox.close()


@pytest.fixture
def sandbox(dv_running: tuple[DataverseSandbox, SandboxServer]) -> DataverseSandbox:
    sandbox, _ = dv_running
    sandbox.reset()
    return sandbox


@pytest.fixture
def info(sandbox: DataverseSandbox, dv_running: Any) -> dict[str, Any]:
    return sandbox.connection_info(dv_running[1].url)


def api_client(info: dict[str, Any], version: str = "9.2", identity: str = "admin") -> httpx.Client:
    token = info["identities"][identity]["token"]
    return httpx.Client(
        base_url=f"{info['url']}/api/data/v{version}",
        headers={**HEADERS, "Authorization": f"Bearer {token}"},
        timeout=30,
    )


@pytest.fixture
def api(info: dict[str, Any]) -> Iterator[httpx.Client]:
    """The Web API (v9.2) as the admin identity (System Administrator)."""
    with api_client(info) as client:
        yield client


@pytest.fixture
def service_api(info: dict[str, Any]) -> Iterator[httpx.Client]:
    """The Web API as the service identity, which holds no role until given one."""
    with api_client(info, identity="service") as client:
        yield client


@pytest.fixture
def control(dv_running: Any, sandbox: DataverseSandbox) -> Iterator[httpx.Client]:
    """A client of the server root, for ``/__sandbox__/`` calls."""
    with httpx.Client(base_url=dv_running[1].url) as client:
        yield client


@pytest.fixture(scope="session")
def seeded_running() -> Iterator[tuple[DataverseSandbox, SandboxServer]]:
    sandbox = DataverseSandbox(seed=7, sample_size=300)
    with SandboxServer(sandbox.asgi_app) as server:
        yield sandbox, server
    sandbox.close()


@pytest.fixture
def seeded(seeded_running: Any) -> Iterator[httpx.Client]:
    """Read-only tests of the generated sample CRM (do not write through this client)."""
    sandbox, server = seeded_running
    with api_client(sandbox.connection_info(server.url)) as client:
        yield client
