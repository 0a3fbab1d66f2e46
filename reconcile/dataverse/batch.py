"""``$batch``: many operations in one HTTP request (``multipart/mixed``), written and read.

A batch holds up to 1000 operations. Operations inside a *changeset* are atomic (one fails,
all roll back) and may refer to an earlier one's result with ``$<Content-ID>``; GETs may
not be in a changeset. By default the service stops at the first failure and answers 400;
with ``Prefer: odata.continue-on-error`` it runs everything and answers 200, each part with
its own status. (Source: Microsoft Learn, "Execute batch operations using the Web API".)

The writer emits CRLF line endings and absolute inner URLs, as Microsoft's own SDK does;
the reader tolerates bare LF and maps every response part back to the operation it
answers, so that a caller can say exactly which record failed and why.

A failed change set is read in both shapes found: Dataverse nests the failed operation in the
change set's own ``multipart/mixed; boundary=changesetresponse_…`` part, with its
``Content-ID`` (tests/dataverse/recordings/batch_changeset_failure.json); some servers put
the one error directly in the batch. Either way every operation of the change set failed;
the one the error belongs to gets it, the others say they were rolled back because of it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from reconcile.dataverse.errors import DataverseError, ValidationFailed, error_for

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient

MAX_OPERATIONS = 1000
CRLF = "\r\n"
_SAFE_METHODS = frozenset({"GET", "PATCH", "PUT", "DELETE"})


@dataclass
class Operation:
    """One request inside a batch. ``path`` is relative to the API root, or ``$n``."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_id: str | None = None
    record: str | None = None  # how errors name the record
    repeatable: bool | None = None  # None: decided by the method

    @property
    def safe_to_repeat(self) -> bool:
        if self.repeatable is not None:
            return self.repeatable
        return self.method.upper() in _SAFE_METHODS


@dataclass
class Changeset:
    """Operations that succeed or fail together."""

    operations: list[Operation]


Item = Operation | Changeset


@dataclass
class Result:
    """What happened to one operation of a batch."""

    operation: Operation
    status: int | None  # None: not run (the batch stopped at an earlier failure)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    rolled_back_by: Operation | None = None  # the change set's operation that failed

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def error(self) -> DataverseError | None:
        if self.ok:
            return None
        if self.status is None:
            return ValidationFailed(
                f"Not run: the batch stopped at an earlier failure "
                f"({self.operation.record or self.operation.path}).",
                record=self.operation.record,
                hint="Fix the failure reported for the earlier record and run again.",
            )
        error = error_for(
            self.status,
            self.body,
            method=self.operation.method,
            record=self.operation.record or self.operation.path,
            headers=self.headers,
        )
        culprit = self.rolled_back_by
        if culprit is not None and culprit is not self.operation:
            error.message = (
                f"Rolled back: {self.operation.record or self.operation.path} was in a change "
                f"set that failed at {culprit.record or culprit.path}: "
                f"{error.service_message or f'HTTP {self.status}'}"
            )
            error.hint = "Fix the failure of that record; this one is sent again with it."
            error.args = (error.message,)
        return error


def flatten(items: Sequence[Item]) -> list[Operation]:
    out: list[Operation] = []
    for item in items:
        out.extend(item.operations if isinstance(item, Changeset) else [item])
    return out


def _http_part(operation: Operation, api_url: str) -> str:
    target = operation.path if operation.path.startswith("$") else api_url + operation.path
    mime = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if operation.content_id:
        mime.append(f"Content-ID: {operation.content_id}")
    lines = [*mime, "", f"{operation.method.upper()} {target} HTTP/1.1"]
    headers = dict(operation.headers)
    body = ""
    if operation.body is not None:
        headers.setdefault("Content-Type", "application/json; type=entry")
        body = json.dumps(operation.body, ensure_ascii=False)
    elif operation.method.upper() == "GET":
        headers.setdefault("Accept", "application/json")
    lines.extend(f"{k}: {v}" for k, v in headers.items())
    lines.extend(["", body])
    return CRLF.join(lines)


def encode(
    items: Sequence[Item], api_url: str, *, boundary: str | None = None
) -> tuple[bytes, str]:
    """``(body, content type)`` of a batch request."""
    operations = flatten(items)
    if not operations:
        raise ValueError("a batch needs at least one operation")
    if len(operations) > MAX_OPERATIONS:
        raise ValueError(
            f"a batch holds at most {MAX_OPERATIONS} operations, not {len(operations)}"
        )
    batch = boundary or f"batch_{uuid.uuid4()}"
    chunks: list[str] = []
    for item in items:
        if isinstance(item, Changeset):
            if any(op.method.upper() == "GET" for op in item.operations):
                raise ValueError("a changeset cannot contain GET requests")
            changeset = f"changeset_{uuid.uuid4()}"
            inner = [f"--{changeset}{CRLF}{_http_part(op, api_url)}" for op in item.operations]
            chunks.append(
                f"--{batch}{CRLF}Content-Type: multipart/mixed; boundary={changeset}{CRLF}{CRLF}"
                + CRLF.join(inner)
                + f"{CRLF}--{changeset}--"
            )
        else:
            chunks.append(f"--{batch}{CRLF}{_http_part(item, api_url)}")
    text = CRLF.join(chunks) + f"{CRLF}--{batch}--{CRLF}"
    return text.encode("utf-8"), f"multipart/mixed; boundary={batch}"


