"""Contacts out of Dynamics exports (.xlsx) or CSV files, one file or a folder of them.

``read_contacts(path, "gr")`` reads "Active GetResponse contacts" exports;
``read_contacts(path, "crm")`` reads "My active contacts" exports. A folder is read as one
input (Dynamics exports at most 100,000 rows per workbook, so a large base arrives in parts).

Every problem in every file is collected first and raised as one
:class:`~reconcile.errors.InputError`; the caller writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from reconcile import model
from reconcile.errors import InputError, Problem
from reconcile.progress import SILENT, Progress
from reconcile.workbooks import columns as cols
from reconcile.workbooks import tables
from reconcile.workbooks.columns import HeaderMap, Language, Side

SOURCE_FILE = "source_file"
SOURCE_ROW = "source_row"
MAX_ROW_PROBLEMS = 200  # per kind; a systematic error must not print a million lines
# No name, email, id or checksum is this long (Dynamics: 160 characters for a full name, 100 for
# an email; GetResponse: 128 for a name); a longer cell is the wrong column or a broken file, and
# it could not be carried through the review workbook (an Excel cell holds 32,767 characters,
# and Candidates and the hidden copy combine several values in one cell).
MAX_FIELD_CHARS = 1_000

_WHAT = {"gr": "GetResponse contacts", "crm": "CRM contacts"}
_FIELDS = {
    "gr": (
        model.GR_CONTACT_ID,
        model.NAME,
        model.FIRST_NAME,
        model.LAST_NAME,
        model.EMAIL,
        model.ROW_CHECKSUM,
        model.MODIFIED_ON,
        cols.CONTACT_LOOKUP,
    ),
    "crm": (
        model.CRM_CONTACT_ID,
        model.CRM_FIRST_NAME,
        model.CRM_LAST_NAME,
        model.CRM_NAME,
        model.CRM_EMAIL,
    ),
}


@dataclass(frozen=True)
class SourceInfo:
    """What was read, for the summary and for writing the import files back in kind."""

    side: Side
    files: tuple[str, ...]
    sheets: tuple[str | None, ...]
    headers: Mapping[str, str]  # canonical -> header text in the (first) file
    language: Language
    metadata: str | None  # Dynamics hiddenSheet A1 of the first file that has one
    ids_from: Literal["column", "row"]
    formats: tuple[str, ...] = ()  # per CSV file: "path: encoding, separator" (said to the user)


@dataclass
class Contacts:
    frame: pd.DataFrame  # canonical columns (all text) + source_file, source_row
    info: SourceInfo


def _id_column(side: Side) -> str:
    return model.GR_CONTACT_ID if side == "gr" else model.CRM_CONTACT_ID


def _pick_sheet(
    path: Path, side: Side, problems: list[Problem]
) -> tuple[tables.RawTable, HeaderMap] | None:
    """The data sheet of one file: the first visible sheet with the required columns."""
    if path.suffix.lower() in tables.CSV_SUFFIXES:
        table = tables.read_csv(path)
        return table, cols.map_headers(side, table.header)
    book = tables.open_workbook(path)
    names = tables.visible_sheets(book)
    if not names:
        problems.append(Problem("the workbook has no visible worksheet", file=str(path)))
        return None
    first: tuple[tables.RawTable, HeaderMap] | None = None
    for name in names:
        table = tables.read_sheet(path, book, name)
        headers = cols.map_headers(side, table.header)
        if not headers.missing(side):
            table.metadata = tables.read_metadata(book)
            return table, headers
        first = first or (table, headers)
    return first


def _check_side(table: tables.RawTable, headers: HeaderMap, side: Side) -> list[Problem]:
    """Catch the GetResponse and CRM files given the wrong way round."""
    id_header = headers.headers.get(_id_column(side), "")
    folded = cols.fold(id_header)
    if side == "crm" and "getresponse" in folded:
        message = f"this is an export of GetResponse Contacts ({id_header!r}), not of CRM contacts"
    elif side == "gr" and folded.endswith(") contact") and "getresponse" not in folded:
        message = f"this is an export of CRM Contacts ({id_header!r}), not of GetResponse Contacts"
    else:
        return []
    return [table.problem(message + "; were GR_FILE and CRM_FILE swapped?", row=table.header_row)]


def _frame(table: tables.RawTable, headers: HeaderMap, side: Side) -> pd.DataFrame:
    """The canonical columns of one sheet, as text (modified-on kept as read).

    A CSV's columns stay the Arrow-backed text pandas read them as (a million values are not
    turned into a million Python strings, twice the memory); a workbook's are objects."""
    count = len(table)
    data: dict[str, pd.Series] = {}
    for field in _FIELDS[side]:
        index = headers.positions.get(field)
        if index is None:
            values: object = [""] * count
        elif field == model.MODIFIED_ON:
            values = table.raw(index)
        else:
            values = table.text(index)
        if isinstance(values, pd.Series):
            data[field] = values.reset_index(drop=True)
        else:
            data[field] = pd.Series(values, dtype=object)
    frame = pd.DataFrame(data)
    frame[SOURCE_FILE] = str(table.path)
    frame[SOURCE_ROW] = range(table.header_row + 1, table.header_row + 1 + count)
    used = [f for f in _FIELDS[side] if f in headers.positions and f != model.MODIFIED_ON]
    if used:
        blank = np.logical_and.reduce([(frame[f] == "").to_numpy(dtype=bool) for f in used])
        if blank.any():  # else no copy of the whole frame
            frame = frame[~blank]
    return frame


