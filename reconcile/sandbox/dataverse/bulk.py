"""CreateMultiple, UpdateMultiple, UpsertMultiple: many rows of one table in one request.

All-or-nothing, as on the service (one failing target rolls back the request). Rows are
validated one by one with the same rules as single writes, then written with ``executemany``
in one statement per column set, which is what makes 100,000 contacts in 200 requests fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconcile.sandbox.dataverse.api import (
    ApiRequest,
    ApiResponse,
    detect_duplicates,
    json_response,
    no_content,
)
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.models import Entity
from reconcile.sandbox.dataverse.paths import parse_segment

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.service import Service

MESSAGES = ("CreateMultiple", "UpdateMultiple", "UpsertMultiple")


def _targets(request: ApiRequest, entity: Entity, name: str) -> list[dict[str, Any]]:
    body = request.json()
    targets = body.get("Targets") if isinstance(body, dict) else None
    if not isinstance(targets, list) or not targets:
        raise DataverseError("InvalidArgument", message=f"{name} needs a non-empty 'Targets' list.")
    wanted = f"Microsoft.Dynamics.CRM.{entity.logical_name}"
    for position, target in enumerate(targets):
        if not isinstance(target, dict):
            raise DataverseError(
                "InvalidArgument", message=f"Targets[{position}] is not an object."
            )
        kind = target.get("@odata.type")
        if kind is not None and kind != wanted:
            raise DataverseError(
                "InvalidArgument",
                message=f"Targets[{position}] has @odata.type '{kind}'; {name} on "
                f"{entity.entity_set_name} takes '{wanted}' rows only.",
            )
    return targets


def handle(service: Service, request: ApiRequest, entity: Entity, name: str) -> ApiResponse:
    if not entity.bulk_messages:
        raise DataverseError(
            "InvalidArgument",
            message=(
                f"The '{name}' method does not support entities of type '{entity.logical_name}'."
            ),
        )
    targets = _targets(request, entity, name)
    if name == "CreateMultiple":
        ids = create_multiple(service, request, entity, targets)
        return json_response(200, {"@odata.context": _context(request, name), "Ids": ids})
    if name == "UpdateMultiple":
        update_multiple(service, request, entity, targets)
        return no_content()
    results = upsert_multiple(service, request, entity, targets)
    return json_response(200, {"@odata.context": _context(request, name), "Results": results})


def _context(request: ApiRequest, name: str) -> str:
    return f"{request.api_root}/$metadata#Microsoft.Dynamics.CRM.{name}Response"


def _failed(position: int, error: DataverseError) -> DataverseError:
    error.message = f"Targets[{position}]: {error.message}"
    return error


def create_multiple(
    service: Service, request: ApiRequest, entity: Entity, targets: list[dict[str, Any]]
) -> list[str]:
    rows_api = service.rows
    rows_api.refuse_intersect(entity, "CreateMultiple")
    service.security.require(request.user, "Create", entity)
    dedupe = detect_duplicates(request)
    first_version = service.store.next_version(len(targets))
    prepared = []
    for position, target in enumerate(targets):
        try:
            values = rows_api.parser.parse(entity, target, create=True)
            prepared.append(
                rows_api.prepare_create(
                    request.user,
                    entity,
                    values,
                    detect_duplicates=dedupe,
                    version=first_version + position,
                )
            )
        except DataverseError as error:
            raise _failed(position, error) from None
    service.store.insert(entity, prepared)
    return [row[entity.primary_id] for row in prepared]


def update_multiple(
    service: Service, request: ApiRequest, entity: Entity, targets: list[dict[str, Any]]
) -> None:
    rows_api = service.rows
    rows_api.refuse_intersect(entity, "UpdateMultiple")
    service.security.require(request.user, "Write", entity)
    for position, target in enumerate(targets):
        record_id = target.get(entity.primary_id)
        if not isinstance(record_id, str):
            raise _failed(
                position,
                DataverseError(
                    "InvalidArgument",
                    message=(
                        f"UpdateMultiple targets must carry the primary key '{entity.primary_id}'."
                    ),
                ),
            )
        current = service.store.get(entity, record_id)
        if current is None:
            raise _failed(
                position,
                DataverseError("ObjectDoesNotExist", entity=entity.logical_name, id=record_id),
            )
        try:
            values = rows_api.parser.parse(entity, target, create=False)
            rows_api.update_values(request.user, entity, current, values)
        except DataverseError as error:
            raise _failed(position, error) from None


def upsert_multiple(
    service: Service, request: ApiRequest, entity: Entity, targets: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    rows_api = service.rows
    results = []
    for position, target in enumerate(targets):
        body = {k: v for k, v in target.items() if k != "@odata.id"}
        reference = target.get("@odata.id")
        if reference is not None:
            segment = parse_segment(str(reference).rsplit("/", 1)[-1])
            if segment.name != entity.entity_set_name or not segment.args:
                raise _failed(
                    position,
                    DataverseError(
                        "InvalidArgument",
                        message=(
                            f"@odata.id '{reference}' does not name a row of "
                            f"{entity.entity_set_name}."
                        ),
                    ),
                )
            key = segment.args
        elif isinstance(target.get(entity.primary_id), str):
            key = {"": target[entity.primary_id]}
        else:
            raise _failed(
                position,
                DataverseError(
                    "InvalidArgument",
                    message=(
                        "UpsertMultiple targets need '@odata.id' with a key, or the primary key."
                    ),
                ),
            )
        try:
            result = rows_api.upsert(
                request.user, entity, key, body, if_match=None, if_none_match=None
            )
        except DataverseError as error:
            raise _failed(position, error) from None
        results.append({"RecordCreated": result.created, "RecordId": result.record_id})
    return results
