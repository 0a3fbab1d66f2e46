"""Change tracking: ``Prefer: odata.track-changes`` and ``$deltatoken`` delta links.

The first request returns every row (paged as usual) and, on its last page,
``@odata.deltaLink``; following the delta link returns the rows created or changed since, and
``{"@odata.context": ".../$metadata#contacts/$deletedEntity", "id": ..., "reason": "deleted"}``
for rows deleted since, then a new delta link. Tokens look like the service's
(``919042!08/22/2017 08:10:44``: row version ! UTC time) and expire after 7 days.
``$filter``, ``$orderby``, ``$expand`` and ``$top`` are refused, as the service refuses them,
and the table must have ``ChangeTrackingEnabled``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

from reconcile.sandbox.dataverse.api import ApiRequest, ApiResponse, json_response
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.models import Entity
from reconcile.sandbox.dataverse.odata import MAX_PAGE, QueryOptions
from reconcile.sandbox.dataverse.query import ROOT, run_query, skiptoken_query_value
from reconcile.sandbox.dataverse.render import Renderer

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.service import Service

EXPIRE_DAYS = 7
_TOKEN_RE = re.compile(r"^(\d+)!(\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2})$")
_TRACKING_RE = re.compile(r'trackingversion="(\d+)"')


def make_token(version: int, moment: datetime) -> str:
    return f"{version}!{moment.astimezone(UTC).strftime('%m/%d/%Y %H:%M:%S')}"


def read_token(token: str, now: datetime) -> int:
    match = _TOKEN_RE.match(token.strip())
    if not match:
        raise DataverseError("InvalidArgument", message=f"The delta token '{token}' is not valid.")
    issued = datetime.strptime(match.group(2), "%m/%d/%Y %H:%M:%S").replace(tzinfo=UTC)
    if now - issued > timedelta(days=EXPIRE_DAYS):
        raise DataverseError("ExpiredVersionStamp")
    return int(match.group(1))


def _base_link(request: ApiRequest, extra: str) -> str:
    kept = [(k, v) for k, v in request.params if k not in ("$deltatoken", "$skiptoken")]
    query = "&".join(f"{k}={quote(v, safe=chr(39) + '$,()=@:/')}" for k, v in kept)
    path = "/".join(s.text for s in request.path.segments)
    return f"{request.api_root}/{path}?{query}{'&' if query else ''}{extra}"


def handle(
    service: Service, request: ApiRequest, entity: Entity, options: QueryOptions
) -> ApiResponse:
    if not entity.change_tracking:
        raise DataverseError("ChangeTrackingNotEnabled", entity=entity.logical_name)
    for name, present in (
        ("$filter", options.filter is not None),
        ("$orderby", bool(options.orderby)),
        ("$expand", bool(options.expand)),
        ("$top", options.top is not None),
    ):
        if present:
            raise DataverseError(
                "ODataSyntax",
                message=f'The "{name}" query parameter isn\'t supported when Change Tracking '
                "is enabled.",
            )
    store = service.store
    now = store.clock()
    context = f"{request.api_root}/$metadata#{entity.entity_set_name}"
    if options.select is not None:
        context += "(" + ",".join(a.wire_name for a in options.select) + ")"
    applied = [("Preference-Applied", "odata.track-changes")]
    if options.deltatoken is None:
        # Initial synchronisation: every row, paged; the version is pinned in the paging cookie.
        pinned = _TRACKING_RE.search(options.skiptoken or "")
        start = int(pinned.group(1)) if pinned else store.version
        page = run_query(store, entity, options, request.prefs, service.context(request))
        body = (
            json.dumps({"@odata.context": context}, separators=(",", ":"))[:-1]
            + ',"value":['
            + ",".join(page.rows)
            + "]"
        )
        if page.next_token is not None:
            token = page.next_token.replace(
                'istracking="False"', f'istracking="True" trackingversion="{start}"'
            )
            body += ',"@odata.nextLink":' + json.dumps(
                _base_link(request, f"$skiptoken={skiptoken_query_value(token)}")
            )
        else:
            body += ',"@odata.deltaLink":' + json.dumps(
                _base_link(request, f"$deltatoken={quote(make_token(start, now), safe='')}")
            )
        return json_response(200, body + "}", applied)
    since = read_token(options.deltatoken, now)
    size = min(request.prefs.maxpagesize or MAX_PAGE, MAX_PAGE)
    renderer = Renderer(store.catalog, request.prefs, service.context(request))
    row_sql = renderer.row_sql(entity, ROOT, QueryOptions(select=options.select))
    rows = store.rows(
        f'SELECT {ROOT}."versionnumber", {row_sql} FROM "{entity.table}" {ROOT} '
        f'WHERE {ROOT}."versionnumber" > ? ORDER BY {ROOT}."versionnumber" LIMIT {size + 1}',
        [*renderer.params, since],
    )
    deleted_context = f"{request.api_root}/$metadata#{entity.entity_set_name}/$deletedEntity"
    tombstones = store.rows(
        "SELECT version, id FROM _deleted WHERE entity = ? AND version > ? "
        f"ORDER BY version LIMIT {size + 1}",
        (entity.logical_name, since),
    )
    changes = sorted(
        [(v, text) for v, text in rows]
        + [
            (
                v,
                json.dumps(
                    {"@odata.context": deleted_context, "id": rid, "reason": "deleted"},
                    separators=(",", ":"),
                ),
            )
            for v, rid in tombstones
        ]
    )
    more = len(changes) > size
    changes = changes[:size]
    last = changes[-1][0] if changes else since
    body = (
        json.dumps({"@odata.context": context}, separators=(",", ":"))[:-1]
        + ',"value":['
        + ",".join(t for _, t in changes)
        + "]"
    )
    if more:
        body += ',"@odata.nextLink":' + json.dumps(
            _base_link(request, f"$deltatoken={quote(make_token(last, now), safe='')}")
        )
    else:
        body += ',"@odata.deltaLink":' + json.dumps(
            _base_link(
                request, f"$deltatoken={quote(make_token(max(last, store.version), now), safe='')}"
            )
        )
    return json_response(200, body + "}", applied)
