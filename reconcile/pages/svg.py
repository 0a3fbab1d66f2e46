"""Charts as inline SVG: pie, horizontal bars, columns and lines, drawn from a :class:`Chart`.

Plain SVG with no script, so the page needs nothing from the network, renders the same in
every browser and prints as vectors. Every mark carries a ``<title>`` (the exact number) so
that hovering shows it; numbers are written with their chart's format.
"""

from __future__ import annotations

import math
from datetime import date
from html import escape
from typing import Any

from reconcile.jobs.report.model import Chart

COLORS = ["#2F6FB3", "#E0792B", "#3A9B5C", "#B5443A", "#7C5CB0", "#2A9DB0", "#8C8C8C"]
WIDTH, HEIGHT = 560, 280
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 14, 44


def show(value: float, pattern: str) -> str:
    """A number as its chart's format shows it (``#,##0`` or ``0.0%``)."""
    if "%" in pattern:
        return f"{value * 100:.1f}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def label(value: Any, by_month: bool) -> str:
    if isinstance(value, date):
        return value.strftime("%b %Y") if by_month else value.isoformat()
    return str(value)


def chart_svg(chart: Chart) -> str:
    chart = chart.drawn_part()
    if not chart.categories or not any(any(v for v in s) for s in chart.series.values()):
        return _frame("<text x='50%' y='50%' text-anchor='middle' class='empty'>No data</text>")
    draw = {"pie": _pie, "bar": _bars, "column": _columns, "line": _lines}[chart.kind]
    return draw(chart)


def _frame(body: str, height: int = HEIGHT) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {WIDTH} {height}' "
        f"role='img' class='chart'>{body}</svg>"
    )


def _fmt(chart: Chart, series: str) -> str:
    return chart.formats.get(series, "#,##0")


def _pie(chart: Chart) -> str:
    name = next(iter(chart.series))
    values = chart.series[name]
    total = sum(values) or 1
    cx, cy, r = 140, HEIGHT / 2, 110
    parts, angle = [], -math.pi / 2
    legend = []
    for i, (category, value) in enumerate(zip(chart.categories, values, strict=True)):
        color = COLORS[i % len(COLORS)]
        share = value / total
        tip = f"{escape(str(category))}: {show(value, _fmt(chart, name))} ({share:.1%})"
        if share >= 0.9999:
            parts.append(
                f"<circle cx='{cx}' cy='{cy}' r='{r}' fill='{color}'><title>{tip}</title></circle>"
            )
        elif value > 0:
            end = angle + share * 2 * math.pi
            x1, y1 = cx + r * math.cos(angle), cy + r * math.sin(angle)
            x2, y2 = cx + r * math.cos(end), cy + r * math.sin(end)
            large = 1 if share > 0.5 else 0
            parts.append(
                f"<path d='M{cx},{cy} L{x1:.2f},{y1:.2f} A{r},{r} 0 {large} 1 {x2:.2f},{y2:.2f} Z'"
                f" fill='{color}' stroke='#fff'><title>{tip}</title></path>"
            )
            angle = end
        y = 30 + i * 22
        legend.append(
            f"<rect x='290' y='{y - 11}' width='12' height='12' fill='{color}'/>"
            f"<text x='308' y='{y}'>{escape(_short(str(category), 26))} — "
            f"{show(value, _fmt(chart, name))} ({share:.0%})</text>"
        )
    parts.append(f"<circle cx='{cx}' cy='{cy}' r='{r * 0.45}' fill='#fff'/>")
    parts.append(
        f"<text x='{cx}' y='{cy + 5}' text-anchor='middle' class='total'>"
        f"{show(sum(values), _fmt(chart, name))}</text>"
    )
    return _frame("".join(parts + legend))


def _scale(maximum: float, whole: bool = True) -> tuple[float, list[float]]:
    """A round top for the value axis and its ticks (whole numbers for counts)."""
    if maximum <= 0:
        return 1.0, [0.0, 1.0]
    magnitude = 10 ** math.floor(math.log10(maximum))
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10):
        if whole and not float(step * magnitude).is_integer():
            continue
        top = math.ceil(maximum / (step * magnitude)) * step * magnitude
        if top / (step * magnitude) <= 5:
            ticks = [i * step * magnitude for i in range(round(top / (step * magnitude)) + 1)]
            return top, ticks
    return maximum, [0.0, maximum]


def _top(chart: Chart) -> float:
    return max(max(values) for values in chart.series.values())


LABEL_CHARS = 26  # what fits left of the bars (190 px at ~7 px a character)


