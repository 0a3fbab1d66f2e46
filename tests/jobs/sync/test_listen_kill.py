"""``reconcile listen`` killed while GetResponse posts: 10,000 opens and clicks happen at once,
the GetResponse sandbox posts them as webhooks (the current generation: JSON, retried 3 more
times at increasing intervals when not acknowledged), the receiver — the real CLI, in a
subprocess — is killed with SIGKILL part-way and started again. Every event ends in the CRM
exactly once, every event acknowledged before the kill among them, and the hourly run then
finds every record already there."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reconcile.dataverse import schema as s
from reconcile.jobs.listen import wait_until
from reconcile.jobs.sync import callbacks as cb
from reconcile.state import StateStore
from tests.jobs.migrate_env import Env, rows
from tests.jobs.sync import activities_env as ae

# CI posts 3,000; bench/bench_listen.py runs it with 10,000 (the bar) and reports.
EVENTS = int(os.environ.get("RECONCILE_LISTEN_EVENTS", "3000"))
REPORT = os.environ.get("RECONCILE_LISTEN_REPORT")  # a file for the bench's numbers
SECRET = "kill-test-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Listener:
    def __init__(self, env: Env, state: Path, port: int) -> None:
        self.env, self.state, self.port = env, state, port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        environ = {
            **{k: v for k, v in os.environ.items() if not k.startswith("RECONCILE_")},
            **self.env.settings_env("service"),
            "RECONCILE_LISTEN_SECRET": SECRET,
            "RECONCILE_LISTEN_FLUSH_SECONDS": "0.5",
        }
        command = [sys.executable, "-c", "from reconcile.cli import main; main()", "listen",
                   "--port", str(self.port), "--state", str(self.state), "-q"]  # fmt: skip
        self.proc = subprocess.Popen(
            command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        health = f"http://127.0.0.1:{self.port}/healthz"

        def up() -> bool:
            try:
                return httpx.get(health, timeout=1).status_code == 200
            except httpx.HTTPError:
                assert self.proc is not None
                assert self.proc.poll() is None, self.output()
                return False

        assert wait_until(up, 60, 0.1), "the receiver did not start"

    def output(self) -> str:
        assert self.proc is not None
        if self.proc.poll() is None:
            return ""
        out, err = self.proc.communicate()
        return (out + err).decode()[-3000:]

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate()  # reaps it and closes its pipes

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=120)
        assert self.proc.returncode == 0, (out + err).decode()[-3000:]


def journaled(state: Path, environment: str) -> set[str]:
    """Every event the receiver has journaled (acknowledged), written or not yet."""
    with StateStore(state) as store:
        rows = store._db.execute(
            "SELECT key FROM pending_async WHERE service = ?", (cb.inbox(environment),)
        ).fetchall()
    return {str(k) for (k,) in rows}


@pytest.mark.slow
def test_killed_while_events_pour_in_every_event_lands_once(env: Env, tmp_path: Path) -> None:
    contacts = max(1, EVENTS // 5)
    volume = ae.seed_volume(env, contacts=contacts, newsletters=1, engagement=0)
    state = tmp_path / "listen.sqlite3"
    world = ae.World(env, state, {}, volume.campaign, next(iter(volume.newsletters.values())),
                     "", {}, {}, dt.datetime.now(dt.UTC))  # fmt: skip
    environment = world.context().environment
    listener = Listener(env, state, free_port())
    listener.start()
    env.gr.delivery.webhooks.update({
        "url": f"http://127.0.0.1:{listener.port}/{cb.PATH}/{SECRET}",
        "retry_delays": [1.0, 3.0, 9.0], "concurrency": 20,
    })  # fmt: skip
    with env.gr.lock:
        env.gr.settle()  # delivery from now on
        soon = env.gr.clock() + 1
        people = env.gr.conn.execute("SELECT id, cid, email FROM contacts ORDER BY id").fetchall()
        newsletter = env.gr.conn.execute("SELECT id, click_tracks FROM newsletters").fetchone()
        track = json.loads(newsletter[1])[0]
        click = json.dumps(
            {"id": track["clickTrackId"], "name": track["name"], "url": track["url"]}
        )
        events = [
            (pid, cid, email, newsletter[0], "click" if k % 5 >= 3 else "open",
             ae.stamp(dt.datetime.fromtimestamp(soon + k, dt.UTC)),
             click if k % 5 >= 3 else None)
            for pid, cid, email in people for k in range(5)
        ][:EVENTS]  # fmt: skip
        with env.gr.state.write() as conn:
            conn.executemany(
                "INSERT INTO activities (contact, contact_cid, email, newsletter, activity,"
                " created_on, click_track) VALUES (?, ?, ?, ?, ?, ?, ?)",
                events,
            )
    env.gr.advance(10)  # they all happen: the sandbox posts them at once
    started = time.monotonic()
    assert wait_until(lambda: len(journaled(state, environment)) >= EVENTS // 3, 120), (
        listener.output()
    )
    listener.kill()
    acknowledged = journaled(state, environment)
    assert EVENTS // 3 <= len(acknowledged) < EVENTS  # killed part-way
    time.sleep(0.5)
    listener.start()  # within GetResponse's retries

    def settled() -> bool:
        with env.gr.lock:
            states = env.gr.delivery.summary()["states"]
        return not {"queued", "retry", "sending"} & set(states)

    assert wait_until(settled, 180), env.gr.delivery.summary()
    delivered = time.monotonic() - started
    summary = env.gr.delivery.summary()
    assert summary["states"] == {"delivered": EVENTS}, summary  # none lost: all retried in time
    assert summary["attempts"] > EVENTS  # some were posted more than once
    with StateStore(state) as store:
        assert wait_until(lambda: not store.pending(cb.inbox(environment)), 120)
    written = time.monotonic() - started
    listener.stop()
    records = rows(env.dataverse(), s.ACTIVITIES.entity_set)
    keys = [r["grc_getresponseid"] for r in records]
    assert len(keys) == len(set(keys)) == EVENTS  # exactly once
    assert acknowledged <= set(keys)  # nothing acknowledged was lost
    hourly = world.run(settings=ae.settings(source="report", sends=False))
    assert hourly.exit_code == 0, hourly.lines()
    assert hourly.counts == {}  # the report's activities are the webhooks' records
    if REPORT:
        Path(REPORT).write_text(json.dumps({
            "events": EVENTS, "acknowledged_before_kill": len(acknowledged),
            "posts": summary["attempts"], "seconds_to_all_delivered": round(delivered, 1),
            "seconds_to_all_written": round(written, 1),
            "dataverse_requests_hourly_run": hourly.requests.get("dataverse"),
        }))  # fmt: skip
