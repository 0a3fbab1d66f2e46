"""The review workbook that ``reconcile match`` writes and ``reconcile build-import`` reads.

Sheets:

* ``Review`` — one row per GetResponse contact: what we propose (Decision, CRM Contact) and why
  (Score, Reason, Candidates). A dropdown on Decision, frozen header, autofilter, widths, and
  the Decision cell coloured by a conditional format (which follows the reviewer's edits and
  costs nothing per row). More rows than a sheet holds continue on ``Review 2``, ``Review 3``…
* ``Summary`` — counts per decision.
* ``_reconcile`` (hidden) — JSON: format version, the inputs' languages, headers and Dynamics
  metadata (to write the re-import in kind), the Review sheet names, and a digest of ``_original``.
* ``_original`` (hidden) — what was written: per row the GetResponse id, email, candidate ids,
  the export's row checksum and modified-on, and the name as exported, one column each.
  ``build-import`` checks the edited sheet against it (added, deleted or re-keyed rows, links to
  non-candidates). Values are packed hundreds per cell (``packing.py``): a million rows read
  back in about a second.

Written with rustpy-xlsxwriter (strings are string cells: never formulas).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rustpy_xlsxwriter as rx

from reconcile import __version__, model
from reconcile.progress import SILENT, Progress
from reconcile.workbooks import packing, review_sheets
from reconcile.workbooks.atomic import staged_file
from reconcile.workbooks.tables import as_text

REVIEW_SHEET = review_sheets.REVIEW_SHEET
SUMMARY_SHEET = review_sheets.SUMMARY_SHEET
META_SHEET = "_reconcile"
ORIGINAL_SHEET = "_original"
FORMAT = "reconcile-review"
FORMAT_VERSION = 1
SHEET_ROWS = 1_048_576  # rows an .xlsx sheet holds, header included
META_CELL_CHARS = 16_000  # characters of metadata JSON per cell (a cell holds 32,767 units)
CANDIDATE_IDS = "candidate_ids"
NAME_REVIEW_REASON = "name_review_reason"


def _iso(value: object) -> str:
    """Modified-on as tagged text: ``d:`` ISO datetime, or ``s:`` the text as exported."""
    if value is pd.NaT or value is None or (isinstance(value, float) and value != value):
        return "s:"
    if isinstance(value, dt.datetime):
        return "d:" + value.isoformat()
    return "s:" + str(value)


def _tagged_dates(column: pd.Series) -> list[str]:
    """:func:`_iso` for a whole column (vectorized when it is a datetime column)."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype) and column.dt.tz is None:
        text = np.datetime_as_string(column.to_numpy(dtype="datetime64[us]"), unit="s")
        return ["s:" if t == "NaT" else "d:" + t for t in text.tolist()]
    if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):  # a CSV's text
        return ("s:" + column.astype(object).fillna("").astype(str)).tolist()
    return [_iso(v) for v in column.tolist()]


def _clean(values: pd.Series) -> list[str]:
    """Text as build-import will read it back from the sheet (stripped; blanks as '')."""
    if pd.api.types.is_string_dtype(values.dtype):
        return values.fillna("").astype(str).str.strip().tolist()
    return ["" if v is None or (isinstance(v, float) and v != v) else as_text(v) for v in values]


ORIGINAL_COLUMNS = (
    model.GR_CONTACT_ID,
    model.EMAIL,
    CANDIDATE_IDS,
    model.ROW_CHECKSUM,
    model.MODIFIED_ON,
    model.NAME,  # as exported: the re-import writes it back unchanged, whatever the sheet says
)
# Added later (a workbook without them still reads): what the sheet said when written, so that
# an edited review is never replaced silently, and how many CRM contacts held the row's
# mailbox, so that a "new" the reviewer chose for such an address is reported.
WRITTEN_DECISION = "written_decision"
WRITTEN_AT = "written_at"  # "<sheet>\t<row>": where the row was written
WRITTEN_CRM_CONTACT = "written_crm_contact"
SAME_EMAIL = "same_email"
LATER_COLUMNS = (WRITTEN_DECISION, WRITTEN_CRM_CONTACT, SAME_EMAIL, WRITTEN_AT)


def original_columns(
    review: pd.DataFrame, where: Sequence[str] | None = None
) -> Iterator[tuple[str, list[str]]]:
    """The per-row facts build-import checks the edited sheet against, column by column
    (one at a time: a million rows' worth of Python strings is made for one column only)."""
    yield model.GR_CONTACT_ID, _clean(review[model.GR_CONTACT_ID])
    yield model.EMAIL, _clean(review[model.EMAIL])
    yield CANDIDATE_IDS, [" ".join(c) if c else "" for c in review[CANDIDATE_IDS].tolist()]
    yield model.ROW_CHECKSUM, _clean(review[model.ROW_CHECKSUM])
    yield model.MODIFIED_ON, _tagged_dates(review[model.MODIFIED_ON])
    yield model.NAME, _clean(review[model.NAME])
    yield WRITTEN_DECISION, _clean(review[model.DECISION])
    yield WRITTEN_CRM_CONTACT, _clean(review[model.CRM_CONTACT_ID])
    yield SAME_EMAIL, _counts(review).astype(str).tolist()
    if where is not None:
        yield WRITTEN_AT, list(where)


