"""Dataverse's own ``$filter`` query functions: ``Microsoft.Dynamics.CRM.In(PropertyName=..)``.

A useful subset of the 60+ functions (learn.microsoft.com "Web API Query Function Reference"):
membership (In, NotIn), ranges (Between, NotBetween), the current user (EqualUserId,
NotEqualUserId, EqualBusinessId) and the date functions a watermark or a dynamic list uses.
Each is translated to SQL against the same parameter list as the rest of the filter.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from odata_query import ast

from reconcile.sandbox.dataverse.filters import _check_types, odata_error

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.filters import Scope, Translator

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
    from reconcile.sandbox.dataverse.filters import _edm

    edm = _edm(attribute)
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
        _check_types(edm, type_, "Equal")
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
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    number = _int(args.get("PropertyValue")) if "PropertyValue" in args else None
    ranges: dict[str, tuple[datetime | None, datetime | None]] = {
        "Today": (today, today + timedelta(days=1)),
        "Yesterday": (today - timedelta(days=1), today),
        "Tomorrow": (today + timedelta(days=1), today + timedelta(days=2)),
    }
    if number is not None:
        ranges.update(
            {
                "LastXDays": (today - timedelta(days=number), now + timedelta(seconds=1)),
                "LastXHours": (now - timedelta(hours=number), now + timedelta(seconds=1)),
                "NextXDays": (now, today + timedelta(days=number + 1)),
                "OlderThanXDays": (None, today - timedelta(days=number)),
                "OlderThanXHours": (None, now - timedelta(hours=number)),
            }
        )
    if name in ("OnOrAfter", "OnOrBefore", "On"):
        day = _date_arg(args.get("PropertyValue"))
        ranges.update(
            {
                "OnOrAfter": (day, None),
                "OnOrBefore": (None, day + timedelta(days=1)),
                "On": (day, day + timedelta(days=1)),
            }
        )
    if name not in ranges:
        raise odata_error(f"Function {name} needs PropertyValue=<number>.")
    start, end = ranges[name]
    parts = []
    fmt: Any = (lambda m: m.date().isoformat()) if edm == "Edm.Date" else _iso
    if start is not None:
        params.append(fmt(start))
        parts.append(f"{column} >= ?")
    if end is not None:
        params.append(fmt(end))
        parts.append(f"{column} < ?")
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
