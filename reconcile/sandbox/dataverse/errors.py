"""Dataverse's error responses: ``{"error": {"code": "0x8004....", "message": "..."}}``.

Codes and messages are the platform's own (learn.microsoft.com "Web service error codes" and
the pages cited in ``docs/dataverse-api.md``). OData-layer errors (bad $filter, unknown
property) carry code ``0x0`` on the real service; platform errors carry the hex code.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

JSON_TYPE = "application/json; odata.metadata=minimal"

# name: (http status, code, message template)
CODES: dict[str, tuple[int, str, str]] = {
    "ObjectDoesNotExist": (404, "0x80040217", "Entity '{entity}' With Id = {id} Does Not Exist"),
    "RecordNotFoundByEntityKey": (
        404,
        "0x80060891",
        "A record with the specified key values does not exist in {entity} entity",
    ),
    "DuplicateRecord": (412, "0x80040237", "Cannot insert duplicate key."),
    "DuplicateRecordEntityKey": (
        412,
        "0x80060892",
        "A record that has the attribute values {values} already exists. The entity key {key} "
        "requires that this set of attributes contains unique values. Select unique values and "
        "try again.",
    ),
    "DuplicateRecordsFound": (
        500,
        "0x80040333",
        "A record was not created or updated because a duplicate of the current record already "
        "exists.",
    ),
    "ConcurrencyVersionMismatch": (
        412,
        "0x80060882",
        "The version of the existing record doesn't match the RowVersion property provided.",
    ),
    "PrivilegeDenied": (
        403,
        "0x80040220",
        "Principal user (Id={user}, type=8, roleCount={roles}, privilegeCount={privileges}, "
        "accessMode=4), is missing {privilege} privilege (Id={privilege_id}) on OTC={otc} for "
        "entity '{entity}'. context.Caller={user}. Consider assigning a role with the required "
        "privilege.",
    ),
    "InvalidArgument": (400, "0x80040203", "{message}"),
    "ValidationError": (400, "0x80044331", "{message}"),
    "QueryBuilderNoAttribute": (
        400,
        "0x80041103",
        "'{entity}' entity doesn't contain attribute with Name = '{attribute}' and NameMapping "
        "= 'Logical'.",
    ),
    "ODataUnknownProperty": (
        400,
        "0x0",
        "Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{entity}'.",
    ),
    "ODataSyntax": (400, "0x0", "{message}"),
    "ResourceNotFound": (404, "0x0", "Resource not found for the segment '{segment}'."),
    "MethodNotAllowed": (405, "0x0", "{message}"),
    "SkipNotSupported": (400, "0x0", "The query parameter $skip is not supported"),
    "EntityNameExists": (
        400,
        "0x80047013",
        "An entity with the specified name already exists. Specify a unique name.",
    ),
    "AttributeExists": (
        400,
        "0x80047013",
        "An attribute with the specified name {name} already exists. Specify a unique name.",
    ),
    "KeyCreationFailed": (400, "0x80040203", "{message}"),
    "NotLicensed": (403, "0x80048306", "{message}"),
    "ChangeTrackingNotEnabled": (
        400,
        "0x80072491",
        "Change tracking is not enabled for the entity {entity}.",
    ),
    "ExpiredVersionStamp": (
        400,
        "0x80044352",
        "Version stamp associated with the client has expired. Please perform a full sync.",
    ),
    "Unauthorized": (401, "0x80072560", "{message}"),
    "Throttled": (
        429,
        "0x80072322",
        "Number of requests exceeded the limit of {limit} over time window of {window} seconds.",
    ),
    "ThrottledTime": (
        429,
        "0x80072321",
        "Combined execution time of incoming requests exceeded limit of {limit} milliseconds "
        "over time window of {window} seconds. Decrease number of concurrent requests or reduce "
        "the duration of requests and try again later.",
    ),
    "ThrottledConcurrency": (
        429,
        "0x80072326",
        "Number of concurrent requests exceeded the limit of {limit}.",
    ),
    "TooManyBatchRequests": (
        400,
        "0x8006088b",
        "The number of requests in a batch exceeds the limit of 1000.",
    ),
    "InvalidListOperation": (400, "0x80040203", "{message}"),
    "AggregateQueryRecordLimit": (
        400,
        "0x8004e023",
        "AggregateQueryRecordLimit exceeded. Cannot perform this operation.",
    ),
    "ServiceUnavailable": (503, "0x80040216", "An unexpected error occurred."),
    "InternalServerError": (500, "0x80040216", "An unexpected error occurred."),
    "BadGateway": (502, "0x80040216", "Bad Gateway"),
    "GatewayTimeout": (504, "0x80040216", "The request timed out."),
}


class DataverseError(Exception):
    """An error the sandbox answers with, in Dataverse's shape."""

    def __init__(
        self,
        kind: str,
        /,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **fields: object,
    ) -> None:
        default_status, code, template = CODES[kind]
        self.kind = kind
        self.status = status or default_status
        self.code = code
        self.message = template.format(**fields)
        self.headers = headers or {}
        super().__init__(self.message)

    def body(self) -> dict[str, object]:
        return {"error": {"code": self.code, "message": self.message}}

    def response(self) -> Response:
        return error_response(self.status, self.body(), self.headers)


def error_response(
    status: int,
    body: dict[str, object],
    headers: dict[str, str] | None = None,
) -> Response:
    all_headers = {"OData-Version": "4.0", "REQ_ID": _request_id(), **(headers or {})}
    return Response(json.dumps(body), status_code=status, headers=all_headers, media_type=JSON_TYPE)


def _request_id() -> str:
    import uuid

    return str(uuid.uuid4())


_FAULT_NAMES = {
    429: "Throttled",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def render_fault(status: int, request: Request) -> Response:
    """Fault-injection renderer: what the real service sends for that status."""
    name = _FAULT_NAMES.get(status)
    if name == "Throttled":
        return DataverseError(name, limit=6000, window=300, headers={"Retry-After": "2"}).response()
    if name is not None:
        return DataverseError(name).response()
    return error_response(
        status, {"error": {"code": "0x80040216", "message": f"Injected fault: HTTP {status}."}}
    )
