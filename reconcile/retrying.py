"""The one retry policy both API clients use.

Why one: GetResponse and Dataverse fail in the same ways (429 with a wait time, 5xx,
timeouts, dropped connections) and differ only in *where* they say how long to wait. Each
client passes a ``wait_hint`` function that reads its service's headers or body; everything
else — which failures are retried, backoff, jitter, caps, what is safe to repeat — lives here.

Safety rule: a request that may have reached the server is repeated only if it is
idempotent (reads, deletes, upserts by key, or writes the caller journals). A 429 is always
safe to repeat (the service refused it before doing anything), and so is a failure to
connect (nothing was sent).

Patience rule: a 429, a 5xx or a timeout is an outage or a busy service, worth minutes of
waiting; a connection *refused* (or a host name not found, or a certificate not trusted) is
nearly always a wrong URL or a service that is not running, so it gets
``RetryPolicy.max_refused`` quick attempts (about a second and a half in all, enough for a
restarting server) and then fails with one clean line (:func:`transport_reason`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

Sleep = Callable[[float], None]
WaitHint = Callable[[httpx.Response], float | None]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; capped exponential backoff with full jitter."""

    max_attempts: int = 8
    base_delay: float = 0.5  # seconds before the 2nd attempt (before jitter)
    max_delay: float = 30.0  # cap on computed backoff
    max_server_wait: float = 900.0  # cap on a wait the server asks for (10-minute windows)
    max_refused: int = 3  # attempts while the connection is refused (not an outage: fail fast)
    refused_delay: float = 0.5  # seconds before the 2nd such attempt, doubling, not jittered
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, attempt: int) -> float:
        """Delay after failed attempt number ``attempt`` (1-based), jittered in [d/2, d]."""
        delay = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return delay / 2 + self.rng.random() * delay / 2

    def delay_for(self, attempt: int, server_wait: float | None) -> float:
        """The server's wait wins when it gives one (plus a little jitter to avoid herds)."""
        if server_wait is not None and server_wait >= 0:
            return min(self.max_server_wait, server_wait) + self.rng.random() * 0.1
        return self.backoff(attempt)


NO_RETRY = RetryPolicy(max_attempts=1)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def is_connect_failure(exc: httpx.TransportError) -> bool:
    """True when the request certainly never reached the server."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def is_refused(exc: httpx.TransportError) -> bool:
    """True when the server's host answered "no" at once (refused, unknown host, TLS): a
    setting or a stopped service, not an outage to wait out. A connect *timeout* is not."""
    return isinstance(exc, httpx.ConnectError)


_REASONS = (
    ("refused", "connection refused (is the service running, on that port?)"),
    ("name or service not known", "host name not found: check the URL"),
    ("nodename nor servname", "host name not found: check the URL"),
    ("getaddrinfo", "host name not found: check the URL"),
    ("no address associated", "host name not found: check the URL"),
    ("temporary failure in name resolution", "host name not found (DNS): check the URL"),
    ("certificate", "its TLS certificate is not trusted (set dynamics.ca_file for a proxy)"),
    ("network is unreachable", "network unreachable: check the connection and any proxy"),
    ("no route to host", "no route to the host: check the connection and any proxy"),
)


def transport_reason(exc: httpx.TransportError) -> str:
    """One short line saying why a request failed before an answer came (no URL, no header)."""
    text = str(exc).lower()
    for needle, reason in _REASONS:
        if needle in text:
            return reason
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "the connection could not be made"
    return "the connection was dropped before the answer came"


@dataclass
class Attempt:
    """What happened on one try, for logging and for tests."""

    number: int
    response: httpx.Response | None
    error: Exception | None
    delay: float


def send_with_retry(
    client: httpx.Client,
    request: httpx.Request,
    *,
    policy: RetryPolicy,
    idempotent: bool,
    sleep: Sleep = time.sleep,
    wait_hint: WaitHint | None = None,
    on_retry: Callable[[Attempt], None] | None = None,
    final: Callable[[httpx.Response], bool] | None = None,
) -> httpx.Response:
    """Send ``request``, retrying what the policy allows; return the last response.

    Transport errors that exhaust the attempts are re-raised; a retryable status that
    exhausts them is returned, so the caller maps the body to its typed error. ``final``
    lets a client say that a response with a retryable status is nevertheless a definite
    answer (Dataverse reports a duplicate-detection refusal as a 500): it is returned at once.
    """
    attempt = refused = 0
    while True:
        attempt += 1
        try:
            response = client.send(request)
        except httpx.TransportError as exc:
            safe = idempotent or is_connect_failure(exc)
            refused += is_refused(exc)
            if not safe or attempt >= policy.max_attempts or refused >= policy.max_refused:
                raise
            if is_refused(exc):
                delay = policy.refused_delay * 2 ** (refused - 1)
            else:
                delay = policy.delay_for(attempt, None)
            if on_retry:
                on_retry(Attempt(attempt, None, exc, delay))
            sleep(delay)
            continue

        status = response.status_code
        if status not in RETRYABLE_STATUSES or attempt >= policy.max_attempts:
            return response
        if status != 429 and not idempotent:
            return response
        response.read()
        if final is not None and final(response):
            return response
        server_wait = wait_hint(response) if wait_hint else None
        if server_wait is None:
            # Equivalent mutants (bench/mutation.py): the header's name in another case —
            # httpx headers are case-insensitive.
            server_wait = parse_retry_after(response.headers.get("Retry-After"))
        delay = policy.delay_for(attempt, server_wait)
        response.close()
        if on_retry:
            on_retry(Attempt(attempt, response, None, delay))
        sleep(delay)
