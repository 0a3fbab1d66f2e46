"""The GetResponse sandbox on 127.0.0.1 for the client's integration tests.

One server per session, emptied before each test through ``POST /__sandbox__/reset``. The
client under test never sleeps: its ``sleep`` moves a fake clock *and* the sandbox's clock
(``POST /__sandbox__/clock``), so a 429 that says "wait 432 seconds" or a contact queued for
a while behaves as if the time had passed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gr_fakes import KEY, FakeClock
from gr_live import CONTACT_DELAY, SandboxHandle, make_sandbox_client

from reconcile.getresponse import GetResponseClient
from reconcile.sandbox.getresponse import GetResponseSandbox
from reconcile.sandbox.server import SandboxServer


@pytest.fixture(scope="session")
def gr_server() -> Iterator[SandboxHandle]:
    sandbox = GetResponseSandbox(api_key=KEY, contact_delay=CONTACT_DELAY)
    with SandboxServer(sandbox.asgi_app) as server:
        handle = SandboxHandle(sandbox, server)
        yield handle
        handle.control.close()


@pytest.fixture
def gr(gr_server: SandboxHandle) -> SandboxHandle:
    gr_server.reset()
    return gr_server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(gr: SandboxHandle, clock: FakeClock) -> Iterator[GetResponseClient]:
    with make_sandbox_client(gr, clock) as client:
        yield client
