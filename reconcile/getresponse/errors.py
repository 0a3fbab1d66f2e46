"""Typed errors for everything GetResponse can refuse, each saying what to do next.

GetResponse answers every failure with the same seven-field body (``httpStatus``, ``code``,
``codeDescription``, ``message``, ``moreInfo``, ``context``, ``uuid``). We keep all seven on
the exception and pick the class by the *code* first (it is more precise than the status),
then by the HTTP status. Classes are chosen by what the caller does about them:

    GetResponseError (ServiceError)
    ├── AuthenticationError        1014, 1024, 401   fix the key / token / MAX host + domain
    ├── AccessDenied               1016-1018, 1023, 403   the account or IP is blocked
    ├── NotFound                   1013, 404         re-resolve the id; the resource is gone
    ├── AlreadyExists (Conflict)   1008, 409         a name or email is taken
    ├── ValidationError            1000, 1003-1007, 1021, 400   fix the input (see context)
    │   └── RelatedResourceNotFound 1001             a referenced list / field / tag is missing
    ├── ForbiddenState             1002, 1009, 1011, 1027-1029   the resource's state forbids it
    ├── RateLimited                1015, 429         retriable after ``retry_after`` seconds
    ├── ServerError                1, 1019, 5xx      retriable later
    ├── WrongAddress               3xx, 100001, a 404 without GetResponse's body: the
    │                                                 request never reached the API: fix
    │                                                 the base URL / MAX host (exit 2)
    ├── UnexpectedResponse         a body that is not what the API documents
    └── ConnectionFailed           no answer (refused, timeout, dropped connection)

A redirect is never followed and never taken for success: GetResponse's web servers answer a
wrong host with ``301`` and an empty ``text/html`` body (a MAX account on the other MAX host:
``Location: http://www.getresponse.com/enterprise``), which a client that only checks for
``>= 400`` would read as an empty success — a contact silently lost, an empty list of lists.
A ``404`` with code ``100001`` ("Route not found, please check url") is a wrong API path, not
an id that does not exist: it must not be read as "already deleted" or "not found". Nor must
a ``404`` without GetResponse's JSON error body (every 404 the API sends has one): it comes
from whatever else answers at that address — a Dataverse URL pasted as ``api_url``, a proxy —
and read as "not found" it would mark every list Deleted in GetResponse.

``retriable`` tells a job whether trying the same call later can succeed.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

import httpx

from reconcile.errors import EXIT_BAD_INPUT, ServiceError

DOCS_ERRORS = "https://apidocs.getresponse.com/v3/errors"


class GetResponseError(ServiceError):
    """A GetResponse request failed; carries the API's error body when there was one."""

    retriable: ClassVar[bool] = False
    default_hint: ClassVar[str] = f"See {DOCS_ERRORS} for the meaning of the error code."

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        http_status: int | None = None,
        code: int | None = None,
        code_description: str | None = None,
        api_message: str | None = None,
        more_info: str | None = None,
        context: Any = None,
        uuid: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint or self.default_hint)
        self.http_status = http_status
        self.code = code
        self.code_description = code_description
        self.api_message = api_message
        self.more_info = more_info
        self.context = context
        self.uuid = uuid
        self.method = method
        self.path = path

    @property
    def body(self) -> dict[str, Any]:
        """The seven documented fields, as the API sent them (secrets redacted)."""
        return {
            "httpStatus": self.http_status,
            "code": self.code,
            "codeDescription": self.code_description,
            "message": self.api_message,
            "moreInfo": self.more_info,
            "context": self.context,
            "uuid": self.uuid,
        }


class AuthenticationError(GetResponseError):
    default_hint = (
        "Check the API key (or OAuth access token). Unused API keys expire after 90 days: "
        "generate a new one at https://app.getresponse.com/api. GetResponse MAX accounts also "
        "need their own API host (api3.getresponse360.com or .pl) and the X-Domain setting."
    )


class AccessDenied(GetResponseError):
    default_hint = (
        "The account, the API access or this IP address is blocked, or the user lacks the "
        "permission: ask the GetResponse account owner or GetResponse support (quote the uuid)."
    )


class NotFound(GetResponseError):
    default_hint = (
        "The id does not exist (any more) in this GetResponse account: look it up again by "
        "name or email; it may have been deleted in GetResponse."
    )


class AlreadyExists(GetResponseError):
    default_hint = (
        "A resource with the same unique value (list or tag name, email in this list) already "
        "exists: use the existing one, or choose another name."
    )


Conflict = AlreadyExists


class ValidationError(GetResponseError):
    default_hint = "Correct the value named in the context and send the request again."


