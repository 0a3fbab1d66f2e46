"""The dashboards as one self-contained web page: inline CSS, inline SVG charts, no script and
no link to anything outside the file, so it opens offline, mails as one attachment and
prints (one chart never splits across pages; the tables print under their charts)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from reconcile.jobs.report.model import Chart, Dashboard, Report
from reconcile.pages.svg import chart_svg, label, show
from reconcile.workbooks.atomic import staged_file

CSS = """
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
Arial,sans-serif;color:#222;margin:0;background:#f5f6f8}
header{background:#1f3b57;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header dl{display:flex;flex-wrap:wrap;gap:4px 24px;margin:6px 0 0}header dt{opacity:.75}
header dd{margin:0 0 0 6px;font-weight:600}header div{display:flex}
main{max-width:1280px;margin:0 auto;padding:16px 24px}
section{margin-bottom:28px}h2{font-size:18px;margin:8px 0 10px;color:#1f3b57}
.figures{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:14px}
.figure{background:#fff;border-radius:6px;padding:8px 14px;box-shadow:0 1px 2px #0002}
.figure b{display:block;font-size:22px}.figure span{color:#555;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:14px}
figure{margin:0;background:#fff;border-radius:6px;padding:10px 12px;box-shadow:0 1px 2px #0002;
break-inside:avoid;page-break-inside:avoid}figcaption{font-weight:600;margin-bottom:4px}
svg.chart{width:100%;height:auto;font-size:11px}svg .grid{stroke:#e3e6ea}
svg .axis{fill:#555}svg .value{fill:#333;font-size:10px}svg .total{font-size:16px;
font-weight:600}svg .empty{fill:#888;font-size:14px}
table{border-collapse:collapse;width:100%;font-size:12px;margin-top:6px}
th,td{padding:2px 6px;border-bottom:1px solid #eee;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}p.note{color:#666;font-size:12px;
margin:4px 0 0}details summary{cursor:pointer;color:#2f6fb3;font-size:12px}
@media print{body{background:#fff}header{background:#fff;color:#000;border-bottom:2px solid
#000}main{padding:0}.grid{display:block}figure{box-shadow:none;border:1px solid #ccc;
margin-bottom:10px}details>*{display:block}details summary{display:none}
section{page-break-before:always}section:first-of-type{page-break-before:avoid}}
"""


def write_page(report: Report, path: str | Path) -> Path:
    path = Path(path)
    with staged_file(path) as temp:
        temp.write_text(render(report), encoding="utf-8")
    return path


def render(report: Report) -> str:
    lists = ", ".join(report.lists) or "all GetResponse lists"
    generated = report.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    head = "".join(
        f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>"
        for k, v in (
            ("Environment", report.environment),
            ("Time range", report.range_text),
            ("Lists", lists),
            ("Generated", generated),
        )
    )
    sections = "".join(_section(d) for d in report.dashboards)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>GetResponse dashboards — {escape(report.environment)}</title>"
        f"<style>{CSS}</style></head><body><header><h1>GetResponse dashboards</h1>"
        f"<dl>{head}</dl></header><main>{sections}</main></body></html>"
    )


def _section(dashboard: Dashboard) -> str:
    figures = "".join(
        f"<div class='figure'><b>{value:,}</b><span>{escape(name)}</span></div>"
        for name, value in dashboard.figures
    )
    charts = "".join(_figure(c) for c in dashboard.charts)
    return (
        f"<section id='{dashboard.key}'><h2>{escape(dashboard.title)}</h2>"
        f"<div class='figures'>{figures}</div><div class='grid'>{charts}</div></section>"
    )


def _figure(chart: Chart) -> str:
    note = f"<p class='note'>{escape(chart.note)}</p>" if chart.note else ""
    return (
        f"<figure id='{chart.key}' data-kind='{chart.kind}'><figcaption>{escape(chart.title)}"
        f"</figcaption>{chart_svg(chart)}{note}<details><summary>Numbers</summary>"
        f"{_table(chart)}</details></figure>"
    )


def _table(chart: Chart) -> str:
    columns = chart.columns()
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for row in chart.rows():
        cells = []
        for column, value in zip(columns, row, strict=True):
            if isinstance(value, int | float) and not isinstance(value, bool):
                text = show(value, chart.formats.get(column, "#,##0"))
                cells.append(f"<td class='n'>{text}</td>")
            else:
                cells.append(f"<td>{escape(label(value, chart.by_month))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
