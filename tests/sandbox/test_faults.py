"""The shared fault machinery, on a tiny app served over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconcile.sandbox.faults import FaultMiddleware, FaultPlan, fault_routes
from reconcile.sandbox.server import SandboxServer


async def _ok(request: Request) -> Response:
    return JSONResponse([{"ok": True}])


def _render(status: int, request: Request) -> Response:
    return JSONResponse({"httpStatus": status, "path": request.url.path}, status_code=status)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    plan = FaultPlan()
    app = FaultMiddleware(
        Starlette(routes=[Route("/v3/things", _ok, methods=["GET", "POST"]), *fault_routes(plan)]),
        plan,
        _render,
    )
    with SandboxServer(app) as server, httpx.Client(base_url=server.url) as http:
        yield http


def test_status_fault_fires_count_times_in_the_service_shape(client: httpx.Client) -> None:
    assert (
        client.post(
            "/__sandbox__/faults", json={"kind": "status", "status": 503, "count": 2}
        ).status_code
        == 201
    )
    first, second, third = (client.get("/v3/things") for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.json() == {"httpStatus": 503, "path": "/v3/things"}
    assert client.get("/__sandbox__/faults").json() == []


def test_one_terminal_fault_per_request(client: httpx.Client) -> None:
    client.post(
        "/__sandbox__/faults",
        json=[{"kind": "status", "status": 429}, {"kind": "status", "status": 500}],
    )
    assert [client.get("/v3/things").status_code for _ in range(3)] == [429, 500, 200]


def test_drop_closes_the_connection_mid_response(client: httpx.Client) -> None:
    client.post("/__sandbox__/faults", json={"kind": "drop"})
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/v3/things")
    assert client.get("/v3/things").status_code == 200


def test_path_and_method_filters(client: httpx.Client) -> None:
    client.post(
        "/__sandbox__/faults",
        json={"kind": "status", "status": 502, "method": "post", "path": "/v3/things"},
    )
    assert client.get("/v3/things").status_code == 200
    assert client.post("/v3/things").status_code == 502


def test_seeded_probability_is_repeatable(client: httpx.Client) -> None:
    def run() -> list[int]:
        client.delete("/__sandbox__/faults")
        client.post(
            "/__sandbox__/faults",
            json={"kind": "status", "status": 500, "probability": 0.3, "seed": 7},
        )
        return [client.get("/v3/things").status_code for _ in range(40)]

    first = run()
    assert first == run()
    assert 0 < first.count(500) < 40


def test_latency_then_pass_through(client: httpx.Client) -> None:
    client.post("/__sandbox__/faults", json={"kind": "latency", "latency_ms": 1})
    assert client.get("/v3/things").json() == [{"ok": True}]


def test_bad_fault_is_refused_with_a_reason(client: httpx.Client) -> None:
    response = client.post("/__sandbox__/faults", json={"kind": "explode"})
    assert response.status_code == 400
    assert "kind must be one of" in response.json()["error"]


def test_a_drop_after_lets_the_service_do_the_work_and_loses_the_answer() -> None:
    handled: list[str] = []

    async def record(request: Request) -> Response:
        handled.append(request.method)
        return JSONResponse({"ok": True}, status_code=201)

    plan = FaultPlan()
    app = FaultMiddleware(
        Starlette(routes=[Route("/v3/things", record, methods=["POST"]), *fault_routes(plan)]),
        plan,
        _render,
    )
    with SandboxServer(app) as server, httpx.Client(base_url=server.url) as http:
        http.post("/__sandbox__/faults", json={"kind": "drop", "method": "POST"})
        with pytest.raises(httpx.RemoteProtocolError):
            http.post("/v3/things")
        assert handled == []  # a plain drop: the service never saw the request
        http.post("/__sandbox__/faults", json={"kind": "drop", "after": True})
        with pytest.raises(httpx.RemoteProtocolError):
            http.post("/v3/things")
        assert handled == ["POST"]  # handled, but the answer was lost
        assert http.post("/v3/things").status_code == 201
        assert handled == ["POST", "POST"]
        refused = http.post("/__sandbox__/faults", json={"kind": "latency", "after": True})
        assert refused.status_code == 400
        assert "only for a drop fault" in refused.json()["error"]


def test_redirect_answers_3xx_with_a_location_and_an_empty_html_body(
    client: httpx.Client,
) -> None:
    armed = client.post(
        "/__sandbox__/faults",
        json={"kind": "redirect", "status": 302, "location": "https://login.example/", "count": 1},
    )
    assert armed.status_code == 201
    moved = client.get("/v3/things")
    assert moved.status_code == 302
    assert moved.headers["location"] == "https://login.example/"
    assert moved.headers["content-type"] == "text/html; charset=UTF-8"
    assert moved.content == b""
    assert client.get("/v3/things").status_code == 200


def test_redirect_defaults_to_301_to_getresponse_enterprise(client: httpx.Client) -> None:
    client.post("/__sandbox__/faults", json={"kind": "redirect"})
    moved = client.post("/v3/things", json={})
    assert (moved.status_code, moved.headers["location"]) == (
        301,
        "http://www.getresponse.com/enterprise",
    )


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "redirect", "status": 200},
        {"kind": "redirect", "status": 404},
        {"kind": "redirect", "location": 5},
        {"kind": "status", "status": 500, "location": "https://x/"},
    ],
)
def test_bad_redirect_faults_are_refused(client: httpx.Client, fault: dict[str, object]) -> None:
    assert client.post("/__sandbox__/faults", json=fault).status_code == 400
