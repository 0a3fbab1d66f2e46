"""Typed Dataverse errors: what failed, on which record, and what to do about it.

Dataverse answers failures with ``{"error": {"code": "0x8004…", "message": "…"}}``; the
``code`` is "frequently empty" and unrelated to the HTTP status, so the class is chosen from
both. Every message names the record (``contact o'brien@example.com``,
``grc_getresponselists(…)``) and the hint says what an administrator can do. Secrets never
reach these messages: only the method, the URL path and the service's own text are used.

    ServiceError (reconcile.errors)
     └── DataverseError
          ├── AuthenticationFailed       401: token refused or could not be obtained
          ├── PrivilegeDenied            403 / 0x80040220: a security role lacks a privilege
          ├── RecordNotFound             404 / 0x80040217
          ├── DuplicateRecord            0x80040237 / 0x80060892: a record with the same
          │                              primary or alternate key exists
          ├── DuplicateDetected          0x80040333: duplicate detection rules refused a write
          ├── ConcurrencyConflict        412: the record changed since it was read
          ├── ValidationFailed           400: a value the service rejected
          ├── RequestTooLarge            413
          ├── NotSupported               405 / 501: not available on this API version
          ├── Throttled                  429 still refused after the waits
          ├── ServiceUnavailable         5xx still failing after the retries
          ├── ConnectionFailed           the service could not be reached at all
          └── WrongAddress               3xx: the environment URL is wrong (exit 2)

A redirect is never followed and never success: Dataverse itself does not redirect Web API
calls, so a 3xx means the request reached something else (``http://`` instead of
``https://``, a portal or sign-in page, a renamed environment). The error names the URL and
the ``Location`` and says to fix ``dynamics.environment_url``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from reconcile.errors import EXIT_BAD_INPUT, ServiceError
from reconcile.retrying import transport_reason

# Codes from https://learn.microsoft.com/power-apps/developer/data-platform/reference/web-service-error-codes
# and the service protection page (research/dataverse-api.md §5).
OBJECT_DOES_NOT_EXIST = "0x80040217"
DUPLICATE_RECORD = "0x80040237"
# DuplicateRecordEntityKey: another record has these alternate-key values. HTTP 412, like a
# concurrency mismatch, so only the code tells them apart (docs/dataverse-api.md, [D4]).
DUPLICATE_RECORD_ENTITY_KEY = "0x80060892"
# Duplicate detection (MSCRM.SuppressDuplicateDetection: false) refused a create or update;
# the service answers it with HTTP 500 (research/dataverse-api.md, docs/dataverse-api.md).
DUPLICATE_DETECTED = "0x80040333"
PRIVILEGE_DENIED = "0x80040220"
CONCURRENCY_VERSION_MISMATCH = "0x80060882"
# A change-tracking delta token older than the organization keeps them (7 days by default):
# "Version stamp associated with the client has expired. Please perform a full sync."
EXPIRED_VERSION_STAMP = "0x80044352"
THROTTLING_CODES = {
    "0x80072322": "more than 6000 requests in 5 minutes",
    "0x80072321": "more than 20 minutes of combined execution time in 5 minutes",
    "0x80072326": "more than 52 concurrent requests",
}
_SIGNED = {  # the same codes as signed integers, as some versions send them
    "-2147220969": OBJECT_DOES_NOT_EXIST,
    "-2147220937": DUPLICATE_RECORD,
    "-2147088238": DUPLICATE_RECORD_ENTITY_KEY,
    "-2147220685": DUPLICATE_DETECTED,
    "-2147220960": PRIVILEGE_DENIED,
    "-2147015902": "0x80072322",
    "-2147015903": "0x80072321",
    "-2147015898": "0x80072326",
}


class DataverseError(ServiceError):
    """A Dataverse request failed; carries the status, code and the service's message."""

    default_hint = "Check the record and the connection settings, then run the command again."

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        code: str | None = None,
        service_message: str | None = None,
        record: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint if hint is not None else self.default_hint)
        self.status = status
        self.code = code
        self.service_message = service_message
        self.record = record
        self.request_id = request_id


class AuthenticationFailed(DataverseError):
    default_hint = (
        "Check the client id, client secret and authority URL, and that an application user "
        "for this client exists in the environment (Power Platform admin center → "
        "Application users)."
    )


class PrivilegeDenied(DataverseError):
    default_hint = (
        "Assign the 'GetResponse Service User' security role to the connector's identity "
        "(reconcile schema install creates it); `reconcile doctor` lists what is missing."
    )


