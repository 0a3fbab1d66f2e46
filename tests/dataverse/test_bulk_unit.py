"""Bulk writes on a small in-memory fake: chunking, fallbacks, per-record errors, crash safety."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from reconcile.dataverse import DataverseClient, create_many, update_many, upsert_many
from reconcile.dataverse import batch as b
from reconcile.dataverse.errors import Throttled, ValidationFailed

ENV = "https://org.crm.dynamics.com"
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Fake:
    """Just enough of Dataverse: contacts, CreateMultiple, UpsertMultiple, $batch, id reads."""

    def __init__(self, *, bulk: bool = True, missing_code: str = "") -> None:
        self.contacts: dict[str, dict] = {}
        self.bulk = bulk
        self.missing_code = missing_code  # the code of the 404 for an unknown message
        self.calls: list[str] = []
        self.drop_after_commit = 0  # lose the answer of this many bulk requests
        self.throttle = 0  # answer this many requests with 429

    def _validate(self, record: dict) -> str | None:
        if len(record.get("lastname", "")) > 50:
            return (
                "A validation error occurred. The length of the 'lastname' attribute exceeded 50."
            )
        return None

    def _insert(self, record: dict) -> tuple[int, dict | None]:
        problem = self._validate(record)
        if problem:
            return 400, {"error": {"code": "0x80044331", "message": problem}}
        cid = record["contactid"]
        if cid in self.contacts:
            return 412, {
                "error": {
                    "code": "0x80040237",
                    "message": "A record with matching key values already exists.",
                }
            }
        self.contacts[cid] = {k: v for k, v in record.items() if not k.startswith("@")}
        return 204, None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/data/v9.2/").removeprefix("/api/data/v9.1/")
        self.calls.append(f"{request.method} {path.split('(')[0]}")
        if self.throttle:
            self.throttle -= 1
            return httpx.Response(
                429,
                headers={"Retry-After": "1"},
                json={"error": {"code": "0x80072322", "message": "too many"}},
            )
        if path.endswith("CreateMultiple"):
            if not self.bulk:
                return httpx.Response(
                    404,
                    json={
                        "error": {
                            "code": self.missing_code,
                            "message": "Resource not found for the segment 'CreateMultiple'.",
                        }
                    },
                )
            targets = json.loads(request.content)["Targets"]
            for t in targets:
                problem = self._validate(t)
                if problem:
                    return httpx.Response(
                        400, json={"error": {"code": "0x80044331", "message": problem}}
                    )
                if t["contactid"] in self.contacts:
                    return httpx.Response(
                        412, json={"error": {"code": "0x80040237", "message": "duplicate key"}}
                    )
            for t in targets:
                self._insert(t)
            if self.drop_after_commit:
                self.drop_after_commit -= 1
                raise httpx.RemoteProtocolError("peer closed", request=request)
            return httpx.Response(200, json={"Ids": [t["contactid"] for t in targets]})
        if path.endswith("UpsertMultiple"):
            for t in json.loads(request.content)["Targets"]:
                email = re.search(r"emailaddress1='(.*)'\)$", t["@odata.id"]).group(1)  # type: ignore[union-attr]
                email = email.replace("''", "'")
                existing = next(
                    (c for c in self.contacts.values() if c.get("emailaddress1") == email), None
                )
                fields = {k: v for k, v in t.items() if not k.startswith("@")}
                if existing:
                    existing.update(fields)
                else:
                    cid = f"00000000-0000-4000-8000-{len(self.contacts):012d}"
                    self.contacts[cid] = {"contactid": cid, "emailaddress1": email, **fields}
            return httpx.Response(204)
        if path == "$batch":
            return self._batch(request)
        if request.method == "GET" and path == "contacts":
            wanted = set(GUID.findall(request.url.params.get("$filter", "")))
            rows = [{"contactid": c} for c in self.contacts if c in wanted]
            return httpx.Response(200, json={"value": rows})
        raise AssertionError(f"unexpected {request.method} {path}")

    def _batch(self, request: httpx.Request) -> httpx.Response:
        boundary = request.headers["Content-Type"].split("boundary=")[1]
        parts = []
        for piece in b._multipart(request.content, boundary):
            _mime, http = b._split_headers(piece)
            line, _, rest = http.partition(b"\r\n")
            method, url, _ = line.decode().split(" ")
            _headers, body = b._split_headers(rest)
            if method == "POST":
                status, payload = self._insert(json.loads(body))
            else:
                status, payload = 204, None
                cid = GUID.search(url).group(0)  # type: ignore[union-attr]
                if cid not in self.contacts:
                    status, payload = (
                        404,
                        {"error": {"code": "0x80040217", "message": "Does Not Exist"}},
                    )
                else:
                    self.contacts[cid].update(json.loads(body))
            text = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\r\n"
            text += json.dumps(payload) if payload else ""
            parts.append(
                "--batchresponse_Z\r\nContent-Type: application/http\r\n"
                "Content-Transfer-Encoding: binary\r\n\r\n" + text + "\r\n"
            )
        body = "".join(parts) + "--batchresponse_Z--\r\n"
        return httpx.Response(
            200,
            content=body.encode(),
            headers={"Content-Type": "multipart/mixed; boundary=batchresponse_Z"},
        )


def client_for(fake: Fake, version: str = "v9.2") -> DataverseClient:
    return DataverseClient(
        ENV, api_version=version, transport=httpx.MockTransport(fake), sleep=lambda s: None
    )


def people(n: int) -> list[dict]:
    return [{"lastname": f"Person {i}", "emailaddress1": f"p{i}@example.com"} for i in range(n)]


def test_create_many_uses_create_multiple_in_chunks_of_1000() -> None:
    fake = Fake()
    client = client_for(fake)
    result = create_many(
        client, "contacts", people(2500), logical_name="contact", id_column="contactid"
    )
    assert fake.calls == ["POST contacts/Microsoft.Dynamics.CRM.CreateMultiple"] * 3
    assert result.succeeded == 2500
    assert result.used_bulk_messages
    assert set(result.ids) == set(fake.contacts)


def test_older_versions_write_through_batch() -> None:
    fake = Fake()
    result = create_many(
        client_for(fake, "v9.1"),
        "contacts",
        people(1200),
        logical_name="contact",
        id_column="contactid",
    )
    assert fake.calls == ["POST $batch", "POST $batch"]
    assert result.succeeded == 1200
    assert not result.used_bulk_messages


@pytest.mark.parametrize("missing_code", ["", "0x0"])
def test_a_table_without_the_message_falls_back_to_batch_for_the_rest_of_the_run(
    missing_code: str,
) -> None:
    # The service's OData layer answers an unknown segment with code 0x0 (docs/dataverse-api.md).
    fake = Fake(bulk=False, missing_code=missing_code)
    result = create_many(
        client_for(fake), "contacts", people(2000), logical_name="contact", id_column="contactid"
    )
    assert fake.calls == [
        "POST contacts/Microsoft.Dynamics.CRM.CreateMultiple",
        "POST $batch",
        "POST $batch",
    ]
    assert result.succeeded == 2000


def test_a_bad_record_fails_alone_and_is_named() -> None:
    fake = Fake()
    records = people(10)
    records[4]["lastname"] = "x" * 60
    result = create_many(
        client_for(fake), "contacts", records, logical_name="contact", id_column="contactid"
    )
    assert fake.calls == ["POST contacts/Microsoft.Dynamics.CRM.CreateMultiple", "POST $batch"]
    assert result.succeeded == 9
    assert list(result.errors) == [4]
    error = result.errors[4]
    assert isinstance(error, ValidationFailed)
    assert "contact #5" in str(error)
    assert "'lastname' attribute" in str(error)
    assert result.ids[4] is None


def test_a_lost_answer_is_retried_without_creating_twice() -> None:
    fake = Fake()
    fake.drop_after_commit = 1
    result = create_many(
        client_for(fake),
        "contacts",
        people(300),
        logical_name="contact",
        id_column="contactid",
        chunk_size=100,
    )
    assert len(fake.contacts) == 300
    assert result.succeeded == 300
    assert not result.errors
    assert fake.calls.count("GET contacts") == 1  # one read confirmed the landed chunk


def test_a_rerun_with_the_same_ids_counts_existing_records_as_created() -> None:
    fake = Fake()
    client = client_for(fake)
    first = create_many(
        client, "contacts", people(50), logical_name="contact", id_column="contactid"
    )
    again = [dict(r, contactid=i) for r, i in zip(people(50), first.ids, strict=True)]
    second = create_many(
        client, "contacts", again, logical_name="contact", id_column="contactid", use_bulk=False
    )
    assert second.succeeded == 50
    assert len(fake.contacts) == 50


def test_throttling_that_outlasts_the_policy_aborts_and_marks_what_was_not_written() -> None:
    fake = Fake()
    fake.throttle = 100
    result = create_many(
        client_for(fake),
        "contacts",
        people(30),
        logical_name="contact",
        id_column="contactid",
        chunk_size=10,
    )
    assert isinstance(result.aborted, Throttled)
    assert result.failed == 30
    assert set(result.errors) == set(range(30))
    assert len(fake.calls) == 8  # one chunk's attempts, then the run stopped


def test_update_and_upsert_many() -> None:
    fake = Fake()
    client = client_for(fake, "v9.1")
    created = create_many(
        client, "contacts", people(3), logical_name="contact", id_column="contactid"
    )
    updates = [{"contactid": i, "firstname": "Ann"} for i in created.ids]
    updates.append({"contactid": "00000000-0000-4000-8000-999999999999", "firstname": "Bob"})
    result = update_many(client, "contacts", updates, logical_name="contact", id_column="contactid")
    assert result.succeeded == 3
    assert "Does Not Exist" in str(result.errors[3])
    assert all(c["firstname"] == "Ann" for c in fake.contacts.values())
    with pytest.raises(ValueError, match="no contactid"):
        update_many(
            client, "contacts", [{"firstname": "x"}], logical_name="contact", id_column="contactid"
        )

    fake2 = Fake()
    upserted = upsert_many(
        client_for(fake2),
        "contacts",
        [{"emailaddress1": "o'brien@example.com", "lastname": "O'Brien"}],
        logical_name="contact",
        key_columns=["emailaddress1"],
        id_column="contactid",
    )
    assert upserted.succeeded == 1
    assert upserted.ids == ["contacts(emailaddress1='o''brien@example.com')"]
    assert next(iter(fake2.contacts.values()))["emailaddress1"] == "o'brien@example.com"
