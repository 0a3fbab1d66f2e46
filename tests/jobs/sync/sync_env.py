"""Both sandboxes on 127.0.0.1 for the sync-job tests, and a :class:`SyncContext` on them.

One server of each per test module (``servers``); before each test both sandboxes are reset,
the connector's tables and roles installed (once, then restored from a snapshot), and the
service identity given the connector's Service User role — the identity the sync jobs run
as in production (SPEC 2).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconcile.dataverse import install_roles, install_schema
from reconcile.dataverse.roles import SERVICE_USER
from reconcile.getresponse import ApiKeyAuth, GetResponseClient
from reconcile.jobs.sync import SyncContext, environment_key
from reconcile.state import StateStore
from reconcile.throttle import VirtualClock
from tests.jobs import migrate_env
from tests.jobs.migrate_env import Env


def servers() -> Iterator[Env]:
    yield from migrate_env.servers()


_READY: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def fresh(env: Env) -> Iterator[Env]:
    """Both sandboxes as a new installation leaves them. The first call per Dataverse
    sandbox installs the tables and roles (≈ 150 requests) and keeps a snapshot; later calls
    restore it, which takes a tenth of the time."""
    snapshot = _READY.get(env.dv)
    if snapshot is None:
        env.dv.reset()
        admin = env.dataverse()
        install_schema(admin)
        install_roles(admin)
        env.dv.load({"identity_roles": {"service": [SERVICE_USER.name]}})
        _READY[env.dv] = env.dv.snapshot()
    else:
        env.dv.restore(snapshot)
    env.gr.reset()
    yield env
    for client in env.clients:
        client.close()
    env.clients.clear()


@dataclass
class Contexts:
    """Builds contexts on the sandboxes sharing one state file (as successive runs do)."""

    env: Env
    state_path: Path
    identity: str = "service"
    virtual_time: bool = False  # the GetResponse client waits on a clock that never blocks

    def getresponse(self) -> GetResponseClient:
        if not self.virtual_time:
            return self.env.getresponse()
        clock = VirtualClock(lambda seconds: None)
        info = self.env.gr_info
        client = GetResponseClient(
            ApiKeyAuth(info["api_key"]), base_url=info["url"], sleep=clock.sleep, clock=clock.now
        )
        self.env.clients.append(client)
        return client

    def __call__(self, **kwargs: Any) -> SyncContext:
        state = StateStore(self.state_path)
        self.env.clients.append(state)
        return SyncContext(
            dv=self.env.dataverse(self.identity),
            gr=self.getresponse(),
            state=state,
            environment=environment_key(self.env.dv_url, self.env.gr_info["url"]),
            **kwargs,
        )
