"""Aggregate queries: FetchXML ``aggregate="true"`` and OData ``$apply``, as Dataverse runs them.

Why the sandbox needs them: dashboards and charts count records by group (contacts by status,
activities by type and day) without reading every record. Dataverse answers these over at most
50,000 records (``AggregateQueryRecordLimit exceeded``, code ``0x8004E023``; FetchXML's own
``aggregatelimit`` can lower it); a client counting a bigger table splits its query into
ranges and adds the parts up, as Microsoft's page advises. The sandbox refuses the same way,
so that such clients are tested here.

FetchXML: ``aggregate`` = ``count | countcolumn | sum | avg | min | max`` (``distinct`` on
``countcolumn``), ``groupby="true"`` with ``dategrouping`` = ``day | week | month | quarter |
year`` (UTC; the sandbox's users are on UTC, so ``usertimezone`` changes nothing), ``order``
on an alias, ``count``/``top`` on the groups; link-entity filters and columns. ``$apply``:
``filter(...)``, ``groupby((a,b),aggregate(...))``, ``aggregate(x with sum|min|max|average|
countdistinct as y, $count as n)`` (in ``apply.py``). Sources: ``docs/dataverse-api.md``
[D14, D15].
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconcile.sandbox.dataverse.api import ApiRequest, ApiResponse, applied, json_response
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.models import FLOAT_TYPES, INTEGER_TYPES, Attribute, Entity
from reconcile.sandbox.dataverse.render import FORMATTED, LOOKUP_NAME

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.fetchxml import Compiled
    from reconcile.sandbox.dataverse.service import Service

RECORD_LIMIT = 50_000
MAX_GROUPS = 5000
FETCH_FUNCTIONS = {"count", "countcolumn", "sum", "avg", "min", "max"}
DATE_PARTS = {
    "day": "CAST(strftime('%d', {c}) AS INTEGER)",
    "month": "CAST(strftime('%m', {c}) AS INTEGER)",
    "year": "CAST(strftime('%Y', {c}) AS INTEGER)",
    "quarter": "((CAST(strftime('%m', {c}) AS INTEGER) + 2) / 3)",
    # SQL Server's DATEPART(week): week 1 holds 1 January, weeks start on Sunday.
    "week": "((CAST(strftime('%j', {c}) AS INTEGER) - 1 + "
    "CAST(strftime('%w', date({c}, 'start of year')) AS INTEGER)) / 7 + 1)",
}


PREFIX_LENGTH = {"year": 4, "month": 7, "day": 10}  # of 'YYYY-MM-DDTHH:MM:SSZ'
PREFIX_PARTS = {"year": slice(0, 4), "month": slice(5, 7), "day": slice(8, 10)}


def _by_prefix(groups: list[Group]) -> list[Group]:
    """Year, year+month or year+month+day of one date column group by a prefix of its
    stored text — the same groups, without parsing every row's date. Any other mix of parts
    keeps its own expression per part."""
    parts: dict[str, set[str]] = {}
    for group in groups:
        if group.date_part is not None:
            parts.setdefault(group.column, set()).add(group.date_part)
    out = []
    for group in groups:
        wanted = parts.get(group.column) if group.date_part else None
        if wanted in ({"year"}, {"year", "month"}, {"year", "month", "day"}):
            length = max(PREFIX_LENGTH[p] for p in wanted)
            sql = f"substr({group.column}, 1, {length})"
            group = Group(group.alias, sql, group.attribute, group.date_part, group.column)
        out.append(group)
    return out


@dataclass
class Group:
    alias: str
    sql: str
    attribute: Attribute
    date_part: str | None = None
    column: str = ""  # the date column a date part is taken from


@dataclass
class Measure:
    alias: str
    function: str  # count | countcolumn | countdistinct | sum | avg | min | max
    sql: str
    attribute: Attribute | None


def _fetch_error(message: str) -> DataverseError:
    return DataverseError("InvalidArgument", message=f"Invalid FetchXML: {message}")


# ----------------------------------------------------------------------------- running
def check_limit(
    service: Service, entity: Entity, source: str, where: str, params: list[Any], limit: int
) -> None:
    """Refuse, as Dataverse does, an aggregate over more records than ``limit``."""
    seen = service.store.scalar(
        f'SELECT COUNT(*) FROM (SELECT 1 FROM "{entity.table}" t0 {source} WHERE {where} '
        f"LIMIT {limit + 1})",
        params,
    )
    if seen > limit:
        raise DataverseError("AggregateQueryRecordLimit")


def _column(alias: str, groups: list[Group], keys: list[str]) -> str:
    """The SELECT column an order alias names (group keys are shared, see ``run``)."""
    for group in groups:
        if group.alias == alias:
            return f'"k{keys.index(group.sql)}"'
    return f'"{alias}"'


def _measure_sql(measure: Measure) -> str:
    if measure.function == "count":
        return "COUNT(*)"
    if measure.function == "countcolumn":
        return f"COUNT({measure.sql})"
    if measure.function == "countdistinct":
        return f"COUNT(DISTINCT {measure.sql})"
    return f"{measure.function.upper()}({measure.sql})"


def run(
    service: Service,
    request: ApiRequest,
    entity: Entity,
    *,
    source: str,
    where: str,
    params: list[Any],
    groups: list[Group],
    measures: list[Measure],
    order: list[tuple[str, bool]],
    limit: int,
    top: int | None,
) -> list[dict[str, Any]]:
    """The groups' rows as JSON-ready dicts, null members left out."""
    check_limit(service, entity, source, where, params, limit)
    groups = _by_prefix(groups)
    known = {g.alias for g in groups} | {m.alias for m in measures}
    keys = list(dict.fromkeys(g.sql for g in groups))  # a date prefix serves several parts
    select = [f'{key} AS "k{i}"' for i, key in enumerate(keys)]
    select += [f'{_measure_sql(m)} AS "{m.alias}"' for m in measures]
    sql = f'SELECT {", ".join(select)} FROM "{entity.table}" t0 {source} WHERE {where}'
    if groups:
        sql += " GROUP BY " + ", ".join(f'"k{i}"' for i in range(len(keys)))
    order_sql = []
    for alias, descending in order:
        if alias not in known:
            raise _fetch_error(f"the order alias '{alias}' names no attribute of the query.")
        order_sql.append(f"{_column(alias, groups, keys)}{' DESC' if descending else ''}")
    order_sql += [_column(g.alias, groups, keys) for g in groups if g.alias not in dict(order)]
    if order_sql:
        sql += " ORDER BY " + ", ".join(order_sql)
    sql += f" LIMIT {min(top or MAX_GROUPS, MAX_GROUPS)}"
    rows = service.store.rows(sql, params)
    formatted = request.prefs.wants(FORMATTED)
    out = []
    for row in rows:
        item: dict[str, Any] = {}
        for group in groups:
            value = row[keys.index(group.sql)]
            _put_group(service, item, group, value, formatted, request)
        for measure, value in zip(measures, row[len(keys) :], strict=True):
            _put_measure(item, measure, value, formatted)
        out.append(item)
    return out


