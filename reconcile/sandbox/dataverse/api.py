"""The request/response shapes every handler speaks, independent of Starlette.

``$batch`` runs its inner requests through the same dispatcher as top-level requests, so the
handlers take an :class:`ApiRequest` (already authenticated) and return an
:class:`ApiResponse` rather than framework objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from reconcile.sandbox.dataverse.errors import JSON_TYPE, DataverseError
from reconcile.sandbox.dataverse.odata import Preferences, parse_prefer
from reconcile.sandbox.dataverse.paths import ApiPath


@dataclass
class Principal:
    """Who is calling: a systemuser (application user for client-credential tokens)."""

    user_id: str
    business_unit_id: str
    organization_id: str
    name: str = ""


@dataclass
class ApiRequest:
    method: str
    path: ApiPath
    params: list[tuple[str, str]]
    headers: list[tuple[str, str]]  # lowercase names, in order
    body: bytes
    base_url: str  # scheme://host:port, no trailing slash
    user: Principal
    in_batch: bool = False
    in_changeset: bool = False
    _prefs: Preferences | None = field(default=None, repr=False)

    @property
    def version(self) -> str:
        return self.path.version

    @property
    def api_root(self) -> str:
        return f"{self.base_url}/api/data/v{self.version}"

    def header(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return default

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]

    @property
    def prefs(self) -> Preferences:
        if self._prefs is None:
            self._prefs = parse_prefer(self.header_all("prefer"))
        return self._prefs

    def param(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return None

    def json(self) -> dict[str, Any]:
        """The body, a JSON object: every Web API write and action takes one (a list, a
        string or a number is refused here once, not met as a crash by each handler)."""
        if not self.body.strip():
            return {}
        try:
            data = json.loads(self.body)
        except ValueError as exc:
            raise DataverseError(
                "ODataSyntax", message=f"The request body is not valid JSON: {exc}."
            ) from None
        if not isinstance(data, dict):
            raise DataverseError(
                "ODataSyntax",
                message=f"The request body must be a JSON object, not a {type(data).__name__}.",
            )
        return data


@dataclass
class ApiResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def json_response(
    status: int,
    body: str | dict[str, Any] | list[Any],
    headers: list[tuple[str, str]] | None = None,
) -> ApiResponse:
    text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
    all_headers = [("Content-Type", JSON_TYPE), ("OData-Version", "4.0"), *(headers or [])]
    return ApiResponse(status, all_headers, text.encode())


def no_content(headers: list[tuple[str, str]] | None = None) -> ApiResponse:
    return ApiResponse(204, [("OData-Version", "4.0"), *(headers or [])])


def error_to_response(error: DataverseError) -> ApiResponse:
    headers = [(k, v) for k, v in error.headers.items()]
    return json_response(error.status, error.body(), headers)


def applied(request: ApiRequest, extra: list[str] | None = None) -> list[tuple[str, str]]:
    """``Preference-Applied`` for the preferences the response honours."""
    values = list(extra or [])
    values.extend(request.prefs.applied)
    return [("Preference-Applied", ",".join(values))] if values else []


def not_allowed(method: str) -> DataverseError:
    return DataverseError(
        "MethodNotAllowed",
        message=f"The requested resource does not support http method '{method}'.",
    )


def detect_duplicates(request: ApiRequest) -> bool:
    return (request.header("mscrm.suppressduplicatedetection") or "").strip().lower() == "false"