def _limited(problems: list[Problem], label: str) -> list[Problem]:
    if len(problems) <= MAX_ROW_PROBLEMS:
        return problems
    extra = len(problems) - MAX_ROW_PROBLEMS
    return [*problems[:MAX_ROW_PROBLEMS], Problem(f"… and {extra:,} more rows with {label}")]


def _check_lengths(
    frame: pd.DataFrame, headers: Mapping[str, str], sheets: Mapping[str, str | None]
) -> list[Problem]:
    """Cells longer than any name or email (a CSV can hold megabytes in one): refused here,
    naming where they are, instead of failing later while writing the review workbook."""
    problems = []
    for field, column in headers.items():
        if field not in frame.columns or field == model.MODIFIED_ON:
            continue
        lengths = frame[field].str.len()  # text only: every field but modified-on
        for index in lengths.index[lengths > MAX_FIELD_CHARS]:
            file = frame.at[index, SOURCE_FILE]
            problems.append(
                Problem(
                    f"the cell holds {int(lengths[index]):,} characters, more than any name or "
                    f"email ({MAX_FIELD_CHARS:,} at most): is this the right column? Shorten "
                    "or empty the cell",
                    file=file,
                    sheet=sheets.get(file),
                    row=int(frame.at[index, SOURCE_ROW]),
                    column=column,
                )
            )
    return _limited(problems, "a cell too long for Excel")


def _check_ids(
    frame: pd.DataFrame, side: Side, headers: Mapping[str, str], sheets: Mapping[str, str | None]
) -> list[Problem]:
    """Empty and repeated ids; ``sheets`` names the sheet read from each file."""
    id_col = _id_column(side)
    column = headers.get(id_col)
    # Masks on the id column alone: the rows are only copied when there is something to say.
    ids = frame[id_col]
    blank = (ids == "").to_numpy(dtype=bool)
    empty = frame.loc[blank, [SOURCE_FILE, SOURCE_ROW]] if blank.any() else frame.iloc[:0]
    problems = [
        Problem("the id cell is empty", file=f, sheet=sheets.get(f), row=int(r), column=column)
        for f, r in zip(empty[SOURCE_FILE], empty[SOURCE_ROW], strict=True)
    ]
    problems = _limited(problems, "an empty id")
    repeated = ids.duplicated(keep=False).to_numpy(dtype=bool) & ~blank
    dupes = frame.loc[repeated] if repeated.any() else frame.iloc[:0]
    duplicate_problems = []
    for ident, group in dupes.groupby(id_col, sort=False):
        where = ", ".join(
            f"{Path(f).name} row {r}"
            for f, r in zip(group[SOURCE_FILE], group[SOURCE_ROW], strict=True)
        )
        first_file = group[SOURCE_FILE].iloc[0]
        duplicate_problems.append(
            Problem(
                f"id {ident!r} appears more than once ({where})",
                file=first_file,
                sheet=sheets.get(first_file),
                column=column,
            )
        )
    return problems + _limited(duplicate_problems, "a duplicated id")