class RelatedResourceNotFound(ValidationError):
    default_hint = (
        "A list, custom field, tag or sender referenced by the request does not exist in this "
        "account: re-read the definitions and use current ids."
    )


class ForbiddenState(GetResponseError):
    default_hint = (
        "The resource's state forbids this action (e.g. the contact is blocklisted, bounced or "
        "was deleted earlier, the message is not a draft or is already being sent, or the "
        "account's contact limit is reached): check it in the GetResponse panel."
    )


class RateLimited(GetResponseError):
    retriable = True
    default_hint = (
        "GetResponse's request quota (30,000 per 10 minutes, 80 per second) is used up: "
        "wait for the quota window to reset and run again."
    )

    @property
    def retry_after(self) -> float | None:
        """Seconds until the quota window resets, from ``context.timeToReset``."""
        if isinstance(self.context, dict):
            return parse_seconds(self.context.get("timeToReset"))
        return None


class ServerError(GetResponseError):
    retriable = True
    default_hint = (
        "GetResponse failed or is under maintenance; nothing is wrong with your input. "
        "Try again later; if it persists, contact GetResponse support with the uuid."
    )


class WrongAddress(GetResponseError):
    """The request reached something other than the API endpoint it meant: a redirect (the
    host is wrong) or "Route not found" (the path is wrong). A setting to fix, not a record."""

    exit_code = EXIT_BAD_INPUT
    default_hint = (
        "Set getresponse.api_url to the API host of the account: https://api.getresponse.com/v3 "
        "(standard), or for GetResponse MAX the host the account lives on, "
        "https://api3.getresponse360.com/v3 or https://api3.getresponse360.pl/v3, with "
        "getresponse.domain; then run again. Nothing was changed in GetResponse."
    )

    def __init__(self, message: str, *, location: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.location = location


class UnexpectedResponse(GetResponseError):
    default_hint = (
        "GetResponse answered with something the API does not document: check that the base "
        "URL points at a GetResponse v3 API (it must end in /v3)."
    )


class ConnectionFailed(GetResponseError):
    """No usable answer: connection refused, timeout, or the connection dropped mid-way."""

    retriable = True

    def __init__(self, message: str, *, maybe_applied: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.maybe_applied = maybe_applied


class PagingError(UnexpectedResponse):
    default_hint = (
        "The server repeated a page instead of moving on; the read was stopped to avoid an "
        "endless loop. Try again; if it persists, report it with the uuid."
    )


_BY_CODE: dict[int, type[GetResponseError]] = {
    1: ServerError,
    1000: ValidationError,
    1001: RelatedResourceNotFound,
    1002: ForbiddenState,
    1003: ValidationError,
    1004: ValidationError,
    1005: ValidationError,
    1006: ValidationError,
    1007: ValidationError,
    1008: AlreadyExists,
    1009: ForbiddenState,
    1010: ValidationError,
    1011: ForbiddenState,
    1012: ValidationError,
    1013: NotFound,
    100001: WrongAddress,
    1014: AuthenticationError,
    1015: RateLimited,
    1016: AccessDenied,
    1017: AccessDenied,
    1018: AccessDenied,
    1019: ServerError,
    1021: ValidationError,
    1023: AccessDenied,
    1024: AuthenticationError,
    1027: ForbiddenState,
    1028: ForbiddenState,
    1029: ForbiddenState,
}

_BY_STATUS: dict[int, type[GetResponseError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: AccessDenied,
    404: NotFound,
    409: AlreadyExists,
    429: RateLimited,
}

_HINTS_BY_CODE = {
    1024: (
        "GetResponse MAX could not find the domain sent in X-Domain: set the domain exactly as "
        "registered in GetResponse MAX (no https://, no www.) and use the MAX API host."
    ),
    1019: "GetResponse is under maintenance: run again later.",
    1027: "The account's contact limit is reached: upgrade the plan or remove contacts.",
}

_SECRET_KEY = re.compile(r"token|secret|password|api.?key|authorization", re.IGNORECASE)
_SECONDS = re.compile(r"^\s*(\d+(?:\.\d+)?)")


def parse_seconds(value: object) -> float | None:
    """``"432 seconds"`` / ``"432"`` / ``432`` → 432.0; anything else → None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return max(0.0, float(value))
    if isinstance(value, str):
        match = _SECONDS.match(value)
        if match:
            return float(match.group(1))
    return None


def _redact(value: Any, secrets: tuple[str, ...]) -> Any:
    """Blank out anything that looks like a credential (the API echoes ``sentToken``)."""
    if isinstance(value, dict):
        return {
            k: "***" if _SECRET_KEY.search(str(k)) else _redact(v, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            if secret:
                value = value.replace(secret, "***")
    return value


def _describe_context(context: Any) -> str:
    """Say which field failed and why, from a validation context, in one line. The context
    is a dict, a list of dicts, or a list of sentences (a recorded 404:
    ``["Could not find contact by id: contacts"]``)."""
    items = context if isinstance(context, list) else [context]
    parts = []
    for item in items:
        if isinstance(item, str) and item.strip():
            parts.append(item.strip()[:200])
            continue
        if not isinstance(item, dict) or not item:
            continue
        field = item.get("fieldName") or item.get("originalName") or item.get("field")
        why = item.get("errorDescription") or item.get("message")
        if field or why:
            parts.append(f"{field or '?'}: {why or 'invalid'}")
        else:
            parts.append(json.dumps(item, ensure_ascii=False, sort_keys=True)[:200])
    return "; ".join(parts)


def bare_url(url: httpx.URL | str) -> str:
    """``scheme://host[:port]/path`` without the query (it may hold an email) or a fragment."""
    parsed = httpx.URL(str(url))
    return str(parsed.copy_with(query=None, fragment=None))


def redirect_error(response: httpx.Response) -> WrongAddress:
    """A 3xx answer: the request was not carried out; say where it went and what to fix."""
    request = response.request
    status = response.status_code
    location = response.headers.get("Location")
    target = bare_url(request.url.join(location)) if location else None
    reason = response.reason_phrase or "Redirect"
    message = (
        f"GetResponse answered {request.method} {bare_url(request.url)} with HTTP {status} "
        f"{reason}"
        + (f", pointing to {target}" if target else " without a Location")
        + ": the request did not reach the GetResponse API and was not carried out"
    )
    return WrongAddress(
        message,
        http_status=status,
        method=request.method,
        path=request.url.path,
        location=target,
    )


def error_from_response(
    response: httpx.Response, *, secrets: tuple[str, ...] = ()
) -> GetResponseError:
    """Build the typed exception for a failed response (a 3xx redirect, or status >= 400)."""
    request = response.request
    method, path = request.method, request.url.path
    status = response.status_code
    if 300 <= status < 400:
        return redirect_error(response)
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = _redact(response.text[:200], secrets)
        if status == 404:  # GetResponse's own 404s (1013, 100001) always have their body
            return WrongAddress(
                f"GetResponse answered HTTP 404 to {method} {bare_url(request.url)} without "
                "GetResponse's error body" + (f" ({text!r})" if text else "") + ": that "
                "address is not the GetResponse API (a wrong getresponse.api_url), not a "
                "deleted record",
                http_status=status,
                method=method,
                path=path,
            )
        bare = _BY_STATUS.get(status, ServerError if status >= 500 else UnexpectedResponse)
        return bare(
            f"GetResponse answered HTTP {status} to {method} {path} without an error body"
            + (f": {text!r}" if text else ""),
            http_status=status,
            method=method,
            path=path,
        )
    body = _redact(body, secrets)
    code = body.get("code") if isinstance(body.get("code"), int) else None
    found = _BY_CODE.get(code or -1) or _BY_STATUS.get(status)
    if found is None:
        found = ServerError if status >= 500 else GetResponseError
    cls: type[GetResponseError] = found
    api_message = body.get("message") or body.get("codeDescription") or "no message"
    detail = _describe_context(body.get("context"))
    message = f"GetResponse refused {method} {path}: {api_message}"
    if detail and cls is not RateLimited:
        message += f" ({detail})"
    message += f" [HTTP {status}, code {code}"
    message += f", uuid {body['uuid']}]" if body.get("uuid") else "]"
    hint = _HINTS_BY_CODE.get(code or -1)
    if cls is WrongAddress:
        message = (
            f"GetResponse has no {method} {bare_url(request.url)} ({api_message}) [HTTP {status}, "
            f"code {code}]: the API path is wrong, not the id"
        )
    if code == 1014 and "expired" in str(api_message).lower():
        hint = (
            "The OAuth access token has expired: get a new one (refresh_token grant at "
            "POST /v3/token) and run again. API keys expire after 90 days unused."
        )
    return cls(
        message,
        hint=hint,
        http_status=body.get("httpStatus", status),
        code=code,
        code_description=body.get("codeDescription"),
        api_message=body.get("message"),
        more_info=body.get("moreInfo"),
        context=body.get("context"),
        uuid=body.get("uuid"),
        method=method,
        path=path,
    )
