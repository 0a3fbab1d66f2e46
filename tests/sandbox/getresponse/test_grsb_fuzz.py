"""Schemathesis on GetResponse's official OpenAPI description, against the sandbox over HTTP:
every operation the sandbox serves, valid and malformed inputs (ids of any length, huge page
numbers, wrong types, bodies that break the schema). The sandbox must answer each with the
API's own 4xx (or a success), never a 5xx, and keep the connection usable.

Bounded so that CI stays fast: a fixed number of examples per operation, generated
deterministically (the same requests every run), no shrinking; a few seconds per operation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode

from reconcile.sandbox.getresponse import GetResponseSandbox
from reconcile.sandbox.getresponse.routes import operations
from reconcile.sandbox.server import SandboxServer

SPEC = Path(__file__).resolve().parents[3] / "specs" / "getresponse-v3.openapi.json"
EXAMPLES = 6  # per operation: about 500 requests in all, a minute or so


def _served_operation_ids() -> list[str]:
    document = json.loads(SPEC.read_text(encoding="utf-8"))
    served = set(operations(GetResponseSandbox()))
    found = []
    for template, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and (method.upper(), template) in served:
                found.append(operation["operationId"])
    return sorted(found)


SERVED = _served_operation_ids()
schema = schemathesis.openapi.from_path(SPEC).include(operation_id=SERVED)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
    deterministic=True,
    no_shrink=True,
)


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, Any]]:
    sandbox = GetResponseSandbox(seed=3, contact_delay=0)
    with (
        SandboxServer(sandbox.asgi_app) as server,
        httpx.Client(
            base_url=f"{server.url}/v3",
            headers={"X-Auth-Token": f"api-key {sandbox.api_key}"},
            timeout=30,
        ) as http,
    ):
        yield {"sandbox": sandbox, "url": server.url, "http": http}


def test_the_fuzzed_operations_are_every_served_one() -> None:
    assert len(SERVED) == len(set(operations(GetResponseSandbox())))


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_request_gets_a_server_error(case: Any, served: dict[str, Any]) -> None:
    http: httpx.Client = served["http"]
    kwargs = case.as_transport_kwargs(base_url=str(http.base_url).rstrip("/"))
    headers = {**(kwargs.get("headers") or {}), **dict(http.headers)}
    request = http.build_request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params"),
        headers={k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")},
        cookies=kwargs.get("cookies") or None,
        json=kwargs.get("json"),
        content=kwargs.get("data") if isinstance(kwargs.get("data"), bytes | str) else None,
    )
    try:
        response = http.send(request)
    except httpx.TransportError as exc:  # a dropped connection is a failure too
        pytest.fail(f"{case.method} {case.formatted_path}: connection failed ({exc!r})")
    assert response.status_code < 500, (
        f"{case.method} {response.request.url} -> {response.status_code}: {response.text[:300]}"
    )
    if response.status_code >= 400:
        body = response.json()
        assert set(body) >= {"httpStatus", "code", "message", "context", "uuid"}, body


def _edge_paths() -> list[tuple[str, str]]:
    """Every served path with its ids replaced by the shapes fuzzing found failing (issue 14:
    11+ characters overflowed SQLite's integers), with and without extreme page numbers."""
    ids = ["a", "aaaaaaaaaaa", "z" * 12, "9" * 20, "doesnotexist", "%00", "-1", "A" * 300]
    paths = []
    for method, template in sorted(set(operations(GetResponseSandbox()))):
        if "{" in template:
            for value in ids:
                path = template
                while "{" in path:
                    start, end = path.index("{"), path.index("}")
                    path = path[:start] + value + path[end + 1 :]
                paths.append((method, path))
        elif method == "GET":
            for page in ("9223372036854775807", "99999999999999999999", "-5", "x"):
                paths.append((method, f"{template}?page={page}&perPage={page}"))
    return paths


def test_ids_and_page_numbers_of_any_shape_get_a_4xx_or_an_answer(
    served: dict[str, Any],
) -> None:
    http: httpx.Client = served["http"]
    failures = []
    for method, path in _edge_paths():
        body = {} if method in ("POST", "PUT", "PATCH") else None
        response = http.request(method, path.lstrip("/"), json=body)
        if response.status_code >= 500:
            failures.append(f"{method} {path} -> {response.status_code}")
    assert failures == []
