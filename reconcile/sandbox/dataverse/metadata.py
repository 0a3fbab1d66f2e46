"""The metadata API: ``EntityDefinitions`` (tables), their ``Attributes`` and ``Keys``, and
``RelationshipDefinitions`` (lookups and N:N), read and created as ``reconcile schema install``
and Microsoft's SDK use them. Metadata collections are small, so ``$filter``/``$select`` run in
Python over the JSON shapes, with the same OData parser as row queries.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from odata_query import ast

from reconcile.sandbox.dataverse.api import ApiRequest, ApiResponse, json_response, no_content
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.filters import parse_expression
from reconcile.sandbox.dataverse.models import Entity, Key, ManyToMany, OneToMany
from reconcile.sandbox.dataverse.paths import GUID_RE, Segment
from reconcile.sandbox.dataverse.shapes import (
    attribute_json,
    entity_json,
    key_json,
    relationship_json,
)
from reconcile.sandbox.dataverse.syntax import operands
from reconcile.sandbox.dataverse.terms import odata_error

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.service import Service

METADATA_SETS = ("EntityDefinitions", "RelationshipDefinitions")


def handle(service: Service, request: ApiRequest) -> ApiResponse:
    from reconcile.sandbox.dataverse import schema

    segments = request.path.segments
    first = segments[0]
    method = request.method
    if method == "GET":
        service.security.require_named(request.user, "prvReadEntity")
    if first.name == "RelationshipDefinitions":
        if method == "GET":
            return _read_relationships(service, request, first)
        if method == "POST" and not first.has_parens:
            return schema.create_relationship(service, request)
        if method == "DELETE" and first.has_parens:
            return schema.delete_relationship(service, request, _find_relationship(service, first))
        raise _not_allowed(method)
    if not first.has_parens:
        if len(segments) > 1:
            raise DataverseError("ResourceNotFound", segment=segments[1].text)
        if method == "GET":
            items = [entity_json(e) for e in service.store.catalog.entities.values()]
            return _collection(
                request,
                "EntityDefinitions",
                items,
                expand_source=list(service.store.catalog.entities.values()),
            )
        if method == "POST":
            return schema.create_table(service, request)
        raise _not_allowed(method)
    entity = find_entity(service, first)
    if len(segments) == 1:
        if method == "GET":
            return _single_entity(service, request, entity)
        if method == "PUT":
            return schema.update_table(service, request, entity)
        if method == "DELETE":
            return schema.delete_table(service, request, entity)
        raise _not_allowed(method)
    part = segments[1]
    if part.name == "Attributes":
        return _attributes(service, request, entity, segments[1:])
    if part.name == "Keys":
        return _keys(service, request, entity, part)
    if part.name in ("OneToManyRelationships", "ManyToOneRelationships", "ManyToManyRelationships"):
        if method != "GET":
            raise _not_allowed(method)
        rels = [relationship_json(r) for r in _relationships_of(service, entity, part.name)]
        return _collection(request, f"EntityDefinitions({entity.metadata_id})/{part.name}", rels)
    raise DataverseError("ResourceNotFound", segment=part.text)


def _not_allowed(method: str) -> DataverseError:
    return DataverseError(
        "MethodNotAllowed",
        message=f"The requested resource does not support http method '{method}'.",
    )


def find_entity(service: Service, segment: Segment) -> Entity:
    args = segment.args or {}
    catalog = service.store.catalog
    if "LogicalName" in args:
        entity = catalog.entity(str(args["LogicalName"]))
    elif "" in args and isinstance(args[""], str) and GUID_RE.match(args[""]):
        entity = next((e for e in catalog.entities.values() if e.metadata_id == args[""]), None)
    else:
        raise odata_error(
            f"Bad key in '{segment.text}': use (LogicalName='name') or (<MetadataId>)."
        )
    if entity is None:
        raise DataverseError("ObjectDoesNotExist", entity="EntityDefinition", id=segment.text)
    return entity


def _relationships_of(service: Service, entity: Entity, kind: str) -> list[Any]:
    catalog = service.store.catalog
    if kind == "OneToManyRelationships":
        return [
            r for r in catalog.one_to_many.values() if r.referenced_entity == entity.logical_name
        ]
    if kind == "ManyToOneRelationships":
        return [
            r for r in catalog.one_to_many.values() if r.referencing_entity == entity.logical_name
        ]
    return [
        r for r in catalog.many_to_many.values() if entity.logical_name in (r.entity1, r.entity2)
    ]


def _find_relationship(service: Service, segment: Segment) -> Any:
    args = segment.args or {}
    catalog = service.store.catalog
    rels: list[OneToMany | ManyToMany] = [
        *catalog.one_to_many.values(),
        *catalog.many_to_many.values(),
    ]
    found: OneToMany | ManyToMany | None
    if "SchemaName" in args:
        found = catalog.relationship(str(args["SchemaName"]))
    else:
        found = next((r for r in rels if r.metadata_id == args.get("")), None)
    if found is None:
        raise DataverseError("ObjectDoesNotExist", entity="RelationshipDefinition", id=segment.text)
    return found


def _read_relationships(service: Service, request: ApiRequest, first: Segment) -> ApiResponse:
    if first.has_parens:
        rel = _find_relationship(service, first)
        body = {
            "@odata.context": f"{request.api_root}/$metadata#RelationshipDefinitions/$entity",
            **_select(relationship_json(rel), request.param("$select")),
        }
        return json_response(200, body)
    catalog = service.store.catalog
    rels: list[OneToMany | ManyToMany] = [
        *catalog.one_to_many.values(),
        *catalog.many_to_many.values(),
    ]
    items = [relationship_json(r) for r in rels]
    return _collection(request, "RelationshipDefinitions", items)


def _single_entity(service: Service, request: ApiRequest, entity: Entity) -> ApiResponse:
    body = entity_json(entity)
    expand = request.param("$expand") or ""
    body = _select(body, request.param("$select"))
    for item in _expands(expand):
        name, options = item
        if name == "Attributes":
            body["Attributes"] = _filtered(
                [attribute_json(entity, a) for a in entity.attributes.values()], options
            )
        elif name == "Keys":
            body["Keys"] = _filtered([key_json(entity, k) for k in entity.keys], options)
        elif name in (
            "OneToManyRelationships",
            "ManyToOneRelationships",
            "ManyToManyRelationships",
        ):
            body[name] = _filtered(
                [relationship_json(r) for r in _relationships_of(service, entity, name)], options
            )
        else:
            raise DataverseError("ODataUnknownProperty", name=name, entity="EntityMetadata")
    context = f"{request.api_root}/$metadata#EntityDefinitions/$entity"
    return json_response(200, {"@odata.context": context, **body})


def _attributes(
    service: Service, request: ApiRequest, entity: Entity, rest: list[Segment]
) -> ApiResponse:
    from reconcile.sandbox.dataverse import schema

    method = request.method
    part = rest[0]
    cast = rest[1].name if len(rest) > 1 else None
    if method == "POST" and not part.has_parens and cast is None:
        return schema.create_attribute(service, request, entity)
    if part.has_parens:
        args = part.args or {}
        name = args.get("LogicalName")
        attribute = (
            entity.attributes.get(str(name))
            if name
            else next(
                (a for a in entity.attributes.values() if a.metadata_id == args.get("")), None
            )
        )
        if attribute is None:
            raise DataverseError("ObjectDoesNotExist", entity="AttributeMetadata", id=part.text)
        if method == "DELETE":
            return schema.delete_attribute(service, request, entity, attribute)
        if method == "PUT":
            return schema.update_attribute(service, request, entity, attribute)
        if method != "GET":
            raise _not_allowed(method)
        expand = "OptionSet" in (request.param("$expand") or "")
        body = _select(
            attribute_json(entity, attribute, expand_options=expand), request.param("$select")
        )
        return json_response(
            200,
            {
                "@odata.context": f"{request.api_root}/$metadata#EntityDefinitions"
                f"({entity.metadata_id})/Attributes/$entity",
                **body,
            },
        )
    if method != "GET":
        raise _not_allowed(method)
    attributes = list(entity.attributes.values())
    if cast is not None:
        wanted = cast.removeprefix("Microsoft.Dynamics.CRM.")
        from reconcile.sandbox.dataverse.models import METADATA_TYPES

        attributes = [a for a in attributes if METADATA_TYPES[a.type] == wanted]
    expand = "OptionSet" in (request.param("$expand") or "")
    items = [attribute_json(entity, a, expand_options=expand) for a in attributes]
    return _collection(request, f"EntityDefinitions({entity.metadata_id})/Attributes", items)


def _keys(service: Service, request: ApiRequest, entity: Entity, part: Segment) -> ApiResponse:
    from reconcile.sandbox.dataverse import schema

    method = request.method
    if not part.has_parens:
        if method == "GET":
            return _collection(
                request,
                f"EntityDefinitions({entity.metadata_id})/Keys",
                [key_json(entity, k) for k in entity.keys],
            )
        if method == "POST":
            return schema.create_key(service, request, entity)
        raise _not_allowed(method)
    args = part.args or {}
    key: Key | None = next(
        (
            k
            for k in entity.keys
            if k.logical_name == args.get("LogicalName") or k.metadata_id == args.get("")
        ),
        None,
    )
    if key is None:
        raise DataverseError("ObjectDoesNotExist", entity="EntityKeyMetadata", id=part.text)
    if method == "GET":
        return json_response(
            200,
            {
                "@odata.context": f"{request.api_root}/$metadata#EntityDefinitions"
                f"({entity.metadata_id})/Keys/$entity",
                **key_json(entity, key),
            },
        )
    if method == "DELETE":
        service.security.require_named(request.user, "prvDeleteEntityKey")
        service.store.catalog.drop_key(entity, key)
        return no_content()
    raise _not_allowed(method)


# ------------------------------------------------------------------ query over JSON
def _collection(
    request: ApiRequest, context: str, items: list[dict[str, Any]], **_: Any
) -> ApiResponse:
    items = _filtered(items, request.params)
    return json_response(
        200, {"@odata.context": f"{request.api_root}/$metadata#{context}", "value": items}
    )


def _filtered(items: list[dict[str, Any]], params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    options = dict(params)
    if options.get("$filter"):
        node = parse_expression(options["$filter"])
        items = [item for item in items if _matches(node, item)]
    expanded = [name for name, _ in _expands(options.get("$expand") or "")]
    return [_select(item, options.get("$select"), expanded) for item in items]


def _select(
    item: dict[str, Any], select: str | None, keep: list[str] | None = None
) -> dict[str, Any]:
    if not select:
        return item
    names = [n.strip() for n in select.split(",") if n.strip()] + [
        k for k in keep or [] if k in item
    ]
    for name in names:
        if name not in item:
            raise DataverseError("ODataUnknownProperty", name=name, entity="EntityMetadata")
    kept = {k: v for k, v in item.items() if k in names}
    for always in ("@odata.type", "MetadataId"):
        if always in item:
            kept[always] = item[always]
    return kept


def _expands(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    from reconcile.sandbox.dataverse.paths import split_outside

    result = []
    for part in split_outside(text) if text else []:
        match = re.match(r"^(\w+)(?:\((.*)\))?$", part.strip(), re.S)
        if not match:
            raise odata_error(f"Syntax error in $expand at '{part}'.")
        inner = [tuple(p.split("=", 1)) for p in (match.group(2) or "").split(";") if "=" in p]
        result.append((match.group(1), [(k.strip(), v.strip()) for k, v in inner]))
    return result


def _value(node: ast._Node, item: dict[str, Any]) -> Any:
    if isinstance(node, ast.Identifier):
        if node.name not in item:
            raise DataverseError("ODataUnknownProperty", name=node.name, entity="EntityMetadata")
        value = item[node.name]
        return value.get("Value") if isinstance(value, dict) and "Value" in value else value
    if isinstance(node, ast.Attribute):
        owner = _value(node.owner, item)
        return owner.get(node.attr) if isinstance(owner, dict) else None
    if isinstance(node, ast._Literal):
        value = node.py_val
        return str(value) if isinstance(node, ast.GUID) else value
    raise odata_error(f"The metadata $filter node {type(node).__name__} is not supported.")


def _matches(node: ast._Node, item: dict[str, Any]) -> bool:
    if isinstance(node, ast.BoolOp):  # a run of and/or, however long, without recursion
        results = (_matches(part, item) for part in operands(node))
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        negations, inner = 1, node.operand  # a run of ``not``: only its parity counts
        while isinstance(inner, ast.UnaryOp) and isinstance(inner.op, ast.Not):
            negations, inner = negations + 1, inner.operand
        return _matches(inner, item) != bool(negations % 2)
    if isinstance(node, ast.Compare):
        left: Any = _value(node.left, item)
        right: Any = _value(node.right, item)
        if isinstance(left, str) and isinstance(right, str):
            left, right = left.lower(), right.lower()
        ops = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b}
        op = ops.get(type(node.comparator))
        if op is None:
            raise odata_error("Metadata queries support eq and ne comparisons only.")
        return bool(op(left, right))
    if isinstance(node, ast.Call) and node.func.name in ("contains", "startswith", "endswith"):
        raise odata_error(f"The '{node.func.name}' function is not supported on metadata queries.")
    raise odata_error(f"The metadata $filter node {type(node).__name__} is not supported.")


def csdl(service: Service, request: ApiRequest) -> ApiResponse:
    from reconcile.sandbox.dataverse.csdl import document

    annotations = (request.param("annotations") or "").lower() == "true"
    text = document(service.store.catalog, annotations=annotations)
    return ApiResponse(
        200, [("Content-Type", "application/xml"), ("OData-Version", "4.0")], text.encode()
    )