def _bars(chart: Chart) -> str:
    names = list(chart.series)
    rows = len(chart.categories)
    band = max(16, min(30, 220 // max(rows, 1)))
    height = TOP + rows * band + BOTTOM
    left = 190
    width = WIDTH - left - RIGHT - 40
    top_value, ticks = _scale(_top(chart), "%" not in _fmt(chart, names[0]))
    parts = []
    for tick in ticks:
        x = left + width * tick / top_value
        parts.append(
            f"<line x1='{x:.1f}' y1='{TOP}' x2='{x:.1f}' y2='{height - BOTTOM}' class='grid'/>"
            f"<text x='{x:.1f}' y='{height - BOTTOM + 14}' text-anchor='middle' class='axis'>"
            f"{show(tick, _fmt(chart, names[0]))}</text>"
        )
    bar = (band - 6) / len(names)
    for i, category in enumerate(chart.categories):
        y = TOP + i * band + 3
        parts.append(
            f"<text x='{left - 6}' y='{y + band / 2}' text-anchor='end' class='axis'>"
            f"{escape(_short(label(category, chart.by_month), LABEL_CHARS))}</text>"
        )
        for j, name in enumerate(names):
            value = chart.series[name][i]
            w = width * value / top_value
            shown = show(value, _fmt(chart, name))
            parts.append(
                f"<rect x='{left}' y='{y + j * bar:.1f}' width='{w:.1f}' height='{bar - 1:.1f}' "
                f"fill='{COLORS[j % len(COLORS)]}'><title>{escape(str(category))} — {name}: "
                f"{shown}</title></rect>"
                f"<text x='{left + w + 4:.1f}' y='{y + j * bar + bar / 2 + 4:.1f}' "
                f"class='value'>{shown}</text>"
            )
    parts.append(_legend(names, height - 12))
    return _frame("".join(parts), height)


def _axes(chart: Chart, names: list[str]) -> tuple[list[str], float, float, float]:
    width, height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_value, ticks = _scale(_top(chart), "%" not in _fmt(chart, names[0]))
    parts = []
    for tick in ticks:
        y = TOP + height - height * tick / top_value
        parts.append(
            f"<line x1='{LEFT}' y1='{y:.1f}' x2='{LEFT + width}' y2='{y:.1f}' class='grid'/>"
            f"<text x='{LEFT - 6}' y='{y + 4:.1f}' text-anchor='end' class='axis'>"
            f"{show(tick, _fmt(chart, names[0]))}</text>"
        )
    count = len(chart.categories)
    every = max(1, math.ceil(count / 8))
    for i, category in enumerate(chart.categories):
        if i % every:
            continue
        x = LEFT + width * (i + 0.5) / count
        parts.append(
            f"<text x='{x:.1f}' y='{TOP + height + 16}' text-anchor='middle' class='axis'>"
            f"{escape(_short(label(category, chart.by_month), 12))}</text>"
        )
    return parts, top_value, width, height


def _columns(chart: Chart) -> str:
    names = list(chart.series)
    parts, top_value, width, height = _axes(chart, names)
    count = len(chart.categories)
    band = width / count
    bar = max(1.0, (band * 0.8) / len(names))
    for i, category in enumerate(chart.categories):
        for j, name in enumerate(names):
            value = chart.series[name][i]
            h = height * value / top_value
            x = LEFT + i * band + band * 0.1 + j * bar
            parts.append(
                f"<rect x='{x:.1f}' y='{TOP + height - h:.1f}' width='{bar:.1f}' "
                f"height='{h:.1f}' fill='{COLORS[j % len(COLORS)]}'><title>"
                f"{escape(label(category, chart.by_month))} — {name}: "
                f"{show(value, _fmt(chart, name))}</title></rect>"
            )
    if len(names) > 1:
        parts.append(_legend(names, HEIGHT - 8))
    return _frame("".join(parts))


def _lines(chart: Chart) -> str:
    names = list(chart.series)
    parts, top_value, width, height = _axes(chart, names)
    count = len(chart.categories)
    for j, name in enumerate(names):
        points = []
        for i, value in enumerate(chart.series[name]):
            x = LEFT + width * (i + 0.5) / count
            y = TOP + height - height * value / top_value
            points.append(f"{x:.1f},{y:.1f}")
        color = COLORS[j % len(COLORS)]
        parts.append(
            f"<polyline points='{' '.join(points)}' fill='none' stroke='{color}' "
            f"stroke-width='2'><title>{name}: {show(sum(chart.series[name]), _fmt(chart, name))}"
            f" in all</title></polyline>"
        )
        if count <= 31:
            for i, point in enumerate(points):
                px, py = point.split(",")
                value = chart.series[name][i]
                parts.append(
                    f"<circle cx='{px}' cy='{py}' r='2.5' fill='{color}'><title>"
                    f"{escape(label(chart.categories[i], chart.by_month))} — {name}: "
                    f"{show(value, _fmt(chart, name))}</title></circle>"
                )
    parts.append(_legend(names, HEIGHT - 8))
    return _frame("".join(parts))


def _legend(names: list[str], y: float) -> str:
    parts, x = [], LEFT
    for j, name in enumerate(names):
        parts.append(
            f"<rect x='{x}' y='{y - 10}' width='10' height='10' fill='{COLORS[j % len(COLORS)]}'/>"
            f"<text x='{x + 14}' y='{y}' class='axis'>{escape(name)}</text>"
        )
        x += 24 + 7 * len(name)
    return "".join(parts)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