def read_contacts(path: str | Path, side: Side, progress: Progress = SILENT) -> Contacts:
    """Read one side's contacts from a file or a folder of files; raise InputError on problems."""
    files = tables.list_inputs(path, _WHAT[side])
    problems: list[Problem] = []
    hints: list[str] = []  # what to do about file-level problems (encrypted, corrupt, ...)
    parts: list[tuple[tables.RawTable, HeaderMap, pd.DataFrame]] = []
    with progress.task(f"Reading {_WHAT[side]}", total=len(files)) as task:
        for file in files:
            try:
                picked = _pick_sheet(file, side, problems)
            except InputError as exc:
                problems.extend(exc.problems)
                if exc.hint and exc.hint not in hints:
                    hints.append(exc.hint)
                picked = None
            task.advance()
            if picked is None:
                continue
            table, headers = picked
            side_problems = _check_side(table, headers, side)
            missing = headers.missing(side)
            if not table.header:
                problems.append(table.problem("the sheet is empty: no header row, no data"))
            elif side_problems:
                problems.extend(side_problems)
            elif missing:
                problems.extend(
                    table.problem(
                        f"required column {name!r} not found in the header row",
                        table.header_row,
                        name,
                    )
                    for name in missing
                )
                found = ", ".join(repr(str(h)) for h in table.header if str(h or "").strip())
                problems.append(
                    table.problem(f"the header row has: {found or 'no names'}", table.header_row)
                )
            else:
                parts.append((table, headers, _frame(table, headers, side)))
    if problems:
        raise InputError(problems, hint=" ".join([*hints, _hint(side)]))
    with_ids = [t for t, h, _ in parts if _id_column(side) in h.positions]
    if with_ids and len(with_ids) != len(parts):
        without = [str(t.path) for t, h, _ in parts if _id_column(side) not in h.positions]
        raise InputError(
            [
                Problem("this file has no id column while the other files have one", file=f)
                for f in without
            ],
            hint="Read exports of the same view, with the same columns.",
        )
    frame = pd.concat([f for _, _, f in parts], ignore_index=True)
    ids_from: Literal["column", "row"] = "column" if with_ids else "row"
    first_table, first_headers, _ = parts[0]
    if ids_from == "row":
        several = len(parts) > 1
        frame[_id_column(side)] = [
            f"{Path(f).name}:{r}" if several else str(r)
            for f, r in zip(frame[SOURCE_FILE], frame[SOURCE_ROW], strict=True)
        ]
    sheets = {str(t.path): t.sheet for t, _, _ in parts}
    problems = _check_lengths(frame, first_headers.headers, sheets)
    problems += _check_ids(frame, side, first_headers.headers, sheets)
    if side == "gr" and frame.empty:
        problems.append(
            Problem(
                "no GetResponse contacts: the file(s) have a header row but no data",
                file=str(first_table.path),
                sheet=first_table.sheet,
            )
        )
    if problems:
        raise InputError(problems, hint=_hint(side))
    languages = Counter(h.language for _, h, _ in parts)
    info = SourceInfo(
        side=side,
        files=tuple(str(t.path) for t, _, _ in parts),
        sheets=tuple(t.sheet for t, _, _ in parts),
        headers=dict(first_headers.headers),
        language=languages.most_common(1)[0][0],
        metadata=next((t.metadata for t, _, _ in parts if t.metadata), None),
        ids_from=ids_from,
        formats=tuple(f"{t.path}: {t.text_format}" for t, _, _ in parts if t.text_format),
    )
    return Contacts(frame.reset_index(drop=True), info)


def _hint(side: Side) -> str:
    if side == "gr":
        return (
            "Export 'Active GetResponse contacts' from Dynamics (Export to Excel), or give a CSV "
            "with the columns Name (or First Name and Last Name) and Email."
        )
    return (
        "Export 'My active contacts' from Dynamics (Export to Excel), or give a CSV with the "
        "columns First Name, Last Name and Email."
    )