class RecordNotFound(DataverseError):
    default_hint = "The record may have been deleted or merged; re-read it and run again."


class DuplicateRecord(DataverseError):
    default_hint = (
        "A record with the same key already exists: update it instead of creating it, or "
        "remove the duplicate in Dynamics."
    )


class DuplicateDetected(DataverseError):
    """Dynamics' duplicate detection rules found a record like this one (a contact with the
    same email, by the default rule). Not a failure of the service: nothing to retry."""

    default_hint = (
        "A record like this one already exists (Dynamics' duplicate detection rules): merge or "
        "correct the records in Dynamics, or write it anyway where the job allows duplicates."
    )


class ConcurrencyConflict(DataverseError):
    default_hint = "The record changed since it was read; re-read it and apply the change again."


class ValidationFailed(DataverseError):
    default_hint = "Correct the value named above and run again."


class RequestTooLarge(DataverseError):
    default_hint = "Send fewer records per request (a smaller batch size)."


class NotSupported(DataverseError):
    default_hint = (
        "This operation is not available on this environment or API version; check the "
        "api_version setting (v8.2, v9.0, v9.1, v9.2)."
    )


class Throttled(DataverseError):
    default_hint = (
        "Dataverse service protection limits were hit repeatedly; lower the concurrency "
        "setting or run later."
    )


class ServiceUnavailable(DataverseError):
    default_hint = "Dataverse is failing or unavailable; try again later."


class ConnectionFailed(DataverseError):
    default_hint = "Check the environment URL, the network and any proxy or TLS (ca_file) settings."


