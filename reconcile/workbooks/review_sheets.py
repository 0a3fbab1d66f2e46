"""What the admin sees in the review workbook, sheet by sheet, and how it prints.

* ``Review`` — the rows that need a person: ``review`` rows first (best candidates first),
  then ``new``, ``invalid`` and ``skip``. Each candidate has its own columns (id, name, email,
  score, reason); the Decision dropdown offers ``link 1`` / ``link 2`` / ``link 3`` (that
  candidate), ``new``, ``skip`` or ``review``, and ``CRM Contact`` is a formula that shows the
  chosen candidate's id (build-import reads the choice itself, so a workbook nobody opened in
  Excel works too). ``Risk`` says what to check before importing.
* ``Links`` — the confident links, one row each, fewer columns (a million of them is not
  something to scroll; they are there to filter, spot-check and overrule).
* ``Summary`` — counts per decision and of the risks, as COUNTIF formulas over the Decision
  and Risk columns: they follow the admin's edits. The formulas are ours, fixed text; no
  formula is ever made from data (data cells stay string cells).

More rows than a sheet holds continue on ``Review 2`` / ``Links 2``…
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import rustpy_xlsxwriter as rx

from reconcile import model
from reconcile.matching import RISK
from reconcile.model import Decision
from reconcile.workbooks.columns import REVIEW_HEADERS

REVIEW_SHEET = "Review"
LINKS_SHEET = "Links"
SUMMARY_SHEET = "Summary"
CANDIDATES = 3
NAME_CHECK = "name_review_reason"
RISK_HEADER = "Risk"
FIELDS = (("id", ""), ("name", " Name"), ("email", " Email"), ("score", " Score"),
          ("reason", " Reason"))  # fmt: skip
CHOICES = [f"link {i}" for i in range(1, CANDIDATES + 1)]
DROPDOWN_REVIEW = [*CHOICES, "new", "skip", "review", "link"]
DROPDOWN_LINKS = ["link", "new", "skip", "review"]


def candidate_header(rank: int, field: str = "id") -> str:
    suffix = dict(FIELDS)[field]
    return f"Candidate {rank}{suffix}"


def _head(*canonical: str) -> list[str]:
    return [REVIEW_HEADERS[c] for c in canonical]


REVIEW_COLUMNS = [
    *_head(model.GR_CONTACT_ID, model.EMAIL, model.NAME, model.FIRST_NAME, model.LAST_NAME,
           model.DECISION, model.SCORE, model.REASON),
    RISK_HEADER,
    REVIEW_HEADERS[NAME_CHECK],
    *(candidate_header(r, f) for r in range(1, CANDIDATES + 1) for f, _ in FIELDS),
]  # fmt: skip
CRM_CONTACT = REVIEW_HEADERS[model.CRM_CONTACT_ID]  # the Review sheet's formula column, last
LINKS_COLUMNS = [
    *_head(model.GR_CONTACT_ID, model.EMAIL, model.NAME, model.FIRST_NAME, model.LAST_NAME,
           model.DECISION, model.CRM_CONTACT_ID, model.CRM_NAME, model.SCORE, model.REASON),
    RISK_HEADER,
]  # fmt: skip
WIDTHS = {
    REVIEW_HEADERS[model.GR_CONTACT_ID]: 38, REVIEW_HEADERS[model.EMAIL]: 32,
    REVIEW_HEADERS[model.NAME]: 26, REVIEW_HEADERS[model.FIRST_NAME]: 16,
    REVIEW_HEADERS[model.LAST_NAME]: 18, REVIEW_HEADERS[model.DECISION]: 10,
    REVIEW_HEADERS[model.SCORE]: 7, REVIEW_HEADERS[model.REASON]: 44, RISK_HEADER: 30,
    REVIEW_HEADERS[NAME_CHECK]: 26, CRM_CONTACT: 38, REVIEW_HEADERS[model.CRM_NAME]: 26,
    **{candidate_header(r, "id"): 38 for r in range(1, CANDIDATES + 1)},
    **{candidate_header(r, "name"): 24 for r in range(1, CANDIDATES + 1)},
    **{candidate_header(r, "email"): 30 for r in range(1, CANDIDATES + 1)},
    **{candidate_header(r, "score"): 9 for r in range(1, CANDIDATES + 1)},
    **{candidate_header(r, "reason"): 40 for r in range(1, CANDIDATES + 1)},
}  # fmt: skip
WRAPPED = {REVIEW_HEADERS[model.REASON], RISK_HEADER, REVIEW_HEADERS[NAME_CHECK],
           *(candidate_header(r, "reason") for r in range(1, CANDIDATES + 1))}  # fmt: skip
NUMBERS = {REVIEW_HEADERS[model.SCORE], *(candidate_header(r, "score") for r in range(1, 4))}
EXPLAIN = {
    Decision.LINK: "linked to the CRM contact in 'CRM Contact' (link 1/2/3: that candidate)",
    Decision.NEW: "a CRM contact is created, then linked",
    Decision.REVIEW: "waits for you: choose link 1, 2 or 3 (a candidate), new or skip",
    Decision.SKIP: "left out",
    Decision.INVALID: "no usable email: left out",
}
_ORDER = {Decision.REVIEW.value: 0, Decision.NEW.value: 1, Decision.INVALID.value: 2,
          Decision.SKIP.value: 3}  # fmt: skip


@dataclass(frozen=True)
class Sheet:
    name: str
    kind: str  # "review" or "links"
    frame: pd.DataFrame
    positions: np.ndarray  # the review rows (input order) this sheet holds, in sheet order


# Where str.splitlines() breaks a line: the candidate text is read exactly as before.
_LINE_BREAKS = "\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]"
_NO_EMAIL = " (no email)"


def _candidates(review: pd.DataFrame) -> dict[str, list[object]]:
    """Candidate N's id, name, email, score and reason, from the matcher's candidate lines
    ("<id> · <First Last> <email> · 87 · <reason>"); the lines are taken apart in Arrow (a
    Review sheet of 100k rows is 300k lines)."""
    n = len(review)
    text = pa.array(review[model.CANDIDATES].fillna("").astype(str).tolist(), pa.large_string())
    lines = pc.split_pattern_regex(text, _LINE_BREAKS)
    row = pc.list_parent_indices(lines).to_numpy(zero_copy_only=False)
    offsets = lines.offsets.to_numpy(zero_copy_only=False)
    rank = np.arange(len(row)) - (offsets[row] - offsets[0])
    flat = pc.list_flatten(lines)
    first = np.flatnonzero(rank < CANDIDATES)
    parts = pc.split_pattern(flat.take(pa.array(first)), " · ", max_splits=3)
    whole = pc.equal(pc.list_value_length(parts), 4).to_numpy(zero_copy_only=False)
    at, rank = row[first][whole], rank[first][whole]
    parts = parts.filter(pa.array(whole))
    who = pc.list_element(parts, 1)
    no_email = pc.ends_with(who, _NO_EMAIL).to_numpy(zero_copy_only=False)
    # "First Last email": the email after the last space ("" and all of it without a space).
    split = pc.extract_regex(who, r"^(?s)(?P<name>.*) (?P<email>[^ ]*)$")
    spaced = pc.is_valid(split).to_numpy(zero_copy_only=False)
    name = np.where(spaced, _strings(pc.struct_field(split, "name")), "")
    email = np.where(spaced, _strings(pc.struct_field(split, "email")), _strings(who))
    name = np.where(no_email, _strings(who), name)
    name[no_email] = [v[: -len(_NO_EMAIL)] for v in name[no_email]]
    email[no_email] = ""
    score = pd.to_numeric(pd.Series(_strings(pc.list_element(parts, 2))), errors="coerce")
    reason = _strings(pc.list_element(parts, 3))
    ids = review["candidate_ids"].tolist()
    out: dict[str, list[object]] = {}
    for r in range(1, CANDIDATES + 1):
        mine = rank == r - 1
        values: dict[str, np.ndarray] = {
            "name": np.full(n, "", dtype=object),
            "email": np.full(n, "", dtype=object),
            "score": np.full(n, None, dtype=object),
            "reason": np.full(n, "", dtype=object),
        }
        for field, column in (("name", name), ("email", email), ("reason", reason)):
            values[field][at[mine]] = column[mine]
        values["score"][at[mine]] = score.to_numpy(dtype=object)[mine]
        out[candidate_header(r, "id")] = [c[r - 1] if r <= len(c) else "" for c in ids]
        for field in ("name", "email", "score", "reason"):
            out[candidate_header(r, field)] = values[field].tolist()
    return {
        candidate_header(r, f): out[candidate_header(r, f)] for r in range(1, 4) for f, _ in FIELDS
    }


def _strings(arr: pa.Array) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)


def _risk(review: pd.DataFrame) -> pd.Series:
    if RISK in review.columns:
        return review[RISK].fillna("").astype(str)
    return pd.Series([""] * len(review), index=review.index, dtype=object)


def unlisted_links(review: pd.DataFrame) -> np.ndarray:
    """Links nobody needs to look at: an identical mailbox, the same name, nothing to check.
    They are not written row by row (a million rows cost the admin scrolling and the command
    half its time); build-import and apply read them from the hidden copy all the same."""
    decision = review[model.DECISION].astype(str).to_numpy(dtype=object)
    score = pd.to_numeric(review[model.SCORE], errors="coerce").fillna(0).to_numpy()
    reason = review[model.REASON].fillna("").astype(str)
    plain = reason.str.endswith(", same name") & ~reason.str.contains(";", regex=False)
    return (
        (decision == Decision.LINK.value)
        & (score >= 98)
        & plain.to_numpy(dtype=bool)
        & (_risk(review).to_numpy(dtype=object) == "")
    )


def split_sheets(
    review: pd.DataFrame, rows_per_sheet: int, unlisted: np.ndarray | None = None
) -> list[Sheet]:
    """The Review sheets (rows needing a person, ordered) and the Links sheets (the links
    not in ``unlisted``)."""
    decision = review[model.DECISION].astype(str).to_numpy(dtype=object)
    linked = decision == Decision.LINK.value
    link = linked & ~unlisted if unlisted is not None else linked
    score = pd.to_numeric(review[model.SCORE], errors="coerce").fillna(0).to_numpy()
    loose = np.flatnonzero(~linked)
    order = np.lexsort((-score[loose], [_ORDER.get(d, 9) for d in decision[loose]]))
    groups = [("review", REVIEW_SHEET, loose[order]), ("links", LINKS_SHEET, np.flatnonzero(link))]
    sheets: list[Sheet] = []
    for kind, base, positions in groups:
        if kind == "links" and not len(positions):
            continue
        rows = review.iloc[positions]
        if kind == "review":
            visible = rows[[model.GR_CONTACT_ID, model.EMAIL, model.NAME, model.FIRST_NAME,
                            model.LAST_NAME, model.DECISION, model.SCORE,
                            model.REASON]]  # fmt: skip
            visible = visible.rename(columns=REVIEW_HEADERS)
            visible[RISK_HEADER] = _risk(rows).to_numpy()
            visible[REVIEW_HEADERS[NAME_CHECK]] = rows[NAME_CHECK].fillna("").to_numpy()
            for header, values in _candidates(rows).items():
                visible[header] = values
        else:
            visible = rows[[model.GR_CONTACT_ID, model.EMAIL, model.NAME, model.FIRST_NAME,
                            model.LAST_NAME, model.DECISION, model.CRM_CONTACT_ID,
                            model.CRM_NAME, model.SCORE, model.REASON]]  # fmt: skip
            visible = visible.rename(columns=REVIEW_HEADERS)
            visible[RISK_HEADER] = _risk(rows).to_numpy()
        for header in NUMBERS & set(visible.columns):
            visible[header] = pd.to_numeric(visible[header], errors="coerce")
        count = max(1, -(-len(positions) // rows_per_sheet))
        for i in range(count):
            name = base if i == 0 else f"{base} {i + 1}"
            part = slice(i * rows_per_sheet, (i + 1) * rows_per_sheet)
            frame = visible.iloc[part].reset_index(drop=True)
            sheets.append(Sheet(name, kind, frame, positions[part]))
    return sheets


def row_heights(sheet: Sheet, line: float = 15.0, most: int = 4) -> dict[int, float]:
    """Heights that show the wrapped columns' text (Excel and LibreOffice do not grow a row
    for wrapped text they did not lay out themselves): lines needed, at most ``most``."""
    needed = np.ones(len(sheet.frame), dtype=np.int64)
    for column in WRAPPED & set(sheet.frame.columns):
        chars = max(int(WIDTHS.get(column, 14) * 1.1), 1)
        lengths = sheet.frame[column].fillna("").astype(str).str.len().to_numpy()
        needed = np.maximum(needed, -(-lengths // chars))
    needed = np.minimum(needed, most)
    rows = np.flatnonzero(needed > 1)
    return {int(r) + 1: float(line * needed[r]) for r in rows}


def _letter(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def _ranges(sheets: Sequence[Sheet], header: str) -> list[str]:
    out = []
    for sheet in sheets:
        columns = REVIEW_COLUMNS if sheet.kind == "review" else LINKS_COLUMNS
        col = _letter(columns.index(header))
        out.append(f"'{sheet.name}'!${col}$2:${col}$1048576")
    return out


def summary_sheet(
    sheets: Sequence[Sheet], facts: Mapping[str, int], unlisted: int = 0
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The Summary frame and its ``Count`` formula: the ``Fixed`` number (links not listed
    row by row; a fact such as the CRM contacts read) plus COUNTIF over every sheet's
    Decision column (COUNTIFS with its Risk column for the two risks)."""
    rows: list[dict[str, object]] = []
    for d in (Decision.LINK, Decision.NEW, Decision.REVIEW, Decision.SKIP, Decision.INVALID):
        criterion = "link*" if d is Decision.LINK else d.value
        fixed = unlisted if d is Decision.LINK else 0
        rows.append({"What": d.value, "Decision is": criterion, "Risk is": "",
                     "At build-import": EXPLAIN[d], "Fixed": fixed})  # fmt: skip
    rows.append({"What": "total", "Decision is": "*", "Risk is": "", "Fixed": unlisted,
                 "At build-import": "GetResponse contacts in this workbook"})  # fmt: skip
    if unlisted:
        rows.append({"What": "links not listed row by row", "Decision is": "", "Risk is": "",
                     "At build-import": "identical address, same name, nothing to check: "
                     "linked (in 'Fixed' above; run match with --all-links to list them)",
                     "Fixed": unlisted})  # fmt: skip
    rows.append({"What": "check: new rows that look like a CRM contact", "Decision is": "new",
                 "Risk is": "likely duplicate*",
                 "At build-import": "created, though a CRM contact has the same name and email "
                 "domain: likely a duplicate; link it (a candidate) or skip it",
                 "Fixed": 0})  # fmt: skip
    rows.append({"What": "check: links whose names differ", "Decision is": "link*",
                 "Risk is": "names differ*",
                 "At build-import": "linked on an identical address, but the names do not "
                 "agree (a shared or reused mailbox?)", "Fixed": 0})  # fmt: skip
    rows.extend({"What": k, "Decision is": "", "Risk is": "", "At build-import": "",
                 "Fixed": int(v)} for k, v in facts.items())  # fmt: skip
    decisions, risks = _ranges(sheets, "Decision"), _ranges(sheets, RISK_HEADER)
    plain = "+".join(f"COUNTIF({d},$B{{row}})" for d in decisions)
    both = "+".join(
        f"COUNTIFS({d},$B{{row}},{r},$C{{row}})" for d, r in zip(decisions, risks, strict=True)
    )
    formula = f'=$E{{row}}+IF($B{{row}}="",0,IF($C{{row}}="",{plain},{both}))'
    return pd.DataFrame(rows), {"Count": formula}


