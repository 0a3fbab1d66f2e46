"""The state a Web API request is served against: the store, the security model, the row
rules (:class:`Rows`), the API versions served and what was published.

Handlers (:mod:`.entityset`, :mod:`.actions`, :mod:`.metadata`, :mod:`.batch` …) take a
:class:`Service`; :mod:`.dispatch` routes a request to them. Nothing here imports a handler:
state and rules → handlers → routes, one direction (as moto lays out a fake service).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reconcile.sandbox.dataverse.api import ApiRequest
from reconcile.sandbox.dataverse.records import Rows
from reconcile.sandbox.dataverse.security import Security
from reconcile.sandbox.dataverse.store import Store
from reconcile.sandbox.dataverse.terms import FilterContext

BULK_VERSIONS = ("9.2",)
PRODUCT_VERSIONS = {
    "8.2": "8.2.28.0008",
    "9.0": "9.0.59.0004",
    "9.1": "9.1.26.0003",
    "9.2": "9.2.25021.00168",
}


@dataclass
class Service:
    store: Store
    security: Security
    api_versions: tuple[str, ...] = ("8.2", "9.0", "9.1", "9.2")
    rows: Rows = field(init=False)
    published: list[str] = field(default_factory=list)  # PublishXml calls, for tests and demo

    def __post_init__(self) -> None:
        self.rows = Rows(self.store, self.security)

    def context(self, request: ApiRequest) -> FilterContext:
        now: datetime = self.store.clock()
        return FilterContext(request.user.user_id, request.user.business_unit_id, now)
