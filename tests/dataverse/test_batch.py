"""$batch writer and reader, on hand-written multipart bodies shaped like the documented ones."""

from __future__ import annotations

import json

import httpx
import pytest

from reconcile.dataverse import DataverseClient, errors
from reconcile.dataverse import batch as b

API = "https://org.crm.dynamics.com/api/data/v9.2/"


def test_encode_writes_crlf_parts_changesets_and_content_ids() -> None:
    items: list[b.Item] = [
        b.Changeset(
            [
                b.Operation("POST", "accounts", {"name": "A"}, content_id="1"),
                b.Operation(
                    "POST", "$1/contact_customer_accounts", {"lastname": "O'Brien"}, content_id="2"
                ),
            ]
        ),
        b.Operation("GET", "contacts?$select=fullname"),
    ]
    body, content_type = b.encode(items, API, boundary="batch_AAA")
    text = body.decode()
    assert content_type == "multipart/mixed; boundary=batch_AAA"
    assert text.startswith("--batch_AAA\r\nContent-Type: multipart/mixed; boundary=changeset_")
    assert (
        "Content-ID: 1\r\n\r\nPOST https://org.crm.dynamics.com/api/data/v9.2/accounts HTTP/1.1\r\n"
        in text
    )
    assert (
        "POST $1/contact_customer_accounts HTTP/1.1\r\nContent-Type: application/json; type=entry"
        in text
    )
    assert '{"lastname": "O\'Brien"}' in text
    assert (
        "GET https://org.crm.dynamics.com/api/data/v9.2/contacts?$select=fullname HTTP/1.1\r\n"
        "Accept: application/json" in text
    )
    assert text.endswith("\r\n--batch_AAA--\r\n")
    assert "\n" not in text.replace("\r\n", "")


def test_encode_refuses_what_the_service_refuses() -> None:
    with pytest.raises(ValueError, match="at most 1000"):
        b.encode([b.Operation("DELETE", f"contacts({i})") for i in range(1001)], API)
    with pytest.raises(ValueError, match="GET"):
        b.encode([b.Changeset([b.Operation("GET", "contacts")])], API)
    with pytest.raises(ValueError, match="at least one"):
        b.encode([], API)


def _response(body: str, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status,
        content=body.replace("\n", "\r\n").encode(),
        headers={"Content-Type": "multipart/mixed; boundary=batchresponse_R"},
    )


def test_decode_maps_parts_back_to_operations() -> None:
    items: list[b.Item] = [
        b.Changeset(
            [
                b.Operation("POST", "tasks", {"subject": "a"}, content_id="1"),
                b.Operation("POST", "tasks", {"subject": "b"}, content_id="2"),
            ]
        ),
        b.Operation("GET", "tasks?$select=subject", record="the tasks"),
    ]
    body = """--batchresponse_R
Content-Type: multipart/mixed; boundary=changesetresponse_C

--changesetresponse_C
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

HTTP/1.1 204 No Content
OData-Version: 4.0
Location: https://org/api/data/v9.2/tasks(a2a6a5f3-0000-0000-0000-000000000001)
OData-EntityId: https://org/api/data/v9.2/tasks(a2a6a5f3-0000-0000-0000-000000000001)


--changesetresponse_C
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 2

HTTP/1.1 204 No Content
OData-EntityId: https://org/api/data/v9.2/tasks(a2a6a5f3-0000-0000-0000-000000000002)


--changesetresponse_C--
--batchresponse_R
Content-Type: application/http
Content-Transfer-Encoding: binary

HTTP/1.1 200 OK
Content-Type: application/json; odata.metadata=minimal

{"value":[{"subject":"a"},{"subject":"b"}]}
--batchresponse_R--
"""
    results = b.decode(_response(body), items)
    assert [r.status for r in results] == [204, 204, 200]
    assert results[1].headers["odata-entityid"].endswith("000000000002)")
    assert results[2].json() == {"value": [{"subject": "a"}, {"subject": "b"}]}
    assert all(r.ok and r.error() is None for r in results)


def test_a_failed_changeset_fails_all_its_operations_and_stops_the_batch() -> None:
    items: list[b.Item] = [
        b.Changeset(
            [
                b.Operation("POST", "tasks", {"subject": "a"}, record="task a"),
                b.Operation("POST", "tasks", {"subject": "x" * 300}, record="task b"),
            ]
        ),
        b.Operation("POST", "tasks", {"subject": "c"}, record="task c"),
    ]
    message = (
        "A validation error occurred. The length of the 'subject' attribute of the 'task' "
        "entity exceeded the maximum allowed length of '200'."
    )
    body = """--batchresponse_R
Content-Type: application/http
Content-Transfer-Encoding: binary

HTTP/1.1 400 Bad Request
REQ_ID: 5ecd1cb3-1730-4ffc-909c-d44c22270026
Content-Type: application/json; odata.metadata=minimal

{"error":{"code":"0x80044331","message":"MESSAGE"}}
--batchresponse_R--
""".replace("MESSAGE", message)
    results = b.decode(_response(body, status=400), items)
    assert [r.status for r in results] == [400, 400, None]
    error = results[1].error()
    assert isinstance(error, errors.ValidationFailed)
    assert "task b" in str(error)
    assert "'subject' attribute" in str(error)
    not_run = results[2].error()
    assert not_run is not None
    assert "Not run" in str(not_run)


def test_decode_of_a_plain_json_error_raises_it() -> None:
    response = httpx.Response(400, json={"error": {"code": "0x0", "message": "Malformed batch"}})
    with pytest.raises(errors.ValidationFailed, match="Malformed batch"):
        b.decode(response, [b.Operation("GET", "x")])


def test_execute_sends_continue_on_error_and_is_repeated_only_when_every_part_is() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503)

    client = DataverseClient(
        "https://org.crm.dynamics.com", sleep=lambda s: None, transport=httpx.MockTransport(handler)
    )
    with pytest.raises(errors.ServiceUnavailable):
        b.execute(client, [b.Operation("POST", "tasks", {"subject": "a"})])
    assert len(seen) == 1
    assert seen[0].headers["Prefer"] == "odata.continue-on-error"
    assert seen[0].url.path == "/api/data/v9.2/$batch"
    seen.clear()
    with pytest.raises(errors.ServiceUnavailable):
        b.execute(client, [b.Operation("PATCH", "tasks(1)", {"subject": "a"})])
    assert len(seen) == 8  # the policy's attempts: a PATCH is safe to repeat
    assert json.loads(seen[0].content.split(b"\r\n\r\n")[-1].split(b"\r\n")[0]) == {"subject": "a"}
