"""The GetResponse v3 HTTP client: auth, pacing, the shared retry policy, typed errors.

Everything that speaks HTTP to GetResponse goes through :meth:`GetResponseClient.request`:

1. every attempt waits for a :class:`~reconcile.throttle.Throttle` slot (80 starts per second,
   10 in flight: the API's documented limits), plus per-endpoint limits where the API has
   stricter ones (``POST /contacts/batch``: 1 per second and 80 per 10 minutes);
2. :func:`reconcile.retrying.send_with_retry` retries 429, 5xx, timeouts and dropped
   connections — writes only when the caller says repeating them is safe. GetResponse's own
   part is :func:`wait_hint`: how long a 429 says to wait;
3. every response's ``X-RateLimit-Remaining`` is read; when it reaches 0 every new request
   pauses until ``X-RateLimit-Reset`` ("432 seconds") instead of collecting 429s;
4. a failed response becomes the typed error of :mod:`reconcile.getresponse.errors`.

``transport``, ``sleep`` and ``clock`` are injectable (tests never wait or touch the network).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, BinaryIO

import httpx

from reconcile import __version__
from reconcile.getresponse.auth import STANDARD_API, GetResponseAuth
from reconcile.getresponse.errors import (
    ConnectionFailed,
    NotFound,
    error_from_response,
    parse_seconds,
)
from reconcile.getresponse.paging import MAX_PER_PAGE, Page, PageNumberPaginator, page_from_response
from reconcile.getresponse.wire import Params, decode_json, encode_params, to_int, wait_hint
from reconcile.retrying import (
    Attempt,
    RetryPolicy,
    is_connect_failure,
    is_refused,
    send_with_retry,
    transport_reason,
)
from reconcile.throttle import Throttle

log = logging.getLogger("reconcile.getresponse")

RATE_PER_SECOND = 80  # API reference, "Limits and throttling"
MAX_PARALLEL = 10
SAFE_METHODS = frozenset({"GET", "HEAD", "DELETE"})


class LinkExpired(Exception):
    """A download link that no longer works (GetResponse's are valid for 5 minutes)."""


@dataclass(frozen=True)
class RateLimitStatus:
    """The last ``X-RateLimit-*`` headers seen."""

    limit: int | None
    remaining: int | None
    reset_seconds: float | None


@dataclass
class Stats:
    """What the client did, for benchmarks and run reports."""

    requests: int = 0  # HTTP attempts sent, retries included
    retries: int = 0


class _PacedHttp(httpx.Client):
    """An ``httpx.Client`` whose every send waits for the throttle(s) and reads rate headers."""

    def __init__(self, owner: GetResponseClient, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owner = owner

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        owner = self._owner
        with ExitStack() as stack:
            for throttle in owner.throttles_for(request):
                stack.enter_context(throttle.slot())
            owner._count_request()
            response = super().send(request, **kwargs)
        owner._observe(response)
        return response


class GetResponseClient:
    """A synchronous GetResponse v3 client; one per account, safe to share between threads."""

    def __init__(
        self,
        auth: GetResponseAuth,
        *,
        base_url: str = STANDARD_API,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        policy: RetryPolicy | None = None,
        throttle: Throttle | None = None,
        max_parallel: int = MAX_PARALLEL,
    ) -> None:
        if not isinstance(auth, GetResponseAuth):
            raise TypeError("auth must be an ApiKeyAuth or BearerAuth")
        self.auth = auth
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.max_parallel = max_parallel
        self._sleep = sleep
        self._clock = clock
        self.throttle = throttle or Throttle(
            RATE_PER_SECOND, 1.0, max_parallel, clock=clock, sleep=sleep
        )
        # Endpoint limits stricter than the account's (API reference, POST /contacts/batch).
        self.endpoint_throttles: dict[tuple[str, str], list[Throttle]] = {
            ("POST", "/contacts/batch"): [
                Throttle(1, 1.0, 1, clock=clock, sleep=sleep),
                Throttle(80, 600.0, 1, clock=clock, sleep=sleep),
            ],
        }
        self.stats = Stats()
        self.cache: dict[str, Any] = {}  # account-wide lookups (time zones), filled lazily
        self.rate_limit = RateLimitStatus(None, None, None)
        self._lock = threading.Lock()
        self._http = _PacedHttp(
            self,
            base_url=self.base_url + "/",
            auth=auth,
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": f"reconcile/{__version__}", "Accept": "application/json"},
            limits=httpx.Limits(
                max_connections=max_parallel, max_keepalive_connections=max_parallel
            ),
        )
        self._path_prefix = httpx.URL(self.base_url + "/").path.rstrip("/")
        self._transport, self._timeout = transport, timeout
        self._files: httpx.Client | None = None  # downloads: another host, no credentials

    def __repr__(self) -> str:
        return f"GetResponseClient(base_url={self.base_url!r}, auth={self.auth!r})"

    def now(self) -> float:
        """The client's clock (monotonic seconds); polling helpers use it with :meth:`wait`."""
        return self._clock()

    def wait(self, seconds: float, stopped: Callable[[], bool] | None = None) -> bool:
        """Sleep with the client's (injectable) sleep; with ``stopped``, in slices of a
        second, ending early once it is true (SIGTERM, Ctrl-C: polls wait for minutes, and a
        service manager kills a process that does not stop). True when it ended early."""
        if stopped is None:
            if seconds > 0:
                self._sleep(seconds)
            return False
        left = seconds
        while left > 0 and not stopped():
            self._sleep(min(1.0, left))
            left -= 1.0
        return stopped()

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()
        if self._files is not None:
            self._files.close()

    def __enter__(self) -> GetResponseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- pacing and bookkeeping (called by _PacedHttp) -------------------------------------
    def throttles_for(self, request: httpx.Request) -> list[Throttle]:
        path = request.url.path
        prefix = self._path_prefix
        local = path[len(prefix) :] if path.startswith(prefix) else path
        # The endpoint's stricter limits first, so that waiting for them holds no general slot.
        return [*self.endpoint_throttles.get((request.method, local), []), self.throttle]

    def _count_request(self) -> None:
        with self._lock:
            self.stats.requests += 1

    def _observe(self, response: httpx.Response) -> None:
        headers = response.headers
        if "X-RateLimit-Remaining" not in headers:
            return
        status = RateLimitStatus(
            limit=to_int(headers.get("X-RateLimit-Limit")),
            remaining=to_int(headers.get("X-RateLimit-Remaining")),
            reset_seconds=parse_seconds(headers.get("X-RateLimit-Reset")),
        )
        self.rate_limit = status
        if status.remaining == 0 and status.reset_seconds:
            log.warning(
                "GetResponse request quota used up; pausing new requests for %.0f s",
                status.reset_seconds,
            )
            self.throttle.pause_for(status.reset_seconds)

    def _retrying(self, attempt: Attempt, extra: Callable[[Attempt], None] | None) -> None:
        with self._lock:
            self.stats.retries += 1
        limit = self.policy.max_attempts
        if attempt.response is not None:
            what = f"HTTP {attempt.response.status_code}"
        else:
            what = type(attempt.error).__name__
            if isinstance(attempt.error, httpx.TransportError) and is_refused(attempt.error):
                limit = min(limit, self.policy.max_refused)  # refused: a few quick tries only
        log.warning(
            "GetResponse attempt %d of %d failed (%s); retrying in %.1f s",
            attempt.number,
            limit,
            what,
            attempt.delay,
        )
        if extra is not None:
            extra(attempt)

    # -- sending ---------------------------------------------------------------------------
    def send(
        self,
        request: httpx.Request,
        *,
        idempotent: bool,
        on_retry: Callable[[Attempt], None] | None = None,
    ) -> httpx.Response:
        """Send through the retry policy; return a 2xx response or raise a typed error (a 3xx
        redirect included: it is never followed, and never success)."""
        try:
            response = send_with_retry(
                self._http,
                request,
                policy=self.policy,
                idempotent=idempotent,
                sleep=self._sleep,
                wait_hint=wait_hint,
                on_retry=lambda attempt: self._retrying(attempt, on_retry),
            )
        except httpx.TransportError as exc:
            raise self._connection_failed(request, exc, idempotent) from None
        if response.status_code >= 300:
            raise error_from_response(response, secrets=self.auth.secrets)
        return response

    def _connection_failed(
        self, request: httpx.Request, exc: httpx.TransportError, idempotent: bool
    ) -> ConnectionFailed:
        method, path = request.method, request.url.path
        maybe_applied = not idempotent and not is_connect_failure(exc)
        if isinstance(exc, httpx.TimeoutException):
            what = "did not answer in time"
            hint = "GetResponse is slow or unreachable: try again later, or raise the timeout."
        elif is_connect_failure(exc):
            what = "could not be reached"
            hint = f"Check the base URL ({self.base_url}), the network and any proxy settings."
        else:
            what = "dropped the connection"
            hint = "The network or GetResponse interrupted the answer: try again later."
        if maybe_applied:
            hint += (
                " This write was not repeated automatically because it may already have been "
                "applied: check its effect in GetResponse before sending it again."
            )
        return ConnectionFailed(
            f"GetResponse at {request.url.host} {what} for {method} {path}: "
            f"{transport_reason(exc)} ({type(exc).__name__})",
            hint=hint,
            maybe_applied=maybe_applied,
            method=method,
            path=path,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        on_retry: Callable[[Attempt], None] | None = None,
    ) -> httpx.Response:
        """One API call. ``idempotent`` defaults to True for GET/DELETE, False otherwise."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in SAFE_METHODS
        request = self._http.build_request(
            method, path.lstrip("/"), params=encode_params(params), json=json
        )
        return self.send(request, idempotent=idempotent, on_retry=on_retry)

    def get(self, path: str, params: Params | None = None) -> Any:
        return decode_json(self.request("GET", path, params=params))

    def post(
        self,
        path: str,
        body: Any,
        *,
        idempotent: bool,
        on_retry: Callable[[Attempt], None] | None = None,
    ) -> Any:
        """POST a JSON body; returns the decoded answer, or None for an empty 202/204."""
        return decode_json(
            self.request("POST", path, json=body, idempotent=idempotent, on_retry=on_retry)
        )

    def delete(self, path: str, params: Params | None = None) -> bool:
        """DELETE → True when deleted now, False when it was already gone (404). A 404 after
        our own retried attempt counts as deleted now: that attempt landed, its answer was
        lost."""
        retried: list[Attempt] = []
        try:
            self.request("DELETE", path, params=params, on_retry=retried.append)
        except NotFound:
            if not retried:
                return False
        return True

    # -- files (custom report downloads) ---------------------------------------------------
    def download(self, url: str, sink: BinaryIO, *, chunk: int = 1 << 16) -> int:
        """Stream the file at ``url`` (a custom report's ``downloadUrl``, on a storage host)
        into ``sink``; returns the bytes written. No credentials are sent: the URL carries its
        own (pre-signed, short-lived). Transport failures, 429 and 5xx are retried from the
        start (``sink`` is truncated); an expired or refused URL raises :class:`LinkExpired`
        so that the caller fetches a fresh one."""
        if self._files is None:
            self._files = httpx.Client(
                transport=self._transport,
                timeout=self._timeout,
                follow_redirects=True,
                headers={"User-Agent": f"reconcile/{__version__}"},
            )
        attempt = 0
        while True:
            attempt += 1
            sink.seek(0)
            sink.truncate()
            self._count_request()
            try:
                with self._files.stream("GET", url) as response:
                    status = response.status_code
                    if status in (401, 403, 404, 410):
                        raise LinkExpired(
                            f"the download link answered HTTP {status} (expired or refused)"
                        )
                    if status < 400:
                        written = 0
                        for part in response.iter_bytes(chunk):
                            sink.write(part)
                            written += len(part)
                        return written
                    failure = f"HTTP {status}"
            except httpx.TransportError as exc:
                failure = f"{transport_reason(exc)} ({type(exc).__name__})"
            if attempt >= self.policy.max_attempts:
                raise ConnectionFailed(
                    f"The custom report file at {httpx.URL(url).host} could not be downloaded: "
                    f"{failure} after {attempt} attempts",
                    hint="GetResponse's file storage is slow or unreachable: run again later.",
                    method="GET",
                    path=httpx.URL(url).path,
                )
            delay = self.policy.delay_for(attempt, None)
            log.warning("Custom report download failed (%s); retrying in %.1f s", failure, delay)
            with self._lock:
                self.stats.retries += 1
            self._sleep(delay)

    # -- paging ----------------------------------------------------------------------------
    def pages(
        self,
        path: str,
        params: Params | None = None,
        *,
        per_page: int = MAX_PER_PAGE,
        concurrency: int = 1,
        method: str = "GET",
        json: Any = None,
    ) -> Iterator[Page]:
        """Every page of a list endpoint, lazily. ``concurrency`` > 1 fetches up to that many
        pages ahead in parallel once ``TotalPages`` is known (never more than ``max_parallel``);
        pages are still yielded in order. ``method``/``json`` serve searches sent as POST
        (reads: repeated safely)."""
        paginator = PageNumberPaginator(per_page)
        base = self._http.build_request(
            method, path.lstrip("/"), params=encode_params(params), json=json
        )
        request = paginator.first_request(base)
        page = self._fetch_page(request, paginator.page, per_page)
        paginator.advance(page)
        yield page
        if concurrency > 1 and page.total_pages is not None and paginator.has_more(page):
            yield from self._pages_ahead(base, paginator, page, min(concurrency, self.max_parallel))
            return
        while paginator.has_more(page):
            request = paginator.next_request(request)
            page = self._fetch_page(request, paginator.page, per_page)
            paginator.advance(page)
            yield page

    def items(self, path: str, params: Params | None = None, **kwargs: Any) -> Iterator[dict]:
        """Every record of a list endpoint, lazily (one page in memory at a time)."""
        for page in self.pages(path, params, **kwargs):
            yield from page.items

    def _fetch_page(self, request: httpx.Request, number: int, per_page: int) -> Page:
        return page_from_response(self.send(request, idempotent=True), number, per_page)

    def _pages_ahead(
        self, base: httpx.Request, paginator: PageNumberPaginator, first: Page, workers: int
    ) -> Iterator[Page]:
        total = first.total_pages or first.number
        next_number = first.number + 1
        pending: deque[Future[Page]] = deque()
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="getresponse-page")
        try:
            while True:
                while len(pending) < workers and next_number <= total:
                    request = paginator.request_for(base, next_number)
                    pending.append(
                        pool.submit(self._fetch_page, request, next_number, paginator.per_page)
                    )
                    next_number += 1
                if not pending:
                    return
                page = pending.popleft().result()
                paginator.advance(page)
                yield page
                if page.is_last:  # empty, or the last page by its own TotalPages
                    return
                if page.total_pages is not None and page.total_pages > total:
                    total = page.total_pages  # the list grew while we read it
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