def _put_group(
    service: Service,
    item: dict[str, Any],
    group: Group,
    value: Any,
    formatted: bool,
    request: ApiRequest,
) -> None:
    if value is None:
        return  # null members are left out, as the service leaves them out
    attribute = group.attribute
    if group.date_part is not None:
        if isinstance(value, str):  # a date prefix (see _by_prefix): this group's part of it
            value = int(value[PREFIX_PARTS[group.date_part]])
        item[group.alias] = value
        if formatted:
            item[f"{group.alias}@{FORMATTED}"] = str(value)
        return
    if attribute.type == "Boolean":
        item[group.alias] = bool(value)
        if formatted:
            labels = attribute.options or {0: "No", 1: "Yes"}
            item[f"{group.alias}@{FORMATTED}"] = labels.get(int(value), str(value))
        return
    item[group.alias] = value
    if attribute.type in ("Picklist", "State", "Status") and formatted:
        item[f"{group.alias}@{FORMATTED}"] = attribute.options.get(int(value), str(value))
    elif attribute.is_lookup:
        target = service.store.catalog.entities.get(attribute.targets[0])
        if formatted and target is not None and target.primary_name:
            name = service.store.scalar(
                f'SELECT "{target.primary_name}" FROM "{target.table}" '
                f'WHERE "{target.primary_id}" = ?',
                (value,),
            )
            if name is not None:
                item[f"{group.alias}@{FORMATTED}"] = name
        if request.prefs.wants(LOOKUP_NAME):
            item[f"{group.alias}@{LOOKUP_NAME}"] = attribute.targets[0]


def _put_measure(item: dict[str, Any], measure: Measure, value: Any, formatted: bool) -> None:
    if value is None:
        return
    attribute = measure.attribute
    if measure.function in ("count", "countcolumn", "countdistinct"):
        value = int(value)
    elif measure.function == "avg":
        value = float(value)
    elif attribute is not None and attribute.type in INTEGER_TYPES:
        value = int(value)
    elif attribute is not None and attribute.type in FLOAT_TYPES:
        value = float(value)
    item[measure.alias] = value
    if formatted:
        item[f"{measure.alias}@{FORMATTED}"] = (
            f"{value:,}"
            if isinstance(value, int)
            else f"{value:,.2f}"
            if isinstance(value, float)
            else str(value)
        )


