"""Kill a job's process (SIGKILL, as ``kill -9``) at its n-th request to either sandbox:
before the sandbox sees it (nothing happened) or after the sandbox acted and before the
answer leaves (it happened; the job never knew). Shared by the crash tests of the migration
and the sync jobs: the sandboxes behind the switch, the job run as the real CLI, and the
kill-then-finish loop."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconcile.sandbox.dataverse import DataverseSandbox
from reconcile.sandbox.getresponse import GetResponseSandbox
from reconcile.sandbox.server import SandboxServer
from tests.jobs.migrate_env import Env


class KillSwitch:
    """Counts the API requests of both sandboxes (one counter) and kills ``pid`` at the
    ``at``-th, before the sandbox handles it or after (the answer is lost)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid: int | None = None
        self.at: int | None = None
        self.after = False
        self.seen = 0
        self.killed = False

    def arm(self, pid: int | None, at: int | None, after: bool) -> None:
        with self.lock:
            self.pid, self.at, self.after, self.seen, self.killed = pid, at, after, 0, False

    def wrap(self, app: Any, marker: str) -> Any:
        async def middleware(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http" or marker not in scope["path"]:
                await app(scope, receive, send)
                return
            with self.lock:
                self.seen += 1
                hit = self.at is not None and self.seen == self.at and not self.killed
            if hit and not self.after:
                self._kill()
                return
            if not hit:
                await app(scope, receive, send)
                return

            async def swallow(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    self._kill()

            await app(scope, receive, swallow)

        return middleware

    def _kill(self) -> None:
        if self.pid is not None and not self.killed:
            os.kill(self.pid, signal.SIGKILL)
            self.killed = True


@contextmanager
def killable_sandboxes() -> Iterator[tuple[Env, KillSwitch]]:
    """Both sandboxes on 127.0.0.1, their API requests counted by one switch."""
    dv, gr = DataverseSandbox(seed=None), GetResponseSandbox(contact_delay=0)
    switch = KillSwitch()
    with (
        SandboxServer(switch.wrap(dv.asgi_app, "/api/data/")) as dvs,
        SandboxServer(switch.wrap(gr.asgi_app, "/v3/")) as grs,
    ):
        env = Env(dv, gr, dvs.url, grs.url)
        yield env, switch
        for client in env.clients:
            client.close()
    dv.close()


def run_sync(
    switch: KillSwitch,
    env: Env,
    job: str,
    state: Path,
    at: int | None,
    after: bool,
    settings: dict[str, str] | None = None,
) -> tuple[int, int]:
    """``reconcile sync JOB`` as the service identity, killed at the ``at``-th request (never
    when None): (exit code, requests the sandboxes saw)."""
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RECONCILE_")},
        **env.settings_env("service"),
        **(settings or {}),
    }
    command = [sys.executable, "-c", "from reconcile.cli import main; main()",
               "sync", job, "--state", str(state), "-q"]  # fmt: skip
    proc = subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    switch.arm(proc.pid, at, after)
    out, err = proc.communicate(timeout=300)
    seen = switch.seen
    switch.arm(None, None, False)
    assert proc.returncode in (-signal.SIGKILL, 0, 3), (out + err).decode()[-3000:]
    return proc.returncode, seen


def kill_then_finish(
    run: Callable[[int | None, bool], tuple[int, int]], requests: int, rng: random.Random
) -> int:
    """Kill the job at a seeded request (once, or again while it resumes), then run it until
    it finishes; returns how many runs were really killed."""
    kills = 0
    for _ in range(rng.choice((1, 1, 2))):
        at, after = rng.randint(1, requests), rng.random() < 0.5
        if run(at, after)[0] == -signal.SIGKILL:
            kills += 1
    for _ in range(3):  # a run stopped by a lost answer (exit 3) is simply run again
        code, _ = run(None, False)
        if code == 0:
            break
    assert code == 0
    return kills
