"""The Dataverse Web API client: one place where requests are built, paced, retried and
their failures turned into typed errors.

Every request goes through :func:`reconcile.retrying.send_with_retry` (the project's one
retry policy) inside a :class:`reconcile.throttle.Throttle` slot that keeps the client
under Dataverse's documented per-user limits (6000 requests per 5 minutes, 52 at once).
A 429's ``Retry-After`` also pauses the throttle, so that parallel workers wait it out
together instead of each hitting the limit again.

What is safe to repeat: reads, PATCH (update with ``If-Match``, upsert by key), DELETE, and
creates whose body carries a client-chosen primary key (``contactid``) — repeating those
cannot make a second record, so :meth:`DataverseClient.create` generates the GUID itself
when told the id column. A create without one is never repeated after it may have
reached the server.
"""

from __future__ import annotations

import itertools
import json as jsonlib
import logging
import re
import ssl
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from reconcile.dataverse import paging
from reconcile.dataverse import query as q
from reconcile.dataverse.errors import (
    DUPLICATE_DETECTED,
    DataverseError,
    DuplicateRecord,
    RecordNotFound,
    connection_error,
    error_from_response,
    parse_error_body,
)
from reconcile.dataverse.odata import (
    DEFAULT_HEADERS,
    ApiVersion,
    entity_id_from,
    prefer,
)
from reconcile.errors import ConfigError
from reconcile.retrying import Attempt, RetryPolicy, parse_retry_after, send_with_retry
from reconcile.throttle import Throttle, VirtualClock

log = logging.getLogger("reconcile.dataverse")

REQUESTS_PER_WINDOW = 6000  # per user, per 300-second sliding window
WINDOW_SECONDS = 300.0
MAX_CONCURRENCY = 52  # concurrent requests per user before 0x80072326


