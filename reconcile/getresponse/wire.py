"""What goes on the wire: query-string encoding, wait hints, JSON bodies.

Kept apart from the client so that each piece can be tested on hand-built requests and
responses, without a client or a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import httpx

from reconcile.getresponse.dates import format_query_value
from reconcile.getresponse.errors import UnexpectedResponse, parse_seconds
from reconcile.retrying import parse_retry_after

Params = Mapping[str, Any]


def path(*segments: object) -> str:
    """``path("contacts", contact_id, "tags")`` → ``contacts/pV3r/tags``, each id escaped, so
    that an id read from a spreadsheet can never point a request at another endpoint."""
    parts = [str(s) for s in segments]
    if any(not p.strip() for p in parts):
        raise ValueError(f"an id in the path {'/'.join(parts)!r} is empty")
    return "/".join(quote(p, safe="") for p in parts)


def encode_params(params: Params | None) -> httpx.QueryParams:
    """Flatten ``{"query": {"createdOn": {"from": d}}}`` into ``query[createdOn][from]=…``.

    Lists become comma-separated (``fields=a,b``), booleans ``true``/``false``, dates the
    API's format; ``None`` values are dropped so callers can pass optional filters as is.
    """
    out: list[tuple[str, str | int | float | bool | None]] = []

    def add(key: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for sub, item in value.items():
                add(f"{key}[{sub}]", item)
        elif isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        elif isinstance(value, date | datetime):
            out.append((key, format_query_value(value)))
        elif isinstance(value, list | tuple | set | frozenset):
            items = sorted(value) if isinstance(value, set | frozenset) else value
            if items:
                out.append((key, ",".join(str(v) for v in items)))
        else:
            out.append((key, str(value)))

    for key, value in (params or {}).items():
        add(key, value)
    return httpx.QueryParams(out)


def wait_hint(response: httpx.Response) -> float | None:
    """How long GetResponse says to wait before repeating a refused (429) request.

    The body's ``context.timeToReset`` describes *this* refusal, then ``Retry-After`` (seen
    on the per-second limit), then ``X-RateLimit-Reset`` (the 10-minute window). Other
    statuses carry no wait: ``X-RateLimit-Reset`` on a 503 is not an instruction to wait.
    """
    if response.status_code != 429:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("context"), dict):
        seconds = parse_seconds(body["context"].get("timeToReset"))
        if seconds is not None:
            return seconds
    seconds = parse_retry_after(response.headers.get("Retry-After"))
    if seconds is not None:
        return seconds
    return parse_seconds(response.headers.get("X-RateLimit-Reset"))


def to_int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def decode_json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise UnexpectedResponse(
            f"GetResponse answered {response.request.method} {response.request.url.path} "
            f"with HTTP {response.status_code} and a body that is not JSON",
            http_status=response.status_code,
        ) from exc
