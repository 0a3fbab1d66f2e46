"""A small review frame and helpers to edit the written workbook the way a reviewer would."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd

from reconcile.workbooks.review import write_review

META = {
    "gr": {"files": ["gr.xlsx"], "sheet": "Active GetResponse contacts", "headers": {},
           "language": "en", "metadata": None, "ids_from": "column"},
    "crm": {"files": ["crm.xlsx"], "language": "en", "ids_from": "column", "rows": 3},
}  # fmt: skip
COLUMNS = {
    "GetResponse Contact": "A",
    "Email": "B",
    "First Name": "D",
    "Last Name": "E",
    "Decision": "F",
    "CRM Contact": "G",
}


def frame() -> pd.DataFrame:
    """g1 linked to c1; g2 new; g3 to review between c2 and c3; g4 invalid."""
    return pd.DataFrame(
        {
            "gr_contact_id": ["g1", "g2", "g3", "g4"],
            "email": ["a@x.fr", "=cmd|' /C calc'!A0", "c@x.fr", ""],
            "name": ["Jean Dupont", "@SUM(1+1)", "-Zoë N", "Ahmed"],
            "first_name": ["Jean", "", "Zoë", "Ahmed"],
            "last_name": ["Dupont", "+Bad", "N", ""],
            "decision": ["link", "new", "review", "invalid"],
            "crm_contact_id": ["c1", None, None, None],
            "crm_name": ["Jean Dupont", None, None, None],
            "crm_email": ["a@x.fr", None, None, None],
            "score": [100, None, 71.5, None],
            "reason": ["same email address", "no CRM contact", "two candidates", "no usable email"],
            "candidates": [
                None,
                None,
                "c2 · Zoé N z@x.fr · 71 · same name\nc3 · Zoe N (no email) · 64 · email typo",
                None,
            ],
            "name_review_reason": [None, "single name", None, None],
            "candidate_ids": [("c1",), (), ("c2", "c3"), ()],
            "row_checksum": ["ck1", "ck2", "ck3", "ck4"],
            "modified_on": [dt.datetime(2026, 1, 5, 9, 30)] * 3 + ["05/01/2026 09:30"],
        }
    )


def write(path: Path, rows_per_sheet: int | None = None) -> Path:
    options = {} if rows_per_sheet is None else {"rows_per_sheet": rows_per_sheet}
    write_review(frame(), path, META, **options)
    return path


def where(book: openpyxl.Workbook, gr_id: str, header: str) -> tuple[str, str]:
    """(sheet, cell) of a row's column, found by its GetResponse id and header text."""
    for sheet in book.worksheets:
        head = [c.value for c in sheet[1]]
        if "GetResponse Contact" not in head or header not in head:
            continue
        for row in sheet.iter_rows(min_row=2):
            if row[0].value == gr_id:
                return sheet.title, row[head.index(header)].coordinate
    raise KeyError((gr_id, header))


def edit(
    path: Path,
    target: Path,
    changes: dict[str | tuple[str, str], str | None],
    sheet: str = "Review",
) -> Path:
    """Set cells with openpyxl, as Excel would, and save under ``target``: by coordinate on
    ``sheet`` (``{"F3": "link"}``) or by row and column (``{("g3", "Decision"): "link 2"}``)."""
    book = openpyxl.load_workbook(path)
    for cell, value in changes.items():
        name, coordinate = where(book, *cell) if isinstance(cell, tuple) else (sheet, cell)
        book[name][coordinate] = value
    book.save(target)
    return target