def _counts(review: pd.DataFrame) -> np.ndarray:
    if SAME_EMAIL not in review.columns:
        return np.zeros(len(review), dtype=np.int64)
    return pd.to_numeric(review[SAME_EMAIL], errors="coerce").fillna(0).to_numpy(dtype=np.int64)


def packed_frame(review: pd.DataFrame, where: Sequence[str] | None = None) -> pd.DataFrame:
    """The ``_original`` sheet: one column per fact, each packed into as few cells as fit."""
    cells = {name: packing.pack(values) for name, values in original_columns(review, where)}
    height = max((len(c) for c in cells.values()), default=0)
    return pd.DataFrame(
        {name: pd.Series(c + [None] * (height - len(c)), dtype=object) for name, c in cells.items()}
    )


def meta_cells(text: str) -> list[str]:
    """The metadata JSON cut into cells down column A: one Excel cell holds at most 32,767
    characters (fewer UTF-16 units for emoji), and a migration of a few hundred lists, or a
    folder of many exports, needs more. Read back by joining the cells in order."""
    return [text[i : i + META_CELL_CHARS] for i in range(0, len(text), META_CELL_CHARS)] or [""]


def digest(columns: Mapping[str, Sequence[str]]) -> str:
    """A fingerprint of the ``_original`` cells, to notice when someone edited them."""
    hasher = hashlib.sha256()
    for name, cells in columns.items():
        hasher.update(name.encode() + b"\0")
        for cell in cells:
            hasher.update(cell.encode())
            hasher.update(b"\n")
    return hasher.hexdigest()


@dataclass(frozen=True)
class ExtraSheet:
    """A sheet a job adds to the review workbook (``reconcile migrate``'s ``Plan`` and its
    hidden copy of what ``apply`` needs), written after ``Summary``."""

    name: str
    frame: pd.DataFrame
    hidden: bool = False
    widths: Mapping[str, float] = field(default_factory=dict)


def write_review(
    review: pd.DataFrame,
    path: str | Path,
    meta: Mapping[str, Any],
    *,
    summary_extra: Mapping[str, int] | None = None,
    rows_per_sheet: int = SHEET_ROWS - 1,
    extra_sheets: Sequence[ExtraSheet] = (),
    progress: Progress = SILENT,
    all_links: bool = False,
) -> list[str]:
    """Write the review workbook atomically; returns the Review sheet names.

    Links with nothing to check (identical mailbox, same name) are kept in the hidden copy
    only, unless ``all_links`` lists them too (``review_sheets.unlisted_links``).

    ``review`` has the canonical columns of :data:`REVIEW_HEADERS` plus ``candidate_ids``
    (tuples of ids), ``row_checksum`` and ``modified_on``. ``meta`` is stored as JSON.
    ``extra_sheets`` are written after ``Summary`` (hidden ones are hidden).
    """
    with progress.task("Writing the review workbook", total=None):
        unlisted = (
            np.zeros(len(review), dtype=bool) if all_links else review_sheets.unlisted_links(review)
        )
        parts = review_sheets.split_sheets(review, rows_per_sheet, unlisted)
        names = [part.name for part in parts]
        where = np.full(len(review), "", dtype=object)
        for part in parts:
            where[part.positions] = [f"{part.name}\t{r}" for r in range(2, len(part.positions) + 2)]
        packed = packed_frame(review, where.tolist())
        stored = {
            **meta,
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "written_by": f"reconcile {__version__}",
            "rows": len(review),
            "rows_per_sheet": rows_per_sheet,
            "review_sheets": names,
            "original_digest": digest({c: packed[c].dropna().tolist() for c in packed.columns}),
        }
        sheets: list[tuple[str, object]] = [(part.name, part.frame) for part in parts]
        summary, summary_formula = review_sheets.summary_sheet(
            parts, summary_extra or {}, int(unlisted.sum())
        )
        sheets.append((SUMMARY_SHEET, summary))
        sheets.extend((extra.name, extra.frame) for extra in extra_sheets)
        sheets.append(
            (
                META_SHEET,
                pd.DataFrame(
                    {
                        "reconcile review metadata - do not edit": meta_cells(
                            json.dumps(stored, ensure_ascii=False, default=str)
                        )
                    }
                ),
            )
        )
        sheets.append((ORIGINAL_SHEET, packed))
        with staged_file(path) as temp:
            options = review_sheets.sheet_options(parts)
            options["formula_columns"][SUMMARY_SHEET] = summary_formula
            options["column_widths"][SUMMARY_SHEET] = {
                "What": 44.0, "Decision is": 12.0, "Risk is": 16.0, "At build-import": 104.0,
                "Fixed": 9.0, "Count": 12.0,
            }  # fmt: skip
            options["page_setup"][SUMMARY_SHEET] = {
                "landscape": True, "paper_size": 9, "fit_to_pages": (1, 0),
            }  # fmt: skip
            options["sheet_view"] = {META_SHEET: {"hidden": True}, ORIGINAL_SHEET: {"hidden": True}}
            for extra in extra_sheets:
                if extra.hidden:
                    options["sheet_view"][extra.name] = {"hidden": True}
                if extra.widths:
                    options["column_widths"][extra.name] = {
                        k: float(v) for k, v in extra.widths.items()
                    }
            rx.write_worksheets(sheets, str(temp), bold_headers=True, **options)
    return names
