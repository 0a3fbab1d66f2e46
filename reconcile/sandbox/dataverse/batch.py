"""``POST $batch``: multipart/mixed batches with change sets, as the service runs them.

- Up to 1,000 requests (change-set members included); batches do not nest.
- A change set is atomic: the first failing request rolls the whole change set back and the
  change set answers with that one error, nested in the change set's own
  ``multipart/mixed; boundary=changesetresponse_…`` part with the failed request's
  ``Content-ID`` (as Dataverse does: microsoft/PowerApps-Samples#473, recorded in
  tests/dataverse/recordings/). GET is not allowed inside a change set.
- ``Content-ID: n`` lets a later request use ``$n`` as its URL (``PATCH $1``, ``$1/nav/$ref``)
  or in a body (``"x@odata.bind": "$1"``); an unknown ``$n`` is a 400.
- Without ``Prefer: odata.continue-on-error`` the batch stops at the first failure and answers
  400 (with the responses so far); with it, every request runs and the batch answers 200.
- The response is ``multipart/mixed; boundary=batchresponse_<guid>`` with
  ``changesetresponse_<guid>`` parts, CRLF line endings.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from reconcile.sandbox.dataverse.api import ApiRequest, ApiResponse, error_to_response
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.paths import split_api_path

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.service import Service

MAX_REQUESTS = 1000
CRLF = "\r\n"
# How a part is run: the dispatcher's route(service, request), passed in by the dispatcher.
Route = Callable[["Service", ApiRequest], ApiResponse]
_BOUNDARY_RE = re.compile(r'boundary="?([^";,\s]+)"?', re.IGNORECASE)


@dataclass
class Part:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    content_id: str | None = None


@dataclass
class ChangeSet:
    parts: list[Part] = field(default_factory=list)


def bad_batch(message: str) -> DataverseError:
    return DataverseError("ODataSyntax", message=message)


def _boundary(content_type: str) -> str:
    match = _BOUNDARY_RE.search(content_type)
    if not match or "multipart/mixed" not in content_type.lower():
        raise bad_batch("The batch request must be multipart/mixed with a boundary.")
    return match.group(1)


def _split(body: str, boundary: str) -> list[str]:
    """The parts between ``--boundary`` lines, up to ``--boundary--``."""
    lines = body.replace("\r\n", "\n").split("\n")
    parts: list[str] = []
    current: list[str] = []
    inside = False
    for line in lines:
        if line.rstrip() == f"--{boundary}":
            if inside:
                parts.append("\n".join(current))
            current, inside = [], True
        elif line.rstrip() == f"--{boundary}--":
            if inside:
                parts.append("\n".join(current))
            return parts
        elif inside:
            current.append(line)
    raise bad_batch(f"The batch body does not end with --{boundary}--.")


def _headers(block: str) -> list[tuple[str, str]]:
    result = []
    for line in block.split("\n"):
        if ":" in line:
            name, _, value = line.partition(":")
            result.append((name.strip().lower(), value.strip()))
    return result


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k == name), None)


def _parse_part(text: str) -> Part | ChangeSet:
    head, _, rest = text.partition("\n\n")
    headers = _headers(head)
    content_type = _header(headers, "content-type") or ""
    if "multipart/mixed" in content_type.lower():
        changeset = ChangeSet()
        for inner in _split(rest, _boundary(content_type)):
            part = _parse_part(inner)
            if isinstance(part, ChangeSet):
                raise bad_batch("Change sets cannot be nested.")
            changeset.parts.append(part)
        return changeset
    request_head, _, body = rest.partition("\n\n")
    lines = request_head.strip("\n").split("\n")
    words = lines[0].split(" ") if lines and lines[0] else []
    if len(words) < 2:
        raise bad_batch(f"Bad request line in a batch part: {lines[0] if lines else ''!r}.")
    return Part(
        words[0].upper(),
        words[1],
        _headers("\n".join(lines[1:])),
        body.rstrip("\n").encode(),
        _header(headers, "content-id"),
    )


class Runner:
    def __init__(self, service: Service, outer: ApiRequest, route: Route) -> None:
        self.service = service
        self.outer = outer
        self.route = route
        self.content_ids: dict[str, str] = {}  # "$1" -> "contacts(<id>)"

    def resolve(self, text: str) -> str:
        def swap(match: re.Match[str]) -> str:
            ref = match.group(0)
            if ref not in self.content_ids:
                raise bad_batch(
                    f"Content-ID Reference: '{ref}' does not exist in the batch context."
                )
            return self.content_ids[ref]

        return re.sub(r"\$\d+", swap, text)

    def run(self, part: Part, *, in_changeset: bool) -> ApiResponse:
        try:
            url = part.url
            if url.startswith("$"):
                url = self.resolve(url.split("/", 1)[0]) + (
                    "/" + url.split("/", 1)[1] if "/" in url else ""
                )
                url = f"/api/data/v{self.outer.version}/{url}"
            pieces = urlsplit(url)
            path = (
                pieces.path
                if pieces.path.startswith("/api/data/")
                else f"/api/data/v{self.outer.version}/{pieces.path.lstrip('/')}"
            )
            api_path = split_api_path(path)
            if api_path is None:
                raise DataverseError("ResourceNotFound", segment=part.url)
            if in_changeset and part.method == "GET":
                raise bad_batch("GET requests are not allowed inside a change set.")
            body = part.body
            if body and b"$" in body:
                body = self._resolve_body(body)
            headers = [
                (k, v)
                for k, v in self.outer.headers
                if k in ("prefer", "mscrm.suppressduplicatedetection")
                and k not in {n for n, _ in part.headers}
            ] + part.headers
            request = ApiRequest(
                part.method,
                api_path,
                parse_qsl(pieces.query, keep_blank_values=True),
                headers,
                body,
                self.outer.base_url,
                self.outer.user,
                in_batch=True,
                in_changeset=in_changeset,
            )
            if request.version != self.outer.version:
                raise bad_batch("Every request of a batch must use the batch's API version.")
            with self.service.store.transaction():  # a failed request leaves nothing behind
                response = self.route(self.service, request)
        except DataverseError as error:
            response = error_to_response(error)
        if part.content_id and response.status < 400:
            entity_url = response.header("OData-EntityId")
            if entity_url:
                self.content_ids[f"${part.content_id}"] = entity_url.rsplit("/", 1)[-1]
        return response

    def _resolve_body(self, body: bytes) -> bytes:
        try:
            data = json.loads(body)
        except ValueError:
            return body
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, str) and re.fullmatch(r"\$\d+", value):
                    data[key] = "/" + self.resolve(value)
        return json.dumps(data).encode()


def _render(response: ApiResponse, content_id: str | None) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}"]
    if response.status >= 400:
        lines.append(f"REQ_ID: {uuid.uuid4()}")
    lines += [f"{k}: {v}" for k, v in response.headers]
    lines.append("")
    lines.append(response.body.decode() if response.body else "")
    return CRLF.join(lines)


def handle_batch(service: Service, request: ApiRequest, route: Route) -> ApiResponse:
    if request.method != "POST":
        raise DataverseError("MethodNotAllowed", message="$batch accepts POST only.")
    boundary = _boundary(request.header("content-type") or "")
    items = [_parse_part(text) for text in _split(request.body.decode("utf-8"), boundary)]
    total = sum(len(i.parts) if isinstance(i, ChangeSet) else 1 for i in items)
    if total > MAX_REQUESTS:
        raise DataverseError("TooManyBatchRequests")
    continue_on_error = request.prefs.continue_on_error
    runner = Runner(service, request, route)
    out_boundary = f"batchresponse_{uuid.uuid4()}"
    chunks: list[str] = []
    failed = False
    for item in items:
        if isinstance(item, Part):
            response = runner.run(item, in_changeset=False)
            chunks.append(_render(response, item.content_id))
            failed = response.status >= 400
        else:
            chunk, failed = _changeset(service, runner, item)
            chunks.append(chunk)
        if failed and not continue_on_error:
            break
    body = (
        "".join(f"--{out_boundary}{CRLF}{chunk}{CRLF}" for chunk in chunks)
        + f"--{out_boundary}--{CRLF}"
    )
    status = 400 if failed and not continue_on_error else 200
    headers = [
        ("Content-Type", f"multipart/mixed; boundary={out_boundary}"),
        ("OData-Version", "4.0"),
    ]
    if continue_on_error:
        headers.append(("Preference-Applied", "odata.continue-on-error"))
    return ApiResponse(status, headers, body.encode())


class _Rollback(Exception):
    def __init__(self, response: ApiResponse, content_id: str | None) -> None:
        self.response = response
        self.content_id = content_id


def _changeset(service: Service, runner: Runner, changeset: ChangeSet) -> tuple[str, bool]:
    responses: list[tuple[ApiResponse, str | None]] = []
    saved_ids = dict(runner.content_ids)
    try:
        with service.store.transaction():
            for part in changeset.parts:
                response = runner.run(part, in_changeset=True)
                if response.status >= 400:
                    raise _Rollback(response, part.content_id)
                responses.append((response, part.content_id))
    except _Rollback as failure:
        runner.content_ids = saved_ids
        return _changeset_part([(failure.response, failure.content_id)]), True
    return _changeset_part(responses), False


def _changeset_part(responses: list[tuple[ApiResponse, str | None]]) -> str:
    inner = f"changesetresponse_{uuid.uuid4()}"
    parts = "".join(f"--{inner}{CRLF}{_render(r, cid)}{CRLF}" for r, cid in responses)
    return f"Content-Type: multipart/mixed; boundary={inner}{CRLF}{CRLF}{parts}--{inner}--"
