"""One emulated GetResponse v3 account (what moto calls a backend): the SQLite state, the
sandbox clock, the rate limiter, the fault plan and the rules of each kind of object.

The layers above it, one direction: :mod:`.seed` and :mod:`.sample_data` put data in an
account, :mod:`.routes` (the v3 API) and :mod:`.control` (``/__sandbox__/``) serve one, and
:class:`reconcile.sandbox.getresponse.service.GetResponseSandbox` builds the ASGI app over it.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from reconcile.sandbox.faults import FaultPlan
from reconcile.sandbox.getresponse import timezones, validate
from reconcile.sandbox.getresponse.callbacks import Callbacks
from reconcile.sandbox.getresponse.catalog import Blocklist, CustomFields, FromFields, Tags
from reconcile.sandbox.getresponse.contacts import Contacts
from reconcile.sandbox.getresponse.db import SandboxClock, connect, wipe
from reconcile.sandbox.getresponse.delivery import Delivery
from reconcile.sandbox.getresponse.errors import invalid
from reconcile.sandbox.getresponse.imports import Imports
from reconcile.sandbox.getresponse.messages import Messages
from reconcile.sandbox.getresponse.models import ACCOUNT, Campaigns, Settings, State
from reconcile.sandbox.getresponse.queue import AddQueue
from reconcile.sandbox.getresponse.ratelimit import RateLimiter, RateLimits
from reconcile.sandbox.getresponse.reports import Reports
from reconcile.sandbox.getresponse.search import Search
from reconcile.sandbox.getresponse.sending import Sending
from reconcile.sandbox.getresponse.views import projection

DEFAULT_CONTACT_DELAY = 1.0
MAX_DOMAIN = "max.sandbox.example"


class Account:
    """A GetResponse v3 account on SQLite.

    ``contact_delay``: sandbox seconds before a queued contact appears (0: at once).
    ``rate_limits``: a :class:`RateLimits` or a dict of its fields. ``clock``: the time source
    (epoch seconds), which ``/__sandbox__/clock`` moves forward.
    """

    def __init__(
        self,
        *,
        database: str = ":memory:",
        contact_delay: float = DEFAULT_CONTACT_DELAY,
        rate_limits: RateLimits | dict[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        api_key: str | None = None,
        access_token: str | None = None,
        max_domain: str = MAX_DOMAIN,
    ) -> None:
        self.lock = threading.RLock()
        self.api_key = api_key or secrets.token_hex(16)
        self.access_token = access_token or secrets.token_hex(20)
        self.max_domain = max_domain.lower()
        self.clock = SandboxClock(clock)
        self._initial_delay = contact_delay
        if isinstance(rate_limits, dict):
            rate_limits = RateLimits.from_json(rate_limits)
        self._initial_limits = rate_limits or RateLimits()
        self.limiter = RateLimiter(RateLimits(**asdict(self._initial_limits)), self.clock)
        self.settings = Settings(contact_delay=contact_delay)
        self.conn = connect(database)
        self.state = State(self.conn, self.clock, self.settings)
        self.campaigns = Campaigns(self.state)
        self.tags = Tags(self.state)
        self.fields = CustomFields(self.state)
        self.from_fields = FromFields(self.state)
        self.blocklist = Blocklist(self.state)
        self.contacts = Contacts(self.state, self.campaigns)
        self.queue = AddQueue(self.state, self.campaigns, self.contacts, self.blocklist)
        self.search = Search(self.state)
        self.messages = Messages(self.state, self.campaigns, self.from_fields)
        self.sending = Sending(self.state, self.messages)
        self.imports = Imports(self.state, self.campaigns, self.tags, self.contacts, self.blocklist)
        self.reports = Reports(self.state)
        self.callbacks = Callbacks(self.state)
        self.delivery = Delivery(self)
        self.faults = FaultPlan()

    # ---- behaviour shared by the routes ----------------------------------------------------

    def settle(self) -> None:
        """Let work that has come due on the sandbox clock happen (queued contacts, imports,
        scheduled newsletters, callbacks and webhooks to post). Called before every API call."""
        self.queue.settle()
        self.imports.settle()
        self.messages.settle()
        self.delivery.collect()

    def account(self, base: str, fields: str | None = None) -> dict[str, Any]:
        return _project({**ACCOUNT, "href": f"{base}/accounts"}, fields, "accountId")

    def timezones(self, fields: str | None = None) -> list[dict[str, Any]]:
        return [_project(zone, fields, "timezoneId") for zone in timezones.listing(self.clock())]

    def read_blocklist(self, mask: str | None = None) -> dict[str, Any]:
        masks = self.blocklist.masks()
        if mask:
            masks = [m for m in masks if mask.lower() in m]
        return {"masks": masks}

    def update_blocklist(self, body: Any, flag: str | None = None) -> dict[str, Any]:
        """Replace the masks; ``additionalFlags=add`` / ``delete`` change them one by one;
        ``noResponse`` answers an empty list."""
        body = validate.body_object(body)
        masks = body.get("masks")
        if not isinstance(masks, list) or not all(isinstance(m, str) for m in masks):
            raise invalid("masks", "This value should be an array of strings", masks)
        if flag not in (None, "add", "delete", "noResponse"):
            raise invalid("additionalFlags", "Allowed: add, delete, noResponse", flag, kind="query")
        if flag == "add":
            self.blocklist.add(masks)
        elif flag == "delete":
            self.blocklist.remove(masks)
        else:
            self.blocklist.replace(masks)
        return {"masks": [] if flag == "noResponse" else self.blocklist.masks()}

    # ---- the control surface's Python side ---------------------------------------------------

    def reset(self) -> None:
        """Empty account, cleared faults and counters, clock and settings as constructed."""
        with self.lock:
            wipe(self.conn)
            self.state.pager.invalidate()
            self.faults.clear()
            self.clock.reset()
            self.limiter.limits = RateLimits(**asdict(self._initial_limits))
            self.limiter.reset()
            self.settings.contact_delay = self._initial_delay
            self.settings.undeliverable_domains.clear()
            self.settings.taken_list_names.clear()
            self.sending.reset()
            self.reports.reset()
            self.delivery.reset()

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (what tests do instead of sleeping)."""
        with self.lock:
            self.clock.advance(seconds)


def _project(doc: dict[str, Any], fields: str | None, id_key: str) -> dict[str, Any]:
    """``fields=a,b``: only those keys, and always the id (as the API does)."""
    wanted = projection(fields, id_key)
    return doc if wanted is None else {k: v for k, v in doc.items() if k in wanted}
