"""The dashboards workbook: one sheet per dashboard with native Excel charts, drawn by Excel
from data sheets that hold every chart's numbers as an Excel table.

Why XlsxWriter here when the other workbooks use rustpy-xlsxwriter: that writer draws charts
only from the columns of the sheet they sit on and writes no Excel tables; a dashboard needs
several charts over tables of another sheet. The data is a few hundred cells, so speed does
not matter. Numbers are numbers (with number formats), dates are Excel dates, and text
cells are written with ``write_string`` so that nothing becomes a formula.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from reconcile.jobs.report.model import Chart, Dashboard, Report
from reconcile.workbooks.atomic import staged_file

EXCEL_KINDS = {"pie": ("pie", None), "bar": ("bar", None), "column": ("column", None)}
CHART_WIDTH, CHART_HEIGHT = 620, 300  # pixels; two charts side by side fit a laptop screen
ROWS_PER_CHART = 16  # default row height is 20 px
COLORS = ["#2F6FB3", "#E0792B", "#3A9B5C", "#B5443A", "#7C5CB0", "#2A9DB0"]


def write_dashboards(report: Report, path: str | Path) -> Path:
    """Write the workbook to ``path`` (atomically: a failure leaves no half-written file)."""
    path = Path(path)
    with staged_file(path) as temp:
        book = xlsxwriter.Workbook(
            str(temp), {"remove_timezone": True, "strings_to_formulas": False}
        )
        book.set_properties({"title": "GetResponse dashboards", "comments": report.environment})
        formats = _Formats(book)
        boards = [book.add_worksheet(_sheet_name(d)) for d in report.dashboards]
        for sheet, dashboard in zip(boards, report.dashboards, strict=True):
            data = book.add_worksheet(f"{_sheet_name(dashboard)} data")
            places = _write_data(data, dashboard, formats)
            _write_board(book, sheet, data.get_name(), report, dashboard, places, formats)
        boards[0].activate()
        book.close()
    return path


def _sheet_name(dashboard: Dashboard) -> str:
    return {"contacts": "Contacts", "activity": "Activity"}.get(dashboard.key, dashboard.key)[:25]


class _Formats:
    def __init__(self, book: Any) -> None:
        self.title = book.add_format({"bold": True, "font_size": 16, "font_color": "#1F3B57"})
        self.label = book.add_format({"bold": True, "font_color": "#555555"})
        self.when = book.add_format({"num_format": 'yyyy-mm-dd hh:mm "UTC"', "align": "left"})
        self.section = book.add_format({"bold": True, "font_size": 12})
        self.figure = book.add_format({"bold": True, "font_size": 14, "num_format": "#,##0"})
        self.note = book.add_format({"italic": True, "font_color": "#666666"})
        self.day = book.add_format({"num_format": "yyyy-mm-dd", "align": "left"})
        self.month = book.add_format({"num_format": "mmm yyyy", "align": "left"})
        self._numbers: dict[str, Any] = {}
        self._book = book

    def number(self, pattern: str) -> Any:
        if pattern not in self._numbers:
            self._numbers[pattern] = self._book.add_format({"num_format": pattern})
        return self._numbers[pattern]


def _write_data(sheet: Any, dashboard: Dashboard, formats: _Formats) -> dict[str, tuple[int, int]]:
    """Each chart's table, one under the other; returns chart key -> (header row, last row)."""
    places: dict[str, tuple[int, int]] = {}
    row = 0
    widths: dict[int, float] = {}
    for chart in dashboard.charts:
        sheet.write_string(row, 0, chart.title, formats.section)
        header = row + 1
        rows = chart.rows()
        columns = chart.columns()
        table_rows = rows or [[None] * len(columns)]
        last = header + len(table_rows)
        sheet.add_table(
            header,
            0,
            last,
            len(columns) - 1,
            {
                "name": f"t_{chart.key}",
                "style": "Table Style Light 9",
                "columns": [{"header": c} for c in columns],
                "autofilter": False,
            },
        )
        for r, values in enumerate(rows, start=header + 1):
            for c, value in enumerate(values):
                _cell(sheet, r, c, value, chart, columns[c], formats)
                widths[c] = max(widths.get(c, 8), min(60, len(str(value)) + 2))
        for c, name in enumerate(columns):
            widths[c] = max(widths.get(c, 8), len(name) + 2)
        if chart.note:
            sheet.write_string(last + 1, 0, chart.note, formats.note)
        places[chart.key] = (header, header + len(rows))
        row = last + 3
    for c, width in widths.items():
        sheet.set_column(c, c, width)
    return places


