"""Read an edited review workbook back and check every row against what was written.

All problems are collected — unknown decisions, ``link`` without a CRM contact or to an id that
was not a candidate, rows added or deleted, ids or emails changed, a new contact without a last
name — and raised together as one :class:`~reconcile.errors.InputError` naming sheet, row and
column. Rows are matched by their GetResponse id, not by position, so sorting and filtering
the sheet in Excel is fine.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reconcile import model
from reconcile.errors import InputError, Problem
from reconcile.model import Decision
from reconcile.progress import SILENT, Progress
from reconcile.workbooks import packing, review_sheets, tables
from reconcile.workbooks import review as layout
from reconcile.workbooks.columns import REVIEW_HEADERS, fold

MAX_PER_KIND = 200
NAME_MAX_LENGTH = 50  # contact firstname / lastname MaxLength (Dataverse contact reference)
ACCEPTED = {d.value for d in Decision} | set(review_sheets.CHOICES)
NEEDED = (
    model.GR_CONTACT_ID,
    model.EMAIL,
    model.NAME,
    model.FIRST_NAME,
    model.LAST_NAME,
    model.DECISION,
    model.CRM_CONTACT_ID,
)
LOCATION = ("sheet", "row")


@dataclass
class Reviewed:
    """The reviewed rows, in the order they were written, with what the imports need."""

    rows: pd.DataFrame  # gr_contact_id, email, name, first_name, last_name, decision,
    # crm_contact_id, candidate_ids, row_checksum, modified_on, sheet, row
    meta: dict[str, Any]
    path: Path


@dataclass
class _Problems:
    """Problems grouped by kind, so that one systematic mistake is not a million lines."""

    path: str
    writer: str = "reconcile match"  # the command that wrote the workbook, and reads it next:
    reader: str = "reconcile build-import"  # set from the metadata (migrate plan | apply)
    kinds: dict[str, list[Problem]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)  # sheets whose rows could not be read

    def add(
        self,
        kind: str,
        message: str,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        items = self.kinds.setdefault(kind, [])
        if len(items) < MAX_PER_KIND:
            items.append(Problem(message, file=self.path, sheet=sheet, row=row, column=column))

    def more(self, kind: str, count: int) -> None:
        """Count ``count`` further problems of ``kind`` without building them."""
        self.counts[kind] = self.counts.get(kind, 0) + count

    def raise_if_any(self) -> None:
        problems: list[Problem] = []
        for kind, items in self.kinds.items():
            problems.extend(items)
            if self.counts[kind] > len(items):
                extra = self.counts[kind] - len(items)
                problems.append(Problem(f"… and {extra:,} more rows with {kind}", file=self.path))
        if problems:
            raise InputError(
                problems,
                hint=f"Fix these cells in Excel (or run '{self.writer}' again) and run "
                f"'{self.reader}' again.",
            )


def _not_ours(path: Path, what: str) -> InputError:
    return InputError(
        Problem(
            f"not a review workbook written by 'reconcile match' or 'reconcile migrate plan': "
            f"{what}",
            file=str(path),
        ),
        hint="Give the review.xlsx that reconcile wrote (its hidden sheets must stay in it).",
    )


def _commands(meta: dict[str, Any]) -> tuple[str, str]:
    """(the command that wrote this review workbook, the one that reads it next)."""
    if "migrate" in meta:
        return "reconcile migrate plan", "reconcile migrate apply"
    return "reconcile match", "reconcile build-import"


def _load_meta(path: Path, book: Any) -> dict[str, Any]:
    if layout.META_SHEET not in book.sheet_names or layout.ORIGINAL_SHEET not in book.sheet_names:
        raise _not_ours(
            path, f"hidden sheets {layout.META_SHEET!r} and {layout.ORIGINAL_SHEET!r} are missing"
        )
    rows = book.get_sheet_by_name(layout.META_SHEET).to_python(skip_empty_area=False)
    text = "".join(str(row[0]) for row in rows[1:] if row and row[0] != "")  # meta_cells
    try:
        meta = json.loads(text)
    except ValueError as exc:
        raise _not_ours(path, f"sheet {layout.META_SHEET!r} was changed") from exc
    if not isinstance(meta, dict) or meta.get("format") != layout.FORMAT:
        raise _not_ours(path, f"sheet {layout.META_SHEET!r} does not describe a review workbook")
    if meta.get("format_version") != layout.FORMAT_VERSION:
        raise _not_ours(
            path,
            f"format version {meta.get('format_version')!r}; this reconcile reads "
            f"{layout.FORMAT_VERSION}",
        )
    return meta


def _load_original(path: Path, book: Any, meta: dict[str, Any]) -> pd.DataFrame:
    """What match wrote, one column per fact; refuses a hidden sheet that was edited."""
    rows = book.get_sheet_by_name(layout.ORIGINAL_SHEET).to_python(skip_empty_area=False)
    header = [str(h) for h in rows[0]] if rows else []
    if header[: len(layout.ORIGINAL_COLUMNS)] != list(layout.ORIGINAL_COLUMNS):
        raise _not_ours(path, f"hidden sheet {layout.ORIGINAL_SHEET!r} was changed")
    known = [*layout.ORIGINAL_COLUMNS, *layout.LATER_COLUMNS]
    cells = {
        name: [r[i] for r in rows[1:] if i < len(r) and r[i] != ""]
        for i, name in enumerate(header)
        if name in known
    }
    if layout.digest(cells) != meta.get("original_digest"):
        raise _not_ours(path, f"hidden sheet {layout.ORIGINAL_SHEET!r} was changed")
    try:
        columns = {name: packing.unpack(c) for name, c in cells.items()}
    except ValueError as exc:
        raise _not_ours(path, f"hidden sheet {layout.ORIGINAL_SHEET!r} was changed") from exc
    if any(len(values) != meta.get("rows") for values in columns.values()):
        raise _not_ours(path, f"hidden sheet {layout.ORIGINAL_SHEET!r} is incomplete")
    return pd.DataFrame(columns, dtype=object)


def _modified_column(tagged: list[str]) -> list[object]:
    """:func:`_modified` for a whole column; the common case (all dates) parsed at once."""
    if tagged and all(t.startswith("d:") for t in tagged):
        parsed = pd.to_datetime(pd.Series([t[2:] for t in tagged]), format="ISO8601")
        return list(parsed.dt.to_pydatetime())
    return [_modified(t) for t in tagged]


def _modified(tagged: str) -> object:
    kind, _, text = tagged.partition(":")
    if kind == "d" and text:
        return dt.datetime.fromisoformat(text)
    return text


def _read_sheets(path: Path, book: Any, meta: dict[str, Any], problems: _Problems) -> pd.DataFrame:
    """The edited rows of every Review sheet, with their sheet and Excel row number."""
    frames = []
    wanted = {fold(REVIEW_HEADERS[c]): c for c in NEEDED}
    for name in meta["review_sheets"]:
        if name not in book.sheet_names:
            problems.add("a missing sheet", f"sheet {name!r} was removed or renamed", sheet=name)
            problems.unreadable.add(name)
            continue
        table = tables.read_sheet(path, book, name)
        positions: dict[str, int] = {}
        for index, header in enumerate(table.header):
            canonical = wanted.get(fold(header))
            if canonical and canonical not in positions:
                positions[canonical] = index
        absent = [REVIEW_HEADERS[c] for c in NEEDED if c not in positions]
        for column in absent:
            problems.add(
                "a missing column",
                "column not found in the header row (renamed or deleted?)",
                sheet=name,
                row=table.header_row,
                column=column,
            )
        if absent:
            problems.unreadable.add(name)
            continue
        data = {c: tables.text_column(table.rows, positions[c]) for c in NEEDED}
        frame = pd.DataFrame(data, dtype=object)
        frame["sheet"] = name
        frame["row"] = range(table.header_row + 1, table.header_row + 1 + len(frame))
        filled = [any(values) for values in zip(*(data[c] for c in NEEDED), strict=True)]
        # A boolean Series, not a list: an empty list would select no *columns*.
        frames.append(frame[pd.Series(filled, index=frame.index, dtype=bool)])
    if not frames:
        return pd.DataFrame(columns=[*NEEDED, *LOCATION])
    return pd.concat(frames, ignore_index=True)


def _check_keys(
    edited: pd.DataFrame, original: pd.DataFrame, meta: dict[str, Any], problems: _Problems
) -> pd.Series:
    """Match edited rows to written rows by id; report added, duplicated and deleted rows."""
    column = REVIEW_HEADERS[model.GR_CONTACT_ID]
    index = pd.Index(original[model.GR_CONTACT_ID])
    position = pd.Series(index.get_indexer(edited[model.GR_CONTACT_ID]), index=edited.index)
    unknown = edited.index[position < 0]
    for i in unknown[:MAX_PER_KIND]:
        ident = edited.at[i, model.GR_CONTACT_ID]
        what = "is empty" if ident == "" else f"{ident!r} was not written by '{problems.writer}'"
        problems.add(
            "an unknown GetResponse id",
            f"GetResponse Contact {what}: the row was added or its id changed",
            sheet=edited.at[i, "sheet"],
            row=int(edited.at[i, "row"]),
            column=column,
        )
    problems.more("an unknown GetResponse id", max(0, len(unknown) - MAX_PER_KIND))
    found = position[position >= 0]
    first_at = {p: i for i, p in found.drop_duplicates(keep="first").items()}
    repeated = found.index[found.duplicated(keep="first")]
    for i in repeated[:MAX_PER_KIND]:
        first = first_at[found[i]]
        problems.add(
            "a repeated row",
            f"GetResponse Contact {edited.at[i, model.GR_CONTACT_ID]!r} appears again (first in "
            f"sheet {edited.at[first, 'sheet']!r} row {edited.at[first, 'row']}): the row was "
            "copied",
            sheet=edited.at[i, "sheet"],
            row=int(edited.at[i, "row"]),
            column=column,
        )
    problems.more("a repeated row", max(0, len(repeated) - MAX_PER_KIND))
    per_sheet = meta["rows_per_sheet"]
    sheets = meta["review_sheets"]

    def sheet_of(p: int) -> str:
        if layout.WRITTEN_AT in original.columns:
            return str(original.at[p, layout.WRITTEN_AT]).partition("\t")[0]
        return sheets[p // per_sheet]

    deleted = [
        p
        for p in sorted(set(range(len(original))) - set(first_at))
        if sheet_of(p) not in problems.unreadable  # already reported as a whole
        and sheet_of(p) != ""  # a link written on no sheet (nothing to check)
    ]
    written_at = layout.WRITTEN_AT in original.columns
    for gone in deleted[:MAX_PER_KIND]:
        if written_at:
            sheet, _, at = str(original.at[gone, layout.WRITTEN_AT]).partition("\t")
        else:
            sheet, at = meta["review_sheets"][gone // per_sheet], str(gone % per_sheet + 2)
        problems.add(
            "a deleted row",
            f"the row of GetResponse Contact {original.at[gone, model.GR_CONTACT_ID]!r} "
            f"(written at row {at}) was deleted",
            sheet=sheet,
            column=column,
        )
    problems.more("a deleted row", max(0, len(deleted) - MAX_PER_KIND))
    return position


def _resolve_choices(
    edited: pd.DataFrame, decision: pd.Series, original: pd.DataFrame, each: Any
) -> pd.Series:
    """``link 1`` / ``link 2`` / ``link 3`` (the Review sheet's dropdown) -> ``link`` to that
    candidate, read from what match wrote (the sheet's CRM Contact is only a formula showing
    it: a workbook nobody opened in Excel has no value there)."""
    rank = pd.to_numeric(decision.str.extract(r"^link\s*([1-9])$")[0], errors="coerce")
    chosen = rank.notna()
    if not chosen.any():
        return decision
    offered = original[layout.CANDIDATE_IDS].to_numpy(dtype=object)[edited["_pos"].to_numpy(int)]
    ids = pd.Series(
        [
            (o.split()[int(r) - 1] if int(r) <= len(o.split()) else "") if c else ""
            for o, r, c in zip(offered, rank.fillna(0), chosen, strict=True)
        ],
        index=edited.index,
        dtype=object,
    )
    each(
        chosen & (ids == ""),
        "a choice without that candidate",
        model.DECISION,
        lambda r: (
            f"{r[model.DECISION]!r} chooses a candidate this row does not have: choose "
            "one of its Candidate columns, new or skip"
        ),
    )
    typed = edited[model.CRM_CONTACT_ID].str.strip().str.lower()
    each(
        chosen & (ids != "") & (typed != "") & (typed != ids.str.lower()),
        "a choice that disagrees with CRM Contact",
        model.CRM_CONTACT_ID,
        lambda r: (
            f"Decision says {r[model.DECISION]!r} but CRM Contact holds another id: "
            "clear CRM Contact, or choose link to keep that id"
        ),
    )
    edited.loc[chosen, model.CRM_CONTACT_ID] = ids[chosen]
    return decision.where(~chosen, Decision.LINK.value)


def _check_rows(edited: pd.DataFrame, original: pd.DataFrame, problems: _Problems) -> None:
    headers = REVIEW_HEADERS

    def each(mask: pd.Series, kind: str, column: str, message: Callable[[pd.Series], str]) -> None:
        hits = edited[mask]
        for _, row in hits.head(MAX_PER_KIND).iterrows():
            problems.add(
                kind, message(row), sheet=row["sheet"], row=int(row["row"]), column=headers[column]
            )
        problems.more(kind, max(0, len(hits) - MAX_PER_KIND))

    decision = edited[model.DECISION].str.strip().str.lower()
    decision = _resolve_choices(edited, decision, original, each)
    edited[model.DECISION] = decision
    each(
        decision == "",
        "an empty decision",
        model.DECISION,
        lambda r: "Decision is empty: choose link, new, skip or review",
    )
    each(
        (decision != "") & ~decision.isin(ACCEPTED),
        "an unknown decision",
        model.DECISION,
        lambda r: f"unknown decision {r[model.DECISION]!r}: choose link, new, skip or review",
    )
    link = decision == Decision.LINK
    each(
        link & (edited[model.CRM_CONTACT_ID] == ""),
        "a link without CRM contact",
        model.CRM_CONTACT_ID,
        lambda r: (
            "decision is link but CRM Contact is empty: put the id of one of the Candidates there"
        ),
    )
    candidates = original[layout.CANDIDATE_IDS]
    linked = edited[link]
    offered = candidates.to_numpy(dtype=object)[linked["_pos"].to_numpy(dtype=int)]
    allowed = pd.Series(
        [
            cid in cands.split()
            for cid, cands in zip(linked[model.CRM_CONTACT_ID], offered, strict=True)
        ],
        index=linked.index,
        dtype=bool,
    ).reindex(edited.index, fill_value=True)
    each(
        link & (edited[model.CRM_CONTACT_ID] != "") & ~allowed,
        "a link to a non-candidate",
        model.CRM_CONTACT_ID,
        lambda r: (
            f"CRM Contact {r[model.CRM_CONTACT_ID]!r} was not a candidate for this contact"
            + (
                f" (candidates: {', '.join(candidates.iat[r['_pos']].split())})"
                if candidates.iat[r["_pos"]]
                else " (it had no candidates: choose new or skip)"
            )
        ),
    )
    changed = (
        edited[model.EMAIL].str.casefold()
        != original[model.EMAIL].iloc[edited["_pos"]].str.casefold().to_numpy()
    )
    each(
        changed,
        "a changed email",
        model.EMAIL,
        lambda r: (
            f"Email was changed (written: {original.at[r['_pos'], model.EMAIL]!r}): the email "
            f"comes from GetResponse; change it there, then run '{problems.writer}' again"
        ),
    )
    new = decision == Decision.NEW
    each(
        new & (edited[model.EMAIL] == ""),
        "a new contact without email",
        model.EMAIL,
        lambda r: "decision is new but the contact has no email: choose skip",
    )
    each(
        new & (edited[model.LAST_NAME] == ""),
        "a new contact without last name",
        model.LAST_NAME,
        lambda r: (
            "decision is new but Last Name is empty: Dynamics requires a last name for a contact"
        ),
    )
    for column in (model.FIRST_NAME, model.LAST_NAME):
        each(
            new & (edited[column].str.len() > NAME_MAX_LENGTH),
            f"a new contact with a too long {REVIEW_HEADERS[column]}",
            column,
            partial(_too_long, column),
        )


def _too_long(column: str, row: pd.Series) -> str:
    return (
        f"{REVIEW_HEADERS[column]} has {len(row[column])} characters; a Dynamics contact holds "
        f"at most {NAME_MAX_LENGTH}: shorten it"
    )


def _unlisted(original: pd.DataFrame, edited: pd.DataFrame) -> pd.DataFrame:
    """The links written on no sheet (nothing to check), as match decided them."""
    if layout.WRITTEN_AT not in original.columns:
        return edited.iloc[:0]
    hidden = np.flatnonzero(original[layout.WRITTEN_AT].astype(str).to_numpy() == "")
    hidden = hidden[~np.isin(hidden, edited["_pos"].to_numpy(dtype=int))]
    picked = original.iloc[hidden]
    return pd.DataFrame(
        {
            model.GR_CONTACT_ID: picked[model.GR_CONTACT_ID].to_numpy(),
            model.EMAIL: picked[model.EMAIL].to_numpy(),
            model.NAME: picked[model.NAME].to_numpy(),
            model.FIRST_NAME: "",
            model.LAST_NAME: "",
            model.DECISION: picked[layout.WRITTEN_DECISION].to_numpy(),
            model.CRM_CONTACT_ID: picked[layout.WRITTEN_CRM_CONTACT].to_numpy(),
            "sheet": "",
            "row": 0,
            "_pos": hidden,
        }
    )


def edited_decisions(path: str | Path) -> int | None:
    """How many rows of an existing review workbook say something else than when it was
    written (Decision or CRM Contact); None when the file is not a review workbook we can
    read (then nobody can tell what it holds)."""
    try:
        reviewed = read_review(path)
    except InputError as exc:
        if "not a review workbook" in str(exc):
            return None
        return 1  # readable as ours, but with problems: a person has been at it
    rows = reviewed.rows
    if layout.WRITTEN_DECISION not in rows.columns:
        return None
    decision = rows[model.DECISION].astype(str).str.strip().str.lower()
    crm = rows[model.CRM_CONTACT_ID].astype(str).str.strip().str.lower()
    written = rows[layout.WRITTEN_DECISION].astype(str).str.lower()
    written_crm = rows[layout.WRITTEN_CRM_CONTACT].astype(str).str.lower()
    return int(((decision != written) | (crm != written_crm)).sum())


def read_review(path: str | Path, progress: Progress = SILENT) -> Reviewed:
    """Read and check an edited review workbook; raise InputError listing every problem."""
    path = Path(path)
    with progress.task("Reading the review workbook", total=None):
        book = tables.open_workbook(path)
        meta = _load_meta(path, book)
        original = _load_original(path, book, meta)
        problems = _Problems(str(path), *_commands(meta))
        edited = _read_sheets(path, book, meta, problems)
    with progress.task("Checking the reviewed rows", total=None):
        position = _check_keys(edited, original, meta, problems)
        edited = edited[position >= 0].copy()
        edited["_pos"] = position[position >= 0].astype(int)
        edited = edited.drop_duplicates("_pos", keep="first")
        _check_rows(edited, original, problems)
        problems.raise_if_any()
    edited = pd.concat([edited, _unlisted(original, edited)], ignore_index=True)
    rows = edited.sort_values("_pos").reset_index(drop=True)
    picked = original.iloc[rows["_pos"]].reset_index(drop=True)
    rows[layout.CANDIDATE_IDS] = [tuple(c.split()) for c in picked[layout.CANDIDATE_IDS]]
    rows[model.ROW_CHECKSUM] = picked[model.ROW_CHECKSUM].to_numpy()
    rows[model.NAME] = picked[model.NAME].to_numpy()  # the exported name, not an edited one
    rows[model.EMAIL] = picked[model.EMAIL].to_numpy()  # only its case could differ (checked)
    rows[model.MODIFIED_ON] = _modified_column(picked[model.MODIFIED_ON].tolist())
    for column in layout.LATER_COLUMNS:  # absent from workbooks written before them
        if column in picked.columns:
            rows[column] = picked[column].to_numpy()
    if layout.SAME_EMAIL in rows.columns:
        rows[layout.SAME_EMAIL] = pd.to_numeric(rows[layout.SAME_EMAIL], errors="coerce")
    return Reviewed(rows.drop(columns="_pos"), meta, path)
