"""Resource paths of the Web API: ``contacts(emailaddress1='o''brien@x.com')/lastname``.

Paths are split from the *raw* (still percent-encoded) request path, so that an encoded ``/``
inside a key value stays inside it; each segment is then decoded. Key and function arguments
are OData literals: ``'text'`` with doubled quotes, numbers, GUIDs, ``true``/``false``/``null``
and ``@alias`` parameters resolved from the query string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from reconcile.sandbox.dataverse.errors import DataverseError

GUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_NUMBER_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")
_VERSION_RE = re.compile(r"^/api/data/v(\d+\.\d+)(/.*)?$")


class Alias(str):
    """An ``@p1`` parameter alias, to be looked up in the query string."""


@dataclass
class Segment:
    name: str
    args: dict[str, Any] | None = None  # named arguments, or {"": value} for a bare key
    raw_args: str | None = None  # the text between the parentheses, as sent
    text: str = ""  # the whole decoded segment, for error messages

    @property
    def has_parens(self) -> bool:
        return self.raw_args is not None


@dataclass
class ApiPath:
    version: str
    segments: list[Segment] = field(default_factory=list)


def split_api_path(raw_path: str) -> ApiPath | None:
    """``/api/data/v9.2/a(b)/c`` -> ApiPath('9.2', [a(b), c]); None when not an API path."""
    match = _VERSION_RE.match(raw_path)
    if not match:
        return None
    rest = match.group(2) or "/"
    return ApiPath(
        match.group(1), [parse_segment(part) for part in _split(rest.strip("/")) if part]
    )


def _split(path: str) -> list[str]:
    """Split on ``/`` outside quotes and parentheses."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(path):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif char == "/" and depth == 0 and not quoted:
            parts.append(path[start:i])
            start = i + 1
    parts.append(path[start:])
    return parts


def parse_segment(raw: str) -> Segment:
    text = unquote(raw)
    open_at = text.find("(")
    if open_at < 0 or not text.endswith(")"):
        return Segment(text, text=text)
    name, inner = text[:open_at], text[open_at + 1 : -1]
    return Segment(name, parse_args(inner, segment=text), inner, text)


def parse_args(inner: str, *, segment: str = "") -> dict[str, Any]:
    """``guid`` -> {"": guid}; ``a='x',b=1`` -> {"a": "x", "b": 1}; ``''`` -> {}."""
    inner = inner.strip()
    if not inner:
        return {}
    items = split_outside(inner)
    if len(items) == 1 and "=" not in _outside_quotes(items[0]):
        return {"": parse_literal(items[0], segment=segment)}
    args: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise DataverseError("ODataSyntax", message=f"Bad key segment '{segment}'.")
        args[name.strip()] = parse_literal(value.strip(), segment=segment)
    return args


def _outside_quotes(text: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "", text)


def split_outside(text: str, separator: str = ",") -> list[str]:
    """Split on ``separator`` outside quotes and brackets (``a='x,y',b=(1,2)``), stripped."""
    parts, quoted, depth, start = [], False, 0, 0
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "([{":
            depth += 1
        elif not quoted and char in ")]}":
            depth -= 1
        elif char == separator and not quoted and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def parse_literal(text: str, *, segment: str = "") -> Any:
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        body = text[1:-1]
        if re.search(r"(?<!')'(?!')", body.replace("''", "")):
            raise DataverseError("ODataSyntax", message=f"Bad quoting in segment '{segment}'.")
        return body.replace("''", "'")
    if text.startswith("@"):
        return Alias(text)
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if GUID_RE.match(text):
        return text.lower()
    if _NUMBER_RE.match(text):
        return float(text) if "." in text else int(text)
    if text.startswith(("{", "[")):
        import json

        try:
            return json.loads(text)
        except ValueError:
            pass
    # What Dataverse answers for a key it cannot read, e.g. ``contacts(not-a-guid)``
    # (Microsoft.OData's ODataPathParser; docs/dataverse-api.md).
    raise DataverseError("ODataSyntax", message="Bad Request - Error in query syntax.")