class WrongAddress(DataverseError):
    """The request was answered by a redirect: the environment URL is not the Web API's."""

    exit_code = EXIT_BAD_INPUT
    default_hint = (
        "Set dynamics.environment_url to the environment's own URL (Online: "
        "https://<org>.crm<N>.dynamics.com as the Power Platform admin center shows it; "
        "On-Premises: https://<server>/<OrgName>), with https://, and run again. Nothing was "
        "changed in Dataverse."
    )

    def __init__(self, message: str, *, location: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.location = location


def bare_url(url: httpx.URL | str) -> str:
    """``scheme://host[:port]/path``: no query (it may hold a filter on personal data)."""
    return str(httpx.URL(str(url)).copy_with(query=None, fragment=None))


def redirect_error(response: httpx.Response, *, record: str | None) -> WrongAddress:
    request = response.request
    location = response.headers.get("Location")
    target = bare_url(request.url.join(location)) if location else None
    message = (
        f"Dataverse answered {request.method} {bare_url(request.url)} with HTTP "
        f"{response.status_code} {response.reason_phrase or 'Redirect'}"
        + (f", pointing to {target}" if target else " without a Location")
        + f": {record or 'the request'} did not reach the Web API and was not carried out."
    )
    return WrongAddress(message, status=response.status_code, record=record, location=target)


def normalize_code(code: object) -> str | None:
    """``-2147220969`` and ``0x80040217`` name the same error; return the hex form.

    Zero (``0x0``, what the OData layer sends for an unknown segment or a bad query) is no
    platform code at all, like an empty one: None."""
    if code is None or code == "":
        return None
    text = str(code).strip()
    if text.lower() in ("0", "0x0", "0x00000000"):
        return None
    if text in _SIGNED:
        return _SIGNED[text]
    if text.lstrip("-").isdigit():
        return f"0x{int(text) & 0xFFFFFFFF:08x}"
    return text.lower() if text.lower().startswith("0x") else text


def parse_error_body(body: bytes | str | None) -> tuple[str | None, str | None]:
    """``(code, message)`` from an OData error body, tolerating anything else."""
    if not body:
        return None, None
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        return None, text.strip()[:500] or None
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, None
    message = error.get("message")
    inner = error.get("innererror")
    if not message and isinstance(inner, dict):
        message = inner.get("message")
    return normalize_code(error.get("code")), (str(message) if message else None)


def _odata_error(body: bytes | str | None) -> bool:
    try:
        data = json.loads(body or b"")
    except (ValueError, TypeError):
        return False
    return isinstance(data, dict) and isinstance(data.get("error"), dict)


_VERBS = {"GET": "read", "POST": "create", "PATCH": "update", "PUT": "update", "DELETE": "delete"}


def classify(status: int | None, code: str | None) -> type[DataverseError]:
    """The error class for an HTTP status and a Dataverse code."""
    if code in THROTTLING_CODES or status == 429:
        return Throttled
    if code in (DUPLICATE_RECORD, DUPLICATE_RECORD_ENTITY_KEY):
        return DuplicateRecord
    if code == DUPLICATE_DETECTED:
        return DuplicateDetected
    if code == OBJECT_DOES_NOT_EXIST or status == 404:
        return RecordNotFound
    if code == PRIVILEGE_DENIED or status == 403:
        return PrivilegeDenied
    if code == CONCURRENCY_VERSION_MISMATCH or status == 412:
        return ConcurrencyConflict
    by_status: dict[int, type[DataverseError]] = {
        401: AuthenticationFailed,
        413: RequestTooLarge,
        405: NotSupported,
        501: NotSupported,
    }
    if status in by_status:
        return by_status[status]
    if status is not None and status >= 500:
        return ServiceUnavailable
    if status is not None and 300 <= status < 400:
        return WrongAddress
    return ValidationFailed


def error_for(
    status: int | None,
    body: bytes | str | None,
    *,
    method: str,
    record: str | None,
    headers: dict[str, str] | httpx.Headers | None = None,
) -> DataverseError:
    """Build the typed error for one failed operation (a response or a $batch part)."""
    code, service_message = parse_error_body(body)
    cls = classify(status, code)
    verb = _VERBS.get(method.upper(), "call")
    what = record or "the request"
    detail = service_message or (f"HTTP {status}" if status else "no answer")
    tags = ", ".join(x for x in (f"HTTP {status}" if status else None, code) if x)
    repeat = tags and tags != detail  # no service message: "HTTP 502", not "HTTP 502 (HTTP 502)"
    message = f"Dataverse could not {verb} {what}: {detail}" + (f" ({tags})" if repeat else "")
    hint: str | None = None
    if cls is Throttled and code in THROTTLING_CODES:
        hint = (
            f"Dataverse service protection refused the request ({THROTTLING_CODES[code]}); "
            + Throttled.default_hint
        )
    request_id = None
    if headers is not None:  # httpx.Headers, or a batch part's headers (lower-case names)
        found = httpx.Headers(headers)
        request_id = found.get("x-ms-service-request-id") or found.get("REQ_ID")
    return cls(
        message,
        hint=hint,
        status=status,
        code=code,
        service_message=service_message,
        record=record,
        request_id=request_id,
    )


def error_from_response(response: httpx.Response, *, record: str | None) -> DataverseError:
    """The typed error for a failed HTTP response (a 3xx redirect included)."""
    response.read()
    if 300 <= response.status_code < 400:
        return redirect_error(response, record=record)
    method = response.request.method
    if response.status_code == 404 and method == "GET" and not _odata_error(response.content):
        # Dataverse's own 404s (a missing record, table or segment) carry its OData error
        # body; a bare one is another server at that address: the URL is the thing to fix.
        # (Only GET: a POST of a bulk message an old version lacks is a 404 to fall back on.)
        return WrongAddress(
            f"Dataverse could not read {record or 'the request'}: "
            f"{bare_url(response.request.url)} answered HTTP 404 without Dataverse's error "
            "body: that address is not the Dataverse Web API (dynamics.environment_url)",
            status=404,
            record=record,
        )
    return error_for(
        response.status_code,
        response.content,
        method=method,
        record=record,
        headers=response.headers,
    )


def connection_error(
    exc: httpx.TransportError, *, method: str, record: str | None
) -> DataverseError:
    """A transport failure that outlived the retries, without leaking request headers."""
    verb = _VERBS.get(method.upper(), "call")
    kind = type(exc).__name__
    try:
        host = f" at {exc.request.url.netloc.decode()}"
    except RuntimeError:  # an exception raised without its request
        host = ""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return ConnectionFailed(
            f"Dataverse{host} could not be reached to {verb} {record or 'the request'}: "
            f"{transport_reason(exc)} ({kind}).",
            record=record,
            hint="Check dynamics.environment_url, the network and any proxy; run "
            "`reconcile doctor` to test the connection.",
        )
    return ServiceUnavailable(  # it was sent, the answer never came whole
        f"Dataverse{host} could not {verb} {record or 'the request'}: "
        f"{transport_reason(exc)} ({kind}).",
        record=record,
    )


def error_details(error: DataverseError) -> dict[str, Any]:
    """A JSON-friendly view for ``--json`` output and run reports."""
    return {
        "error": type(error).__name__,
        "status": error.status,
        "code": error.code,
        "record": error.record,
        "message": error.message,
        "hint": error.hint,
    }
