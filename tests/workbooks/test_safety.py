"""Formula injection: nothing we write is ever a formula (checked on the written files)."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from reconcile.workbooks import safety
from tests.workbooks import helpers, review_cases

RISKY = ['=HYPERLINK("http://evil.example","x")', "+33612345678", "-1", "@SUM(1)", "\tTAB", "\rCR"]


def _cells(path: Path):
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            yield from row


def test_review_workbook_keeps_risky_text_as_text(tmp_path: Path):
    path = review_cases.write(tmp_path / "review.xlsx")
    assert safety.formula_cells(path) == []
    cells = {c.value: c for c in _cells(path) if isinstance(c.value, str)}
    for value in ("=cmd|' /C calc'!A0", "@SUM(1+1)", "-Zoë N", "+Bad"):
        assert cells[value].data_type == "s"
        assert cells[value].quotePrefix  # stays text when the reviewer edits the cell


def test_exports_and_imports_keep_risky_text_as_text(tmp_path: Path):
    path = helpers.gr_export(tmp_path / "gr.xlsx")
    assert safety.formula_cells(path) == []
    values = {c.value: c.data_type for c in _cells(path)}
    assert values['=HYPERLINK("http://evil.example","x")'] == "s"
    assert values["+33612345678@example.fr"] == "s"


def test_run_report_keeps_risky_text_as_text(tmp_path: Path):
    from reconcile.workbooks.migration import write_run_report

    failures = [{"record": v, "email": v, "message": v, "action": v} for v in RISKY]
    path = write_run_report({"failures": failures}, RISKY, tmp_path / "report.xlsx")
    assert safety.formula_cells(path) == []
    cells = [c for c in _cells(path) if isinstance(c.value, str)]
    assert all(c.data_type == "s" for c in cells)
    values = {c.value for c in cells}
    assert set(RISKY[:4]) <= values


def test_formula_cells_does_find_a_formula(tmp_path: Path):
    book = openpyxl.Workbook()
    book.active["A1"] = "=1+1"
    book.save(tmp_path / "f.xlsx")
    assert safety.formula_cells(tmp_path / "f.xlsx") == ["xl/worksheets/sheet1.xml"]