class DataverseClient:
    """A connection to one Dataverse environment at one Web API version."""

    def __init__(
        self,
        environment_url: str,
        *,
        api_version: str | ApiVersion = ApiVersion.V9_2,
        auth: httpx.Auth | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 120.0,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        retry_policy: RetryPolicy | None = None,
        concurrency: int = 16,
        verify: bool | str | ssl.SSLContext = True,
    ) -> None:
        if not re.match(r"^https?://[^/\s]+", environment_url or ""):
            raise ConfigError(
                f"The Dynamics environment URL {environment_url!r} is not an http(s) URL.",
                hint="Set environment_url to e.g. https://contoso.crm4.dynamics.com "
                "(On-Premises: https://server/OrgName).",
            )
        self.environment_url = environment_url.rstrip("/")
        self.api_version = ApiVersion.parse(api_version)
        self.api_url = f"{self.environment_url}/api/data/{self.api_version}/"
        if sleep is not None and clock is None:
            virtual = VirtualClock(sleep)
            sleep, clock = virtual.sleep, virtual.now
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic
        self.retry_policy = retry_policy or RetryPolicy()
        self.throttle = Throttle(
            REQUESTS_PER_WINDOW,
            WINDOW_SECONDS,
            concurrency=max(1, min(concurrency, MAX_CONCURRENCY)),
            clock=self._clock,
            sleep=self._sleep,
        )
        self._auth = auth
        self._sent = itertools.count(1)
        self.requests_sent = 0
        if isinstance(verify, str):  # a CA bundle (a corporate CA, the sandbox's CA)
            verify = ssl.create_default_context(cafile=verify)
        self._http = httpx.Client(
            auth=auth,
            transport=transport,
            timeout=timeout,
            verify=verify,
            headers=DEFAULT_HEADERS,
            event_hooks={"request": [self._count]},
            limits=httpx.Limits(max_connections=MAX_CONCURRENCY, max_keepalive_connections=20),
        )

    def __repr__(self) -> str:
        return f"DataverseClient({self.environment_url!r}, api_version={self.api_version.value!r})"

    def _count(self, request: httpx.Request) -> None:
        self.requests_sent = next(self._sent)

    def close(self) -> None:
        self._http.close()
        closer = getattr(self._auth, "close", None)
        if callable(closer):
            closer()

    def __enter__(self) -> DataverseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the one way a request is sent ------------------------------------------------

    def url(self, path: str, params: Mapping[str, object] | None = None) -> str:
        """An absolute URL: ``path`` relative to the API root unless already absolute."""
        base = path if path.startswith(("http://", "https://")) else self.api_url + path
        query = q.encode_query(params or {})
        if not query:
            return base
        return base + ("&" if "?" in base else "?") + query

    def _wait_hint(self, response: httpx.Response) -> float | None:
        wait = parse_retry_after(response.headers.get("Retry-After"))
        if response.status_code == 429:
            # Everyone waits: the limits are per user, not per connection.
            self.throttle.pause_for(wait if wait is not None else 1.0)
        return wait

    @staticmethod
    def _final(response: httpx.Response) -> bool:
        """A 500 that is a business answer, not a failure: duplicate detection refused the
        write, and sending it again would be refused again."""
        return response.status_code == 500 and (
            parse_error_body(response.content)[0] == DUPLICATE_DETECTED
        )

    @staticmethod
    def _log_retry(attempt: Attempt, request: httpx.Request) -> None:
        cause = attempt.response.status_code if attempt.response is not None else attempt.error
        log.info(
            "Dataverse %s on %s %s; attempt %d failed, retrying in %.1fs",
            cause if not isinstance(cause, Exception) else type(cause).__name__,
            request.method,
            request.url.path,
            attempt.number,
            attempt.delay,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool,
        record: str | None = None,
        ok: tuple[int, ...] = (200, 201, 204),
        attempts: list[Attempt] | None = None,
    ) -> httpx.Response:
        """Send one request through the retry policy; raise the typed error on failure.

        ``record`` names what the request is about in error messages; ``attempts`` (if
        given) receives every failed attempt that was retried.
        """
        extra = {k: v for k, v in (headers or {}).items() if v is not None}
        if json is not None:
            content = jsonlib.dumps(json, ensure_ascii=False).encode("utf-8")
            extra.setdefault("Content-Type", "application/json; charset=utf-8")
        request = self._http.build_request(
            method, self.url(path, params), content=content, headers=extra
        )

        def on_retry(attempt: Attempt) -> None:
            self._log_retry(attempt, request)
            if attempts is not None:
                attempts.append(attempt)

        try:
            with self.throttle.slot():
                response = send_with_retry(
                    self._http,
                    request,
                    policy=self.retry_policy,
                    idempotent=idempotent,
                    sleep=self._sleep,
                    wait_hint=self._wait_hint,
                    on_retry=on_retry,
                    final=self._final,
                )
        except httpx.TransportError as exc:
            raise connection_error(exc, method=method, record=record) from exc
        if response.status_code not in ok:
            raise error_from_response(response, record=record)
        response.read()
        return response

    def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        record: str | None = None,
    ) -> dict[str, Any]:
        response = self.request(
            "GET", path, params=params, headers=headers, idempotent=True, record=record, ok=(200,)
        )
        return response.json()

    # --- records -----------------------------------------------------------------------

    def create(
        self,
        entity_set: str,
        data: Mapping[str, Any],
        *,
        id_column: str | None = None,
        record: str | None = None,
    ) -> str:
        """Create a record; return its id (from ``OData-EntityId``).

        With ``id_column`` (e.g. ``"contactid"``) the GUID is chosen here when ``data`` has
        none, which makes the create safe to repeat: a retry after a lost answer finds
        the record already there and returns its id instead of creating a second one.
        """
        body = dict(data)
        if id_column and not body.get(id_column):
            body[id_column] = str(uuid.uuid4())
        chosen = str(body[id_column]).lower() if id_column else None
        what = record or f"a record in {entity_set}"
        attempts: list[Attempt] = []
        try:
            response = self.request(
                "POST",
                q.quote_segment(entity_set),
                json=body,
                idempotent=chosen is not None,
                record=what,
                attempts=attempts,
            )
        except DuplicateRecord:
            if chosen and attempts and self._exists(entity_set, chosen):
                return chosen  # our earlier attempt landed; the answer was lost
            raise
        return entity_id_from(response) or chosen or ""

    def _exists(self, entity_set: str, record_id: str) -> bool:
        try:
            self.request("GET", q.record_path(entity_set, record_id), idempotent=True, ok=(200,))
        except RecordNotFound:
            return False
        return True

    def retrieve(
        self,
        entity_set: str,
        key: str | uuid.UUID | Mapping[str, q.Value],
        *,
        select: tuple[str, ...] | list[str] = (),
        expand: tuple[str, ...] | list[str] = (),
        annotations: str | None = None,
    ) -> dict[str, Any]:
        """One record by id or alternate key; :class:`RecordNotFound` when absent."""
        params = q.Query(select=tuple(select), expand=tuple(expand)).params()
        wanted = prefer(annotations=annotations) if annotations else None
        headers = {"Prefer": wanted} if wanted else None
        return self.get_json(
            q.record_path(entity_set, key),
            params=params,
            headers=headers,
            record=q.describe_key(entity_set, key),
        )

    def update(
        self,
        entity_set: str,
        key: str | uuid.UUID | Mapping[str, q.Value],
        data: Mapping[str, Any],
        *,
        etag: str = "*",
    ) -> None:
        """PATCH an existing record; ``If-Match`` keeps it from turning into a create
        (404 then) and, with a real ETag, from overwriting a newer change (412)."""
        self.request(
            "PATCH",
            q.record_path(entity_set, key),
            json=dict(data),
            headers={"If-Match": etag},
            idempotent=True,
            record=q.describe_key(entity_set, key),
        )

    def upsert(
        self,
        entity_set: str,
        key: str | uuid.UUID | Mapping[str, q.Value],
        data: Mapping[str, Any],
        *,
        create_only: bool = False,
    ) -> None:
        """Create or update the record at ``key`` (an alternate key or an id). With
        ``create_only`` an existing record is left alone and :class:`DuplicateRecord`
        raised."""
        headers = {"If-None-Match": "*"} if create_only else None
        try:
            self.request(
                "PATCH",
                q.record_path(entity_set, key),
                json=dict(data),
                headers=headers,
                idempotent=not create_only,
                record=q.describe_key(entity_set, key),
            )
        except DataverseError as exc:
            if create_only and exc.status == 412:
                raise DuplicateRecord(
                    exc.message,
                    status=412,
                    code=exc.code,
                    service_message=exc.service_message,
                    record=exc.record,
                ) from exc
            raise

    def delete(
        self, entity_set: str, key: str | uuid.UUID | Mapping[str, q.Value], *, etag: str = "*"
    ) -> None:
        """Delete a record; a record already gone after a retried attempt counts as done."""
        self._delete(
            q.record_path(entity_set, key),
            headers={"If-Match": etag},
            record=q.describe_key(entity_set, key),
        )

    def _delete(self, path: str, *, record: str, headers: Mapping[str, str] | None = None) -> None:
        """DELETE, repeated when unsure; a 404 after our own retried attempt means that
        attempt landed and only its answer was lost: done."""
        attempts: list[Attempt] = []
        try:
            self.request(
                "DELETE", path, headers=headers, idempotent=True, record=record, attempts=attempts
            )
        except RecordNotFound:
            if not attempts:
                raise

    def associate(
        self,
        entity_set: str,
        key: str | uuid.UUID,
        navigation: str,
        target_set: str,
        target_key: str | uuid.UUID,
    ) -> None:
        """Link two records through a collection-valued navigation property (N:N or 1:N)."""
        path = f"{q.record_path(entity_set, key)}/{q.identifier(navigation)}/$ref"
        target = self.api_url + q.record_path(target_set, target_key)
        attempts: list[Attempt] = []
        try:
            self.request(
                "POST",
                path,
                json={"@odata.id": target},
                idempotent=True,
                record=f"{q.describe_key(entity_set, key)}/{navigation}",
                attempts=attempts,
            )
        except DuplicateRecord:
            if not attempts:
                raise

    def disassociate(
        self,
        entity_set: str,
        key: str | uuid.UUID,
        navigation: str,
        target_key: str | uuid.UUID,
    ) -> None:
        path = (
            f"{q.record_path(entity_set, key)}/{q.identifier(navigation)}"
            f"({q.as_guid(target_key)})/$ref"
        )
        self._delete(path, record=f"{q.describe_key(entity_set, key)}/{navigation}")

    # --- functions and actions ----------------------------------------------------------

    def function(
        self,
        name: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        bound_to: str | None = None,
        record: str | None = None,
    ) -> dict[str, Any]:
        """Call an OData function with parameter aliases:
        ``RetrieveVersion()``, ``RetrieveRolePrivilegesRole(RoleId=@p1)?@p1=<guid>``."""
        aliases = {
            f"@p{i}": _function_value(v) for i, v in enumerate((parameters or {}).values(), 1)
        }
        args = ",".join(f"{q.identifier(k)}=@p{i}" for i, k in enumerate(parameters or {}, 1))
        qualified = name if not bound_to else f"{bound_to}/Microsoft.Dynamics.CRM.{name}"
        return self.get_json(f"{qualified}({args})", params=aliases, record=record or name)

    def action(
        self,
        name: str,
        body: Mapping[str, Any] | None = None,
        *,
        bound_to: str | None = None,
        idempotent: bool = False,
        record: str | None = None,
        attempts: list[Attempt] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """Call an OData action (POST); its JSON result, or None for 204."""
        path = name if not bound_to else f"{bound_to}/Microsoft.Dynamics.CRM.{name}"
        response = self.request(
            "POST",
            path,
            json=dict(body or {}),
            headers=headers,
            idempotent=idempotent,
            record=record or name,
            attempts=attempts,
        )
        return response.json() if response.status_code == 200 and response.content else None

    def who_am_i(self) -> dict[str, str]:
        """``{"UserId", "BusinessUnitId", "OrganizationId"}`` of the running identity."""
        return self.get_json("WhoAmI", record="WhoAmI")

    def pages(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """Every page of an entity set (see :func:`reconcile.dataverse.paging.pages`)."""
        return paging.pages(self, *args, **kwargs)

    def query(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every row of an entity set (see :func:`reconcile.dataverse.paging.rows`)."""
        return paging.rows(self, *args, **kwargs)


def _function_value(value: Any) -> str:
    if isinstance(value, Mapping | list):
        return jsonlib.dumps(value, separators=(",", ":"))
    return q.literal(value)
