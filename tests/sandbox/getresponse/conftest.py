"""One GetResponse sandbox per test session on 127.0.0.1, emptied before each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from grsb_help import DELAY
from grsb_openapi import Validator

from reconcile.sandbox.getresponse import GetResponseSandbox
from reconcile.sandbox.server import SandboxServer


@pytest.fixture(scope="session")
def gr_running() -> Iterator[tuple[GetResponseSandbox, SandboxServer]]:
    sandbox = GetResponseSandbox(contact_delay=DELAY)
    with SandboxServer(sandbox.asgi_app) as server:
        yield sandbox, server


@pytest.fixture
def sandbox(gr_running: tuple[GetResponseSandbox, SandboxServer]) -> GetResponseSandbox:
    sandbox, _ = gr_running
    sandbox.reset()
    return sandbox


@pytest.fixture
def info(sandbox: GetResponseSandbox, gr_running: Any) -> dict[str, Any]:
    return sandbox.connection_info(gr_running[1].url)


@pytest.fixture(scope="session")
def openapi() -> Validator:
    return Validator()


@pytest.fixture
def api(info: dict[str, Any], openapi: Validator) -> Iterator[httpx.Client]:
    """An authenticated client of the standard host; every exchange is checked against the
    official OpenAPI description (see grsb_openapi.py)."""

    def check(response: httpx.Response) -> None:
        response.read()
        openapi.check(response)

    headers = {"X-Auth-Token": f"api-key {info['api_key']}"}
    hooks = {"response": [check]}
    with httpx.Client(base_url=info["url"], headers=headers, event_hooks=hooks) as client:
        yield client


@pytest.fixture
def control(gr_running: Any, sandbox: GetResponseSandbox) -> Iterator[httpx.Client]:
    """A client of the server root, for ``/__sandbox__/`` calls."""
    with httpx.Client(base_url=gr_running[1].url) as client:
        yield client


@pytest.fixture
def raw(info: dict[str, Any]) -> Iterator[httpx.Client]:
    """An authenticated client without the OpenAPI hook, for bulk reads where validating
    thousands of rows would only repeat what the ``api`` tests already prove."""
    headers = {"X-Auth-Token": f"api-key {info['api_key']}"}
    with httpx.Client(base_url=info["url"], headers=headers) as client:
        yield client
