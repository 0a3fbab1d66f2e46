"""Both sandboxes on 127.0.0.1 for the sync-job tests, and a :class:`SyncContext` on them.

One server of each per test module (``servers``); before each test both sandboxes are reset,
the connector's tables and roles installed, and the service identity given the connector's
Service User role — the identity the sync jobs run as in production (SPEC 2).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconcile.dataverse import install_roles
from reconcile.dataverse.roles import SERVICE_USER
from reconcile.jobs.sync import SyncContext, environment_key
from reconcile.state import StateStore
from tests.jobs import migrate_env
from tests.jobs.migrate_env import Env


def servers() -> Iterator[Env]:
    yield from migrate_env.servers()


def fresh(env: Env) -> Iterator[Env]:
    for ready in migrate_env.fresh(env):
        install_roles(ready.dataverse())
        ready.dv.load({"identity_roles": {"service": [SERVICE_USER.name]}})
        yield ready


@dataclass
class Contexts:
    """Builds contexts on the sandboxes sharing one state file (as successive runs do)."""

    env: Env
    state_path: Path
    identity: str = "service"

    def __call__(self, **kwargs: Any) -> SyncContext:
        state = StateStore(self.state_path)
        self.env.clients.append(state)
        return SyncContext(
            dv=self.env.dataverse(self.identity),
            gr=self.env.getresponse(),
            state=state,
            environment=environment_key(self.env.dv_url, self.env.gr_info["url"]),
            **kwargs,
        )
