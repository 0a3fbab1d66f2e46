"""``GetResponseSandbox``: the emulator object that ``reconcile.sandbox.start`` serves.

An :class:`~reconcile.sandbox.getresponse.account.Account` (the SQLite state, the sandbox
clock, the rate limiter and the fault plan) with its ASGI app: the v3 routes under ``/v3`` and
``/max/v3``, the control surface under ``/__sandbox__/``, and the shared fault middleware
rendering faults as GetResponse errors. This is the top of the sandbox's layers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox.faults import FaultMiddleware, fault_routes
from reconcile.sandbox.getresponse import control, sample_data
from reconcile.sandbox.getresponse import seed as seeding
from reconcile.sandbox.getresponse.account import DEFAULT_CONTACT_DELAY, MAX_DOMAIN, Account
from reconcile.sandbox.getresponse.errors import BLOCKS, ApiJSON, error_body, route_not_found
from reconcile.sandbox.getresponse.ratelimit import RateLimits
from reconcile.sandbox.getresponse.routes import routes
from reconcile.sandbox.guard import LastResort

__all__ = ["DEFAULT_CONTACT_DELAY", "MAX_DOMAIN", "GetResponseSandbox"]


class GetResponseSandbox(Account):
    """A GetResponse v3 account on SQLite, served over HTTP.

    ``seed``: sample data from :mod:`reconcile.sample` (None: start empty); the other
    arguments are the :class:`Account`'s.
    """

    name = "getresponse"

    def __init__(
        self,
        *,
        database: str = ":memory:",
        seed: int | None = None,
        contact_delay: float = DEFAULT_CONTACT_DELAY,
        rate_limits: RateLimits | dict[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        api_key: str | None = None,
        access_token: str | None = None,
        max_domain: str = MAX_DOMAIN,
    ) -> None:
        super().__init__(
            database=database,
            contact_delay=contact_delay,
            rate_limits=rate_limits,
            clock=clock,
            api_key=api_key,
            access_token=access_token,
            max_domain=max_domain,
        )
        self.asgi_app = self._build_app()
        empty = not self.conn.execute("SELECT 1 FROM campaigns LIMIT 1").fetchone()
        if seed is not None and empty:
            self.seed_sample(seed)

    # ---- what reconcile.sandbox needs -----------------------------------------------------

    def connection_info(self, url: str) -> dict[str, Any]:
        """Standard host at ``/v3``; the same account as a MAX host at ``/max/v3``, which
        requires ``X-Domain: <domain>`` like GetResponse MAX does."""
        return {
            "url": f"{url}/v3",
            "api_key": self.api_key,
            "access_token": self.access_token,
            "max": {"url": f"{url}/max/v3", "domain": self.max_domain},
        }

    def _build_app(self) -> Any:
        app = Starlette(
            routes=[*routes(self), *control.routes(self), *fault_routes(self.faults)],
            exception_handlers={404: self._unknown_path, 405: self._unknown_path},
            middleware=[Middleware(LastResort, render=lambda r: self._render_fault(500, r))],
        )
        return FaultMiddleware(app, self.faults, self._render_fault)

    async def _unknown_path(self, request: Request, exc: Exception) -> Response:
        return route_not_found(request.method, request.url.path).response()

    def _render_fault(self, status: int, request: Request) -> Response:
        """Injected errors in GetResponse's shape: 429 as a used-up time frame, 503 as code 1019
        (maintenance), 403 as code 1016 (a temporary API block; a fault's ``code`` picks 1017
        or 1018), other 5xx as code 1."""
        if status == 429:
            with self.lock:
                return self.limiter.too_many().response()
        code = request.scope.get("fault_code") or {503: 1019, 403: 1016}.get(status, 1)
        message = BLOCKS.get(code) or (
            "Service unavailable" if status == 503 else "Internal server error"
        )
        return ApiJSON(error_body(status, code, message, {}), status)

    # ---- scenario and sample data ---------------------------------------------------------

    def seed(self, data: dict[str, Any]) -> dict[str, Any]:
        """Explicit scenario data (see :mod:`reconcile.sandbox.getresponse.seed`); returns the
        ids given to what was created, by name or email."""
        with self.lock:
            return seeding.apply(self, data)

    def seed_sample(self, seed: int, contacts: int = 3000) -> dict[str, Any]:
        """Realistic sample data: lists, contacts with scores, fields and tags, ``MS CRM``
        drafts, sent newsletters with their activities."""
        with self.lock:
            return sample_data.sample(self, seed, contacts)

    def bulk_add_contacts(self, campaign_id: str, rows: Iterable[dict[str, Any]]) -> int:
        """Insert contacts directly (no queue, no validation beyond the database's): fast
        enough for a million rows. Each row: ``email`` and optional contact fields."""
        with self.lock:
            return seeding.bulk_contacts(self, campaign_id, rows)
