"""Running a collection query: filter, order, page with a paging cookie, count.

Paging is keyset paging, as Dataverse's paging cookies are: the ``$skiptoken`` carries the
last row's ordering values (and primary id), so the next page starts right after it however
many rows were inserted meanwhile, and page 20 of 100,000 rows costs what page 1 costs. The
token has the service's shape: ``<cookie pagenumber="2" pagingcookie="%253ccookie page..."
istracking="False" />``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import quoteattr

from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.filters import Translator
from reconcile.sandbox.dataverse.models import INTEGER_TYPES, Attribute, Entity
from reconcile.sandbox.dataverse.odata import MAX_PAGE, Preferences, QueryOptions
from reconcile.sandbox.dataverse.render import Renderer, order_sql
from reconcile.sandbox.dataverse.store import Store
from reconcile.sandbox.dataverse.terms import FilterContext, odata_error

ROOT = "t0"


@dataclass
class Page:
    rows: list[str]  # JSON objects, one per row
    next_token: str | None  # the $skiptoken of the next page, if there is one
    count: int | None = None  # for $count=true (capped at 5,000)
    total: int | None = None  # the real number of matching rows


def run_query(
    store: Store,
    entity: Entity,
    options: QueryOptions,
    prefs: Preferences,
    context: FilterContext,
    *,
    where: str = "",
    where_params: tuple[Any, ...] = (),
    joins: str = "",
) -> Page:
    renderer = Renderer(store.catalog, prefs, context)
    row = renderer.row_sql(entity, ROOT, options)
    translator = Translator(store.catalog, context)
    conditions = [where] if where else []
    params: list[Any] = list(where_params)
    if options.filter is not None:
        conditions.append(translator.where(options.filter, entity, ROOT))
        params.extend(translator.params)
    order = _order(entity, options)
    filter_sql = " AND ".join(f"({c})" for c in conditions) or "1"

    if prefs.maxpagesize is not None or options.top is None:
        size = min(prefs.maxpagesize or MAX_PAGE, MAX_PAGE)
        limit_total = None
    else:
        size = min(options.top, MAX_PAGE)
        limit_total = options.top
    page_number, keyset = 1, ""
    keyset_params: list[Any] = []
    if options.skiptoken:
        page_number, last = decode_skiptoken(options.skiptoken, entity, order)
        keyset, keyset_params = keyset_condition(order, last)
    if limit_total is not None:
        size = max(0, min(size, limit_total - (page_number - 1) * size))
    page_where = f"{filter_sql} AND ({keyset})" if keyset else filter_sql
    order_columns = ", ".join(f'{ROOT}."{a.logical_name}"' for a, _ in order)
    sql = (
        f'SELECT {row}, {order_columns} FROM "{entity.table}" {ROOT} {joins} '
        f"WHERE {page_where} ORDER BY {order_sql(entity, ROOT, order)} "
        f"LIMIT {size + 1}"
    )
    fetched = store.rows(sql, [*renderer.params, *params, *keyset_params])
    more = len(fetched) > size
    fetched = fetched[:size]
    next_token = None
    if more and fetched and (limit_total is None or page_number * size < limit_total):
        next_token = encode_skiptoken(page_number + 1, order, fetched[0][1:], fetched[-1][1:])
    page = Page([r[0] for r in fetched], next_token)
    if options.count:
        total = store.scalar(
            f'SELECT COUNT(*) FROM "{entity.table}" {ROOT} {joins} WHERE {filter_sql}', params
        )
        page.total = int(total)
        page.count = min(page.total, MAX_PAGE)
    return page


def _order(entity: Entity, options: QueryOptions) -> list[tuple[Attribute, bool]]:
    order = list(options.orderby)
    if entity.primary_id not in [a.logical_name for a, _ in order]:
        order.append((entity.attributes[entity.primary_id], False))
    return order


def get_one(
    store: Store,
    entity: Entity,
    record_id: str,
    options: QueryOptions,
    prefs: Preferences,
    context: FilterContext,
) -> str | None:
    renderer = Renderer(store.catalog, prefs, context)
    row = renderer.row_sql(entity, ROOT, options)
    found = store.rows(
        f'SELECT {row} FROM "{entity.table}" {ROOT} WHERE {ROOT}."{entity.primary_id}" = ?',
        [*renderer.params, record_id],
    )
    return found[0][0] if found else None


# ---------------------------------------------------------------------------- cookies
def skiptoken_query_value(token: str) -> str:
    """The token as it appears in a nextLink: the cookie attribute stays percent-encoded, as
    the service leaves it, so that decoding the query string once yields it once-encoded."""
    head, cookie, tail = re.match(r'(.*pagingcookie=")([^"]*)(".*)', token, re.S).groups()  # type: ignore[union-attr]
    return quote(head, safe="=/") + cookie + quote(tail, safe="=/")


def encode_skiptoken(
    page_number: int,
    order: list[tuple[Attribute, bool]],
    first: tuple[Any, ...],
    last: tuple[Any, ...],
) -> str:
    parts = []
    for (attribute, _), first_value, last_value in zip(order, first, last, strict=True):
        attrs = []
        for label, value in (("last", last_value), ("first", first_value)):
            if value is None:
                attrs.append(f'{label}null="1"')
            else:
                attrs.append(f"{label}={quoteattr(_cookie_value(attribute, value))}")
        parts.append(f"<{attribute.logical_name} {' '.join(attrs)} />")
    inner = f'<cookie page="{page_number - 1}">{"".join(parts)}</cookie>'
    cookie = re.sub(
        r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(quote(inner, safe=""), safe="")
    )
    return f'<cookie pagenumber="{page_number}" pagingcookie="{cookie}" istracking="False" />'


def _cookie_value(attribute: Attribute, value: Any) -> str:
    if attribute.type in ("Uniqueidentifier", "Lookup", "Customer", "Owner"):
        return "{" + str(value).upper() + "}"
    return str(value)


_TOKEN_RE = re.compile(r'pagenumber="(\d+)"\s+pagingcookie="([^"]*)"')


def decode_skiptoken(
    token: str, entity: Entity, order: list[tuple[Attribute, bool]]
) -> tuple[int, list[Any]]:
    """(page number, the last row's ordering values); 400 for a token of another query."""
    match = _TOKEN_RE.search(token)
    if not match:
        raise odata_error("The $skiptoken is not valid. Follow @odata.nextLink unchanged.")
    cookie = match.group(2)
    for _ in range(3):  # once-encoded in a followed nextLink, twice in a FetchXML annotation
        if cookie.startswith("<"):
            break
        cookie = unquote(cookie)
    try:
        root = ET.fromstring(cookie)  # noqa: S314 - expat >= 2.4 caps entity expansion
    except ET.ParseError:
        raise odata_error(
            "The $skiptoken is not valid. Follow @odata.nextLink unchanged."
        ) from None
    elements = list(root)
    if [e.tag for e in elements] != [a.logical_name for a, _ in order]:
        raise odata_error("The $skiptoken does not belong to this query ($orderby changed).")
    values: list[Any] = []
    for (attribute, _), element in zip(order, elements, strict=True):
        if element.get("lastnull") == "1":
            values.append(None)
            continue
        text = element.get("last", "")
        if attribute.type in INTEGER_TYPES or attribute.type == "Boolean":
            values.append(int(text))
        elif attribute.type in ("Decimal", "Double", "Money"):
            values.append(float(text))
        elif text.startswith("{") and text.endswith("}"):
            values.append(text[1:-1].lower())
        else:
            values.append(text)
    return int(match.group(1)), values


def keyset_condition(order: list[tuple[Attribute, bool]], last: list[Any]) -> tuple[str, list[Any]]:
    """Rows strictly after ``last`` in this order (NULLs first ascending, as SQLite sorts)."""
    ors, params = [], []
    for i, (attribute, desc) in enumerate(order):
        ands, local = [], []
        for (prev, _), value in zip(order[:i], last[:i], strict=True):
            column = f'{ROOT}."{prev.logical_name}"'
            if value is None:
                ands.append(f"{column} IS NULL")
            else:
                ands.append(f"{column} = ?")
                local.append(value)
        column = f'{ROOT}."{attribute.logical_name}"'
        value = last[i]
        if value is None:
            if desc:
                continue  # nothing sorts after NULL in descending order
            ands.append(f"{column} IS NOT NULL")
        elif desc:
            ands.append(f"({column} < ? OR {column} IS NULL)")
            local.append(value)
        else:
            ands.append(f"{column} > ?")
            local.append(value)
        ors.append("(" + " AND ".join(ands) + ")")
        params.extend(local)
    if not ors:
        raise DataverseError("ODataSyntax", message="The $skiptoken is not valid.")
    return " OR ".join(ors), params
