"""The two dashboards of SPEC 10 as plain data, and the pure steps that shape counts into them.

Both outputs — the workbook (``workbooks/dashboards.py``) and the web page
(``pages/dashboards.py``) — draw the same :class:`Report`, so they cannot disagree. A
:class:`Chart` is one table of numbers: categories down, one column per series, plus columns
that are shown in the table but not drawn (``extra``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

COUNT = "#,##0"
PERCENT = "0.0%"
DAILY_SPAN = 92  # up to three months a series is by day; longer, by month


@dataclass
class Chart:
    key: str  # short name, unique in the report: data sheet table name, HTML id
    title: str
    kind: str  # pie | bar | column | line
    category: str  # header of the category column
    categories: list[Any]  # str | int | date
    series: dict[str, Sequence[float]]  # drawn, in order
    formats: dict[str, str] = field(default_factory=dict)  # column header -> number format
    extra: dict[str, list[Any]] = field(default_factory=dict)  # shown, not drawn
    note: str = ""
    by_month: bool = False  # date categories stand for whole months
    drawn: int | None = None  # only the first rows are drawn (the table holds them all)

    def columns(self) -> list[str]:
        return [self.category, *self.series, *self.extra]

    def rows(self) -> list[list[Any]]:
        data = [self.categories, *self.series.values(), *self.extra.values()]
        return [list(row) for row in zip(*data, strict=True)]

    def drawn_part(self) -> Chart:
        """The chart as drawn: its first ``drawn`` categories."""
        if self.drawn is None or len(self.categories) <= self.drawn:
            return self
        n = self.drawn
        return Chart(
            self.key, self.title, self.kind, self.category, self.categories[:n],
            {k: v[:n] for k, v in self.series.items()}, self.formats, {}, self.note,
            self.by_month,
        )  # fmt: skip

    def total(self, series: str | None = None) -> float:
        values = self.series[series or next(iter(self.series))]
        return sum(values)


@dataclass
class Dashboard:
    key: str
    title: str
    charts: list[Chart]
    figures: list[tuple[str, int]]  # headline numbers: (label, value)

    def chart(self, key: str) -> Chart:
        return next(c for c in self.charts if c.key == key)


@dataclass
class Report:
    environment: str
    generated_at: datetime
    since: date | None  # None: from the first record
    until: date
    lists: tuple[str, ...]  # GetResponse list names the report is limited to (none: all)
    dashboards: list[Dashboard]
    queries: int = 0  # aggregate queries sent to Dynamics

    def dashboard(self, key: str) -> Dashboard:
        return next(d for d in self.dashboards if d.key == key)

    @property
    def range_text(self) -> str:
        start = self.since.isoformat() if self.since else "the first record"
        return f"{start} to {self.until.isoformat()}"


# ------------------------------------------------------------------------------ shaping
def time_axis(start: date, end: date) -> tuple[list[date], bool]:
    """Every day from ``start`` to ``end``, or every month's first day when that is long."""
    if (end - start).days <= DAILY_SPAN:
        return [start + timedelta(days=i) for i in range((end - start).days + 1)], False
    months, current = [], start.replace(day=1)
    while current <= end:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months, True


def on_axis(counts: dict[date, int], axis: list[date], by_month: bool) -> list[int]:
    """Counts by day placed on ``axis`` (summed into months when the axis is monthly)."""
    slots = dict.fromkeys(axis, 0)
    for day, value in counts.items():
        if day is None:
            continue
        slot = day.replace(day=1) if by_month else day
        if slot in slots:
            slots[slot] += value
    return list(slots.values())


def span(days: Iterable[date | None], since: date | None, until: date) -> tuple[date, date]:
    """The report's time axis: from ``since`` (or the first day seen) to ``until``."""
    seen = [d for d in days if d is not None and d <= until]
    start = since or (min(seen) if seen else until)
    return min(start, until), until


# GetResponse gives the engagement score as 1 (not engaged) to 5 (highly engaged): OpenAPI
# Contact.engagementScore, minimum 1, maximum 5 (docs/getresponse-api.md).
SCORE_LABELS = {1: "1 (least)", 2: "2", 3: "3", 4: "4", 5: "5 (most)"}


def score_buckets(by_score: dict[int | None, int]) -> tuple[list[str], list[int]]:
    """Contacts per engagement score (1-5), then those without a score — and, only if some
    record holds one, the values outside 1-5 (written by something else than GetResponse)."""
    counts = dict.fromkeys([*SCORE_LABELS.values(), "no score"], 0)
    for score, value in by_score.items():
        label = "no score" if score is None else SCORE_LABELS.get(int(score), "other (not 1-5)")
        counts[label] = counts.get(label, 0) + value
    return list(counts), list(counts.values())


def rate(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def top(counts: dict[Any, int], n: int) -> list[tuple[Any, int]]:
    """The ``n`` largest, ties broken by key so the order is stable."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:n]
