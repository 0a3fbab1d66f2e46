"""Our Dataverse client against real recorded answers (tests/dataverse/recordings/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from reconcile.dataverse import DataverseClient, errors
from reconcile.dataverse import batch as b
from reconcile.retrying import RetryPolicy

RECORDINGS = Path(__file__).parent / "recordings"
URL = "https://org.crm4.dynamics.com"


def recording(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))


def replayed(name: str) -> httpx.Response:
    response = recording(name)["response"]
    return httpx.Response(
        response["status"], headers=response["headers"], content=response["body"].encode()
    )


def _changeset() -> list[b.Item]:
    return [
        b.Changeset(
            [
                b.Operation(
                    "POST", "accounts", {"name": "Acme"}, content_id="1", record="account Acme"
                ),
                b.Operation(
                    "POST",
                    "$1/Microsoft.Dynamics.CRM.grc_Notify",
                    {"Target": "$1"},
                    content_id="2",
                    record="the notification of Acme",
                ),
            ]
        ),
        b.Operation("POST", "accounts", {"name": "Other"}, record="account Other"),
    ]


def test_a_failed_operation_nested_in_its_change_set_fails_the_whole_change_set() -> None:
    source = recording("batch_changeset_failure")["source"]
    assert any("PowerApps-Samples/issues/473" in where for where in source["where"])
    results = b.decode(replayed("batch_changeset_failure"), _changeset())
    assert [r.status for r in results] == [400, 400, None]  # the batch stopped there
    failed = results[1].error()
    assert isinstance(failed, errors.ValidationFailed)
    assert failed.code == "0x80048d19"
    assert "the notification of Acme" in str(failed)
    assert "Cannot convert the literal '$1'" in str(failed)
    assert failed.request_id == "850c435d-1049-45ea-b792-f4391e6c42da"
    rolled_back = results[0].error()
    assert rolled_back is not None
    assert str(rolled_back).startswith(
        "Rolled back: account Acme was in a change set that failed at the notification of Acme"
    )
    not_run = results[2].error()
    assert not_run is not None
    assert "Not run" in str(not_run)


def test_the_recorded_batch_through_the_client_is_read_not_raised() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return replayed("batch_changeset_failure")

    client = DataverseClient(
        URL,
        auth=None,
        transport=httpx.MockTransport(answer),
        sleep=lambda _: None,
        retry_policy=RetryPolicy(max_attempts=1),
    )
    results = b.execute(client, _changeset(), continue_on_error=False)
    assert [r.ok for r in results] == [False, False, False]
    assert seen[0].url.path == "/api/data/v9.2/$batch"