def answer(request: ApiRequest, entity: Entity, rows: list[dict[str, Any]]) -> ApiResponse:
    body = {"@odata.context": f"{request.api_root}/$metadata#{entity.entity_set_name}"}
    return json_response(200, json.dumps({**body, "value": rows}), applied(request))


# ---------------------------------------------------------------------------- FetchXML
def handle_fetch(
    service: Service, request: ApiRequest, compiled: Compiled, xml: str
) -> ApiResponse:
    root = ET.fromstring(xml)  # noqa: S314 - already parsed once by the compiler
    if root.get("page") not in (None, "1") or root.get("paging-cookie"):
        raise _fetch_error("aggregate queries cannot be paged.")
    limit = RECORD_LIMIT
    if root.get("aggregatelimit") is not None:
        text = root.get("aggregatelimit", "")
        if not text.isdigit():
            raise _fetch_error("the aggregatelimit attribute must be a whole number.")
        limit = min(int(text), RECORD_LIMIT)  # the per query limit cannot exceed the default
    groups: list[Group] = []
    measures: list[Measure] = []
    order: list[tuple[str, bool]] = []
    for alias, node in compiled.nodes.items():
        entity, sql_alias = compiled.aliases[alias]
        if node.find("all-attributes") is not None:
            raise _fetch_error("all-attributes cannot be used in an aggregate query.")
        for child in node.findall("attribute"):
            _fetch_column(child, entity, sql_alias, groups, measures)
        if alias == "":
            for child in node.findall("order"):
                if not child.get("alias"):
                    raise _fetch_error("an order in an aggregate query names an alias.")
                order.append(
                    (child.get("alias", ""), child.get("descending", "false").lower() == "true")
                )
    if not measures and not groups:
        raise _fetch_error("an aggregate query needs an attribute with aggregate or groupby.")
    names = [g.alias for g in groups] + [m.alias for m in measures]
    if len(set(names)) != len(names):
        raise _fetch_error("each attribute of an aggregate query needs its own alias.")
    rows = run(
        service,
        request,
        compiled.entity,
        source=" ".join(compiled.joins),
        where=" AND ".join(compiled.where) or "1",
        params=list(compiled.params),
        groups=groups,
        measures=measures,
        order=order,
        limit=limit,
        top=compiled.top or compiled.count,
    )
    return answer(request, compiled.entity, rows)


def _fetch_column(
    node: ET.Element, entity: Entity, sql_alias: str, groups: list[Group], measures: list[Measure]
) -> None:
    name = node.get("name", "")
    attribute = entity.attributes.get(name)
    if attribute is None:
        raise DataverseError("QueryBuilderNoAttribute", entity=entity.logical_name, attribute=name)
    alias = node.get("alias")
    column = f'{sql_alias}."{attribute.logical_name}"'
    function = node.get("aggregate")
    grouped = node.get("groupby", "false").lower() == "true"
    if not alias:
        raise _fetch_error(f"the attribute '{name}' of an aggregate query needs an alias.")
    if function is not None and grouped:
        raise _fetch_error(f"the attribute '{name}' cannot both aggregate and group.")
    if function is not None:
        function = function.lower()
        if function not in FETCH_FUNCTIONS:
            raise _fetch_error(f"'{function}' is not an aggregate function.")
        if function in ("sum", "avg") and attribute.type not in INTEGER_TYPES | FLOAT_TYPES:
            raise _fetch_error(f"{function} needs a numeric attribute, not '{name}'.")
        if function == "countcolumn" and node.get("distinct", "false").lower() == "true":
            function = "countdistinct"
        measures.append(Measure(alias, function, column, attribute))
        return
    if not grouped:
        raise _fetch_error(
            f"the attribute '{name}' needs aggregate or groupby: an aggregate query returns "
            "no plain columns."
        )
    part = node.get("dategrouping")
    if part is not None:
        if attribute.type != "DateTime":
            raise _fetch_error(f"dategrouping needs a date-time attribute, not '{name}'.")
        if part not in DATE_PARTS:
            raise _fetch_error(f"the dategrouping '{part}' is not emulated by the sandbox.")
        groups.append(Group(alias, DATE_PARTS[part].format(c=column), attribute, part, column))
        return
    groups.append(Group(alias, column, attribute))
