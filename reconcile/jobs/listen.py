"""``reconcile listen``: GetResponse's callbacks and webhooks, received as they happen.

A small HTTP receiver (starlette on uvicorn) that the admin puts behind their own HTTPS
reverse proxy. GetResponse calls ``https://<proxy>/getresponse/<secret>``:

- a request without the secret (or with another) is refused with 404, and nothing about it
  is logged but the refusal — the secret is in the path, so uvicorn's access log is off and
  no message of ours ever shows a path;
- the body is validated (:mod:`reconcile.getresponse.callback_events`): a legacy callback's
  query string or form, a webhook's JSON object or array; a malformed one is 400, which
  GetResponse does not retry;
- the events are **journaled before the answer**: the request waits until they are committed
  to the state store's inbox (:class:`Inbox` commits whatever arrived meanwhile in one
  transaction, so 10,000 events posted at once cost a few hundred commits, not 10,000), then
  answers ``200 {"status": "OK"}`` — the body GetResponse's webhooks require, without which
  they are retried. If the store cannot take them, 503: GetResponse's webhooks retry it;
- a writer thread then writes them to the CRM as the bulk path does
  (:class:`reconcile.jobs.sync.callbacks.CallbacksJob`), ``listen.flush_seconds`` after they
  arrive (so that a burst is written in bulk), and once more at stop. An event acknowledged
  is in the inbox: if the receiver is killed, the next start writes it.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconcile.getresponse.callback_events import (
    Event,
    InvalidEvent,
    from_callback,
    from_webhook_body,
)
from reconcile.jobs.sync import callbacks as cb
from reconcile.jobs.sync.common import Report, run_job
from reconcile.jobs.sync.context import SyncContext
from reconcile.state import StateStore

log = logging.getLogger("reconcile.listen")

MAX_BODY = 1 << 20  # a webhook batch of 100 events is far below this
OK = {"status": "OK"}
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Inbox:
    """Commits received events to the state store from one thread of its own, all that
    arrived while the previous commit ran in one transaction; each submitter waits for the
    commit that holds its events."""

    def __init__(self, state_path: str, environment: str, wake: threading.Event) -> None:
        self.state_path, self.environment, self.wake = state_path, environment, wake
        self._queue: queue.Queue[tuple[list[Event], Future[None]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="listen-inbox", daemon=True)
        self.received = 0
        self.commits = 0
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> Inbox:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def submit(self, events: list[Event]) -> Future[None]:
        done: Future[None] = Future()
        self._queue.put((events, done))
        return done

    def _run(self) -> None:
        try:
            store = StateStore(self.state_path)
        except BaseException as exc:  # the store cannot be opened: start() says so
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        with store:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                batch = [item]
                while True:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        self._queue.put(None)
                        break
                    batch.append(more)
                events = [e for evs, _ in batch for e in evs]
                try:
                    cb.journal_events(store, self.environment, events)
                except Exception as exc:  # each waiting request answers 503
                    log.error("could not journal %d received events: %s", len(events), exc)
                    for _, done in batch:
                        done.set_exception(exc)
                    continue
                self.received += len(events)
                self.commits += 1
                for _, done in batch:
                    done.set_result(None)
                self.wake.set()


async def _events(request: Request, now: datetime) -> list[Event]:
    if request.method == "GET":
        return [from_callback(dict(request.query_params), now)]
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise InvalidEvent(f"the body is larger than {MAX_BODY:,} bytes")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json" or raw.lstrip()[:1] in (b"{", b"["):
        import json

        try:
            data = json.loads(raw)
        except ValueError:
            raise InvalidEvent("the body is not valid JSON") from None
        return from_webhook_body(data)
    if kind == "application/x-www-form-urlencoded" and raw:
        form = await request.form()
        return [from_callback({k: str(v) for k, v in form.items()}, now)]
    return [from_callback(dict(request.query_params), now)]


def build_app(inbox: Inbox, secret: str, *, clock: Callable[[], datetime] = utc_now) -> Starlette:
    """The receiver's ASGI app: ``/getresponse/<secret>`` (GET or POST) and ``/healthz``."""
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        token = str(request.path_params.get("token", "")).encode()
        if not hmac.compare_digest(token, expected):
            log.warning("refused a request without the callback secret")
            return JSONResponse({"status": "not found"}, 404)
        try:
            events = await _events(request, clock())
        except InvalidEvent as exc:
            log.warning("refused an invalid callback: %s", exc)
            return JSONResponse({"status": "error", "error": str(exc)}, 400)
        try:
            await asyncio.wrap_future(inbox.submit(events))
        except Exception:  # logged by the inbox; GetResponse retries a 503
            return JSONResponse(
                {"status": "error", "error": "the event could not be journaled; send it again"},
                503,
            )
        return JSONResponse(OK)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "OK", "received": inbox.received})

    async def elsewhere(request: Request, exc: Exception) -> Response:
        return JSONResponse({"status": "not found"}, 404)

    return Starlette(
        routes=[
            Route(f"/{cb.PATH}/{{token}}", receive, methods=["GET", "POST"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        exception_handlers={404: elsewhere, 405: elsewhere},
    )


class Writer:
    """Writes the inbox to the CRM ``flush_seconds`` after being woken, and once more at
    :meth:`stop`. A failure (a service down) is retried later;
    the events wait in the inbox."""

    def __init__(
        self,
        open_context: Callable[[], AbstractContextManager[SyncContext]],
        wake: threading.Event,
        flush_seconds: float,
        on_report: Callable[[Report], None] = lambda report: None,
    ) -> None:
        self.open_context, self.wake, self.flush_seconds = open_context, wake, flush_seconds
        self.on_report = on_report
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="listen-writer", daemon=True)
        self.reports: list[Report] = []
        self.written = 0

    def start(self) -> Writer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        self._thread.join()

    def _run(self) -> None:
        with self.open_context() as ctx:
            delay = self.flush_seconds
            while not self._stop.is_set():
                self.wake.wait()
                self._stop.wait(delay)  # gather what arrives meanwhile (cut short by stop)
                self.wake.clear()
                if self._flush(ctx):
                    delay = self.flush_seconds
                else:  # a service down, a lease held: back off, the events wait
                    delay = min(60.0, max(delay * 2, 1.0))
                    self.wake.set()
            self._flush(ctx)

    def _flush(self, ctx: SyncContext) -> bool:
        """Write everything pending; False when a run stopped early (retry later)."""
        while ctx.state.pending(cb.inbox(ctx.environment), limit=1):
            try:
                report = run_job(cb.JOB, ctx)
            except Exception as exc:  # a lease held elsewhere, a store error
                log.warning("writing received events failed (%s); retrying later", exc)
                return False
            self.reports.append(report)
            self.written += report.counts.get("activities written", 0)
            self.on_report(report)
            if report.aborted:
                log.warning("writing received events stopped: %s", report.aborted)
                return False
        return True


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def describe(host: str, port: int, public_url: str | None) -> dict[str, Any]:
    """What ``reconcile listen`` tells the admin at start (the secret never shown)."""
    local = f"http://{host}:{port}/{cb.PATH}/***"
    public = cb.callback_url(public_url, "***") if public_url else None
    return {"listening": local, "callback_url": public}


def serve(
    settings: Any,
    *,
    host: str | None = None,
    port: int | None = None,
    state_path: str | None = None,
    on_start: Callable[[dict[str, Any]], None] = lambda info: None,
    on_report: Callable[[Report], None] = lambda report: None,
) -> dict[str, Any]:
    """Receive until SIGTERM / Ctrl-C, then write what is left; returns a summary."""
    import uvicorn

    from reconcile.config import require_dynamics, require_getresponse
    from reconcile.errors import ConfigError
    from reconcile.jobs.sync.context import environment_key, open_context
    from reconcile.state import locate

    listen = settings.listen
    if listen.secret is None:
        raise ConfigError(
            "reconcile listen needs the secret part of the callback URL (listen.secret).",
            hint="Choose a long random one (python -c 'import secrets; print(secrets.token_"
            "urlsafe(32))') and set RECONCILE_LISTEN_SECRET, or store it: keyring set "
            f"reconcile {settings.profile}/listen.secret",
        )
    dynamics, getresponse = require_dynamics(settings), require_getresponse(settings)
    assert dynamics.environment_url
    environment = environment_key(dynamics.environment_url, getresponse.api_url, getresponse.domain)
    path = str(locate(state_path, settings.sync.state))
    host, port = host or listen.host, port or listen.port
    wake = threading.Event()
    inbox = Inbox(path, environment, wake).start()
    writer = Writer(
        lambda: open_context(settings, state_path=path), wake, listen.flush_seconds, on_report
    )
    with StateStore(path) as store:
        if store.pending(cb.inbox(environment), limit=1):
            wake.set()  # events acknowledged before the last stop: write them now
    writer.start()
    config = uvicorn.Config(
        build_app(inbox, listen.secret.reveal()),
        host=host,
        port=port,
        access_log=False,  # the path holds the secret
        log_level="warning",
        lifespan="off",
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)
    on_start({**describe(host, port, listen.public_url), "environment": environment})
    # uvicorn stops on SIGINT/SIGTERM, then re-raises the signal to the handler it found:
    # make that one ours (a no-op), so that the receiver's stop is ours too — what was
    # received is written before the process ends, and the exit is a normal one.
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, lambda *_: None) for sig in STOP_SIGNALS}
    try:
        server.run()
    finally:
        inbox.stop()
        writer.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return {
        "received": inbox.received,
        "commits": inbox.commits,
        "written": writer.written,
        "runs": len(writer.reports),
    }
