"""Small helpers shared by the Dataverse sandbox tests."""

from __future__ import annotations

import re

import httpx

_ID = re.compile(r"\(([0-9a-f-]{36})\)$")


def entity_id(response: httpx.Response) -> str:
    """The new row's id from a create's ``OData-EntityId`` header (failing loudly if absent)."""
    assert response.status_code in (201, 204), response.text
    match = _ID.search(response.headers["OData-EntityId"])
    assert match, response.headers
    return match.group(1)
