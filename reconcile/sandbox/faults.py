"""Fault injection shared by both sandboxes: latency, error statuses, dropped connections,
redirects.

Faults are data, set over HTTP (``POST /__sandbox__/faults``) so that any client — our
tests, a third-party SDK, an admin trying the demo — can provoke them. Each fault fires
``count`` times, or with a seeded ``probability`` (repeatable runs), optionally only on a
path prefix and method. Each sandbox renders error statuses in its own service's shape.

A drop comes in two kinds, because a client must treat them differently: by default the
connection breaks before the service sees the request (nothing happened); with
``"after": true`` the service handles the request first and only the answer is lost (the
write happened; repeating it must not do it twice).

A redirect (``{"kind": "redirect", "status": 301, "location": "..."}``) answers as a web server
in front of the API does when the client has the wrong host or scheme: a 3xx with a
``Location`` and an empty ``text/html`` body (recorded on GetResponse 360: a MAX account on the
other MAX host gets ``301`` to ``http://www.getresponse.com/enterprise``). The service never
sees the request. Clients must refuse it, never follow it or take it for success.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

CONTROL_PREFIX = "/__sandbox__"
KINDS = ("latency", "status", "drop", "redirect")
DEFAULT_LOCATION = "http://www.getresponse.com/enterprise"


class DroppedConnection(Exception):
    """Raised mid-response so that the server closes the connection without a full reply."""


@dataclass
class Fault:
    kind: str  # latency | status | drop | redirect
    status: int | None = None  # kind=status (429, 500, 502, 503, 504 ...); redirect (301 ...)
    location: str | None = None  # kind=redirect: the Location header
    latency_ms: int = 0  # for kind=latency
    count: int | None = None  # fire this many times, then retire
    probability: float | None = None  # or fire with this probability ...
    seed: int | None = None  # ... drawn from a generator seeded here
    path: str = ""  # only requests whose path starts with this
    method: str | None = None  # only this HTTP method
    after: bool = False  # for kind=drop: let the service handle the request, lose the answer
    code: int | None = None  # for kind=status: the service's own error code (GetResponse 1016)
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        kind = data.get("kind")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if kind == "status" and not isinstance(data.get("status"), int):
            raise ValueError("a status fault needs an integer 'status'")
        location = data.get("location")
        if kind == "redirect":
            data = {**data, "status": data.get("status", 301)}
            if not isinstance(data["status"], int) or not 300 <= data["status"] < 400:
                raise ValueError("a redirect fault's 'status' is a 3xx (default 301)")
            if location is not None and not isinstance(location, str):
                raise ValueError("'location' is a URL")
            location = location or DEFAULT_LOCATION
        elif location is not None:
            raise ValueError("'location' is only for a redirect fault")
        after = data.get("after", False)
        if not isinstance(after, bool) or (after and kind != "drop"):
            raise ValueError("'after' is true or false, and only for a drop fault")
        count, probability = data.get("count"), data.get("probability")
        if count is None and probability is None:
            count = 1
        if probability is not None and not 0 <= float(probability) <= 1:
            raise ValueError("probability must be between 0 and 1")
        fault = cls(
            kind=kind,
            status=data.get("status"),
            location=location,
            latency_ms=int(data.get("latency_ms", 0)),
            count=None if count is None else int(count),
            probability=None if probability is None else float(probability),
            seed=data.get("seed"),
            path=str(data.get("path", "")),
            method=(data.get("method") or None) and str(data["method"]).upper(),
            after=after,
            code=None if data.get("code") is None else int(data["code"]),
        )
        fault._rng = random.Random(fault.seed)
        return fault

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_rng")
        return data

    def applies(self, method: str, path: str) -> bool:
        if not path.startswith(self.path) or (self.method and self.method != method):
            return False
        if self.count is not None:
            return self.fired < self.count
        return self._rng.random() < (self.probability or 0.0)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count


class FaultPlan:
    """The faults currently armed on one sandbox; thread-safe."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def armed(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._faults]

    def draw(self, method: str, path: str) -> list[Fault]:
        """The faults that fire on this request: any latencies, then at most one status or drop
        (so that "one 429 then one 503" arms two requests, not one)."""
        fired: list[Fault] = []
        with self._lock:
            terminal = False
            for fault in self._faults:
                if terminal and fault.kind != "latency":
                    continue
                if fault.applies(method, path):
                    fault.fired += 1
                    fired.append(fault)
                    terminal = terminal or fault.kind != "latency"
            self._faults = [f for f in self._faults if not f.exhausted]
        return fired


ErrorRenderer = Callable[[int, Request], Response]


class FaultMiddleware:
    """Applies armed faults to service requests; control requests pass untouched."""

    def __init__(self, app: ASGIApp, plan: FaultPlan, render_error: ErrorRenderer) -> None:
        self.app = app
        self.plan = plan
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        fired = self.plan.draw(scope["method"], scope["path"])
        for fault in sorted(fired, key=lambda f: f.kind != "latency"):
            if fault.kind == "latency":
                await asyncio.sleep(fault.latency_ms / 1000)
            elif fault.kind == "drop":
                if fault.after:  # the service does the work; its answer never arrives
                    await self.app(scope, receive, _discard)
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-length", b"1000"),
                            (b"content-type", b"application/json"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b"[", "more_body": True})
                raise DroppedConnection(scope["path"])
            elif fault.kind == "redirect":
                response = Response(
                    b"",
                    status_code=int(fault.status or 301),
                    headers={"Location": fault.location or DEFAULT_LOCATION},
                    media_type="text/html; charset=UTF-8",
                )
                await response(scope, receive, send)
                return
            else:
                if fault.code is not None:  # the renderer reads it: request.scope["fault_code"]
                    scope = {**scope, "fault_code": fault.code}
                response = self.render_error(int(fault.status or 500), Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _discard(message: Any) -> None:
    """An ASGI ``send`` that throws the service's answer away."""


def fault_routes(plan: FaultPlan) -> list[Route]:
    """``/__sandbox__/faults``: GET lists, POST arms one (or a list), DELETE disarms all."""

    async def faults(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(plan.armed())
        if request.method == "DELETE":
            plan.clear()
            return Response(status_code=204)
        try:
            body = await request.json()
            items = body if isinstance(body, list) else [body]
            armed = [Fault.from_json(item) for item in items]
        except (ValueError, TypeError, AttributeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        for fault in armed:
            plan.add(fault)
        return JSONResponse([f.to_json() for f in armed], status_code=201)

    return [Route(f"{CONTROL_PREFIX}/faults", faults, methods=["GET", "POST", "DELETE"])]
