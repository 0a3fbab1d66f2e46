"""OData query pieces built safely: literals, ``$filter`` expressions, key segments, URLs.

Why a builder: an email such as ``o'brien@example.com`` pasted into ``emailaddress1 eq '…'``
would end the string early — at best a 400, at worst a different filter. Values only enter
a query through :func:`literal`, which doubles single quotes (the OData rule), and column
names must be plain identifiers. URLs are then percent-encoded by :func:`encode_query` /
:func:`quote_segment`, so ``+ # & ? % /`` in a value cannot change the URL either.

Example::

    f = eq("emailaddress1", "o'brien@example.com") & eq("statecode", 0)
    str(f)  # "emailaddress1 eq 'o''brien@example.com' and statecode eq 0"
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")
_GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\}?$")

Value = str | int | float | bool | None | uuid.UUID | datetime | date


def identifier(name: str) -> str:
    """A column / navigation-property name, refused unless it is a plain identifier."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(f"not a valid column name for an OData query: {name!r}")
    return name


def as_guid(value: str | uuid.UUID) -> uuid.UUID:
    """A GUID from ``value`` (with or without braces); ValueError names the bad value."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or not _GUID.match(value.strip()):
        raise ValueError(f"not a record id (GUID): {value!r}")
    return uuid.UUID(value.strip().strip("{}"))


def literal(value: Value) -> str:
    """The OData literal for ``value``: strings quoted with ``'`` doubled; GUIDs bare."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"a date-time in a filter needs a time zone: {value!r}")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot put a {type(value).__name__} into an OData query")


@dataclass(frozen=True)
class Filter:
    """A ``$filter`` expression; combine with ``&``, ``|`` and ``~`` (not)."""

    text: str

    def __and__(self, other: Filter) -> Filter:
        return and_(self, other)

    def __or__(self, other: Filter) -> Filter:
        return or_(self, other)

    def __invert__(self) -> Filter:
        return Filter(f"not ({self.text})")

    def __str__(self) -> str:
        return self.text


def _compare(op: str, column: str, value: Value) -> Filter:
    return Filter(f"{identifier(column)} {op} {literal(value)}")


def eq(column: str, value: Value) -> Filter:
    return _compare("eq", column, value)


def ne(column: str, value: Value) -> Filter:
    return _compare("ne", column, value)


def gt(column: str, value: Value) -> Filter:
    return _compare("gt", column, value)


def ge(column: str, value: Value) -> Filter:
    return _compare("ge", column, value)


def lt(column: str, value: Value) -> Filter:
    return _compare("lt", column, value)


def le(column: str, value: Value) -> Filter:
    return _compare("le", column, value)


def _function(name: str, column: str, value: str) -> Filter:
    if not isinstance(value, str):
        raise TypeError(f"{name}() takes a string value")
    return Filter(f"{name}({identifier(column)},{literal(value)})")


def contains(column: str, value: str) -> Filter:
    return _function("contains", column, value)


def startswith(column: str, value: str) -> Filter:
    return _function("startswith", column, value)


def endswith(column: str, value: str) -> Filter:
    return _function("endswith", column, value)


def and_(*parts: Filter) -> Filter:
    items = [p for p in parts if p is not None]
    if not items:
        raise ValueError("and_() needs at least one expression")
    if len(items) == 1:
        return items[0]
    return Filter(" and ".join(f"({p.text})" for p in items))


def or_(*parts: Filter) -> Filter:
    items = [p for p in parts if p is not None]
    if not items:
        raise ValueError("or_() needs at least one expression")
    if len(items) == 1:
        return items[0]
    return Filter(" or ".join(f"({p.text})" for p in items))


def in_(column: str, values: Iterable[Value]) -> Filter:
    """``column`` equals any of ``values`` (an ``or`` chain: every version understands it)."""
    items = list(values)
    if not items:
        raise ValueError(f"in_({column!r}) needs at least one value")
    return or_(*(eq(column, v) for v in items))


# --- keys and URLs ---------------------------------------------------------------------

# Characters that may stay raw in a key segment or a query value; everything else
# (space, + # & ? % / = and non-ASCII) is percent-encoded.
_SEGMENT_SAFE = "'(),=@:-._~*!$"
_VALUE_SAFE = "'(),:@-._~*!$/"


def key_segment(key: str | uuid.UUID | Mapping[str, Value]) -> str:
    """The ``(…)`` part addressing one record: a GUID, or alternate-key columns.

    ``key_segment({"emailaddress1": "o'brien@x.com"})`` → ``(emailaddress1='o''brien@x.com')``.
    """
    if isinstance(key, Mapping):
        if not key:
            raise ValueError("an alternate key needs at least one column")
        inner = ",".join(f"{identifier(k)}={literal(v)}" for k, v in key.items())
        return f"({inner})"
    return f"({as_guid(key)})"


def record_path(entity_set: str, key: str | uuid.UUID | Mapping[str, Value]) -> str:
    """``contacts(…)``, percent-encoded so that it can be appended to the API URL."""
    return quote(identifier(entity_set) + key_segment(key), safe=_SEGMENT_SAFE)


def quote_segment(text: str) -> str:
    return quote(text, safe=_SEGMENT_SAFE)


def encode_query(params: Mapping[str, object]) -> str:
    """``$select=a,b&$filter=…`` with values percent-encoded (spaces as ``%20``, ``+`` as
    ``%2B``) and OData's ``$`` / ``@`` parameter names left readable."""
    parts = []
    for name, value in params.items():
        if value is None:
            continue
        if not re.match(r"^[$@]?[A-Za-z][A-Za-z0-9_]*$", name):
            raise ValueError(f"not a query option name: {name!r}")
        parts.append(f"{name}={quote(str(value), safe=_VALUE_SAFE)}")
    return "&".join(parts)


def describe_key(entity_set: str, key: str | uuid.UUID | Mapping[str, Value]) -> str:
    """How an error message names a record: ``contacts(emailaddress1='o''brien@x.com')``."""
    try:
        return entity_set + key_segment(key)
    except (ValueError, TypeError):
        return f"{entity_set}({key!r})"


@dataclass(frozen=True)
class Query:
    """The options of one collection read; ``params()`` gives the query string values."""

    select: tuple[str, ...] = ()
    filter: Filter | None = None
    orderby: tuple[str, ...] = ()  # "modifiedon asc", "fullname desc"
    top: int | None = None
    expand: tuple[str, ...] = ()  # passed as written: "parentcustomerid_account($select=name)"
    count: bool = False

    def params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.select:
            params["$select"] = ",".join(identifier(c) for c in self.select)
        if self.filter is not None:
            params["$filter"] = self.filter.text
        if self.orderby:
            params["$orderby"] = ",".join(_order(o) for o in self.orderby)
        if self.top is not None:
            if self.top < 1:
                raise ValueError("$top must be at least 1")
            params["$top"] = str(int(self.top))
        if self.expand:
            params["$expand"] = ",".join(self.expand)
        if self.count:
            params["$count"] = "true"
        return params


def _order(item: str) -> str:
    parts = item.split()
    if len(parts) == 1 or (len(parts) == 2 and parts[1].lower() in ("asc", "desc")):
        return " ".join([identifier(parts[0]), *(p.lower() for p in parts[1:])])
    raise ValueError(f"not an $orderby item: {item!r}")
