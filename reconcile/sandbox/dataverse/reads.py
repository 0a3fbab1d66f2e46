"""Reading rows over the Web API, and the response pieces every reader shares: the
``@odata.context`` URL, a page of rows with its ``@odata.nextLink``, ``Preference-Applied``.

Used by the entity-set requests (:mod:`.entityset`), navigation properties
(:mod:`.navigation`) and the list actions (:mod:`.marketing`), which is why it is not in any
of them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from reconcile.sandbox.dataverse.api import ApiRequest, ApiResponse, applied, json_response
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.models import Entity
from reconcile.sandbox.dataverse.odata import MAX_PAGE, QueryOptions, parse_options
from reconcile.sandbox.dataverse.query import Page, get_one, skiptoken_query_value

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.service import Service


def context_url(
    request: ApiRequest, entity: Entity, options: QueryOptions | None, *, single: bool = False
) -> str:
    shape = ""
    if options is not None and (options.select is not None or options.expand):
        shape = "(" + _shape(options) + ")"
    suffix = "/$entity" if single else ""
    return f"{request.api_root}/$metadata#{entity.entity_set_name}{shape}{suffix}"


def _shape(options: QueryOptions) -> str:
    """``name,primarycontactid(fullname,parentcustomerid_account(name))``: the selected
    columns and, nested, what each expansion selects (as Microsoft Learn's answers show)."""
    names = [a.wire_name for a in options.select or []]
    names += [f"{item.nav}({_shape(item.options)})" for item in options.expand]
    return ",".join(names)


def next_link(request: ApiRequest, token: str) -> str:
    kept = [(k, v) for k, v in request.params if k != "$skiptoken"]
    query = "&".join(f"{k}={quote(v, safe=chr(39) + '$,()=@:/')}" for k, v in kept)
    path = "/".join(s.text for s in request.path.segments)
    encoded = skiptoken_query_value(token)
    joiner = "&" if query else ""
    return f"{request.api_root}/{path}?{query}{joiner}$skiptoken={encoded}"


def page_body(
    request: ApiRequest, context: str, page: Page, *, extra: dict[str, Any] | None = None
) -> str:
    head: dict[str, Any] = {"@odata.context": context}
    if page.count is not None:
        head["@odata.count"] = page.count
        if request.prefs.wants("Microsoft.Dynamics.CRM.totalrecordcount"):
            head["@Microsoft.Dynamics.CRM.totalrecordcount"] = page.count
            head["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] = (
                page.total or 0
            ) > MAX_PAGE
    head.update(extra or {})
    text = json.dumps(head, separators=(",", ":"))[:-1] + ',"value":[' + ",".join(page.rows) + "]"
    if page.next_token is not None:
        text += ',"@odata.nextLink":' + json.dumps(next_link(request, page.next_token))
    return text + "}"


def paging_headers(request: ApiRequest) -> list[tuple[str, str]]:
    extra = []
    if request.prefs.maxpagesize is not None:
        extra.append(f"odata.maxpagesize={min(request.prefs.maxpagesize, MAX_PAGE)}")
    return applied(request, extra)


def read(service: Service, request: ApiRequest, entity: Entity, key: dict[str, Any]) -> ApiResponse:
    service.security.require(request.user, "Read", entity)
    record_id = service.rows.parser.find(entity, key)
    options = parse_options(service.store.catalog, entity, request.params)
    if_none_match = request.header("if-none-match")
    if if_none_match and if_none_match.strip() not in ("null", "*"):
        version = service.store.scalar(
            f'SELECT versionnumber FROM "{entity.table}" WHERE "{entity.primary_id}" = ?',
            (record_id,),
        )
        if f'W/"{version}"' in [t.strip() for t in if_none_match.split(",")]:
            return ApiResponse(304, [("OData-Version", "4.0")])
    row = get_one(
        service.store, entity, record_id, options, request.prefs, service.context(request)
    )
    if row is None:
        raise DataverseError("ObjectDoesNotExist", entity=entity.logical_name, id=record_id)
    return json_response(
        200, with_context(row, context_url(request, entity, options, single=True)), applied(request)
    )


def with_context(row: str, context: str) -> str:
    return '{"@odata.context":' + json.dumps(context) + "," + row[1:] if len(row) > 2 else row


def representation(service: Service, request: ApiRequest, entity: Entity, record_id: str) -> str:
    options = parse_options(service.store.catalog, entity, request.params)
    row = get_one(
        service.store, entity, record_id, options, request.prefs, service.context(request)
    )
    return with_context(row or "{}", context_url(request, entity, options, single=True))
