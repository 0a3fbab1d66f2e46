"""The ASGI side: authentication, service protection limits, fault injection and the
``/__sandbox__/`` controls around the Web API dispatcher.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconcile.sandbox.dataverse import dispatch, seed
from reconcile.sandbox.dataverse.api import ApiRequest, ApiResponse, Principal, error_to_response
from reconcile.sandbox.dataverse.auth import TokenError, authority_routes
from reconcile.sandbox.dataverse.errors import DataverseError, render_fault
from reconcile.sandbox.dataverse.paths import split_api_path
from reconcile.sandbox.dataverse.security import ORGANIZATION_ID
from reconcile.sandbox.faults import CONTROL_PREFIX, FaultMiddleware, fault_routes
from reconcile.sandbox.guard import LastResort

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.environment import Environment

logger = logging.getLogger(__name__)


def _unauthorized(authority: str, request: Request, reason: str) -> Response:
    challenge = (
        f"Bearer authorization_uri={authority}/oauth2/authorize, "
        f"resource_id={request.url.scheme}://{request.headers.get('host', '')}/"
    )
    return Response(
        b"",
        status_code=401,
        headers={"WWW-Authenticate": challenge, "OData-Version": "4.0", "x-ms-diagnostics": reason},
    )


def _principal(sandbox: Environment, request: Request) -> Principal | str:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return "no bearer token"
    try:
        claims = sandbox.tokens.verify(header[7:].strip(), request.headers.get("host", ""))
    except TokenError as exc:
        return str(exc)
    store = sandbox.service.store
    with store.lock:  # Python-side seeding may be using the connection from another thread
        user = store.get(store.catalog.entities["systemuser"], claims["oid"])
    if user is None or user.get("isdisabled"):
        return "the application user is missing or disabled"
    return Principal(
        claims["oid"], user["businessunitid"], ORGANIZATION_ID, user.get("fullname") or ""
    )


def _to_response(api: ApiResponse, extra: list[tuple[str, str]]) -> Response:
    response = Response(api.body, status_code=api.status)
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in [*api.headers, *extra]]
    if api.status not in (204, 304):
        raw.append((b"content-length", str(len(api.body)).encode()))
    response.raw_headers = raw
    return response


def build_app(sandbox: Environment, authority_url: Callable[[], str]) -> Any:
    """The Web API and the controls; ``authority_url`` gives the OAuth authority that 401
    challenges name (started on first use by the caller)."""
    service = sandbox.service

    async def api(request: Request) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        try:
            path = split_api_path(raw_path.decode("latin-1").split("?", 1)[0])
        except DataverseError as error:  # a malformed key or segment: the service's 400
            return error_to_response_resp(error)
        if path is None:
            return error_to_response_resp(
                DataverseError("ResourceNotFound", segment=request.url.path)
            )
        who = _principal(sandbox, request)
        if isinstance(who, str):
            return _unauthorized(authority_url(), request, who)
        request_id = str(uuid.uuid4())
        common = [("REQ_ID", request_id), ("x-ms-service-request-id", request_id)]
        try:
            sandbox.limiter.enter(who.user_id)
        except DataverseError as error:
            return _to_response(error_to_response(error), common)
        started = time.perf_counter()
        try:
            body = await request.body()
            host = request.headers.get("host", "")
            api_request = ApiRequest(
                method=request.method,
                path=path,
                params=parse_qsl(request.url.query, keep_blank_values=True),
                headers=[
                    (k.decode("latin-1").lower(), v.decode("latin-1"))
                    for k, v in request.scope["headers"]
                ],
                body=body,
                base_url=f"{request.url.scheme}://{host}",
                user=who,
            )
            try:
                result = dispatch.handle(service, api_request)
            except Exception:  # a sandbox bug: answer as the service would, and log it
                logger.exception(
                    "Dataverse sandbox: %s %s failed", request.method, request.url.path
                )
                result = error_to_response(DataverseError("InternalServerError"))
        finally:
            sandbox.limiter.leave(who.user_id, (time.perf_counter() - started) * 1000)
        left, time_left = sandbox.limiter.remaining(who.user_id)
        common += [
            ("x-ms-ratelimit-burst-remaining-xrm-requests", str(left)),
            ("x-ms-ratelimit-time-remaining-xrm-requests", str(time_left)),
        ]
        return _to_response(result, common)

    def error_to_response_resp(error: DataverseError) -> Response:
        return _to_response(error_to_response(error), [])

    async def reset(request: Request) -> Response:
        seed.reset(sandbox)
        return Response(status_code=204)

    async def load(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body must be JSON"}, status_code=400)
        try:
            created = seed.load_document(sandbox, body)
        except DataverseError as error:
            return JSONResponse(error.body(), status_code=400)
        except (ValueError, TypeError, KeyError) as exc:
            return JSONResponse({"error": f"bad seed document: {exc}"}, status_code=400)
        return JSONResponse(created, status_code=201)

    async def limits(request: Request) -> Response:
        if request.method == "POST":
            try:
                sandbox.limiter.limits.update(await request.json())
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            sandbox.limiter.reset()
        return JSONResponse(sandbox.limiter.limits.to_json())

    async def token(request: Request) -> Response:
        data = await request.json() if (await request.body()) else {}
        label = data.get("identity", "admin")
        if label not in sandbox.clients:
            return JSONResponse(
                {"error": f"unknown identity {label!r}; known: {sorted(sandbox.clients)}"},
                status_code=400,
            )
        audience = f"{request.url.scheme}://{request.headers.get('host', '')}"
        return JSONResponse({"access_token": sandbox.token(label, audience)})

    async def state(request: Request) -> Response:
        return JSONResponse(sandbox.state())

    routes = [
        Route("/api/data/{rest:path}", api, methods=["GET", "POST", "PATCH", "PUT", "DELETE"]),
        Route(f"{CONTROL_PREFIX}/reset", reset, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/seed", load, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/limits", limits, methods=["GET", "POST"]),
        Route(f"{CONTROL_PREFIX}/token", token, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/state", state, methods=["GET"]),
        *fault_routes(sandbox.faults),
        *authority_routes(sandbox.tokens),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(LastResort, render=_internal_error)])
    return FaultMiddleware(app, sandbox.faults, render_fault)


def _internal_error(request: Request) -> Response:
    return _to_response(error_to_response(DataverseError("InternalServerError")), [])


def authority_app(sandbox: Environment) -> Any:
    return Starlette(routes=authority_routes(sandbox.tokens))
