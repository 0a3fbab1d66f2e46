"""Wire conventions of the Dataverse Web API: versions, standard headers, ``Prefer``, and
the id in ``OData-EntityId``.

Versions pin behaviour (since v9, new capabilities are not applied to earlier versions), so
the client takes one per connection and asks it what it may use.
"""

from __future__ import annotations

import re
from enum import StrEnum

import httpx

from reconcile import __version__
from reconcile.errors import ConfigError

MAX_PAGE_SIZE = 5000  # Prefer: odata.maxpagesize above this is ignored by the service
_ENTITY_ID = re.compile(r"\(([0-9a-fA-F]{8}-[0-9a-fA-F-]{27})\)\s*$")


class ApiVersion(StrEnum):
    """The Web API versions the connector supports; the URL path and features follow it."""

    V8_2 = "v8.2"
    V9_0 = "v9.0"
    V9_1 = "v9.1"
    V9_2 = "v9.2"

    @classmethod
    def parse(cls, text: str | ApiVersion) -> ApiVersion:
        value = str(text).strip().lower()
        value = value if value.startswith("v") else f"v{value}"
        try:
            return cls(value)
        except ValueError:
            raise ConfigError(
                f"Unsupported Dynamics API version {text!r}.",
                hint="Set api_version to one of v8.2, v9.0, v9.1, v9.2.",
            ) from None

    @property
    def supports_bulk_messages(self) -> bool:
        """CreateMultiple / UpdateMultiple / UpsertMultiple exist on v9.2 (Online) only."""
        return self is ApiVersion.V9_2


DEFAULT_HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
    "If-None-Match": "null",
    "User-Agent": f"reconcile/{__version__}",
}


def prefer(
    *,
    page_size: int | None = None,
    annotations: str | None = None,
    representation: bool = False,
    continue_on_error: bool = False,
    track_changes: bool = False,
) -> str | None:
    """One ``Prefer`` header value (Dataverse wants them comma-separated in one header)."""
    items = []
    if page_size is not None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page size must be between 1 and {MAX_PAGE_SIZE}")
        items.append(f"odata.maxpagesize={page_size}")
    if annotations:
        items.append(f'odata.include-annotations="{annotations}"')
    if representation:
        items.append("return=representation")
    if continue_on_error:
        items.append("odata.continue-on-error")
    if track_changes:
        items.append("odata.track-changes")
    return ",".join(items) or None


def entity_id_from(response: httpx.Response) -> str | None:
    """The new record's GUID from ``OData-EntityId`` (or ``Location``)."""
    header = response.headers.get("OData-EntityId") or response.headers.get("Location") or ""
    match = _ENTITY_ID.search(header)
    return match.group(1).lower() if match else None
