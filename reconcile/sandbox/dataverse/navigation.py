"""Single properties, navigation properties and ``$ref`` (associate / disassociate).

``contacts(<id>)/lastname`` (GET, PUT ``{"value": ...}``, DELETE), ``/$value``;
``lists(<id>)/listcontact_association`` (GET, related rows, pageable);
``POST lists(<id>)/listcontact_association/$ref {"@odata.id": ".../contacts(<id>)"}``;
``DELETE lists(<id>)/listcontact_association(<id>)/$ref``;
``PUT/DELETE contacts(<id>)/parentcustomerid_account/$ref``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconcile.sandbox.dataverse.api import (
    ApiRequest,
    ApiResponse,
    json_response,
    no_content,
    not_allowed,
)
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.members import add_member
from reconcile.sandbox.dataverse.models import Entity, ManyToMany, OneToMany, stable_guid
from reconcile.sandbox.dataverse.odata import parse_options
from reconcile.sandbox.dataverse.paths import Segment
from reconcile.sandbox.dataverse.query import run_query
from reconcile.sandbox.dataverse.reads import page_body, paging_headers, read

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.api import Principal
    from reconcile.sandbox.dataverse.service import Service


def property_request(
    service: Service,
    request: ApiRequest,
    entity: Entity,
    key: dict[str, Any],
    name: str,
    value_only: bool,
) -> ApiResponse:
    record_id = service.rows.parser.find(entity, key)
    attribute = entity.attributes[name]
    if request.method == "GET":
        service.security.require(request.user, "Read", entity)
        row = service.store.get(entity, record_id) or {}
        value = row.get(name)
        if attribute.type == "Boolean" and value is not None:
            value = bool(value)
        if value is None:
            return no_content()
        if value_only:
            return ApiResponse(
                200, [("Content-Type", "text/plain"), ("OData-Version", "4.0")], str(value).encode()
            )
        context = f"{request.api_root}/$metadata#{entity.entity_set_name}({record_id})/{name}"
        return json_response(200, {"@odata.context": context, "value": value})
    if request.method == "PUT":
        body = request.json()
        if not isinstance(body, dict) or "value" not in body:
            raise DataverseError("ODataSyntax", message='The body must be {"value": ...}.')
        service.rows.update(request.user, entity, record_id, {name: body["value"]})
        return no_content()
    if request.method == "DELETE":
        service.rows.update(request.user, entity, record_id, {name: None})
        return no_content()
    raise not_allowed(request.method)


def handle(
    service: Service, request: ApiRequest, entity: Entity, key: dict[str, Any], rest: list[Segment]
) -> ApiResponse:
    record_id = service.rows.parser.find(entity, key)
    nav = rest[0]
    catalog = service.store.catalog
    single = catalog.single_nav(entity, nav.name)
    collection = None if single else catalog.collection_nav(entity, nav.name)
    if single is None and collection is None:
        raise DataverseError("ResourceNotFound", segment=nav.text)
    is_ref = rest[-1].name == "$ref"
    if len(rest) > (2 if is_ref else 1) or (nav.has_parens and not is_ref):
        raise DataverseError("ResourceNotFound", segment=rest[-1].text)
    if not is_ref:
        if request.method != "GET":
            raise not_allowed(request.method)
        if single is not None:
            return _get_single(service, request, entity, record_id, single)
        return _get_collection(service, request, entity, record_id, nav.name, collection)
    if single is not None:
        return _single_ref(service, request, entity, record_id, nav.name)
    return _collection_ref(service, request, entity, record_id, collection, nav)


def _get_single(
    service: Service,
    request: ApiRequest,
    entity: Entity,
    record_id: str,
    single: tuple[Any, str | None],
) -> ApiResponse:
    lookup, pinned = single
    row = service.store.get(entity, record_id) or {}
    target_id = row.get(lookup.logical_name)
    target_name = pinned or row.get(f"{lookup.logical_name}__target") or lookup.targets[0]
    if target_id is None or (
        pinned and row.get(f"{lookup.logical_name}__target", pinned) != pinned
    ):
        return no_content()
    target = service.store.catalog.entities[target_name]
    return read(service, request, target, {"": target_id})


def related_where(catalog: Any, entity: Entity, rel: OneToMany | ManyToMany) -> tuple[Entity, str]:
    """(related table, SQL condition on t0 with one parameter: this row's id)."""
    if isinstance(rel, ManyToMany):
        mine_is_1 = rel.entity1 == entity.logical_name
        other = catalog.entities[rel.entity2 if mine_is_1 else rel.entity1]
        intersect = catalog.entities[rel.intersect_entity]
        mine = rel.entity1_attribute if mine_is_1 else rel.entity2_attribute
        theirs = rel.entity2_attribute if mine_is_1 else rel.entity1_attribute
        return other, (
            f't0."{other.primary_id}" IN (SELECT "{theirs}" FROM "{intersect.table}" '
            f'WHERE "{mine}" = ?)'
        )
    child = catalog.entities[rel.referencing_entity]
    column = rel.referencing_attribute
    where = f't0."{column}" = ?'
    if child.attributes[column].polymorphic:
        where += f" AND t0.\"{column}__target\" = '{entity.logical_name}'"
    return child, where


def _get_collection(
    service: Service, request: ApiRequest, entity: Entity, record_id: str, nav: str, rel: Any
) -> ApiResponse:
    target, where = related_where(service.store.catalog, entity, rel)
    service.security.require(request.user, "Read", target)
    options = parse_options(service.store.catalog, target, request.params)
    page = run_query(
        service.store,
        target,
        options,
        request.prefs,
        service.context(request),
        where=where,
        where_params=(record_id,),
    )
    context = f"{request.api_root}/$metadata#{target.entity_set_name}"
    return json_response(200, page_body(request, context, page), paging_headers(request))


def _single_ref(
    service: Service, request: ApiRequest, entity: Entity, record_id: str, nav: str
) -> ApiResponse:
    if request.method == "PUT":
        body = request.json()
        service.rows.update(
            request.user, entity, record_id, {f"{nav}@odata.bind": body.get("@odata.id")}
        )
        return no_content()
    if request.method == "DELETE":
        service.rows.update(request.user, entity, record_id, {f"{nav}@odata.bind": None})
        return no_content()
    if request.method == "GET":
        row = service.store.get(entity, record_id) or {}
        lookup, pinned = service.store.catalog.single_nav(entity, nav)  # type: ignore[misc]
        target_id = row.get(lookup.logical_name)
        if target_id is None:
            return no_content()
        target = service.store.catalog.entities[
            pinned or row.get(f"{lookup.logical_name}__target") or lookup.targets[0]
        ]
        return json_response(
            200,
            {
                "@odata.context": f"{request.api_root}/$metadata#$ref",
                "@odata.id": f"{request.api_root}/{target.entity_set_name}({target_id})",
            },
        )
    raise not_allowed(request.method)


def _collection_ref(
    service: Service, request: ApiRequest, entity: Entity, record_id: str, rel: Any, nav: Segment
) -> ApiResponse:
    if request.method == "POST":
        body = request.json()
        target, other_id = service.rows.parser.resolve_reference(body.get("@odata.id"))
        associate(service, request.user, entity, record_id, rel, target, other_id)
        return no_content()
    if request.method == "DELETE":
        if nav.args:
            other_id = str(nav.args.get("", "")).lower()
        else:
            ref = request.param("$id")
            if ref is None:
                raise DataverseError(
                    "ODataSyntax", message="Name the related row: nav(<id>)/$ref or ?$id=."
                )
            _, other_id = service.rows.parser.resolve_reference(ref)
        disassociate(service, request.user, entity, record_id, rel, other_id)
        return no_content()
    raise not_allowed(request.method)


def associate(
    service: Service,
    user: Principal,
    entity: Entity,
    record_id: str,
    rel: Any,
    target: Entity,
    other_id: str,
) -> None:
    security = service.security
    if isinstance(rel, OneToMany):
        child = service.store.catalog.entities[rel.referencing_entity]
        if target is not child:
            raise DataverseError(
                "ODataSyntax", message=f"{rel.schema_name} relates {child.entity_set_name}."
            )
        security.require(user, "AppendTo", entity)
        nav = rel.referencing_nav
        service.rows.update(
            user, child, other_id, {f"{nav}@odata.bind": f"/{entity.entity_set_name}({record_id})"}
        )
        return
    mine_is_1 = rel.entity1 == entity.logical_name
    other_name = rel.entity2 if mine_is_1 else rel.entity1
    if target.logical_name != other_name:
        raise DataverseError(
            "ODataSyntax",
            message=f"{rel.schema_name} relates {entity.logical_name} and {other_name}.",
        )
    list_id, member_id = (record_id, other_id) if mine_is_1 else (other_id, record_id)
    if rel.intersect_entity == "listmember":
        add_member(service, user, list_id, member_id, target if mine_is_1 else entity)
        return
    security.require(user, "Append", entity)
    security.require(user, "AppendTo", target)
    intersect = service.store.catalog.entities[rel.intersect_entity]
    values = {rel.entity1_attribute: list_id, rel.entity2_attribute: member_id}
    exists = service.store.id_by_key(intersect, values)
    if exists:
        raise _duplicate_association()
    values[intersect.primary_id] = stable_guid("nn", rel.schema_name, list_id, member_id)
    if "entitytype" in intersect.attributes:
        values["entitytype"] = other_name if mine_is_1 else entity.logical_name
    service.rows.create_values(user, intersect, values)


def _duplicate_association() -> DataverseError:
    error = DataverseError("DuplicateRecord")
    error.message = "Cannot insert duplicate key."
    return error


def disassociate(
    service: Service, user: Principal, entity: Entity, record_id: str, rel: Any, other_id: str
) -> None:
    if isinstance(rel, OneToMany):
        child = service.store.catalog.entities[rel.referencing_entity]
        row = service.store.get(child, other_id)
        if row is None or row.get(rel.referencing_attribute) != record_id:
            raise DataverseError("ObjectDoesNotExist", entity=child.logical_name, id=other_id)
        service.rows.update(user, child, other_id, {f"{rel.referencing_nav}@odata.bind": None})
        return
    mine_is_1 = rel.entity1 == entity.logical_name
    first, second = (record_id, other_id) if mine_is_1 else (other_id, record_id)
    intersect = service.store.catalog.entities[rel.intersect_entity]
    found = service.store.id_by_key(
        intersect, {rel.entity1_attribute: first, rel.entity2_attribute: second}
    )
    if found is None:
        raise DataverseError("ObjectDoesNotExist", entity=intersect.logical_name, id=other_id)
    service.security.require(user, "Write", intersect)
    service.store.delete(intersect, found)
    if rel.intersect_entity == "listmember":
        service.rows.refresh_member_count(first)
