"""Requests on a table's entity set: list, create, read, update/upsert, delete, properties.

``contacts``, ``contacts(<id>)``, ``contacts(emailaddress1='o''brien@x.com')``,
``contacts(<id>)/lastname``, ``contacts/$count``; navigation properties and ``$ref`` are in
:mod:`.navigation`, bound actions in :mod:`.actions`, what readers share in :mod:`.reads`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconcile.sandbox.dataverse import (
    actions,
    aggregate,
    changes,
    customizations,
    fetchxml,
    navigation,
)
from reconcile.sandbox.dataverse import apply as apply_option
from reconcile.sandbox.dataverse.api import (
    ApiRequest,
    ApiResponse,
    detect_duplicates,
    json_response,
    no_content,
    not_allowed,
)
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.models import Entity
from reconcile.sandbox.dataverse.odata import parse_options
from reconcile.sandbox.dataverse.query import run_query
from reconcile.sandbox.dataverse.reads import (
    context_url,
    page_body,
    paging_headers,
    read,
    representation,
)

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.service import Service

ACTION_PREFIX = "Microsoft.Dynamics.CRM."


def handle(service: Service, request: ApiRequest, entity: Entity) -> ApiResponse:
    segments = request.path.segments
    first = segments[0]
    method = request.method
    if not first.has_parens:
        if len(segments) == 1:
            if method == "GET":
                return list_rows(service, request, entity)
            if method == "POST":
                return create(service, request, entity)
            raise not_allowed(method)
        second = segments[1]
        if len(segments) == 2 and second.name == "$count" and method == "GET":
            return count(service, request, entity)
        if len(segments) == 2 and second.name.startswith(ACTION_PREFIX):
            return actions.handle_collection_bound(service, request, entity, second)
        raise DataverseError("ResourceNotFound", segment=second.text)
    key = first.args or {}
    if len(segments) == 1:
        if method == "GET":
            return read(service, request, entity, key)
        if method == "PATCH":
            return patch(service, request, entity, key)
        if method == "DELETE":
            return delete(service, request, entity, key)
        raise not_allowed(method)
    second = segments[1]
    if second.name.startswith(ACTION_PREFIX):
        record_id = service.rows.parser.find(entity, key)
        return actions.handle_entity_bound(service, request, entity, record_id, second)
    if (
        len(segments) <= 3
        and entity.attributes.get(second.name) is not None
        and not second.has_parens
    ):
        value_only = len(segments) == 3 and segments[2].name == "$value"
        if len(segments) == 3 and not value_only:
            raise DataverseError("ResourceNotFound", segment=segments[2].text)
        return navigation.property_request(service, request, entity, key, second.name, value_only)
    return navigation.handle(service, request, entity, key, segments[1:])


# ------------------------------------------------------------------------------- reads
def list_rows(service: Service, request: ApiRequest, entity: Entity) -> ApiResponse:
    service.security.require(request.user, "Read", entity)
    fetch = request.param("fetchXml")
    if fetch is not None:
        compiled = fetchxml.compile_request(service, request, entity, fetch)
        if compiled.aggregate:
            return aggregate.handle_fetch(service, request, compiled, fetch)
        return fetchxml.handle(service, request, compiled)
    apply = request.param("$apply")
    if apply is not None:
        rest = [(k, v) for k, v in request.params if k != "$apply"]
        return apply_option.handle_apply(service, request, entity, apply, rest)
    options = parse_options(service.store.catalog, entity, request.params)
    if request.prefs.track_changes or options.deltatoken is not None:
        return changes.handle(service, request, entity, options)
    page = run_query(service.store, entity, options, request.prefs, service.context(request))
    body = page_body(request, context_url(request, entity, options), page)
    return json_response(200, body, paging_headers(request))


def count(service: Service, request: ApiRequest, entity: Entity) -> ApiResponse:
    service.security.require(request.user, "Read", entity)
    options = parse_options(service.store.catalog, entity, request.params)
    options.count, options.top, options.select = True, 0, []
    page = run_query(service.store, entity, options, request.prefs, service.context(request))
    return ApiResponse(
        200, [("Content-Type", "text/plain"), ("OData-Version", "4.0")], str(page.count).encode()
    )


def entity_id_header(request: ApiRequest, entity: Entity, record_id: str) -> tuple[str, str]:
    return ("OData-EntityId", f"{request.api_root}/{entity.entity_set_name}({record_id})")


# ------------------------------------------------------------------------------ writes
def create(service: Service, request: ApiRequest, entity: Entity) -> ApiResponse:
    result = service.rows.create(
        request.user, entity, request.json(), detect_duplicates=detect_duplicates(request)
    )
    solution = request.header("mscrm.solutionuniquename")
    if solution:
        customizations.add_to_solution(service.store, solution, entity, result.record_id)
    return write_response(service, request, entity, result.record_id, created=True)


def write_response(
    service: Service, request: ApiRequest, entity: Entity, record_id: str, *, created: bool
) -> ApiResponse:
    headers = [entity_id_header(request, entity, record_id)]
    if request.in_batch:
        headers.append(("Location", headers[0][1]))
    if request.prefs.return_representation:
        body = representation(service, request, entity, record_id)
        headers += [("Preference-Applied", "return=representation")]
        return json_response(201 if created else 200, body, headers)
    return no_content(headers)


def patch(
    service: Service, request: ApiRequest, entity: Entity, key: dict[str, Any]
) -> ApiResponse:
    result = service.rows.upsert(
        request.user,
        entity,
        key,
        request.json(),
        if_match=request.header("if-match"),
        if_none_match=request.header("if-none-match")
        if request.header("if-none-match") != "null"
        else None,
        detect_duplicates=detect_duplicates(request),
    )
    return write_response(service, request, entity, result.record_id, created=result.created)


def delete(
    service: Service, request: ApiRequest, entity: Entity, key: dict[str, Any]
) -> ApiResponse:
    service.rows.refuse_intersect(entity, "Delete")
    record_id = service.rows.parser.find(entity, key)
    service.rows.delete(request.user, entity, record_id, if_match=request.header("if-match"))
    return no_content()
