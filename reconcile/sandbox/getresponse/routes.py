"""The v3 API's paths and verbs, served under ``/v3`` (standard host) and ``/max/v3`` (MAX).

Every call goes through :func:`api`: authentication (``X-Auth-Token: api-key …`` or
``Authorization: Bearer …``; on the MAX prefix also ``X-Domain``), queued work that has come
due on the sandbox clock, the rate limiter (its headers on every authenticated answer), and
the mapping of :class:`GetResponseError` to the API's error bodies.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconcile.sandbox.getresponse.errors import (
    JSON_TYPE,
    ApiJSON,
    GetResponseError,
    invalid,
    route_not_found,
    unauthenticated,
)
from reconcile.sandbox.getresponse.paging import Page
from reconcile.sandbox.getresponse.statistics import statistics

if TYPE_CHECKING:
    from reconcile.sandbox.getresponse.account import Account

log = logging.getLogger(__name__)
Handler = Callable[..., Any]  # (request, base) or (request, base, body)
AUTH_MESSAGE = "Unable to authenticate request. Check credentials or authentication method details"
MAX_PREFIX = "/max/v3"


def api_base(request: Request) -> str:
    """The API root the client called, so that every ``href`` leads back here."""
    prefix = MAX_PREFIX if request.url.path.startswith(MAX_PREFIX + "/") else "/v3"
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}{prefix}"


def authenticate(sandbox: Account, request: Request) -> None:
    token = request.headers.get("x-auth-token")
    bearer = request.headers.get("authorization", "")
    if token is not None:
        scheme, _, key = token.partition(" ")
        if scheme != "api-key" or key.strip() != sandbox.api_key:
            raise unauthenticated(AUTH_MESSAGE)
    elif bearer.lower().startswith("bearer "):
        if bearer[7:].strip() != sandbox.access_token:
            raise unauthenticated(
                "The access token provided is invalid", {"authenticationType": "oauth2"}
            )
    else:
        raise unauthenticated(AUTH_MESSAGE)
    if request.url.path.startswith(MAX_PREFIX + "/"):
        domain = request.headers.get("x-domain")
        if not domain:
            raise unauthenticated("GetResponse MAX requires the X-Domain header")
        if domain.strip().lower() != sandbox.max_domain:
            raise unauthenticated(
                "Unknown X-Domain for this API key", {"authenticationType": "auth_token"}
            )


def accepted(work: Callable[[], None]) -> list[Any]:
    """``POST /contacts`` answers 202 with an empty JSON list (recorded on GetResponse 360)."""
    work()
    return []


def render(result: Any, status: int = 200) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, Page):
        return Response(result.body, status, result.headers, media_type=JSON_TYPE)
    if result is None:
        return Response(status_code=status)
    return ApiJSON(result, status)


async def read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise invalid("body", "The request body is not valid JSON") from None


def api(
    sandbox: Account,
    handler: Handler,
    *,
    status: int = 200,
    body: bool = False,
    batch: bool = False,
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler ``(request, base[, body]) -> result`` into a Starlette endpoint."""

    async def endpoint(request: Request) -> Response:
        headers: dict[str, str] = {}
        try:
            payload = await read_json(request) if body else None
            with sandbox.lock:
                authenticate(sandbox, request)
                headers = sandbox.limiter.admit(batch=batch)
                sandbox.settle()
                base = api_base(request)
                result = handler(request, base, payload) if body else handler(request, base)
            response = render(result, status)
        except GetResponseError as error:
            response = error.response()
            headers = {**headers, **error.headers}
        except Exception:  # a sandbox bug: answer like the API's internal error, and log it
            log.exception("GetResponse sandbox failed on %s %s", request.method, request.url.path)
            response = GetResponseError(1, "Internal error", {}, status=500).response()
        response.headers.update(headers)
        return response

    return endpoint


Table = list[tuple[str, str, Callable[[Request], Awaitable[Response]]]]


def routes(sandbox: Account) -> list[Route]:
    return _mount(table(sandbox))


def operations(sandbox: Account) -> list[tuple[str, str]]:
    """Every (verb, path) the sandbox serves, paths as the OpenAPI description writes them
    (relative to the server URL, which ends in ``/v3``)."""
    return [(method, path) for path, method, _ in table(sandbox)]


