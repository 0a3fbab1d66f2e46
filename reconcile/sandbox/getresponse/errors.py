"""GetResponse's error bodies, exactly as the API sends them.

Every error carries the seven ``ErrorResponse`` fields (clients such as the PyPI ``getresponse``
package fall back to the raw text when one is missing). ``codeDescription`` texts are the
official ones (https://apidocs.getresponse.com/v3/errors and the examples in the OpenAPI
description); ``message`` says what went wrong with this request.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import JSONResponse

MORE_INFO = "https://apidocs.getresponse.com/en/v3/errors/{code}"
# What every JSON answer of the API says it is (recorded answers, tests/getresponse/recordings/).
JSON_TYPE = "application/json;charset=utf-8"


class ApiJSON(JSONResponse):
    """A JSON answer with the API's own ``Content-Type``."""

    media_type = JSON_TYPE


# code -> (HTTP status, codeDescription)
CODES: dict[int, tuple[int, str]] = {
    1: (500, "Internal error"),
    1000: (
        400,
        "General error of validation process, more details should be in context section",
    ),
    1001: (400, "Resource that is related to given resource cannot be found"),
    1002: (400, "Resource state forbids that kind of action"),
    1008: (409, "There is another resource with the same value of unique property"),
    1013: (404, "The requested resource was not found"),
    100001: (404, "Route not found, please check url"),
    1014: (401, "Problem during authentication process, check headers!"),
    1015: (429, "Too many request to API, quota reached, please wait till next quota window"),
    1016: (403, "Temporary API block"),
    1017: (403, "Permanent API block"),
    1018: (403, "Access from this IP address is blocked"),
    1019: (503, "Service unavailable, maintenance in progress"),
    1023: (403, "Insufficient permissions"),
}

# The messages of GetResponse's API blocks (codes 1016-1018: docs/getresponse-api.md, "Errors").
BLOCKS: dict[int, str] = {
    1016: "Your API access is temporarily blocked",
    1017: "Your API access is blocked",
    1018: "API access from this IP address is blocked",
}

VALIDATION_MESSAGE = "Validation error, see context section for more information"


class GetResponseError(Exception):
    """An error the sandbox answers with, in GetResponse's shape."""

    def __init__(
        self,
        code: int,
        message: str,
        context: dict[str, Any] | None = None,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status or CODES[code][0]
        self.message = message
        self.context = context if context is not None else {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.code, self.message, self.context)

    def response(self) -> JSONResponse:
        return ApiJSON(self.body(), status_code=self.status, headers=self.headers)


def error_body(status: int, code: int, message: str, context: Any) -> dict[str, Any]:
    description = CODES.get(code, (status, "Internal error"))[1]
    return {
        "httpStatus": status,
        "code": code,
        "codeDescription": description,
        "message": message,
        "moreInfo": MORE_INFO.format(code=code),
        "context": context,
        "uuid": str(uuid.uuid4()),
    }


def route_not_found(method: str, path: str) -> GetResponseError:
    """A path (or verb) that is no API route: 404 code 100001, as recorded on GetResponse 360,
    not the 1013 of an id that does not exist."""
    requested = path if path.endswith("/") else path + "/"
    return GetResponseError(
        100001,
        f"Route not found - [requestedUrl => {requested}, requestedMethod => {method}]",
        {},
    )


def not_found(**context: Any) -> GetResponseError:
    return GetResponseError(1013, "Resource not found", context)


def invalid(
    field: str, description: str, value: Any = None, kind: str = "body"
) -> GetResponseError:
    """400 / 1000 for one invalid request field, in the context shape of the spec's example
    (``validationType`` is ``body`` or ``query`` here; the spec's example shows a filter)."""
    context: dict[str, Any] = {
        "validationType": kind,
        "fieldName": field,
        "originalName": field,
        "errorDescription": description,
    }
    if value is not None:
        context["value"] = value
    return GetResponseError(1000, VALIDATION_MESSAGE, context)


def bad_filter(name: str, kind: str = "query") -> GetResponseError:
    """An unsupported ``query[...]`` / ``sort[...]`` key, in the shape the spec's example shows."""
    return GetResponseError(
        1000,
        VALIDATION_MESSAGE,
        {
            "validationType": f"searchFilter[{kind}]",
            "fieldName": name,
            "originalName": name,
            "errorDescription": "Not allowed search field"
            if kind == "query"
            else "Not allowed sort field",
        },
    )


def related_missing(field: str, value: Any) -> GetResponseError:
    return GetResponseError(1001, f"Related resource '{field}' not found", {field: value})


def taken(value: Any, message: str = "Property value is already taken") -> GetResponseError:
    return GetResponseError(1008, message, {"value": value})


def forbidden_state(message: str, **context: Any) -> GetResponseError:
    return GetResponseError(1002, message, context)


def unauthenticated(message: str, context: dict[str, Any] | None = None) -> GetResponseError:
    return GetResponseError(1014, message, context or {"authenticationType": "auth_token"})
