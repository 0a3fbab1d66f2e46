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
            "candidates": [None, None, "c2 (71): same name; c3 (64): email typo", None],
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


def edit(path: Path, target: Path, changes: dict[str, str | None], sheet: str = "Review") -> Path:
    """Set cells (``{"F3": "link"}``) with openpyxl, as Excel would, and save under ``target``."""
    book = openpyxl.load_workbook(path)
    for cell, value in changes.items():
        book[sheet][cell] = value
    book.save(target)
    return target
