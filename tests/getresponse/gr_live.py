"""Driving the GetResponse sandbox over HTTP, and a client wired to its clock."""

from __future__ import annotations

from typing import Any

import httpx
from gr_fakes import FakeClock

from reconcile.getresponse import ApiKeyAuth, GetResponseClient
from reconcile.retrying import RetryPolicy
from reconcile.sandbox.getresponse import GetResponseSandbox
from reconcile.sandbox.server import SandboxServer

CONTACT_DELAY = 30.0  # sandbox seconds before a queued contact appears


class SandboxHandle:
    """The running sandbox, driven only over HTTP (like a test against any deployment)."""

    def __init__(self, sandbox: GetResponseSandbox, server: SandboxServer) -> None:
        self.info = sandbox.connection_info(server.url)
        self.url: str = self.info["url"]
        self.api_key: str = self.info["api_key"]
        self.control = httpx.Client(base_url=server.url + "/__sandbox__", timeout=30)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.control.request(method, path, json=body)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def reset(self) -> None:
        self._call("POST", "reset")

    def seed(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "seed", data)

    def advance(self, seconds: float) -> None:
        self._call("POST", "clock", {"advance": seconds})

    def configure(self, **settings: Any) -> None:
        self._call("POST", "config", settings)

    def fault(self, **spec: Any) -> None:
        self._call("POST", "faults", spec)

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "faults")

    def queue(self) -> list[dict[str, Any]]:
        return self._call("GET", "queue")

    def delete(self, **ids: list[str]) -> None:
        self._call("POST", "delete", ids)


def make_sandbox_client(
    gr: SandboxHandle, clock: FakeClock, *, auth: Any = None, **kwargs: Any
) -> GetResponseClient:
    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        gr.advance(seconds)

    return GetResponseClient(
        auth or ApiKeyAuth(gr.api_key),
        base_url=kwargs.pop("base_url", gr.url),
        sleep=sleep,
        clock=clock,
        policy=kwargs.pop("policy", RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=4.0)),
        **kwargs,
    )
