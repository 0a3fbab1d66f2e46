"""What ``reconcile migrate`` adds to the review workbook, and reads back from it.

The review workbook stays the offline round-trip's (``Review``, ``Summary``, hidden
``_reconcile`` and ``_original``; the same validation at apply time). ``migrate plan`` adds:

* ``Plan`` — what ``apply`` would do with the decisions as proposed: CRM contacts to create,
  GetResponse contacts to link, rows left for review, what is skipped and why.
* ``_migrate`` (hidden) — per row, in the Review order: the GetResponse contact id (to check
  the alignment), its GetResponse list (id and name) and the data its GetResponse Contact
  record is written from (JSON). Packed like ``_original`` and fingerprinted in
  ``_reconcile``'s metadata, so an edit is noticed rather than applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from reconcile import model
from reconcile.errors import InputError, Problem
from reconcile.progress import SILENT, Progress
from reconcile.workbooks import packing, tables
from reconcile.workbooks.review import ExtraSheet, digest, write_review
from reconcile.workbooks.validate import Reviewed

PLAN_SHEET = "Plan"
PAYLOAD_SHEET = "_migrate"
PAYLOAD_COLUMNS = (model.GR_CONTACT_ID, "gr_list_id", "gr_list_name", "gr_data")
PLAN_HEADERS = ("Step", "Count", "What happens")


def _packed(payload: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    cells = {c: packing.pack(payload[c].fillna("").astype(str).tolist()) for c in PAYLOAD_COLUMNS}
    height = max((len(v) for v in cells.values()), default=0)
    frame = pd.DataFrame(
        {c: pd.Series(v + [None] * (height - len(v)), dtype=object) for c, v in cells.items()}
    )
    return frame, digest(cells)


def write_plan_review(
    review: pd.DataFrame,
    payload: pd.DataFrame,
    path: str | Path,
    meta: Mapping[str, Any],
    plan_rows: Sequence[tuple[str, int | str, str]],
    *,
    summary_extra: Mapping[str, int] | None = None,
    progress: Progress = SILENT,
) -> list[str]:
    """The review workbook plus ``Plan`` and the hidden ``_migrate`` sheet."""
    packed, fingerprint = _packed(payload)
    stored = {**meta, "migrate": {**dict(meta.get("migrate") or {}), "payload": fingerprint}}
    plan = pd.DataFrame(plan_rows, columns=list(PLAN_HEADERS), dtype=object)
    extras = [
        ExtraSheet(PLAN_SHEET, plan, widths={"Step": 46.0, "Count": 12.0, "What happens": 100.0}),
        ExtraSheet(PAYLOAD_SHEET, packed, hidden=True),
    ]
    return write_review(
        review, path, stored, summary_extra=summary_extra, extra_sheets=extras, progress=progress
    )


def _broken(path: Path, what: str) -> InputError:
    return InputError(
        Problem(f"not a plan written by 'reconcile migrate plan': {what}", file=str(path)),
        hint="Give the review.xlsx that 'reconcile migrate plan' wrote (keep its hidden "
        "sheets), or run 'reconcile migrate plan' again.",
    )


def read_payload(reviewed: Reviewed) -> pd.DataFrame:
    """The hidden ``_migrate`` rows of a checked review workbook, in its rows' order."""
    path = reviewed.path
    meta = reviewed.meta.get("migrate")
    if not isinstance(meta, dict) or "payload" not in meta:
        raise _broken(path, "it was written by 'reconcile match' (no migration plan in it)")
    book = tables.open_workbook(path)
    if PAYLOAD_SHEET not in book.sheet_names:
        raise _broken(path, f"the hidden sheet {PAYLOAD_SHEET!r} is missing")
    rows = book.get_sheet_by_name(PAYLOAD_SHEET).to_python(skip_empty_area=False)
    header = [str(h) for h in rows[0]] if rows else []
    if header[: len(PAYLOAD_COLUMNS)] != list(PAYLOAD_COLUMNS):
        raise _broken(path, f"the hidden sheet {PAYLOAD_SHEET!r} was changed")
    cells = {
        name: [str(r[i]) for r in rows[1:] if i < len(r) and r[i] != ""]
        for i, name in enumerate(PAYLOAD_COLUMNS)
    }
    if digest(cells) != meta["payload"]:
        raise _broken(path, f"the hidden sheet {PAYLOAD_SHEET!r} was changed")
    try:
        columns = {name: packing.unpack(values) for name, values in cells.items()}
    except ValueError as exc:
        raise _broken(path, f"the hidden sheet {PAYLOAD_SHEET!r} was changed") from exc
    frame = pd.DataFrame(columns, dtype=object)
    ids = reviewed.rows[model.GR_CONTACT_ID].astype(str).tolist()
    if frame[model.GR_CONTACT_ID].tolist() != ids:
        raise _broken(path, f"the hidden sheet {PAYLOAD_SHEET!r} does not match the Review rows")
    return frame


REPORT_SHEETS = {
    "failures": ("Failed", ("what", "record", "email", "where", "message", "action")),
    "duplicates": ("Duplicates", ("what", "record", "email", "where", "message", "action")),
    "created": (
        "Created",
        (
            "contact_id",
            "first_name",
            "last_name",
            "email",
            "getresponse_contacts",
            "review_row",
            "outcome",
        ),
    ),
    "linked": (
        "Linked",
        (
            "getresponse_contact",
            "email",
            "list",
            "crm_contact",
            "created_by_migration",
            "note",
            "review_row",
        ),
    ),
    "skipped": ("Skipped", ("getresponse_contact", "email", "decision", "reason", "review_row")),
    "lists": ("Lists", ("list", "campaign_id", "record_id", "created", "members_added")),
}
WIDE = {"message": 70.0, "action": 70.0, "reason": 70.0, "note": 50.0}


TITLES = {
    "getresponse_contact": "GetResponse contact",
    "getresponse_contacts": "GetResponse contacts",
    "crm_contact": "CRM contact",
    "contact_id": "CRM contact id",
    "campaign_id": "GetResponse list id",
    "record_id": "GetResponse List record",
    "where": "Review row",
}


def _title(name: str) -> str:
    return TITLES.get(name, name.replace("_", " ").capitalize())


def write_run_report(report: Mapping[str, Any], summary: Sequence[str], path: str | Path) -> Path:
    """The run report workbook: a Summary, then one sheet per kind of outcome (each failure
    with its record, the service's message and what to do). Written atomically."""
    import rustpy_xlsxwriter as rx

    from reconcile.workbooks.atomic import staged_file

    sheets: list[tuple[str, pd.DataFrame]] = [
        ("Summary", pd.DataFrame({"Run": list(summary)}, dtype=object))
    ]
    widths: dict[str, dict[str, float] | list[float]] = {"Summary": {"Run": 120.0}}
    for key, (sheet, columns) in REPORT_SHEETS.items():
        rows = [{c: _cell(item.get(c)) for c in columns} for item in report.get(key) or []]
        frame = pd.DataFrame(rows, columns=list(columns), dtype=object)
        frame.columns = [_title(c) for c in columns]
        sheets.append((sheet, frame))
        widths[sheet] = {_title(c): WIDE.get(c, 24.0) for c in columns}
    target = Path(path)
    with staged_file(target) as temp:
        rx.write_worksheets(
            sheets,
            str(temp),
            bold_headers=True,
            column_widths=widths,
            freeze_panes={name: {"row": 1, "col": 0} for name, _ in sheets},
            autofilter={name: True for name, _ in sheets[1:]},
        )
    return target


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value
