"""FetchXML: ``GET contacts?fetchXml=<fetch>...</fetch>`` and dynamic marketing lists' queries.

Supported: ``attribute``/``all-attributes``, ``order``, nested ``filter`` (and/or) with the usual
condition operators (including ``eq-userid``, which a list filtered on "owner equals current
user" uses), ``link-entity`` joins (inner/outer, nested, their columns as ``alias.column``),
``top``, ``distinct``, simple paging (``count``/``page``) and paging cookies. As on the service,
null columns are left out of the rows.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from reconcile.sandbox.dataverse.api import ApiRequest, ApiResponse, applied, json_response
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.functions import date_range, range_condition
from reconcile.sandbox.dataverse.models import FLOAT_TYPES, INTEGER_TYPES, Attribute, Entity
from reconcile.sandbox.dataverse.query import decode_skiptoken, encode_skiptoken, keyset_condition
from reconcile.sandbox.dataverse.render import Renderer, json_object_sql
from reconcile.sandbox.dataverse.store import Store
from reconcile.sandbox.dataverse.terms import FilterContext
from reconcile.sandbox.dataverse.values import parse_datetime

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.service import Service

MAX_PAGE = 5000
SIMPLE_PAGING_LIMIT = 50000
DATE_OPERATORS = {
    "today": "Today",
    "yesterday": "Yesterday",
    "tomorrow": "Tomorrow",
    "last-x-days": "LastXDays",
    "last-x-hours": "LastXHours",
    "next-x-days": "NextXDays",
    "older-than-x-days": "OlderThanXDays",
    "older-than-x-hours": "OlderThanXHours",
    "on": "On",
    "on-or-after": "OnOrAfter",
    "on-or-before": "OnOrBefore",
}
PATTERN_OPERATORS = (
    "like",
    "not-like",
    "begins-with",
    "not-begin-with",
    "ends-with",
    "not-end-with",
)
OTHER_OPERATORS = (
    *PATTERN_OPERATORS,
    "in",
    "not-in",
    "null",
    "not-null",
    "between",
    "not-between",
    "eq-userid",
    "ne-userid",
    "eq-businessid",
    "ne-businessid",
)
COMPARISONS = {"eq": "=", "ne": "!=", "neq": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def operators() -> list[str]:
    """Every condition operator the sandbox evaluates."""
    return [*COMPARISONS, *OTHER_OPERATORS, *DATE_OPERATORS]


def bad_fetch(message: str) -> DataverseError:
    return DataverseError("InvalidArgument", message=f"Invalid FetchXML: {message}")


@dataclass
class Compiled:
    entity: Entity
    joins: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    columns: list[tuple[str, Entity, str, Attribute]] = field(default_factory=list)  # key prefix
    order: list[tuple[Attribute, bool]] = field(default_factory=list)
    aliases: dict[str, tuple[Entity, str]] = field(
        default_factory=dict
    )  # alias -> (table, sql alias)
    distinct: bool = False
    top: int | None = None
    count: int | None = None
    page: int = 1
    cookie: str | None = None
    aggregate: bool = False
    nodes: dict[str, ET.Element] = field(default_factory=dict)  # alias -> entity / link node


class FetchCompiler:
    def __init__(self, store: Store, context: FilterContext) -> None:
        self.store = store
        self.catalog = store.catalog
        self.context = context
        self._n = 0

    def compile(self, xml: str, expected: Entity | None = None) -> Compiled:
        try:
            fetch = ET.fromstring(xml)  # noqa: S314 - expat >= 2.4 caps entity expansion
        except ET.ParseError as exc:
            raise bad_fetch(f"the XML is not well formed ({exc}).") from None
        if fetch.tag != "fetch":
            raise bad_fetch("the root element must be <fetch>.")
        aggregate = fetch.get("aggregate", "false").lower() == "true"
        node = fetch.find("entity")
        if node is None:
            raise bad_fetch("<fetch> needs an <entity> element.")
        entity = self._entity(node.get("name", ""))
        if expected is not None and entity is not expected:
            raise bad_fetch(
                f"the query is on '{entity.logical_name}', not on the "
                f"'{expected.entity_set_name}' entity set it was sent to."
            )
        compiled = Compiled(entity)
        compiled.aggregate = aggregate
        compiled.distinct = fetch.get("distinct", "false").lower() == "true"
        compiled.top = _int_attr(fetch, "top")
        compiled.count = _int_attr(fetch, "count")
        compiled.page = _int_attr(fetch, "page") or 1
        compiled.cookie = fetch.get("paging-cookie")
        if compiled.top is not None and (compiled.count is not None or fetch.get("page")):
            raise bad_fetch("the top attribute cannot be used with count or page (paging).")
        compiled.aliases[""] = (entity, "t0")
        compiled.nodes[""] = node
        self._columns(node, entity, "t0", "", compiled)
        for child in node:
            if child.tag == "order" and aggregate:
                continue  # orders name aliases: read by the aggregate module
            if child.tag == "order":
                name = child.get("attribute")
                if child.get("alias"):
                    raise bad_fetch("an order on an alias needs an aggregate query.")
                compiled.order.append(
                    (
                        self._attribute(entity, name or ""),
                        child.get("descending", "false").lower() == "true",
                    )
                )
            elif child.tag == "filter":
                compiled.where.append(self._filter(child, compiled, entity, "t0"))
            elif child.tag == "link-entity":
                self._link(child, compiled, entity, "t0")
        return compiled

    def _entity(self, name: str) -> Entity:
        entity = self.catalog.entity(name)
        if entity is None:
            raise DataverseError(
                "InvalidArgument",
                message=f"The entity with a name = '{name}' with "
                "namemapping = 'Logical' was not found in the MetadataCache.",
            )
        return entity

    @staticmethod
    def _attribute(entity: Entity, name: str) -> Attribute:
        attribute = entity.attributes.get(name)
        if attribute is None:
            raise DataverseError(
                "QueryBuilderNoAttribute", entity=entity.logical_name, attribute=name
            )
        return attribute

    def _columns(
        self, node: ET.Element, entity: Entity, alias: str, prefix: str, compiled: Compiled
    ) -> None:
        if compiled.aggregate:
            return  # aggregate and group-by columns: see aggregate.py
        if node.find("all-attributes") is not None:
            for attribute in entity.attributes.values():
                compiled.columns.append((prefix, entity, alias, attribute))
            return
        for child in node.findall("attribute"):
            attribute = self._attribute(entity, child.get("name", ""))
            compiled.columns.append((prefix, entity, alias, attribute))

    def _link(
        self, node: ET.Element, compiled: Compiled, parent: Entity, parent_alias: str
    ) -> None:
        entity = self._entity(node.get("name", ""))
        self._n += 1
        sql_alias = f"l{self._n}"
        to_attr = self._attribute(parent, node.get("to") or parent.primary_id)
        from_attr = self._attribute(entity, node.get("from") or entity.primary_id)
        kind = "LEFT JOIN" if node.get("link-type", "inner") == "outer" else "JOIN"
        compiled.joins.append(
            f'{kind} "{entity.table}" {sql_alias} ON {sql_alias}."{from_attr.logical_name}" '
            f'= {parent_alias}."{to_attr.logical_name}"'
        )
        alias = node.get("alias") or f"{entity.logical_name}{self._n}"
        compiled.aliases[alias] = (entity, sql_alias)
        compiled.nodes[alias] = node
        self._columns(node, entity, sql_alias, f"{alias}.", compiled)
        for child in node:
            if child.tag == "filter":
                compiled.where.append(self._filter(child, compiled, entity, sql_alias))
            elif child.tag == "link-entity":
                self._link(child, compiled, entity, sql_alias)

    def _filter(self, node: ET.Element, compiled: Compiled, entity: Entity, alias: str) -> str:
        joiner = " OR " if node.get("type", "and").lower() == "or" else " AND "
        parts = []
        for child in node:
            if child.tag == "condition":
                parts.append(self._condition(child, compiled, entity, alias))
            elif child.tag == "filter":
                parts.append(self._filter(child, compiled, entity, alias))
        return "(" + joiner.join(parts) + ")" if parts else "1"

    def _condition(self, node: ET.Element, compiled: Compiled, entity: Entity, alias: str) -> str:
        linked = node.get("entityname")
        if linked:
            if linked not in compiled.aliases:
                raise bad_fetch(f"no link-entity has the alias '{linked}'.")
            entity, alias = compiled.aliases[linked]
        attribute = self._attribute(entity, node.get("attribute", ""))
        column = f'{alias}."{attribute.logical_name}"'
        operator = node.get("operator", "")
        raw = node.get("value")
        values = [v.text or "" for v in node.findall("value")]
        params = compiled.params

        def bind(text: str | None) -> str:
            if text is None:
                raise bad_fetch(
                    f"the '{operator}' condition on '{attribute.logical_name}' needs a value."
                )
            params.append(_typed(attribute, text))
            return "?"

        if operator in COMPARISONS:
            op = COMPARISONS[operator]
            if op == "!=":
                return f"({column} IS NOT {bind(raw)})"
            return f"({column} {op} {bind(raw)})"
        if operator in PATTERN_OPERATORS:
            text = raw or ""
            pattern = {
                "begins-with": f"{text}%",
                "not-begin-with": f"{text}%",
                "ends-with": f"%{text}",
                "not-end-with": f"%{text}",
            }.get(operator, text)
            params.append(pattern)
            negate = "NOT " if operator.startswith("not") else ""
            return f"({column} {negate}LIKE ?)"
        if operator in ("in", "not-in"):
            items = values or ([raw] if raw is not None else [])
            marks = ", ".join(bind(v) for v in items) or "NULL"
            return f"({column} {'NOT ' if operator == 'not-in' else ''}IN ({marks}))"
        if operator in ("null", "not-null"):
            return f"({column} IS {'NOT ' if operator == 'not-null' else ''}NULL)"
        if operator in ("between", "not-between"):
            if len(values) != 2:
                raise bad_fetch(f"'{operator}' takes two <value> elements.")
            sql = f"({column} BETWEEN {bind(values[0])} AND {bind(values[1])})"
            return f"(NOT {sql})" if operator == "not-between" else sql
        if operator in ("eq-userid", "ne-userid", "eq-businessid", "ne-businessid"):
            params.append(
                self.context.user_id if "userid" in operator else self.context.business_unit_id
            )
            return f"({column} {'=' if operator.startswith('eq') else '!='} ?)"
        return self._date_condition(operator, raw, column, attribute, params)

    def _date_condition(
        self, operator: str, raw: str | None, column: str, attribute: Attribute, params: list[Any]
    ) -> str:
        name = DATE_OPERATORS.get(operator)
        if name is None:
            raise bad_fetch(f"the condition operator '{operator}' is not supported by the sandbox.")
        number = int(raw) if raw and raw.lstrip("-").isdigit() else None
        day = None
        if name in ("On", "OnOrAfter", "OnOrBefore") and raw:
            day = datetime.fromisoformat(parse_datetime(raw).replace("Z", "+00:00"))
        bounds = date_range(name, self.context.now or datetime.now(UTC), number, day)
        if bounds is None:
            raise bad_fetch(f"the '{operator}' condition needs a value.")
        return range_condition(column, bounds, attribute.format == "DateOnly", params)


def _int_attr(node: ET.Element, name: str) -> int | None:
    value = node.get(name)
    if value is None:
        return None
    if not value.isdigit():
        raise bad_fetch(f"the {name} attribute must be a whole number.")
    return int(value)


def _typed(attribute: Attribute, text: str) -> Any:
    text = text.strip()
    if attribute.type == "Boolean":
        return 1 if text.lower() in ("1", "true") else 0
    if attribute.type in INTEGER_TYPES:
        return int(text)
    if attribute.type in FLOAT_TYPES:
        return float(text)
    if attribute.type in ("Uniqueidentifier", "Lookup", "Customer", "Owner"):
        return text.strip("{}").lower()
    if attribute.type == "DateTime":
        return parse_datetime(text, date_only=attribute.format == "DateOnly")
    return text


def matching_ids(store: Store, xml: str, context: FilterContext) -> tuple[Entity, list[str]]:
    """Primary ids of every row a FetchXML query selects (for dynamic marketing lists)."""
    compiled = FetchCompiler(store, context).compile(xml)
    entity = compiled.entity
    where = " AND ".join(compiled.where) or "1"
    rows = store.rows(
        f'SELECT DISTINCT t0."{entity.primary_id}" FROM "{entity.table}" t0 '
        f"{' '.join(compiled.joins)} WHERE {where}",
        compiled.params,
    )
    return entity, [r[0] for r in rows]


def compile_request(service: Service, request: ApiRequest, entity: Entity, xml: str) -> Compiled:
    """The query of ``?fetchXml=`` on ``entity``'s set; an aggregate one is answered by
    :mod:`.aggregate`, any other by :func:`handle` (the entity set's handler chooses)."""
    return FetchCompiler(service.store, service.context(request)).compile(xml, entity)


def handle(service: Service, request: ApiRequest, compiled: Compiled) -> ApiResponse:
    entity = compiled.entity
    order = list(compiled.order)
    if entity.primary_id not in [a.logical_name for a, _ in order]:
        order.append((entity.attributes[entity.primary_id], False))
    size = min(compiled.count or MAX_PAGE, MAX_PAGE)
    if compiled.top is not None:
        size = min(compiled.top, MAX_PAGE)
    where = list(compiled.where)
    params = list(compiled.params)
    offset = 0
    if compiled.cookie:
        last = _cookie_values(compiled.cookie, entity, order)
        keyset, keyset_params = keyset_condition(order, last)
        where.append(f"({keyset})")
        params.extend(keyset_params)
    elif compiled.page > 1:
        offset = (compiled.page - 1) * size
        if offset >= SIMPLE_PAGING_LIMIT:
            raise bad_fetch(
                "simple paging (page/count) cannot go past 50,000 records; use paging cookies."
            )
    renderer = Renderer(service.store.catalog, request.prefs, service.context(request))
    pairs = []
    for prefix, table, alias, attribute in compiled.columns:
        for key, sql in renderer.column_pairs(table, alias, attribute):
            pairs.append((prefix + key, sql))
    if entity.primary_id not in [a.logical_name for p, _, _, a in compiled.columns if not p]:
        pairs.append((entity.primary_id, f't0."{entity.primary_id}"'))
    row_sql = (
        f"json_patch('{{}}', {json_object_sql(pairs)})"  # null members dropped, as FetchXML does
    )
    order_by = ", ".join(f't0."{a.logical_name}"{" DESC" if d else ""}' for a, d in order)
    order_cols = ", ".join(f't0."{a.logical_name}"' for a, _ in order)
    group = f' GROUP BY t0."{entity.primary_id}"' if compiled.distinct or compiled.joins else ""
    sql = (
        f'SELECT {row_sql}, {order_cols} FROM "{entity.table}" t0 {" ".join(compiled.joins)} '
        f"WHERE {' AND '.join(where) or '1'}{group} ORDER BY {order_by} "
        f"LIMIT {size + 1} OFFSET {offset}"
    )
    fetched = service.store.rows(sql, [*renderer.params, *params])
    more = len(fetched) > size and compiled.top is None
    fetched = fetched[:size]
    body = {"@odata.context": f"{request.api_root}/$metadata#{entity.entity_set_name}"}
    if request.prefs.wants("Microsoft.Dynamics.CRM.morerecords"):
        body["@Microsoft.Dynamics.CRM.morerecords"] = more  # type: ignore[assignment]
    if more and fetched and request.prefs.wants("Microsoft.Dynamics.CRM.fetchxmlpagingcookie"):
        body["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"] = encode_skiptoken(
            compiled.page + 1, order, fetched[0][1:], fetched[-1][1:]
        )
    text = (
        json.dumps(body, separators=(",", ":"))[:-1]
        + ',"value":['
        + ",".join(r[0] for r in fetched)
        + "]}"
    )
    return json_response(200, text, applied(request))


def _cookie_values(cookie: str, entity: Entity, order: list[tuple[Attribute, bool]]) -> list[Any]:
    """The last row's ordering values from a decoded ``<cookie page="1">...</cookie>``."""
    from urllib.parse import quote

    token = f'pagenumber="0" pagingcookie="{quote(quote(cookie, safe=""), safe="")}"'
    return decode_skiptoken(token, entity, order)[1]