# --- reading the response -------------------------------------------------------------

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


@dataclass
class _Part:
    content_id: str | None
    status: int
    headers: dict[str, str]
    body: bytes


def _split_headers(block: bytes) -> tuple[dict[str, str], bytes]:
    block = block.lstrip(b"\r\n")
    match = re.search(rb"\r?\n\r?\n", block)
    if not match:
        head, rest = block, b""
    else:
        head, rest = block[: match.start()], block[match.end() :]
    headers: dict[str, str] = {}
    for line in re.split(rb"\r?\n", head):
        if b":" in line:
            name, value = line.split(b":", 1)
            headers[name.decode("latin-1").strip().lower()] = value.decode("utf-8").strip()
    return headers, rest


def _multipart(body: bytes, boundary: str) -> Iterator[bytes]:
    delimiter = b"--" + boundary.encode("latin-1")
    pieces = body.split(delimiter)
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            return
        yield re.sub(rb"\r?\n$", b"", piece)


def _parts(body: bytes, boundary: str) -> Iterator[list[_Part]]:
    """Yield one list per top-level part: a changeset yields all its parts together."""
    for piece in _multipart(body, boundary):
        mime, content = _split_headers(piece)
        kind = mime.get("content-type", "")
        if kind.lower().startswith("multipart/mixed"):
            match = _BOUNDARY.search(kind)
            if not match:
                raise ValueError("a changeset part without a boundary")
            yield [_http_response(h, c) for h, c in _inner(content, match.group(1))]
        else:
            yield [_http_response(mime, content)]


def _inner(body: bytes, boundary: str) -> Iterator[tuple[dict[str, str], bytes]]:
    for piece in _multipart(body, boundary):
        yield _split_headers(piece)


def _http_response(mime: dict[str, str], content: bytes) -> _Part:
    content = content.lstrip(b"\r\n")
    first, _, rest = content.partition(b"\n")
    match = re.match(rb"HTTP/\d\.\d\s+(\d{3})", first.strip())
    if not match:
        raise ValueError(f"not an HTTP response line in a batch part: {first[:60]!r}")
    headers, body = _split_headers(rest)
    return _Part(mime.get("content-id"), int(match.group(1)), headers, body.strip())


def decode(response: httpx.Response, items: Sequence[Item]) -> list[Result]:
    """Map a batch response back onto the operations of ``items``, in order."""
    match = _BOUNDARY.search(response.headers.get("Content-Type", ""))
    if not match:
        raise error_for(
            response.status_code,
            response.content,
            method="POST",
            record="$batch",
            headers=response.headers,
        )
    groups = list(_parts(response.content, match.group(1)))
    results: list[Result] = []
    for index, item in enumerate(items):
        operations = item.operations if isinstance(item, Changeset) else [item]
        parts = groups[index] if index < len(groups) else []
        if not parts:
            results.extend(Result(op, None) for op in operations)
        elif len(parts) == len(operations):
            by_id = {p.content_id: p for p in parts if p.content_id}
            for op, part in zip(operations, parts, strict=True):
                chosen = by_id.get(op.content_id, part) if op.content_id else part
                results.append(Result(op, chosen.status, chosen.headers, chosen.body))
        else:  # a failed changeset answers with its one error for all its operations
            failure = next((p for p in parts if p.status >= 400), parts[-1])
            culprit = next(
                (op for op in operations if op.content_id and op.content_id == failure.content_id),
                None,
            )
            results.extend(
                Result(op, failure.status, failure.headers, failure.body, rolled_back_by=culprit)
                for op in operations
            )
    return results


def execute(
    client: DataverseClient,
    items: Sequence[Item],
    *,
    continue_on_error: bool = True,
) -> list[Result]:
    """Send one batch; return a result for every operation (raises only if the batch as a
    whole was refused, e.g. throttled or malformed)."""
    from reconcile.dataverse.odata import prefer

    body, content_type = encode(items, client.api_url)
    operations = flatten(items)
    headers = {"Content-Type": content_type}
    preference = prefer(continue_on_error=continue_on_error)
    if preference:
        headers["Prefer"] = preference
    response = client.request(
        "POST",
        "$batch",
        content=body,
        headers=headers,
        idempotent=all(op.safe_to_repeat for op in operations),
        record=f"a batch of {len(operations)} operations",
        ok=(200, 400),
    )
    return decode(response, items)
