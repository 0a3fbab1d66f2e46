"""Checking sandbox traffic against GetResponse's full official OpenAPI description.

Every call made through the ``api`` fixture is validated with openapi-core: the response
always (status, headers, body schema), the request when the sandbox accepted it. Three
adjustments to the document, each because the document itself cannot be satisfied as written:

- ``date-time`` values: the API sends ``2017-03-02T07:30:49+0000`` (no colon in the offset),
  which an RFC 3339 check refuses (see specs/README.md); the relaxed check below accepts that
  form, and :func:`always_sent` then holds the sandbox's dates to exactly it.
- ``pattern``s written as JavaScript literals (``/^…$/``, e.g. ``timeInterval`` and time-zone
  offsets) would match nothing as regular expressions: the slashes are stripped.
- Many schemas list no ``required`` fields; :func:`always_sent` checks the ids and ``href``
  every resource carries.
- A contact's ``ipAddress`` is ``""`` when unknown in real answers (recorded on GetResponse
  360, tests/getresponse/recordings/contacts_page.json), which the ``ipv4``/``ipv6`` formats
  refuse: the empty string is accepted, any other value must still be an address.
"""

from __future__ import annotations

import ipaddress
import json
import re
import warnings
from pathlib import Path
from typing import Any

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse

SPEC = Path(__file__).resolve().parents[3] / "specs" / "getresponse-v3.openapi.json"
HOST = "https://api.getresponse.com"
_API_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$")
_REQUEST_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:?\d\d)?$")
DATE_KEYS = ("createdOn", "changedOn", "createdAt", "sendOn", "finishedOn")
ID_KEYS = (
    "contactId",
    "campaignId",
    "tagId",
    "customFieldId",
    "newsletterId",
    "fromFieldId",
    "importId",
    "accountId",
)


def _ip_or_empty(version: int) -> Any:
    """The ``ipv4`` check also takes ``""`` (only it: the schema is ``oneOf`` v4, v6)."""

    def check(value: Any) -> bool:
        if value == "":
            return version == 4
        try:
            return ipaddress.ip_address(str(value)).version == version
        except ValueError:
            return False

    return check


def _strip_js_patterns(node: Any) -> None:
    if isinstance(node, dict):
        pattern = node.get("pattern")
        if isinstance(pattern, str) and pattern.startswith("/^") and pattern.endswith("$/"):
            node["pattern"] = pattern[1:-1]
        for value in node.values():
            _strip_js_patterns(value)
    elif isinstance(node, list):
        for value in node:
            _strip_js_patterns(value)


class Validator:
    def __init__(self, path: Path = SPEC) -> None:
        self.document = json.loads(path.read_text(encoding="utf-8"))
        _strip_js_patterns(self.document)
        config = Config(
            spec_validator_cls=None,
            extra_format_validators={
                "date-time": lambda v: bool(_REQUEST_DATE.match(str(v))),
                "ipv4": _ip_or_empty(4),
                "ipv6": _ip_or_empty(6),
            },
        )
        self.openapi = OpenAPI.from_dict(self.document, config=config)
        self.seen: set[str] = set()  # operationIds validated (2xx) since the last clear()

    def operation_id(self, method: str, path: str) -> str | None:
        for template, item in self.document["paths"].items():
            regex = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if re.match(regex, path) and method.lower() in item:
                return str(item[method.lower()]["operationId"])
        return None

    def check(self, response: httpx.Response) -> None:
        """Raise if the exchange breaks the description; unknown paths are not checked."""
        request = response.request
        path = request.url.path.removeprefix("/max")
        if not path.startswith("/v3/"):
            return
        params = {k: v for k, v in request.url.params.multi_items()}
        mock_request = MockRequest(
            HOST,
            request.method.lower(),
            path,
            args=params,
            headers=dict(request.headers),
            data=request.content or None,
            content_type=request.headers.get("content-type", "application/json"),
        )
        content_type = response.headers.get("content-type", "application/json")
        mock_response = MockResponse(
            response.content or b"",
            status_code=response.status_code,
            headers=dict(response.headers),
            content_type=content_type.split(";")[0],
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Unsupported scheme type" (oauth2)
            try:
                self.openapi.validate_response(mock_request, mock_response)
                if response.status_code < 400:
                    self.openapi.validate_request(mock_request)
            except (PathNotFound, OperationNotFound):
                return
            except ResponseNotFound:
                if response.status_code >= 500:
                    return  # injected faults: the description lists no 5xx
                raise
        if response.status_code < 300:
            op = self.operation_id(request.method, path[3:])
            if op:
                self.seen.add(op)
            if response.content and "fields" not in params and op != "upsertContactCustoms":
                always_sent(json.loads(response.content))


def always_sent(body: Any) -> None:
    """Resources carry their id and ``href``; dates are the API's format exactly."""
    items = body if isinstance(body, list) else [body]
    for item in items:
        if not isinstance(item, dict):
            continue
        ids = [key for key in ID_KEYS if key in item]
        if ids and ids[0] != "accountId":
            assert "href" in item, f"no href in {item}"
            assert item["href"].endswith("/" + str(item[ids[0]])), item
        _check_dates(item)


def _check_dates(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in DATE_KEYS and isinstance(value, str):
                assert _API_DATE.match(value), f"{key}={value!r} is not the API's date format"
            else:
                _check_dates(value)
    elif isinstance(node, list):
        for value in node:
            _check_dates(value)
