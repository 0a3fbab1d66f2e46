"""Dataverse's own ``$filter`` query functions: ``Microsoft.Dynamics.CRM.In(PropertyName=..)``.

A useful subset of the 60+ functions (learn.microsoft.com "Web API Query Function Reference"):
membership (In, NotIn), ranges (Between, NotBetween), the current user (EqualUserId,
NotEqualUserId, EqualBusinessId) and the date functions a watermark or a dynamic list uses.
Each is translated to SQL against the same parameter list as the rest of the filter.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from odata_query import ast

from reconcile.sandbox.dataverse.models import Attribute, Entity
from reconcile.sandbox.dataverse.terms import (
    FilterContext,
    Scope,
    check_types,
    edm_type,
    odata_error,
)

SUPPORTED = (
    "In",
    "NotIn",
    "Between",
    "NotBetween",
    "EqualUserId",
    "NotEqualUserId",
    "EqualBusinessId",
    "NotEqualBusinessId",
    "LastXDays",
    "LastXHours",
    "NextXDays",
    "OlderThanXDays",
    "OlderThanXHours",
    "OnOrAfter",
    "OnOrBefore",
    "On",
    "Today",
    "Yesterday",
    "Tomorrow",
    "ContainValues",
    "NotNull",
    "Null",
)


class Translator(Protocol):
    """What a query function needs of the ``$filter`` translator (:mod:`.filters`) that calls
    it: its columns, its literals and the parameter list they are bound to."""

    params: list[Any]
    context: FilterContext

    def attribute(self, entity: Entity, name: str) -> Attribute: ...

    def literal(
        self, node: ast._Node, hint: str | None, scope: Scope
    ) -> tuple[str, str | None]: ...


def _named(node: ast.Call) -> dict[str, ast._Node]:
    args: dict[str, ast._Node] = {}
    for arg in node.args:
        if not isinstance(arg, ast.NamedParam):
            raise odata_error(f"Function {node.func.name} takes named parameters.")
        args[arg.name.name] = arg.param
    return args


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def query_function(translator: Translator, node: ast.Call, scope: Scope) -> str:
    name = node.func.name
    if node.func.full_name() != f"Microsoft.Dynamics.CRM.{name}" or name not in SUPPORTED:
        raise odata_error(
            f"The function '{node.func.full_name()}' is not supported by the sandbox. Supported: "
            + ", ".join(f"Microsoft.Dynamics.CRM.{n}" for n in SUPPORTED)
        )
    args = _named(node)
    prop = args.get("PropertyName")
    if not isinstance(prop, ast.String):
        raise odata_error(f"Function {name} needs PropertyName='<column>'.")
    attribute = translator.attribute(scope.entity, prop.val)
    column = f'{scope.alias}."{attribute.logical_name}"'
    edm = edm_type(attribute)
    params = translator.params

    def values(key: str) -> list[ast._Node]:
        value = args.get(key)
        if isinstance(value, ast.List):
            return list(value.val)
        if value is None:
            raise odata_error(f"Function {name} needs {key}=[...].")
        return [value]

    def bind(item: ast._Node) -> str:
        sql, type_ = translator.literal(item, edm, scope)
        check_types(edm, type_, "Equal")
        return sql

    if name in ("In", "NotIn", "ContainValues"):
        marks = ", ".join(bind(v) for v in values("PropertyValues"))
        return f"({column} {'NOT ' if name == 'NotIn' else ''}IN ({marks or 'NULL'}))"
    if name in ("Between", "NotBetween"):
        low, high = values("PropertyValues")
        sql = f"({column} BETWEEN {bind(low)} AND {bind(high)})"
        return f"(NOT {sql})" if name == "NotBetween" else sql
    if name in ("Null", "NotNull"):
        return f"({column} IS {'NOT ' if name == 'NotNull' else ''}NULL)"
    if name in ("EqualUserId", "NotEqualUserId", "EqualBusinessId", "NotEqualBusinessId"):
        who = translator.context.user_id if "User" in name else translator.context.business_unit_id
        params.append(who)
        return f"({column} {'!=' if name.startswith('Not') else '='} ?)"
    now: datetime = translator.context.now or datetime.now(UTC)
    number = _int(args.get("PropertyValue")) if name in NUMBERED else None
    day = (
        _date_arg(args.get("PropertyValue")) if name in ("On", "OnOrAfter", "OnOrBefore") else None
    )
    bounds = date_range(name, now, number, day)
    if bounds is None:
        raise odata_error(f"Function {name} needs PropertyValue=<number>.")
    return range_condition(column, bounds, edm == "Edm.Date", params)


NUMBERED = ("LastXDays", "LastXHours", "NextXDays", "OlderThanXDays", "OlderThanXHours")


def date_range(
    name: str, now: datetime, number: int | None = None, day: datetime | None = None
) -> tuple[datetime | None, datetime | None] | None:
    """[start, end) of a date function (FetchXML's date operators map onto the same names)."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    fixed = {
        "Today": (today, today + timedelta(days=1)),
        "Yesterday": (today - timedelta(days=1), today),
        "Tomorrow": (today + timedelta(days=1), today + timedelta(days=2)),
    }
    if name in fixed:
        return fixed[name]
    if name in NUMBERED and number is not None:
        just_after_now = now + timedelta(seconds=1)  # "last x" includes this very second
        return {
            "LastXDays": (today - timedelta(days=number), just_after_now),
            "LastXHours": (now - timedelta(hours=number), just_after_now),
            "NextXDays": (now, today + timedelta(days=number + 1)),
            "OlderThanXDays": (None, today - timedelta(days=number)),
            "OlderThanXHours": (None, now - timedelta(hours=number)),
        }[name]
    if day is not None:
        return {
            "On": (day, day + timedelta(days=1)),
            "OnOrAfter": (day, None),
            "OnOrBefore": (None, day + timedelta(days=1)),
        }.get(name)
    return None


def range_condition(
    column: str, bounds: tuple[datetime | None, datetime | None], date_only: bool, params: list[Any]
) -> str:
    parts = []
    for bound, op in zip(bounds, (">=", "<"), strict=True):
        if bound is not None:
            params.append(bound.date().isoformat() if date_only else _iso(bound))
            parts.append(f"{column} {op} ?")
    return "(" + " AND ".join(parts) + ")"


def _int(node: ast._Node | None) -> int:
    if isinstance(node, ast.Integer):
        return int(node.val)
    if isinstance(node, ast.String) and node.val.isdigit():
        return int(node.val)
    raise odata_error("PropertyValue must be a whole number.")


def _date_arg(node: ast._Node | None) -> datetime:
    text = getattr(node, "val", None)
    if not isinstance(text, str):
        raise odata_error("PropertyValue must be a date.")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise odata_error(f"Bad date '{text}'.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.replace(hour=0, minute=0, second=0, microsecond=0)
