"""Page-numbered listing that stays fast at a million rows.

GetResponse pages by number (``page``, ``perPage`` ≤ 1000) and reports ``TotalCount``,
``TotalPages`` and ``CurrentPage`` headers. ``OFFSET`` grows linearly with the page number,
so the pager remembers where each page it served ended (its sort key and row id) and answers
the next page with a keyset condition instead: a client reading page after page costs the same
per page at the end of a million-row list as at its start. Totals are counted once per query.
Both memories are dropped on any write, so answers are never stale.

Rows are rendered to JSON text by SQLite itself (``json_object``) and joined, never parsed.
"""

from __future__ import annotations

import math
import sqlite3
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 100


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


@dataclass(frozen=True)
class PageRequest:
    number: int = 1
    size: int = DEFAULT_PER_PAGE

    @classmethod
    def from_params(cls, params: Any) -> PageRequest:
        """Lenient like the live API, which answered ``perPage=0`` or ``perPage=abc`` with 200
        (GetResponse's contacts skill guide): out-of-range values fall back or are clamped."""
        number = _int(params.get("page"), 1)
        size = _int(params.get("perPage"), DEFAULT_PER_PAGE)
        if size < 1:
            size = DEFAULT_PER_PAGE
        return cls(max(1, number), min(size, MAX_PER_PAGE))


@dataclass
class Listing:
    """One list query: ``select`` renders a row to JSON text; ``order`` ends with a unique key."""

    select: str
    source: str
    where: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    order: list[tuple[str, str]] = field(default_factory=list)  # (expression, ASC|DESC)
    count_source: str | None = None  # a cheaper FROM for counting, when no join is needed

    def where_sql(self, extra: str | None = None) -> str:
        parts = [*self.where, *([extra] if extra else [])]
        return f" WHERE {' AND '.join(parts)}" if parts else ""


@dataclass
class Page:
    body: str
    total: int
    request: PageRequest

    @property
    def headers(self) -> dict[str, str]:
        pages = math.ceil(self.total / self.request.size)
        return {
            "TotalCount": str(self.total),
            "TotalPages": str(pages),
            "CurrentPage": str(self.request.number),
        }


class Pager:
    """Serves pages of listings over one connection, remembering page ends and totals."""

    def __init__(self, conn: sqlite3.Connection, memory: int = 2048) -> None:
        self.conn = conn
        self.memory = memory
        self._ends: OrderedDict[tuple[Any, ...], tuple[Any, ...]] = OrderedDict()
        self._totals: dict[tuple[Any, ...], int] = {}

    def invalidate(self) -> None:
        """Forget everything: called after every write."""
        self._ends.clear()
        self._totals.clear()

    def total(self, listing: Listing) -> int:
        sql = f"SELECT count(*) FROM {listing.count_source or listing.source}{listing.where_sql()}"
        key = (sql, tuple(sorted(listing.params.items())))
        if key not in self._totals:
            self._totals[key] = self.conn.execute(sql, listing.params).fetchone()[0]
        return self._totals[key]

    def page(self, listing: Listing, request: PageRequest) -> Page:
        order = listing.order
        keys = ", ".join(expr for expr, _ in order)
        order_sql = ", ".join(f"{expr} {direction}" for expr, direction in order)
        identity = (
            listing.select,
            listing.source,
            tuple(listing.where),
            tuple(sorted(listing.params.items())),
            tuple(order),
            request.size,
        )
        params = dict(listing.params)
        extra, offset = None, (request.number - 1) * request.size
        directions = {direction for _, direction in order}
        previous_end = self._ends.get((*identity, request.number - 1))
        if previous_end is not None and len(directions) == 1:
            comparison = ">" if directions == {"ASC"} else "<"
            marks = []
            for i, value in enumerate(previous_end):
                params[f"_after{i}"] = value
                marks.append(f":_after{i}")
            extra = f"({keys}) {comparison} ({', '.join(marks)})"
            offset = 0
        # Two steps: find the page's row ids (an index walk, however deep the page), then
        # render only those rows, in the same order.
        unique = order[-1][0]
        inner_keys = ", ".join(f"{expr} AS _k{i}" for i, (expr, _) in enumerate(order))
        outer_keys = ", ".join(f"_p._k{i}" for i in range(len(order)))
        outer_order = ", ".join(f"_p._k{i} {d}" for i, (_, d) in enumerate(order))
        inner = (
            f"SELECT {unique} AS _id, {inner_keys} FROM {listing.source}"
            f"{listing.where_sql(extra)} ORDER BY {order_sql}"
            f" LIMIT {request.size} OFFSET {offset}"
        )
        sql = (
            f"SELECT {listing.select}, {outer_keys} FROM ({inner}) AS _p"
            f" CROSS JOIN {listing.source} WHERE {unique} = _p._id ORDER BY {outer_order}"
        )
        total = self.total(listing)
        # A page past the end (``page=9223372036854775807``) is empty, as on the live API; its
        # OFFSET would not even fit SQLite's integers.
        rows = (
            [] if extra is None and offset >= total else self.conn.execute(sql, params).fetchall()
        )
        if rows and len(rows) == request.size:
            self._ends[(*identity, request.number)] = tuple(rows[-1][1:])
            while len(self._ends) > self.memory:
                self._ends.popitem(last=False)
        body = "[" + ",".join(row[0] for row in rows) + "]"
        return Page(body, total, request)
