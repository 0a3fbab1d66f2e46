"""``reconcile listen``'s receiver and writer against both sandboxes: the GetResponse sandbox
posts webhooks and legacy callbacks to it as opens and clicks happen; each event is written
once, with the bulk path's id (webhooks) or adopted by the hourly run (callbacks, dated on
receipt); requests without the secret or with a bad body are refused; subscribes and
unsubscribes go to the contacts job's inbox."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.jobs.listen import Inbox, Writer, build_app, wait_until
from reconcile.jobs.sync import callbacks as cb
from reconcile.jobs.sync.activities import STORAGE
from reconcile.sandbox.server import SandboxServer
from reconcile.state import StateStore
from tests.jobs.migrate_env import Env
from tests.jobs.sync import activities_env as world_env
from tests.jobs.sync.activities_env import World, settings

SECRET = "s3cret-for-the-tests-0123456789"


def writes(report: Any) -> dict[str, int]:
    """What a run wrote (its counts without the storage estimate)."""
    return {k: v for k, v in report.counts.items() if k != STORAGE}


@pytest.fixture
def world(env: Env, tmp_path: Path) -> World:
    return world_env.seed(env, tmp_path / "state.sqlite3")


class Receiver:
    def __init__(self, world: World) -> None:
        self.world = world
        self.wake = threading.Event()
        ctx = world.context()
        self.environment = ctx.environment
        self.inbox = Inbox(str(world.state_path), self.environment, self.wake).start()
        self.writer = Writer(self._context, self.wake, 0.2).start()
        self.server = SandboxServer(build_app(self.inbox, SECRET)).start()
        self.url = f"{self.server.url}/{cb.PATH}/{SECRET}"

    @contextlib.contextmanager
    def _context(self) -> Iterator[Any]:
        """The writer's context, made and closed in the writer's thread (SQLite's rule)."""
        ctx = self.world.context()
        self.world.env.clients.remove(ctx.state)
        try:
            yield ctx
        finally:
            ctx.state.close()

    def pending(self) -> int:
        with StateStore(self.world.state_path) as store:
            return len(store.pending(cb.inbox(self.environment)))

    def close(self) -> None:
        self.server.stop()
        self.inbox.stop()
        self.writer.stop()


@pytest.fixture
def receiver(world: World) -> Iterator[Receiver]:
    made = Receiver(world)
    yield made
    made.close()


def deliveries(world: World) -> dict[str, Any]:
    with world.env.gr.lock:
        return world.env.gr.delivery.summary()


def happen_now(world: World, items: list[tuple[str, str, str | None]]) -> None:
    """Activities of "June news" a second from now, then the sandbox clock past them."""
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    world.seed_activities([(email, kind, soon, link) for email, kind, link in items])
    world.env.gr.advance(3)


def test_webhooks_are_written_with_the_bulk_paths_ids(world: World, receiver: Receiver) -> None:
    world.env.gr.delivery.webhooks.update({"url": receiver.url, "batch": 2})
    with world.env.gr.lock:
        world.env.gr.settle()  # delivery starts from now
    happen_now(world, [("anna@example.fr", "open", None), ("jean@example.fr", "click", "Shop"),
                       ("zoe@example.fr", "open", None)])  # fmt: skip
    assert wait_until(lambda: deliveries(world)["states"].get("delivered") == 3, 20)
    assert wait_until(lambda: receiver.pending() == 0, 20)
    found = world.activities()
    assert sorted(r["grc_source"] for r in found) == ["callback", "callback"]  # zoe: not synced
    click = next(r for r in found if r["grc_url"])
    assert click["_grc_contactid_value"] == world.crm["jean@example.fr"]
    assert click["_grc_newsletterid_value"] == world.newsletter_record
    hourly = world.run(settings=settings(source="report"))
    assert hourly.exit_code == 0, hourly.lines()
    assert writes(hourly) == {"activities added or counted": 8}  # the two were there already
    assert len(world.activities()) == 10


def test_callbacks_dated_on_receipt_are_adopted_by_the_hourly_run(
    world: World, receiver: Receiver
) -> None:
    gr = world.env.getresponse()
    from reconcile.getresponse.callbacks import set_callbacks

    set_callbacks(gr, receiver.url, ["open", "click"])
    with world.env.gr.lock:
        world.env.gr.settle()
    happen_now(world, [("anna@example.fr", "open", None), ("jean@example.fr", "click", "Blog")])
    assert wait_until(lambda: deliveries(world)["states"].get("delivered") == 2, 20)
    assert wait_until(lambda: len(world.activities()) == 2, 20)
    before = {r["grc_getresponseid"] for r in world.activities()}
    hourly = world.run(settings=settings(source="report"))
    assert hourly.exit_code == 0, hourly.lines()
    assert writes(hourly) == {
        "activities added or counted": 8,
        "activity records corrected": 2,  # the callbacks' records, adopted
    }
    found = world.activities()
    assert len(found) == 10
    assert not before & {r["grc_getresponseid"] for r in found}  # they took the report's ids
    since = {"since": world.sent_at - dt.timedelta(days=1)}
    assert world.run(settings=settings(source="report"), options=since).counts == {}


def test_a_late_callback_of_an_activity_already_written_is_deleted_as_a_duplicate(
    world: World, receiver: Receiver
) -> None:
    a_minute_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    world.seed_activities([("anna@example.fr", "open", a_minute_ago, None)])
    world.run(settings=settings(source="report"))  # the hourly run first: 9 records
    assert len(world.activities()) == 9
    late = httpx.get(
        receiver.url,
        params={"action": "open", "CONTACT_ID": world.gr_ids["anna@example.fr"],
                "MESSAGE_ID": world.newsletter, "message_name": "June news"},
    )  # fmt: skip
    assert late.json() == {"status": "OK"}
    assert wait_until(lambda: len(world.activities()) == 10, 20)
    since = {"since": world.sent_at - dt.timedelta(days=1)}
    again = world.run(settings=settings(source="report"), options=since)
    assert writes(again) == {"duplicate records deleted": 1}
    assert len(world.activities()) == 9


def test_requests_without_the_secret_or_with_a_bad_body_are_refused(
    world: World, receiver: Receiver
) -> None:
    base = receiver.server.url
    assert httpx.get(f"{base}/{cb.PATH}/wrong", params={"action": "open"}).status_code == 404
    assert httpx.get(f"{base}/{cb.PATH}", params={"action": "open"}).status_code == 404
    assert httpx.post(f"{base}/elsewhere", json={}).status_code == 404
    bad = httpx.post(receiver.url, json={"type": "contact_opened_message"})
    assert bad.status_code == 400
    assert "is missing" in bad.json()["error"]
    assert (
        httpx.post(
            receiver.url, content=b"{not json", headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )
    assert httpx.get(f"{base}/healthz").json()["status"] == "OK"
    assert receiver.pending() == 0


def test_subscribes_and_unsubscribes_go_to_the_contacts_jobs_inbox(
    world: World, receiver: Receiver
) -> None:
    event = {
        "type": "contact_unsubscribed",
        "contact": {"contactId": world.gr_ids["paul@example.fr"], "email": "paul@example.fr",
                    "campaign": {"campaignId": world.campaign}},
        "event": {"occurredAt": "2026-12-07T10:00:00+00:00"},
    }  # fmt: skip
    assert httpx.post(receiver.url, json=[event, event]).json() == {"status": "OK"}
    with StateStore(world.state_path) as store:
        assert wait_until(lambda: len(cb.contact_events(store, receiver.environment)) == 1, 20)
        (forwarded,) = cb.contact_events(store, receiver.environment).values()
    assert forwarded["kind"] == "unsubscribe"
    assert forwarded["contact_id"] == world.gr_ids["paul@example.fr"]
    assert world.activities() == []