def crm_contact_formula(sheet: Sheet) -> str:
    """``CRM Contact`` of a Review row: the id of the candidate its Decision chooses."""
    decision = _letter(REVIEW_COLUMNS.index("Decision"))
    ids = [_letter(REVIEW_COLUMNS.index(candidate_header(r))) for r in range(1, CANDIDATES + 1)]
    formula = '""'
    for rank in range(CANDIDATES, 0, -1):
        formula = f'IF(${decision}{{row}}="link {rank}",{ids[rank - 1]}{{row}},{formula})'
    return "=" + formula


def sheet_options(sheets: Sequence[Sheet]) -> dict[str, Any]:
    """Widths, wrapping, dropdowns, colours, frozen header, filters and print set-up."""
    text = rx.Format().set_quote_prefix()
    wrapped = rx.Format().set_quote_prefix().set_text_wrap().set_align("top")
    colours = {Decision.LINK: "#C6EFCE", Decision.NEW: "#DDEBF7", Decision.REVIEW: "#FFEB9C",
               Decision.SKIP: "#E7E6E6", Decision.INVALID: "#FFC7CE"}  # fmt: skip
    rules = [
        {"type": "text", "criteria": "begins_with", "value": d.value,
         "format": rx.Format().set_background_color(c)}
        for d, c in colours.items()
    ]  # fmt: skip
    names = [s.name for s in sheets]
    options: dict[str, dict] = {
        "freeze_panes": {n: {"row": 1, "col": 1} for n in names},
        "autofilter": dict.fromkeys(names, True),
        "column_widths": {},
        "column_formats": {},
        "data_validations": {},
        "conditional_formats": {},
        "page_setup": {},
        "formula_columns": {},
        "dedupe_strings": {},
    }
    for sheet in sheets:
        columns = list(sheet.frame.columns) + ([CRM_CONTACT] if sheet.kind == "review" else [])
        options["column_widths"][sheet.name] = {c: float(WIDTHS.get(c, 14)) for c in columns}
        options["column_formats"][sheet.name] = {
            c: (wrapped if c in WRAPPED else text) for c in columns if c not in NUMBERS
        }
        review = sheet.kind == "review"
        choices = DROPDOWN_REVIEW if review else DROPDOWN_LINKS
        options["data_validations"][sheet.name] = {
            "Decision": {
                "type": "list", "values": choices, "error_title": "Decision",
                "error_message": "Choose " + ", ".join(choices) + ".",
                "input_title": "Decision",
                "input_message": "link 1/2/3: that candidate; new: create it; skip: leave out"
                if review else "link: keep it; new: create a contact instead; skip: leave out",
            }
        }  # fmt: skip
        options["conditional_formats"][sheet.name] = {"Decision": rules}
        options["page_setup"][sheet.name] = {
            "landscape": True, "paper_size": 9, "fit_to_pages": (2 if review else 1, 0),
            "repeat_rows": 0,
            "margins": {"left": 0.4, "right": 0.4, "top": 0.5, "bottom": 0.5},
            "footer": "&L&A&RPage &P of &N",
        }  # fmt: skip
        if review:
            options["formula_columns"][sheet.name] = {CRM_CONTACT: crm_contact_formula(sheet)}
            options.setdefault("row_heights", {})[sheet.name] = row_heights(sheet)
        # Shared strings on the Review sheets (decisions, reasons repeat); the Links sheets,
        # the big ones, are written inline: measured faster to write (docs/workbooks.md).
        options["dedupe_strings"][sheet.name] = review
    return options


__all__ = [
    "CHOICES",
    "CRM_CONTACT",
    "LINKS_COLUMNS",
    "LINKS_SHEET",
    "REVIEW_COLUMNS",
    "REVIEW_SHEET",
    "Sheet",
    "candidate_header",
    "sheet_options",
    "split_sheets",
    "summary_sheet",
]
