"""docs/getresponse-sandbox-coverage.md is generated; a stale copy fails here."""

from __future__ import annotations

import asyncio
import json

from getresponse import GetResponseClient

from reconcile.sandbox.getresponse import GetResponseSandbox, coverage
from reconcile.sandbox.getresponse.routes import operations


def test_coverage_list_is_current() -> None:
    assert coverage.OUT.read_text(encoding="utf-8") == coverage.generate(), (
        "docs/getresponse-sandbox-coverage.md is stale: "
        "run python -m reconcile.sandbox.getresponse.coverage"
    )


def test_the_named_pypi_methods_exist() -> None:
    document = json.loads(coverage.SPEC.read_text(encoding="utf-8"))
    client = GetResponseClient(api_key="unused", base_url="http://127.0.0.1:9/v3")
    methods = {
        name
        for group in vars(client).values()
        if hasattr(group, "_core")
        for name in dir(group)
        if not name.startswith("_")
    }
    asyncio.run(client.aclose())
    for method, path in operations(GetResponseSandbox()):
        op_id = document["paths"][path][method.lower()]["operationId"]
        assert coverage.snake(op_id) in methods, op_id
