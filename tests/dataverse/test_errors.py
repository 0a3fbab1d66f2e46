from __future__ import annotations

import json

import httpx
import pytest

from reconcile.dataverse import errors as e
from reconcile.errors import EXIT_SERVICE


def _body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (404, "0x80040217", e.RecordNotFound),
        (404, None, e.RecordNotFound),
        (412, "0x80040237", e.DuplicateRecord),
        (400, "-2147220937", e.DuplicateRecord),
        (403, "0x80040220", e.PrivilegeDenied),
        (412, "0x80060882", e.ConcurrencyConflict),
        (401, None, e.AuthenticationFailed),
        (429, "0x80072322", e.Throttled),
        (429, None, e.Throttled),
        (413, None, e.RequestTooLarge),
        (501, None, e.NotSupported),
        (405, None, e.NotSupported),
        (503, None, e.ServiceUnavailable),
        (400, "0x80044331", e.ValidationFailed),
    ],
)
def test_errors_are_typed_from_status_and_code(status: int, code: str | None, cls: type) -> None:
    error = e.error_for(status, _body(code or "", "boom"), method="PATCH", record="contacts(x)")
    assert type(error) is cls
    assert error.exit_code == EXIT_SERVICE
    assert error.status == status


def test_message_names_the_record_the_service_text_and_what_to_do() -> None:
    record = "contacts(emailaddress1='o''brien@example.com')"
    error = e.error_for(
        403,
        _body("0x80040220", "Principal user is missing prvWriteContact privilege"),
        method="PATCH",
        record=record,
    )
    text = str(error)
    assert text.startswith(f"Dataverse could not update {record}: Principal user is missing")
    assert "(HTTP 403, 0x80040220)" in text
    assert "GetResponse Service User" in text  # the hint says what to do


def test_throttling_hint_names_the_limit() -> None:
    error = e.error_for(
        429, _body("-2147015902", "Number of requests exceeded"), method="GET", record="contacts"
    )
    assert error.code == "0x80072322"
    assert "6000 requests" in str(error.hint)


def test_bodies_that_are_not_odata_errors() -> None:
    assert e.parse_error_body(b"") == (None, None)
    assert e.parse_error_body(b"<html>Bad gateway</html>") == (None, "<html>Bad gateway</html>")
    assert e.parse_error_body(b'{"error": {"code": "", "innererror": {"message": "inner"}}}') == (
        None,
        "inner",
    )
    error = e.error_for(502, b"", method="GET", record=None)
    assert error.message == "Dataverse could not read the request: HTTP 502"  # said once
    assert "the request" in str(error)


def test_normalize_code() -> None:
    assert e.normalize_code(-2147220969) == "0x80040217"
    assert e.normalize_code("0X80040217") == "0x80040217"
    assert e.normalize_code("-2147000000") == "0x80076140"
    assert e.normalize_code(None) is None


def test_connection_errors_do_not_leak_the_request() -> None:
    request = httpx.Request("GET", "https://x/api", headers={"Authorization": "Bearer SECRET"})
    exc = httpx.ConnectError("refused", request=request)
    error = e.connection_error(exc, method="GET", record="WhoAmI")
    assert isinstance(error, e.ConnectionFailed)
    assert "SECRET" not in str(error)
    dropped = e.connection_error(
        httpx.RemoteProtocolError("x", request=request), method="POST", record="contacts"
    )
    assert isinstance(dropped, e.ServiceUnavailable)
    assert e.error_details(dropped)["error"] == "ServiceUnavailable"


@pytest.mark.parametrize("code", ["0x80060892", "-2147088238"])
def test_an_alternate_key_clash_is_a_duplicate_not_a_concurrency_conflict(code: str) -> None:
    # DuplicateRecordEntityKey answers HTTP 412 like ConcurrencyVersionMismatch, but it means
    # "another record already has these key values" (docs/dataverse-api.md, Errors [D4]).
    error = e.error_for(
        412,
        _body(code, "A record that has the attribute values x already exists."),
        method="POST",
        record="grc_getresponselists(grc_listid='A~1')",
    )
    assert type(error) is e.DuplicateRecord
    assert error.code == "0x80060892"
    assert "update it instead" in str(error.hint)


def test_the_odata_layers_zero_code_is_no_code() -> None:
    assert e.normalize_code("0x0") is None
    error = e.error_for(
        404, _body("0x0", "Resource not found for the segment 'x'."), method="GET", record=None
    )
    assert error.code is None
    assert "(HTTP 404)" in str(error)


def _answer(status: int, body: bytes, method: str = "GET") -> e.DataverseError:
    response = httpx.Response(status, content=body)
    response.request = httpx.Request(method, "https://org.test/api/data/v9.2/contacts?$top=1")
    return e.error_from_response(response, record="contacts (page 1)")


def test_a_bare_404_to_a_read_is_a_wrong_environment_url_not_a_missing_record() -> None:
    # Another server at dynamics.environment_url (the GetResponse URL pasted there, an IIS
    # page): it said "the record may have been deleted or merged", exit 3.
    error = _answer(404, b"Not Found")
    assert type(error) is e.WrongAddress
    assert error.exit_code == 2
    assert "not the Dataverse Web API" in str(error)
    assert "$top" not in str(error)  # the query stays out of messages
    assert "dynamics.environment_url" in str(error.hint)
    # Dataverse's own 404s keep their meaning: a missing record, an unknown segment (code 0x0)
    missing = _body("0x80040217", "contact With Id = x Does Not Exist")
    assert type(_answer(404, missing)) is e.RecordNotFound
    assert type(_answer(404, _body("0x0", "Resource not found for the segment 'x'."))) is (
        e.RecordNotFound
    )
    # a POST of a bulk message an old version lacks is a 404 the bulk writer falls back on
    assert type(_answer(404, b"", method="POST")) is e.RecordNotFound
