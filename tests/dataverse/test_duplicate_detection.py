"""Duplicate detection (``MSCRM.SuppressDuplicateDetection: false``) through the client and
``create_many``, against the sandbox over real HTTP: a refused record fails alone, typed, at
once (its HTTP 500 is an answer, not an outage), and a re-sent chunk of our own records is
not mistaken for duplicates."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from reconcile.dataverse import DuplicateDetected, create_many
from reconcile.dataverse.errors import classify, normalize_code
from reconcile.retrying import RetryPolicy, send_with_retry

Target = Any  # tests/dataverse/conftest.py::Target


def _contact(email: str, last: str = "Martin") -> dict[str, Any]:
    return {
        "contactid": str(uuid.uuid4()),
        "firstname": "Anne",
        "lastname": last,
        "emailaddress1": email,
    }


def test_the_code_maps_to_its_own_class() -> None:
    assert classify(500, "0x80040333") is DuplicateDetected
    assert normalize_code("-2147220685") == "0x80040333"


@pytest.mark.parametrize("version", ["9.1", "9.2"])
def test_refused_records_fail_alone_without_retries(dv: Target, version: str) -> None:
    client = dv.client(version)
    client.create("contacts", _contact("taken@example.com"), id_column="contactid")
    records = [_contact(f"new{i}@example.com") for i in range(5)]
    records[2] = _contact("TAKEN@example.com")
    sent_before = client.requests_sent
    result = create_many(
        client, "contacts", records, logical_name="contact", id_column="contactid",
        detect_duplicates=True,
    )  # fmt: skip
    assert result.failed == 1
    assert isinstance(result.errors[2], DuplicateDetected)
    assert result.ids[2] is None
    assert [i for i in result.ids if i] == [r["contactid"] for n, r in enumerate(records) if n != 2]
    assert dv.slept == []  # a duplicate-detection 500 is never waited on and retried
    # v9.2: CreateMultiple refused as a whole, then one $batch naming the record (v9.1: only
    # the $batch), then one read: is the refused id ours from an earlier attempt? (no)
    assert client.requests_sent - sent_before == (3 if version == "9.2" else 2)


def test_without_detection_duplicates_are_created(dv: Target) -> None:
    client = dv.client()
    client.create("contacts", _contact("shared@example.com"), id_column="contactid")
    result = create_many(
        client, "contacts", [_contact("shared@example.com")], logical_name="contact",
        id_column="contactid",
    )  # fmt: skip
    assert result.failed == 0


def test_resending_our_own_records_with_detection_on_counts_them_created(dv: Target) -> None:
    client = dv.client()
    records = [_contact(f"mine{i}@example.com") for i in range(4)]
    first = create_many(
        client, "contacts", records[:2], logical_name="contact", id_column="contactid",
        detect_duplicates=True,
    )  # fmt: skip
    assert first.failed == 0
    again = create_many(
        client, "contacts", records, logical_name="contact", id_column="contactid",
        detect_duplicates=True,
    )  # fmt: skip
    assert again.failed == 0
    assert again.ids == [r["contactid"] for r in records]
    emails = {r["emailaddress1"] for r in client.query("contacts", _all_mine())}
    assert len(emails) == 4


def _all_mine() -> Any:
    from reconcile.dataverse import query as q

    return q.Query(select=("emailaddress1",), filter=q.startswith("emailaddress1", "mine"))


def test_send_with_retry_returns_a_final_answer_at_once() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(500, json={"error": {"code": "0x80040333", "message": "dup"}})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    request = http.build_request("POST", "https://x.example/api/data/v9.2/contacts")
    slept: list[float] = []
    response = send_with_retry(
        http, request, policy=RetryPolicy(max_attempts=5), idempotent=True, sleep=slept.append,
        final=lambda r: b"0x80040333" in r.content,
    )  # fmt: skip
    assert response.status_code == 500
    assert (len(calls), slept) == (1, [])
    retried = send_with_retry(
        http, request, policy=RetryPolicy(max_attempts=3), idempotent=True, sleep=slept.append
    )
    assert retried.status_code == 500
    assert len(calls) == 4  # without ``final`` the same 500 is retried as an outage
