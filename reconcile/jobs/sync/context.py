"""What a sync job runs with, built once in the library: both clients, the state store, the
run's identity (environment, lease holder), its options, its clock and its stop signal.

The CLI, the runner and a Python user all get a context the same way — :func:`open_context`
from the settings, or :class:`SyncContext` directly with clients they built — so a job never
builds a client, reads a setting file or opens a database itself.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconcile.progress import SILENT, Progress

if TYPE_CHECKING:
    from reconcile.config import Settings
    from reconcile.dataverse.client import DataverseClient
    from reconcile.getresponse.client import GetResponseClient
    from reconcile.state import StateStore

LEASE_SECONDS = 600.0  # a runner that stops renewing (killed, hung) loses its lease after this


class Interrupted(Exception):
    """A stop was requested (SIGTERM, Ctrl-C): the job stops after the chunk it was on."""


class StopSignal:
    """Set from a signal handler or another thread; jobs look at it between chunks."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def request(self) -> None:
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` unless a stop comes first; True when one came."""
        return self._event.wait(seconds)


def utc_now() -> datetime:
    return datetime.now(UTC)


def environment_key(dynamics_url: str, getresponse_url: str, domain: str | None = None) -> str:
    """Which GetResponse account × Dynamics environment a run belongs to: leases, watermarks
    and the journal are kept per pair. Built from addresses only (never from a secret)."""
    account = getresponse_url.strip().rstrip("/").lower()
    if domain:
        account += f"#{domain.strip().lower()}"
    return f"{dynamics_url.strip().rstrip('/').lower()}|{account}"


def watermark_name(job: str, environment: str, name: str) -> str:
    """Where a job keeps one of its watermarks in the state store, per environment."""
    return f"sync:{job}:{environment}:{name}"


def holder_name() -> str:
    """This process, as a lease holder: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class SyncContext:
    """Everything a job's ``plan`` and ``apply`` need, and nothing they should build."""

    dv: DataverseClient
    gr: GetResponseClient
    state: StateStore
    environment: str
    settings: Settings | None = None
    dry_run: bool = False
    full: bool = False  # re-read everything instead of what changed since the watermarks
    options: Mapping[str, Any] = field(default_factory=dict)  # the job's own options
    progress: Progress = SILENT
    stop: StopSignal = field(default_factory=StopSignal)
    now: Callable[[], datetime] = utc_now
    holder: str = field(default_factory=holder_name)
    lease_seconds: float = LEASE_SECONDS
    _lease: str | None = field(default=None, repr=False)
    _renewed: float = field(default=0.0, repr=False)

    # -- settings ------------------------------------------------------------------------
    def section(self, name: str) -> Any:
        """A settings section (``lists``, ``sync`` …), defaults when the context has none."""
        if self.settings is not None:
            return getattr(self.settings, name)
        from reconcile.config import SECTIONS

        return SECTIONS[name]()

    # -- requests ------------------------------------------------------------------------
    def requests(self) -> dict[str, int]:
        """Requests sent so far by each client (a run reports the difference)."""
        return {"getresponse": self.gr.stats.requests, "dataverse": self.dv.requests_sent}

    # -- watermarks ----------------------------------------------------------------------
    def watermark_name(self, job: str, name: str) -> str:
        return watermark_name(job, self.environment, name)

    def watermark(self, job: str, name: str) -> str | None:
        """The stored watermark, or None when there is none — or when ``--full`` asks to
        read everything again."""
        if self.full:
            return None
        return self.state.watermark(self.watermark_name(job, name))

    # -- leases and stopping ---------------------------------------------------------------
    def hold(self, lease: str) -> None:
        """Take ``lease`` for this context (raises LeaseHeld when another runner has it)."""
        self.state.acquire_lease(lease, self.holder, self.lease_seconds)
        self._lease, self._renewed = lease, time.monotonic()

    def release(self) -> None:
        if self._lease is not None:
            self.state.release_lease(self._lease, self.holder)
            self._lease = None

    def checkpoint(self) -> None:
        """Between chunks: stop here if asked to, and keep the lease alive.

        A long job renews its lease every third of its lifetime, so a live runner never
        loses it, while a killed one's expires."""
        if self.stop.requested:
            raise Interrupted("stopped on request")
        if self._lease is not None and time.monotonic() - self._renewed > self.lease_seconds / 3:
            self.hold(self._lease)


@contextmanager
def open_context(
    settings: Settings,
    *,
    state_path: str | Path | None = None,
    dry_run: bool = False,
    full: bool = False,
    options: Mapping[str, Any] | None = None,
    progress: Progress = SILENT,
    stop: StopSignal | None = None,
) -> Iterator[SyncContext]:
    """Connect to both services and open the state store from ``settings``; close them all
    on exit. Raises ConfigError (exit 2) listing what is missing before connecting."""
    from reconcile.config import require_dynamics, require_getresponse
    from reconcile.dataverse.connect import connect as connect_dataverse
    from reconcile.getresponse.connect import connect as connect_getresponse
    from reconcile.state import StateStore, locate

    dynamics, getresponse = require_dynamics(settings), require_getresponse(settings)
    assert dynamics.environment_url
    with ExitStack() as stack:
        state = stack.enter_context(StateStore(locate(state_path, settings.sync.state)))
        gr = stack.enter_context(connect_getresponse(getresponse))
        dv = stack.enter_context(connect_dataverse(dynamics))
        yield SyncContext(
            dv=dv,
            gr=gr,
            state=state,
            environment=environment_key(
                dynamics.environment_url, getresponse.api_url, getresponse.domain
            ),
            settings=settings,
            dry_run=dry_run,
            full=full,
            options=dict(options or {}),
            progress=progress,
            stop=stop or StopSignal(),
        )
