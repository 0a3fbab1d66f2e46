"""[alerts]: a failed run, stale data and a GetResponse block are told once per incident — to a
real command (JSON on stdin) and a real webhook on 127.0.0.1 — and once more when they are
over; a delivery that failed is retried, and the webhook URL (a secret) never shows."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reconcile.config import Secret
from reconcile.jobs.alerts import Alerts, CommandNotifier, WebhookNotifier
from reconcile.jobs.runner import Runner
from tests.jobs.runner_env import ENV, Events, FakeClock, FakeJob, cadences, context


class Hook:
    """A webhook receiver: keeps every JSON body; answers ``statuses`` in turn, then 200."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                hook.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(hook.statuses.pop(0) if hook.statuses else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/T0/B0/s3cr3tkey"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    made = Hook()
    yield made
    made.close()


def command_writing_to(tmp_path: Path) -> tuple[CommandNotifier, Path]:
    out = tmp_path / "alerts.jsonl"
    script = tmp_path / "page_admin.py"
    script.write_text(
        "import os, sys\n"
        "line = sys.stdin.read().strip()\n"
        "with open(sys.argv[1], 'a') as f:\n"
        "    f.write(os.environ['RECONCILE_ALERT_KIND'] + ' ' + line + '\\n')\n",
        encoding="utf-8",
    )
    return CommandNotifier(f"{sys.executable} {script} {out}"), out


def told(path: Path) -> list[tuple[str, dict[str, Any]]]:
    if not path.exists():
        return []
    return [
        (kind, json.loads(body))
        for kind, _, body in (line.partition(" ") for line in path.read_text().splitlines())
    ]


def a_runner(tmp_path: Path, senders: list, **texts: str) -> tuple[Runner, dict, FakeClock, Events]:
    clock, ran, events = FakeClock(), [], Events()
    jobs = {name: FakeJob(name, ran, clock) for name in texts}
    ctx = context(tmp_path / "state.sqlite3", clock)
    alerts = Alerts(ctx.state, senders, events, now=clock.now)
    made = Runner(ctx, jobs, cadences(**texts), log=events, clock=clock, alerts=alerts)
    return made, jobs, clock, events


def test_a_failing_job_is_told_once_then_once_more_when_it_is_over(tmp_path: Path) -> None:
    command, out = command_writing_to(tmp_path)
    r, jobs, clock, _ = a_runner(tmp_path, [command], templates="5m")
    jobs["templates"].fail_record = True
    for _ in range(3):  # fails three runs in a row: one incident
        r.once()
        clock.advance(minutes=5)
    assert [kind for kind, _ in told(out)] == ["failed"]
    [(_, alert)] = told(out)
    assert alert["job"] == "templates"
    assert alert["environment"] == ENV
    assert "contact anna@example.com: refused by the service" in alert["title"]
    assert alert["text"].startswith("reconcile: sync templates failed")
    jobs["templates"].fail_record = False
    r.once()
    r.once()
    assert [kind for kind, _ in told(out)] == ["failed", "resolved"]
    jobs["templates"].fail_record = True
    clock.advance(minutes=5)
    r.once()
    assert [kind for kind, _ in told(out)] == ["failed", "resolved", "failed"]  # a new incident


def test_stale_data_is_told_once(tmp_path: Path, hook: Hook) -> None:
    from reconcile.dataverse.errors import ServiceUnavailable

    r, jobs, clock, _ = a_runner(tmp_path, [WebhookNotifier(Secret(hook.url, "test"))], lists="1h")
    r.stale_after = 3 * 3600
    r.once()  # one good run at 10:00

    def unavailable(*args: object) -> None:
        raise ServiceUnavailable("Dataverse answered 503 eight times")

    jobs["lists"].apply = unavailable  # type: ignore[method-assign]
    for _ in range(5):  # 11:00 … 15:00, every run cut short
        clock.advance(hours=1)
        r.once()
    kinds = [body["kind"] for body in hook.bodies]
    assert kinds == ["failed", "stale"]
    stale = hook.bodies[1]
    assert stale["title"] == "lists data is stale: 4h old (more than 3h)"  # told at 14:00
    assert stale["detail"]["lag_seconds"] > 3 * 3600


def test_a_failed_delivery_is_retried_and_never_shows_the_secret_url(
    tmp_path: Path, hook: Hook
) -> None:
    hook.statuses = [503]
    r, jobs, clock, events = a_runner(
        tmp_path, [WebhookNotifier(Secret(hook.url, "test"))], templates="5m"
    )
    jobs["templates"].fail_record = True
    r.once()
    assert "not delivered by webhook: the alert webhook answered HTTP 503" in " ".join(
        events.texts("alert failed")
    )
    clock.advance(minutes=5)
    r.once()  # still failing: no new incident, but the undelivered one is retried
    assert [b["kind"] for b in hook.bodies] == ["failed", "failed"]
    clock.advance(minutes=5)
    r.once()
    assert len(hook.bodies) == 2  # delivered: never again
    gone = WebhookNotifier(Secret("http://127.0.0.1:9/hooks/T0/B0/s3cr3tkey", "test"))
    r.alerts.senders = [gone]
    jobs["templates"].fail_record = False
    clock.advance(minutes=5)
    r.once()
    everything = " ".join(text for _, text, _ in events.seen)
    assert "could not be reached" in everything
    assert "s3cr3tkey" not in everything


def test_two_runners_sharing_a_store_tell_an_incident_once(tmp_path: Path) -> None:
    command, out = command_writing_to(tmp_path)
    first, jobs, clock, _ = a_runner(tmp_path, [command], templates="5m")
    jobs["templates"].fail_record = True
    first.once()
    ctx = context(tmp_path / "state.sqlite3", clock)
    second = Alerts(ctx.state, [command], Events(), now=clock.now)
    report = ctx.state.runs("sync:templates", ENV)[0]
    assert report.outcome == "failed"
    from reconcile.jobs.sync import Report

    again = Report("templates", ENV, run_id=report.run_id)
    again.fail("contact anna@example.com", "refused by the service")
    second.after_run("templates", ENV, again)
    assert [kind for kind, _ in told(out)] == ["failed"]
