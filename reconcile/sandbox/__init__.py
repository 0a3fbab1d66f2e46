"""Local emulators of the GetResponse v3 API and the Dataverse Web API.

Product code, not test code: ``reconcile sandbox serve``, ``reconcile demo`` and the
test-suite all start them through :func:`start`. Each emulator is a class with

- ``name``: its key in ``reconcile sandbox serve --json`` output (``getresponse``, ``dataverse``);
- ``__init__(*, database=":memory:", seed=None)``: SQLite-backed state, optionally seeded with
  sample data from a seeded generator;
- ``asgi_app``: the ASGI application (service routes plus ``/__sandbox__/`` controls);
- ``connection_info(url) -> dict``: what a client needs to connect (base URL, credentials);
- optional ``ssl_files() -> (certfile, keyfile)`` when the service must be served over TLS.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from reconcile.errors import ConfigError
from reconcile.sandbox.server import SandboxServer


class Sandbox(Protocol):
    name: str
    asgi_app: Any

    def connection_info(self, url: str) -> dict[str, Any]: ...


@dataclass
class Running:
    sandbox: Any
    server: SandboxServer

    @property
    def info(self) -> dict[str, Any]:
        return self.sandbox.connection_info(self.server.url)


def available() -> dict[str, type]:
    """The emulators this installation ships, by name."""
    found: dict[str, type] = {}
    try:
        from reconcile.sandbox.getresponse import GetResponseSandbox

        found[GetResponseSandbox.name] = GetResponseSandbox
    except ImportError:  # pragma: no cover - while the emulator is being built
        pass
    try:
        from reconcile.sandbox.dataverse import DataverseSandbox

        found[DataverseSandbox.name] = DataverseSandbox
    except ImportError:  # pragma: no cover - while the emulator is being built
        pass
    return found


@contextmanager
def start(
    names: list[str] | None = None,
    *,
    ports: dict[str, int] | None = None,
    databases: dict[str, str] | None = None,
    seed: int | None = 0,
    host: str = "127.0.0.1",
) -> Iterator[dict[str, Running]]:
    """Start the named emulators (all by default) on loopback; stop them on exit."""
    classes = available()
    running: dict[str, Running] = {}
    try:
        for name in names or list(classes):
            sandbox = classes[name](database=(databases or {}).get(name, ":memory:"), seed=seed)
            ssl = sandbox.ssl_files() if hasattr(sandbox, "ssl_files") else (None, None)
            port = (ports or {}).get(name, 0)
            try:
                server = SandboxServer(
                    sandbox.asgi_app, host=host, port=port, ssl_certfile=ssl[0], ssl_keyfile=ssl[1]
                ).start()
            except OSError as exc:  # a port in use: a wrong option, not a crash (a traceback)
                if hasattr(sandbox, "close"):
                    sandbox.close()
                raise ConfigError(
                    f"The {name} sandbox cannot listen on {host}:{port}: {exc.strerror or exc}",
                    hint=f"Another program (another `reconcile sandbox serve`?) has that port: "
                    f"choose another --{name}-port, or leave it out for a free one.",
                ) from None
            running[name] = Running(sandbox, server)
        yield running
    finally:
        for item in running.values():
            item.server.stop()
            if hasattr(item.sandbox, "close"):  # e.g. the Dataverse sandbox's TLS authority
                item.sandbox.close()
