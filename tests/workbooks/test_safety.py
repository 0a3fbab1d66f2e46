"""Formula injection: nothing we write is ever a formula (checked on the written files)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from reconcile.workbooks import safety
from tests.workbooks import helpers, review_cases

RISKY = ['=HYPERLINK("http://evil.example","x")', "+33612345678", "-1", "@SUM(1)", "\tTAB", "\rCR"]


@pytest.mark.parametrize("value", RISKY)
def test_risky_values_are_recognised_and_csv_escaped(value: str):
    assert safety.is_risky(value)
    assert safety.csv_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["Jean", "jean@x.fr", "", None, 12, "a=b"])
def test_harmless_values_pass_through(value):
    assert not safety.is_risky(value)
    assert safety.csv_safe(value) == value


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


def test_openpyxl_text_cells_never_become_formulas(tmp_path: Path):
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("S")
    sheet.append([safety.text_cell(sheet, v) for v in RISKY])
    book.save(tmp_path / "t.xlsx")
    assert safety.formula_cells(tmp_path / "t.xlsx") == []
    read = [
        c.value for c in next(iter(openpyxl.load_workbook(tmp_path / "t.xlsx")["S"].iter_rows()))
    ]
    assert read[:4] == RISKY[:4]


def test_formula_cells_does_find_a_formula(tmp_path: Path):
    book = openpyxl.Workbook()
    book.active["A1"] = "=1+1"
    book.save(tmp_path / "f.xlsx")
    assert safety.formula_cells(tmp_path / "f.xlsx") == ["xl/worksheets/sheet1.xml"]