def _cell(
    sheet: Any, r: int, c: int, value: Any, chart: Chart, column: str, formats: _Formats
) -> None:
    if value is None:
        sheet.write_blank(r, c, None)
    elif isinstance(value, datetime | date):
        moment = (
            value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        )
        sheet.write_datetime(r, c, moment, formats.month if chart.by_month else formats.day)
    elif isinstance(value, bool):
        sheet.write_boolean(r, c, value)
    elif isinstance(value, int | float):
        sheet.write_number(r, c, value, formats.number(chart.formats.get(column, "General")))
    else:
        sheet.write_string(r, c, str(value))


def _write_board(
    book: Any,
    sheet: Any,
    data_name: str,
    report: Report,
    dashboard: Dashboard,
    places: dict[str, tuple[int, int]],
    formats: _Formats,
) -> None:
    sheet.hide_gridlines(2)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 18)  # the generation time, as a date-time
    sheet.set_column(2, 12, 9.5)
    sheet.write_string(0, 0, dashboard.title, formats.title)
    header = [
        ("Environment", report.environment),
        ("Time range", report.range_text),
        ("Lists", ", ".join(report.lists) or "all GetResponse lists"),
    ]
    for i, (label, value) in enumerate(header, start=2):
        sheet.write_string(i, 0, label, formats.label)
        sheet.write_string(i, 1, value)
    sheet.write_string(5, 0, "Generated at", formats.label)
    sheet.write_datetime(5, 1, report.generated_at.replace(tzinfo=None), formats.when)
    for i, (label, figure) in enumerate(dashboard.figures):
        sheet.write_string(7, 1 + i * 2, label, formats.label)
        sheet.write_number(8, 1 + i * 2, figure, formats.figure)
    sheet.write_string(
        9, 0, "Charts are drawn by Excel from the tables on the next sheet.", formats.note
    )
    top = 11
    for i, chart in enumerate(dashboard.charts):
        first, last = places[chart.key]
        if chart.drawn is not None:
            last = min(last, first + chart.drawn)  # the table below holds every row
        excel = _excel_chart(book, chart, data_name, first, last)
        row = top + (i // 2) * ROWS_PER_CHART
        col = 0 if i % 2 == 0 else 7
        sheet.insert_chart(row, col, excel, {"x_offset": 4, "y_offset": 4})
    bottom = top + ((len(dashboard.charts) + 1) // 2) * ROWS_PER_CHART
    sheet.print_area(0, 0, bottom, 16)  # the charts float over cells: print them all
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)


def _excel_chart(book: Any, chart: Chart, data: str, first: int, last: int) -> Any:
    kind = {"pie": "pie", "bar": "bar", "column": "column", "line": "line"}[chart.kind]
    excel = book.add_chart({"type": kind})
    rows = max(last, first + 1)
    quoted = "'" + data.replace("'", "''") + "'"
    categories = f"={quoted}!{_range(first + 1, 0, rows, 0)}"
    for index in range(1, len(chart.series) + 1):
        series: dict[str, Any] = {
            "name": f"={quoted}!{xl_rowcol_to_cell(first, index, True, True)}",
            "categories": categories,
            "values": f"={quoted}!{_range(first + 1, index, rows, index)}",
        }
        color = COLORS[(index - 1) % len(COLORS)]
        if kind == "line":
            series["line"] = {"color": color, "width": 2}
            series["marker"] = {"type": "none"}
        elif kind != "pie":
            series["fill"] = {"color": color}
        else:
            series["points"] = [{"fill": {"color": c}} for c in COLORS]
            series["data_labels"] = {"percentage": True}
        excel.add_series(series)
    excel.set_title({"name": chart.title, "name_font": {"size": 11, "bold": True}})
    excel.set_size({"width": CHART_WIDTH, "height": CHART_HEIGHT})
    if kind == "pie" or len(chart.series) > 1:
        excel.set_legend({"position": "bottom"})
    else:
        excel.set_legend({"none": True})
    if kind == "bar":
        excel.set_y_axis({"reverse": True})  # first category on top, as in the table
    if kind in ("line", "column") and chart.categories and isinstance(chart.categories[0], date):
        excel.set_x_axis(
            {"date_axis": True, "num_format": "mmm yyyy" if chart.by_month else "dd mmm"}
        )
    fmt = chart.formats.get(next(iter(chart.series)), "")
    if kind != "pie" and "%" in fmt:
        axis = "x" if kind == "bar" else "y"
        getattr(excel, f"set_{axis}_axis")({"num_format": "0%"})
    return excel


def _range(r1: int, c1: int, r2: int, c2: int) -> str:
    return f"{xl_rowcol_to_cell(r1, c1, True, True)}:{xl_rowcol_to_cell(r2, c2, True, True)}"
