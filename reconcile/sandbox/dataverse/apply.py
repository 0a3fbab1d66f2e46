"""OData ``$apply`` as Dataverse answers it: ``filter(...)``, ``groupby((a,b),aggregate(...))``
and ``aggregate(x with sum|min|max|average|countdistinct as y, $count as n)``, over at most
50,000 records, run by the same engine as FetchXML aggregates (``aggregate.py``).
``groupby`` on a date-time and ``$orderby`` on an aggregated value are refused with the
documented errors [D15]."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reconcile.sandbox.dataverse import aggregate
from reconcile.sandbox.dataverse.aggregate import Group, Measure, answer, run
from reconcile.sandbox.dataverse.api import ApiRequest, ApiResponse
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.filters import Translator, odata_error, parse_expression
from reconcile.sandbox.dataverse.models import FLOAT_TYPES, INTEGER_TYPES, Attribute, Entity
from reconcile.sandbox.dataverse.paths import split_outside

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.service import Service

APPLY_FUNCTIONS = {"sum": "sum", "min": "min", "max": "max", "average": "avg"}
_GROUPBY = re.compile(r"^groupby\(\((.*?)\)\s*(?:,\s*aggregate\((.*)\))?\)$", re.S)
_AGGREGATE = re.compile(r"^aggregate\((.*)\)$", re.S)
_FILTER = re.compile(r"^filter\((.*)\)$", re.S)
_WITH = re.compile(r"^([A-Za-z_][\w]*)\s+with\s+(\w+)\s+as\s+([A-Za-z_]\w*)$")
_COUNT = re.compile(r"^\$count\s+as\s+([A-Za-z_]\w*)$")


def handle_apply(
    service: Service, request: ApiRequest, entity: Entity, apply: str, params: list[tuple[str, str]]
) -> ApiResponse:
    from reconcile.sandbox.dataverse.odata import parse_options, parse_orderby

    orderby = next((v for k, v in params if k == "$orderby"), None)
    options = parse_options(
        service.store.catalog, entity, [(k, v) for k, v in params if k != "$orderby"]
    )
    translator = Translator(service.store.catalog, service.context(request))
    where = []
    if options.filter is not None:
        where.append(translator.where(options.filter, entity, "t0"))
    groups: list[Group] = []
    measures: list[Measure] = []
    steps = split_outside(apply, "/")
    for position, step in enumerate(steps):
        if match := _FILTER.match(step):
            if groups or measures:
                raise odata_error("The sandbox emulates filter() only before groupby/aggregate.")
            expression = parse_expression(match.group(1), options.aliases)
            where.append(translator.where(expression, entity, "t0"))
            continue
        if position != len(steps) - 1:
            raise odata_error("The sandbox emulates groupby/aggregate as the last transformation.")
        if match := _GROUPBY.match(step):
            for name in [n.strip() for n in match.group(1).split(",") if n.strip()]:
                attribute = _apply_property(entity, name)
                if attribute.type == "DateTime":
                    raise odata_error("groupby with datetime values is not supported.")
                groups.append(Group(name, f't0."{attribute.logical_name}"', attribute))
            if match.group(2):
                measures.extend(_apply_measures(entity, match.group(2)))
        elif match := _AGGREGATE.match(step):
            measures.extend(_apply_measures(entity, match.group(1)))
        else:
            raise odata_error(f"The sandbox does not emulate the $apply transformation '{step}'.")
    order = []
    if orderby:
        aliases = {m.alias for m in measures}
        if any(part.split()[0] in aliases for part in orderby.split(",") if part.strip()):
            raise odata_error("The query node SingleValueOpenPropertyAccess is not supported.")
        for attribute, descending in parse_orderby(entity, orderby):
            order.append((attribute.wire_name, descending))
    rows = run(
        service,
        request,
        entity,
        source="",
        where=" AND ".join(f"({w})" for w in where) or "1",
        params=translator.params,
        groups=groups,
        measures=measures,
        order=order,
        limit=aggregate.RECORD_LIMIT,  # read when called: tests make it small
        top=options.top,
    )
    return answer(request, entity, rows)


def _apply_property(entity: Entity, name: str) -> Attribute:
    if "/" in name:
        raise odata_error(f"The sandbox does not emulate grouping by the path '{name}'.")
    attribute = entity.by_wire_name(name)
    if attribute is None:
        raise DataverseError("ODataUnknownProperty", name=name, entity=entity.logical_name)
    return attribute


def _apply_measures(entity: Entity, text: str) -> list[Measure]:
    measures = []
    for part in split_outside(text):
        if match := _COUNT.match(part):
            measures.append(Measure(match.group(1), "count", "", None))
            continue
        match = _WITH.match(part)
        if match is None:
            raise odata_error(f"Syntax error in the aggregate expression '{part}'.")
        name, method, alias = match.groups()
        attribute = _apply_property(entity, name)
        column = f't0."{attribute.logical_name}"'
        if method == "countdistinct":
            measures.append(Measure(alias, "countdistinct", column, attribute))
        elif method in APPLY_FUNCTIONS:
            if method in ("sum", "average") and attribute.type not in INTEGER_TYPES | FLOAT_TYPES:
                raise odata_error(f"The aggregate method '{method}' needs a numeric property.")
            measures.append(Measure(alias, APPLY_FUNCTIONS[method], column, attribute))
        else:
            raise odata_error(f"The aggregate method '{method}' is not supported.")
    return measures
