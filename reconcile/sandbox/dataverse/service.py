"""The Web API dispatcher: an authenticated :class:`ApiRequest` in, an :class:`ApiResponse` out.

Routes by the first path segment: ``$batch``, ``$metadata``, the metadata entity sets
(``EntityDefinitions`` …), an entity set of a table, or an unbound action/function. Entity-set
requests are handled by :mod:`.entityset`; the rest by their own modules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconcile.sandbox.dataverse.api import ApiRequest, ApiResponse, error_to_response
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.filters import FilterContext
from reconcile.sandbox.dataverse.records import Rows
from reconcile.sandbox.dataverse.security import Security
from reconcile.sandbox.dataverse.store import Store

BULK_VERSIONS = ("9.2",)
PRODUCT_VERSIONS = {
    "8.2": "8.2.28.0008",
    "9.0": "9.0.59.0004",
    "9.1": "9.1.26.0003",
    "9.2": "9.2.25021.00168",
}


@dataclass
class Service:
    store: Store
    security: Security
    api_versions: tuple[str, ...] = ("8.2", "9.0", "9.1", "9.2")
    rows: Rows = field(init=False)
    published: list[str] = field(default_factory=list)  # PublishXml calls, for tests and demo

    def __post_init__(self) -> None:
        self.rows = Rows(self.store, self.security)

    def context(self, request: ApiRequest) -> FilterContext:
        now: datetime = self.store.clock()
        return FilterContext(request.user.user_id, request.user.business_unit_id, now)

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Run one request in its own transaction; errors become Dataverse error responses."""
        with self.store.lock:
            try:
                with self.store.transaction():
                    return self._route(request)
            except DataverseError as error:
                return error_to_response(error)

    def _route(self, request: ApiRequest) -> ApiResponse:
        from reconcile.sandbox.dataverse import actions, batch, entityset, metadata

        if request.version not in self.api_versions:
            raise DataverseError("ResourceNotFound", segment=f"v{request.version}")
        segments = request.path.segments
        if not segments:
            return service_document(self, request)
        first = segments[0]
        if first.name == "$batch":
            if request.in_batch:
                raise DataverseError("ODataSyntax", message="Batches cannot be nested.")
            return batch.handle_batch(self, request)
        if first.name == "$metadata":
            return metadata.csdl(self, request)
        if first.name in metadata.METADATA_SETS:
            return metadata.handle(self, request)
        entity = self.store.catalog.entity_by_set(first.name)
        if entity is not None:
            return entityset.handle(self, request, entity)
        return actions.handle_unbound(self, request)


def service_document(service: Service, request: ApiRequest) -> ApiResponse:
    from reconcile.sandbox.dataverse.api import json_response

    sets = [
        {"name": e.entity_set_name, "kind": "EntitySet", "url": e.entity_set_name}
        for e in service.store.catalog.entities.values()
    ]
    body: dict[str, Any] = {"@odata.context": f"{request.api_root}/$metadata", "value": sets}
    return json_response(200, json.dumps(body))
