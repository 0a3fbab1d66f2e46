"""``query[...]`` filters and ``sort[...]`` orders, turned into SQL, refused like the API does.

Each list endpoint declares the filters and sorts the OpenAPI description gives it; anything
else is a 400 / 1000 with ``validationType: searchFilter[query]`` (the spec's own example; an
unsupported filter answered 400 live too). Text filters match like SQL ``LIKE`` (substring,
case-insensitive) unless ``additionalFlags=exactMatch``; several filters combine with AND;
date ranges take ``YYYY-MM-DD`` or a date-time, a bare ``to`` date covering its whole day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reconcile.sandbox.getresponse.db import decode_id, fmt_time, parse_time
from reconcile.sandbox.getresponse.errors import bad_filter, invalid

_QUERY = re.compile(r"^query\[(\w+)\](?:\[(\w+)\])?$")
_SORT = re.compile(r"^sort\[(\w+)\]$")


@dataclass(frozen=True)
class Filter:
    kind: str  # text | exact | id | range | enum | bool | date
    column: str
    id_kind: str = ""
    choices: tuple[str, ...] = ()


@dataclass
class Query:
    where: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    order: list[tuple[str, str]] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)  # the raw filters, by name

    def add(self, clause: str, value: Any) -> None:
        name = f"q{len(self.params)}"
        self.params[name] = value
        self.where.append(clause.replace(":?", f":{name}"))


def _like(value: str) -> str:
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _bound(name: str, side: str, value: str) -> str:
    try:
        epoch = parse_time(value)
    except ValueError:
        raise invalid(
            f"query[{name}][{side}]",
            "Invalid date, expected YYYY-MM-DD or an ISO 8601 date-time",
            value,
            kind="query",
        ) from None
    if side == "to" and len(value.strip()) == 10:
        epoch += 86399
    return fmt_time(epoch)


def parse(
    params: Any,
    filters: dict[str, Filter],
    sorts: dict[str, str],
    default_order: list[tuple[str, str]],
    unique: str,
) -> Query:
    """Filters and orders from the request's query string. ``unique`` (the row id) is always
    the last sort key, so that pages are stable and keyset paging works."""
    query = Query()
    exact = "exactMatch" in (params.get("additionalFlags") or "").split(",")
    for key, value in params.multi_items():
        matched = _QUERY.match(key)
        if matched:
            _apply(query, filters, matched.group(1), matched.group(2), value, exact)
            continue
        matched = _SORT.match(key)
        if matched:
            name = matched.group(1)
            if name not in sorts:
                raise bad_filter(name, "sort")
            direction = value.upper()
            if direction not in ("ASC", "DESC"):
                raise invalid(key, "Sort direction must be ASC or DESC", value, kind="query")
            query.order.append((sorts[name], direction))
    if not query.order:
        query.order = list(default_order)
    last_direction = query.order[-1][1]
    query.order.append((unique, last_direction))
    return query


def _apply(
    query: Query, filters: dict[str, Filter], name: str, side: str | None, value: str, exact: bool
) -> None:
    spec = filters.get(name)
    if spec is None or (side is not None) != (spec.kind == "range"):
        raise bad_filter(name if side is None else f"{name}][{side}")
    if spec.kind == "range":
        if side not in ("from", "to"):
            raise bad_filter(f"{name}][{side}")
        query.add(f"{spec.column} {'>=' if side == 'from' else '<='} :?", _bound(name, side, value))
        return
    query.values[name] = value
    if spec.kind == "text":
        if exact:
            query.add(f"{spec.column} = :?", value.lower())
        else:
            query.add(f"{spec.column} LIKE :? ESCAPE '\\'", _like(value))
    elif spec.kind == "exact":
        query.add(f"{spec.column} = :?", value)
    elif spec.kind == "id":
        query.add(f"{spec.column} = :?", decode_id(spec.id_kind, value) or -1)
    elif spec.kind in ("enum", "bool"):
        choices = spec.choices or ("true", "false")
        if value not in choices:
            raise invalid(
                f"query[{name}]", f"Allowed values: {', '.join(choices)}", value, kind="query"
            )
        query.add(f"{spec.column} = :?", value)
    elif spec.kind == "date":
        start, end = _bound(name, "from", value), _bound(name, "to", value[:10])
        query.add(f"{spec.column} >= :?", start)
        query.add(f"{spec.column} <= :?", end)


ORIGINS = (
    "import",
    "email",
    "www",
    "panel",
    "leads",
    "sale",
    "api",
    "survey",
    "iphone",
    "copy",
    "landing_page",
    "webinar",
    "website_builder_elegant",
    "chat",
    "course",
    "premium_newsletter",
)

CONTACT_FILTERS = {
    "email": Filter("text", "c.email_key"),
    "name": Filter("text", "coalesce(c.name_key, '')"),
    "campaignId": Filter("id", "c.campaign", "campaign"),
    "origin": Filter("enum", "c.origin", choices=ORIGINS),
    "createdOn": Filter("range", "c.created_on"),
    "changedOn": Filter("range", "c.changed_on"),
}
CONTACT_SORTS = {
    "email": "c.email_key",
    "name": "coalesce(c.name_key, '')",
    "createdOn": "c.created_on",
    "changedOn": "c.changed_on",
    "campaignId": "c.campaign",
}
CAMPAIGN_CONTACT_FILTERS = {key: CONTACT_FILTERS[key] for key in ("email", "name", "createdOn")}
CAMPAIGN_CONTACT_SORTS = {key: CONTACT_SORTS[key] for key in ("email", "name", "createdOn")}

CAMPAIGN_FILTERS = {
    "name": Filter("text", "k.name_key"),
    "isDefault": Filter("bool", "k.is_default"),
}
CAMPAIGN_SORTS = {"name": "k.name_key", "createdOn": "k.created_on"}

FIELD_FILTERS = {"name": Filter("text", "f.name")}
FIELD_SORTS = {"name": "f.name"}

TAG_FILTERS = {
    "name": Filter("text", "t.name_key"),
    "createdAt": Filter("range", "t.created_at"),
}
TAG_SORTS = {"name": "t.name_key", "createdAt": "t.created_at"}

FROM_FIELD_FILTERS = {
    "email": Filter("text", "lower(ff.email)"),
    "name": Filter("text", "lower(ff.name)"),
    "isDefault": Filter("bool", "ff.is_default"),
    "isActive": Filter("bool", "ff.is_active"),
}
FROM_FIELD_SORTS = {"createdOn": "ff.created_on"}

NEWSLETTER_FILTERS = {
    "subject": Filter("text", "lower(n.subject)"),
    "name": Filter("text", "lower(coalesce(n.name, ''))"),
    "status": Filter("enum", "n.status", choices=("enabled", "disabled")),
    "createdOn": Filter("range", "n.created_on"),
    "sendOn": Filter("range", "n.send_on"),
    "type": Filter("enum", "n.type", choices=("draft", "broadcast", "splittest", "automation")),
    "campaignId": Filter("id", "n.campaign", "campaign"),
}
NEWSLETTER_SORTS = {"createdOn": "n.created_on", "sendOn": "coalesce(n.send_on, '')"}

IMPORT_FILTERS = {
    "campaignId": Filter("id", "i.campaign", "campaign"),
    "createdOn": Filter("range", "i.created_on"),
}
IMPORT_SORTS = {
    "createdOn": "i.created_on",
    "finishedOn": "coalesce(i.finished_on, '')",
    "campaignName": "k.name_key",
    "uploadedContacts": "json_extract(i.statistics, '$.uploaded')",
    "updatedContacts": "json_extract(i.statistics, '$.updated')",
    "addedContacts": "json_extract(i.statistics, '$.addedToList')",
    "invalidContacts": "json_extract(i.statistics, '$.invalid')",
    "status": "i.status",
}

ACTIVITY_FILTERS = {"createdOn": Filter("range", "a.created_on")}
NEWSLETTER_ACTIVITY_FILTERS = {
    "activity": Filter("enum", "a.activity", choices=("send", "open", "click")),
    "createdOn": Filter("range", "a.created_on"),
}
NEWSLETTER_ACTIVITY_SORTS = {"createdOn": "a.created_on"}