def table(sandbox: Account) -> Table:
    s = sandbox
    p = "path_params"

    def pid(request: Request, name: str) -> str:
        return str(getattr(request, p)[name])

    def fields(request: Request) -> str | None:
        return request.query_params.get("fields")

    return [
        ("/accounts", "GET", api(s, lambda r, b: s.account(b, fields(r)))),
        ("/accounts/timezones", "GET", api(s, lambda r, b: s.timezones(fields(r)))),
        ("/accounts/sending-limits", "GET", api(s, lambda r, b: s.sending.limits())),
        (
            "/accounts/blocklists",
            "GET",
            api(s, lambda r, b: s.read_blocklist(r.query_params.get("query[mask]"))),
        ),
        (
            "/accounts/blocklists",
            "POST",
            api(
                s,
                lambda r, b, d: s.update_blocklist(d, r.query_params.get("additionalFlags")),
                body=True,
            ),
        ),
        ("/accounts/callbacks", "GET", api(s, lambda r, b: s.callbacks.get())),
        (
            "/accounts/callbacks",
            "POST",
            api(s, lambda r, b, d: s.callbacks.update(d), body=True),
        ),
        (
            "/accounts/callbacks",
            "DELETE",
            api(s, lambda r, b: s.callbacks.disable(), status=204),
        ),
        ("/campaigns", "GET", api(s, lambda r, b: s.campaigns.page(r.query_params, b))),
        (
            "/campaigns",
            "POST",
            api(s, lambda r, b, d: s.campaigns.create(d, b), status=201, body=True),
        ),
        (
            "/campaigns/{campaignId}",
            "GET",
            api(s, lambda r, b: s.campaigns.get(pid(r, "campaignId"), b, fields(r))),
        ),
        (
            "/campaigns/{campaignId}",
            "POST",
            api(s, lambda r, b, d: s.campaigns.update(pid(r, "campaignId"), d, b), body=True),
        ),
        (
            "/campaigns/{campaignId}/contacts",
            "GET",
            api(s, lambda r, b: s.contacts.page(r.query_params, b, pid(r, "campaignId"))),
        ),
        ("/contacts", "GET", api(s, lambda r, b: s.contacts.page(r.query_params, b))),
        (
            "/contacts",
            "POST",
            api(s, lambda r, b, d: accepted(lambda: s.queue.create(d)), status=202, body=True),
        ),
        (
            "/contacts/batch",
            "POST",
            api(s, lambda r, b, d: s.queue.create_batch(d), status=202, body=True, batch=True),
        ),
        (
            "/contacts/{contactId}",
            "GET",
            api(s, lambda r, b: s.contacts.get(pid(r, "contactId"), b, fields(r))),
        ),
        (
            "/contacts/{contactId}",
            "POST",
            api(s, lambda r, b, d: s.contacts.update(pid(r, "contactId"), d, b), body=True),
        ),
        (
            "/contacts/{contactId}",
            "DELETE",
            api(
                s,
                lambda r, b: s.contacts.delete(
                    pid(r, "contactId"), r.query_params.get("messageId")
                ),
                status=204,
            ),
        ),
        (
            "/contacts/{contactId}/activities",
            "GET",
            api(s, lambda r, b: s.contacts.activities(pid(r, "contactId"), r.query_params, b)),
        ),
        (
            "/contacts/{contactId}/tags",
            "POST",
            api(s, lambda r, b, d: s.contacts.upsert_tags(pid(r, "contactId"), d, b), body=True),
        ),
        (
            "/contacts/{contactId}/custom-fields",
            "POST",
            api(s, lambda r, b, d: s.contacts.upsert_fields(pid(r, "contactId"), d), body=True),
        ),
        (
            "/search-contacts/contacts",
            "POST",
            api(s, lambda r, b, d: s.search.contacts(r.query_params, d, b), body=True),
        ),
        ("/custom-fields", "GET", api(s, lambda r, b: s.fields.page(r.query_params, b))),
        (
            "/custom-fields",
            "POST",
            api(s, lambda r, b, d: s.fields.create(d, b), status=201, body=True),
        ),
        (
            "/custom-fields/{customFieldId}",
            "GET",
            api(s, lambda r, b: s.fields.get(pid(r, "customFieldId"), b, fields(r))),
        ),
        (
            "/custom-fields/{customFieldId}",
            "POST",
            api(s, lambda r, b, d: s.fields.update(pid(r, "customFieldId"), d, b), body=True),
        ),
        (
            "/custom-fields/{customFieldId}",
            "DELETE",
            api(s, lambda r, b: s.fields.delete(pid(r, "customFieldId")), status=204),
        ),
        ("/tags", "GET", api(s, lambda r, b: s.tags.page(r.query_params, b))),
        ("/tags", "POST", api(s, lambda r, b, d: s.tags.create(d, b), status=201, body=True)),
        ("/tags/{tagId}", "GET", api(s, lambda r, b: s.tags.get(pid(r, "tagId"), b, fields(r)))),
        (
            "/tags/{tagId}",
            "POST",
            api(s, lambda r, b, d: s.tags.get(pid(r, "tagId"), b), body=True),
        ),
        (
            "/tags/{tagId}",
            "DELETE",
            api(s, lambda r, b: s.tags.delete(pid(r, "tagId")), status=204),
        ),
        ("/newsletters", "GET", api(s, lambda r, b: s.messages.page(r.query_params, b))),
        (
            "/newsletters",
            "POST",
            api(s, lambda r, b, d: s.sending.create(d, b), status=201, body=True),
        ),
        (
            "/newsletters/send-draft",
            "POST",
            api(s, lambda r, b, d: s.sending.send_draft(d, b), status=201, body=True),
        ),
        (
            "/newsletters/statistics",
            "GET",
            api(s, lambda r, b: statistics(s.state, r.query_params)),
        ),
        (
            "/newsletters/{newsletterId}",
            "GET",
            api(s, lambda r, b: s.messages.get(pid(r, "newsletterId"), b, fields(r))),
        ),
        (
            "/newsletters/{newsletterId}",
            "DELETE",
            api(s, lambda r, b: s.messages.delete(pid(r, "newsletterId")), status=204),
        ),
        (
            "/newsletters/{newsletterId}/cancel",
            "POST",
            api(s, lambda r, b, d: s.messages.cancel(pid(r, "newsletterId"), b), body=True),
        ),
        (
            "/newsletters/{newsletterId}/activities",
            "GET",
            api(s, lambda r, b: s.messages.activities(pid(r, "newsletterId"), r.query_params, b)),
        ),
        (
            "/newsletters/{newsletterId}/statistics",
            "GET",
            api(
                s,
                lambda r, b: statistics(
                    s.state, r.query_params, s.messages.exists(pid(r, "newsletterId"))
                ),
            ),
        ),
        ("/imports", "GET", api(s, lambda r, b: s.imports.page(r.query_params, b))),
        ("/imports", "POST", api(s, lambda r, b, d: s.imports.create(d, b), status=201, body=True)),
        (
            "/imports/{importId}",
            "GET",
            api(s, lambda r, b: s.imports.get(pid(r, "importId"), b, fields(r))),
        ),
        ("/custom-reports", "GET", api(s, lambda r, b: s.reports.page(r.query_params, b))),
        (
            "/custom-reports",
            "POST",
            api(s, lambda r, b, d: s.reports.create(d, b), status=201, body=True),
        ),
        (
            "/custom-reports/{customReportId}",
            "GET",
            api(s, lambda r, b: s.reports.get(pid(r, "customReportId"), b, fields(r))),
        ),
        ("/from-fields", "GET", api(s, lambda r, b: s.from_fields.page(r.query_params, b))),
        (
            "/from-fields/{fromFieldId}",
            "GET",
            api(s, lambda r, b: s.from_fields.get(pid(r, "fromFieldId"), b, fields(r))),
        ),
    ]


def _mount(table: Table) -> list[Route]:
    """One Route per path and prefix, dispatching on the verb (so that an unsupported verb gets
    the API's error body, not a bare 405)."""
    by_path: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
    for path, method, endpoint in table:
        by_path.setdefault(path, {})[method] = endpoint
    mounted = []
    for path, verbs in by_path.items():

        async def dispatch(request: Request, verbs: dict[str, Any] = verbs) -> Response:
            endpoint = verbs.get(request.method)
            if endpoint is None:
                return route_not_found(request.method, request.url.path).response()
            return await endpoint(request)

        methods = ["GET", "POST", "DELETE", "PUT", "PATCH"]
        for prefix in ("/v3", MAX_PREFIX):
            mounted.append(Route(prefix + path, dispatch, methods=methods))
    return mounted
