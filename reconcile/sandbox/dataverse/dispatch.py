"""The Web API dispatcher: an authenticated :class:`ApiRequest` in, an :class:`ApiResponse` out.

Routes by the first path segment: ``$batch``, ``$metadata``, the metadata entity sets
(``EntityDefinitions`` …), an entity set of a table, or an unbound action/function. Entity-set
requests are handled by :mod:`.entityset`; the rest by their own modules. This is the top of
the Web API's layers (state in :mod:`.service` → handlers → here); ``$batch`` gets
:func:`route` passed in to run its parts, so that it needs no import of this module.
"""

from __future__ import annotations

import json
from typing import Any

from reconcile.sandbox.dataverse import actions, batch, entityset, metadata
from reconcile.sandbox.dataverse.api import (
    ApiRequest,
    ApiResponse,
    error_to_response,
    json_response,
)
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.service import Service


def handle(service: Service, request: ApiRequest) -> ApiResponse:
    """Run one request in its own transaction; errors become Dataverse error responses."""
    with service.store.lock:
        try:
            with service.store.transaction():
                return route(service, request)
        except DataverseError as error:
            return error_to_response(error)


def route(service: Service, request: ApiRequest) -> ApiResponse:
    if request.version not in service.api_versions:
        raise DataverseError("ResourceNotFound", segment=f"v{request.version}")
    segments = request.path.segments
    if not segments:
        return service_document(service, request)
    first = segments[0]
    if first.name == "$batch":
        if request.in_batch:
            raise DataverseError("ODataSyntax", message="Batches cannot be nested.")
        return batch.handle_batch(service, request, route)
    if first.name == "$metadata":
        return metadata.csdl(service, request)
    if first.name in metadata.METADATA_SETS:
        return metadata.handle(service, request)
    entity = service.store.catalog.entity_by_set(first.name)
    if entity is not None:
        return entityset.handle(service, request, entity)
    return actions.handle_unbound(service, request)


def service_document(service: Service, request: ApiRequest) -> ApiResponse:
    sets = [
        {"name": e.entity_set_name, "kind": "EntitySet", "url": e.entity_set_name}
        for e in service.store.catalog.entities.values()
    ]
    body: dict[str, Any] = {"@odata.context": f"{request.api_root}/$metadata", "value": sets}
    return json_response(200, json.dumps(body))
