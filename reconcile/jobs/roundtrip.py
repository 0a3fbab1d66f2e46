"""The offline Excel round-trip (SPEC 5.4): match exports into a review workbook, then turn the
reviewed workbook into import files. The CLI's ``match`` and ``build-import`` only call these.

The admin's order of steps, which the files and the printed steps follow:

1. ``match`` reads "Active GetResponse contacts" and "My active contacts" exports and writes
   ``review.xlsx``; the admin reviews it in Excel.
2. ``build-import`` writes ``1-contacts-import.xlsx`` (the ``new`` rows, to create as CRM
   contacts) and ``2-getresponse-contacts-link.xlsx`` (the ``link`` rows: each GetResponse
   Contact gets its CRM contact's GUID in ``Contact``).
3. After importing file 1, the new contacts have GUIDs that did not exist before. The admin
   exports Contacts again and runs ``build-import --crm-export <that export>``, which finds
   each new contact by its email and name and writes ``3-getresponse-contacts-link-new.xlsx``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reconcile import model
from reconcile.errors import InputError, Problem
from reconcile.jobs.roundtrip_steps import STEPS_FILE, import_steps
from reconcile.matching import (
    CANDIDATE_IDS,
    LIKELY_DUPLICATE,
    NAMES_DIFFER,
    RISK,
    MatchOptions,
    match_contacts,
)
from reconcile.model import Decision
from reconcile.names import default_splitter, split_names
from reconcile.progress import SILENT, Progress
from reconcile.workbooks import imports
from reconcile.workbooks.atomic import publish, staged_dir
from reconcile.workbooks.columns import fold
from reconcile.workbooks.dynamics import is_guid
from reconcile.workbooks.guard import keep_edited, refuse_existing
from reconcile.workbooks.read import Contacts, SourceInfo, read_contacts
from reconcile.workbooks.review import NAME_REVIEW_REASON, SAME_EMAIL, write_review
from reconcile.workbooks.validate import NAME_MAX_LENGTH, Reviewed, read_review

NAME_TOO_LONG = (
    f"name longer than a Dynamics contact holds ({NAME_MAX_LENGTH} characters): shorten it and "
    "choose new, or skip"
)
NO_LAST_NAME = (
    "no last name: Dynamics needs one to create a contact; type it and choose new, or skip"
)
NAME_FROM_ADDRESS = (
    "the name was only read from the email address: check First Name and Last Name, then "
    "choose new (or skip); a contact is never created from a guessed name"
)
# The splitter's notes for names that come from an address, not from a person (names/_split).
GUESSED_NAMES = r"looks like an email|looks like a user name"
DECISIONS = [
    d.value for d in (Decision.LINK, Decision.NEW, Decision.REVIEW, Decision.SKIP, Decision.INVALID)
]


@dataclass
class MatchSummary:
    """What ``match_files`` did: counts per decision and where the review workbook is."""

    review: str
    sheets: list[str]
    gr_contacts: int
    crm_contacts: int
    decisions: dict[str, int]
    names_to_check: int
    gr_files: list[str]
    crm_files: list[str]
    seconds: float
    read_as: list[str] = field(default_factory=list)  # CSV inputs: encoding and separator found
    kept_copy: str | None = None  # the edited review that --force replaced, kept here
    risks: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _names(frame: pd.DataFrame) -> pd.DataFrame:
    """First and last names for every GetResponse row, with a note where a person should look.

    Given first/last names are kept; a missing full name is composed from them; rows with only
    a full name are split (each distinct name once).
    """
    frame = frame.copy()
    frame[NAME_REVIEW_REASON] = ""
    has_parts = (frame[model.FIRST_NAME] != "") | (frame[model.LAST_NAME] != "")
    composed = (frame[model.FIRST_NAME] + " " + frame[model.LAST_NAME]).str.strip()
    frame[model.NAME] = frame[model.NAME].where(frame[model.NAME] != "", composed)
    to_split = ~has_parts & (frame[model.NAME] != "")
    if to_split.any():
        split = split_names(frame.loc[to_split, model.NAME])
        frame.loc[to_split, model.FIRST_NAME] = split[model.FIRST_NAME].to_numpy()
        frame.loc[to_split, model.LAST_NAME] = split[model.LAST_NAME].to_numpy()
        frame.loc[to_split, NAME_REVIEW_REASON] = split["name_review_reason"].fillna("").to_numpy()
    return frame


def _source_meta(info: SourceInfo) -> dict[str, Any]:
    return {
        "files": list(info.files),
        "sheet": info.sheets[0] if info.sheets else None,
        "headers": dict(info.headers),
        "language": info.language,
        "metadata": info.metadata,
        "ids_from": info.ids_from,
    }


def review_frame(
    gr: Contacts, crm: Contacts, options: MatchOptions, progress: Progress
) -> pd.DataFrame:
    """Names split, contacts matched: one review row per GetResponse contact, in input order."""
    people = _names(gr.frame)
    matched = match_contacts(people, crm.frame, options, progress)
    review = matched.reset_index(drop=True)
    review[NAME_REVIEW_REASON] = people[NAME_REVIEW_REASON].to_numpy()
    review[model.ROW_CHECKSUM] = gr.frame[model.ROW_CHECKSUM].to_numpy()
    review[model.MODIFIED_ON] = gr.frame[model.MODIFIED_ON].to_numpy()
    review[CANDIDATE_IDS] = [tuple(c) if c else () for c in review[CANDIDATE_IDS]]
    # A "new" row becomes a Dynamics contact, which needs a last name of at most 50 characters
    # (first name too): rows that break this go to a person before build-import refuses them.
    new = review[model.DECISION] == Decision.NEW
    last = review[model.LAST_NAME].fillna("")
    first = review[model.FIRST_NAME].fillna("")
    too_long = (last.str.len() > NAME_MAX_LENGTH) | (first.str.len() > NAME_MAX_LENGTH)
    guessed = review[NAME_REVIEW_REASON].fillna("").str.contains(GUESSED_NAMES, regex=True)
    for mask, reason in (
        (new & too_long, NAME_TOO_LONG),
        (new & (last == ""), NO_LAST_NAME),
        (new & guessed & (last != ""), NAME_FROM_ADDRESS),
    ):
        review.loc[mask, model.DECISION] = Decision.REVIEW.value
        review.loc[mask, NAME_REVIEW_REASON] = reason
    return review


def read_and_match(
    gr_path: str | Path,
    crm_path: str | Path,
    options: MatchOptions | None = None,
    progress: Progress = SILENT,
) -> tuple[Contacts, Contacts, pd.DataFrame]:
    """Read both exports and decide every GetResponse contact: what ``match_files`` (the CLI's
    ``reconcile match``) writes, and what the benchmarks measure — one path for both.

    The name splitter's lexicon (a second of Python) is built in a thread meanwhile: CSV
    reading happens in Arrow, which leaves the interpreter free for it."""
    warm = threading.Thread(target=default_splitter, name="name lexicon", daemon=True)
    warm.start()
    try:
        gr = read_contacts(gr_path, "gr", progress)
        crm = read_contacts(crm_path, "crm", progress)
    finally:
        warm.join()  # before splitting, which may fork (only without other threads)
    return gr, crm, review_frame(gr, crm, options or MatchOptions(), progress)


def match_files(
    gr_path: str | Path,
    crm_path: str | Path,
    out_path: str | Path,
    options: MatchOptions | None = None,
    progress: Progress = SILENT,
    *,
    force: bool = False,
    all_links: bool = False,
) -> MatchSummary:
    """Read both exports, match, and write the review workbook (atomically).

    An existing ``out_path`` is refused unless ``force``; with it, an edited review is kept
    as a dated copy first (``MatchSummary.kept_copy``)."""
    started = time.perf_counter()
    refuse_existing(out_path, force)
    gr, crm, review = read_and_match(gr_path, crm_path, options, progress)
    crm_rows = len(crm.frame)
    # Both exports are in ``review`` now; the workbook is written without them in memory.
    gr.frame, crm.frame = gr.frame.iloc[:0], crm.frame.iloc[:0]
    counts = review[model.DECISION].value_counts()
    names_to_check = int((review[NAME_REVIEW_REASON] != "").sum())
    meta = {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "gr": _source_meta(gr.info),
        "crm": {**_source_meta(crm.info), "rows": crm_rows},
    }
    extra = {"CRM contacts read": crm_rows, "names to check ('Name Check')": names_to_check}
    kept = keep_edited(out_path) if force else None
    sheets = write_review(
        review, out_path, meta, summary_extra=extra, progress=progress, all_links=all_links
    )
    return MatchSummary(
        review=str(out_path),
        sheets=sheets,
        gr_contacts=len(review),
        crm_contacts=crm_rows,
        decisions={d: int(counts.get(d, 0)) for d in DECISIONS},
        names_to_check=names_to_check,
        gr_files=list(gr.info.files),
        crm_files=list(crm.info.files),
        seconds=round(time.perf_counter() - started, 2),
        read_as=[*gr.info.formats, *crm.info.formats],
        kept_copy=str(kept) if kept else None,
        risks=risk_counts(review),
    )


def risk_counts(review: pd.DataFrame) -> dict[str, int]:
    """What to check before importing, as the Summary counts it when written."""
    risk = review[RISK].fillna("").astype(str)
    decision = review[model.DECISION]
    return {
        "new_likely_duplicates": int(
            ((decision == Decision.NEW) & risk.str.startswith(LIKELY_DUPLICATE)).sum()
        ),
        "links_names_differ": int(
            ((decision == Decision.LINK) & risk.str.startswith(NAMES_DIFFER)).sum()
        ),
    }


@dataclass
class BuildResult:
    """What ``build_import`` wrote (or, in a dry run, would write), and what the admin does next."""

    review: str
    out_dir: str
    dry_run: bool
    decisions: dict[str, int]
    files: list[imports.ImportFile] = field(default_factory=list)
    unresolved: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "review": self.review,
            "out_dir": self.out_dir,
            "dry_run": self.dry_run,
            "decisions": self.decisions,
            "files": [f.as_dict() for f in self.files],
            "unresolved": [str(p) for p in self.unresolved],
            "warnings": self.warnings,
            "steps": self.steps,
        }


CONTACTS_STEM = "1-contacts-import"
LINK_STEM = "2-getresponse-contacts-link"
LINK_NEW_STEM = "3-getresponse-contacts-link-new"
LINK_COLUMNS = [
    model.GR_CONTACT_ID,
    model.ROW_CHECKSUM,
    model.MODIFIED_ON,
    model.NAME,
    model.EMAIL,
    model.CRM_CONTACT_ID,
]


def _relink_blocker(
    meta: dict[str, Any], rows: pd.DataFrame, export: imports.GrExport
) -> str | None:
    """Why no GetResponse Contacts re-import can be written, or None when it can.

    The Import Wizard updates existing records only from a file in the shape of its own export:
    the hidden ``(Do Not Modify)`` id, row checksum and modified-on columns *and* the
    ``hiddenSheet`` that names the table. Without them (a CSV, or an .xlsx another program
    re-saved) it takes the rows as new data and would create a second GetResponse Contact for
    each one instead of linking it (docs/workbooks.md, sources there)."""
    if meta["gr"].get("ids_from") == "row":
        return (
            "the GetResponse input had no record ids (row numbers were used), so no re-import "
            "can update its records: export 'Active GetResponse contacts' with Export to Excel "
            "and run match on that export"
        )
    bad = [i for i in rows[model.GR_CONTACT_ID].head(1000) if not is_guid(i)]
    if bad:
        return (
            f"the GetResponse ids are not Dynamics record GUIDs (e.g. {bad[0]!r}), so no re-import "
            "can update the records: run match on an Export to Excel of 'Active GetResponse "
            "contacts'"
        )
    if export.metadata is None or model.ROW_CHECKSUM not in export.headers:
        missing = "its hiddenSheet" if export.metadata is None else "its row checksums"
        return (
            f"the GetResponse input lacks Dynamics' export metadata ({missing}: a CSV, or an "
            ".xlsx saved by another program), so the Import Wizard would create new "
            "GetResponse Contact records instead of linking these: in Dynamics, GetResponse "
            "Contacts > Active GetResponse contacts > Export to Excel, then run build-import "
            "again with --gr-export <that .xlsx>"
        )
    return None


def _rows_at(rows: pd.DataFrame, reviewed: Reviewed, message: str, column: str) -> list[Problem]:
    return [
        Problem(message, file=str(reviewed.path), sheet=s, row=int(r), column=column)
        for s, r in zip(rows["sheet"], rows["row"], strict=True)
    ]


def _refresh(rows: pd.DataFrame, path: str | Path, reviewed: Reviewed, progress: Progress):
    """Take row checksums and modified-on dates from a fresh GetResponse Contacts export."""
    fresh = read_contacts(path, "gr", progress)
    by_id = fresh.frame.set_index(model.GR_CONTACT_ID)
    found = rows[model.GR_CONTACT_ID].isin(by_id.index)
    gone = _rows_at(
        rows[~found],
        reviewed,
        f"not in the fresh export {Path(path).name}: deleted in GetResponse, or another view was "
        "exported; this row is left out of the re-import",
        "GetResponse Contact",
    )
    kept = rows[found].copy()
    for column in (model.ROW_CHECKSUM, model.MODIFIED_ON):
        kept[column] = by_id.loc[kept[model.GR_CONTACT_ID], column].to_numpy()
    export = imports.GrExport(
        dict(fresh.info.headers), fresh.info.language, fresh.info.metadata, fresh.info.sheets[0]
    )
    return pd.concat([kept, rows[~found]]).sort_index(), found, export, gone


def _duplicates_chosen(rows: pd.DataFrame, reviewed: Reviewed) -> list[str]:
    """Rows decided ``new`` whose address a CRM contact of the export already had: importing
    them creates a second contact with that email (or is refused as a duplicate)."""
    if SAME_EMAIL not in rows.columns:
        return []
    hit = rows[(rows[model.DECISION] == Decision.NEW) & (rows[SAME_EMAIL].fillna(0) > 0)]
    out = [
        f"{reviewed.path.name}, sheet {sheet!r}, row {row}: decision new, but a contact of the "
        f"CRM export already has {email}: importing it creates a duplicate (or is refused with "
        "'Allow Duplicates' at No); choose link with that contact (see Candidates), or skip"
        for sheet, row, email in zip(
            hit["sheet"].head(50), hit["row"].head(50), hit[model.EMAIL].head(50), strict=True
        )
    ]
    if len(hit) > 50:
        out.append(f"… and {len(hit) - 50:,} more new rows whose email the CRM export holds")
    return out


def _key(email: pd.Series, first: pd.Series, last: pd.Series) -> pd.Series:
    parts = [email.map(fold), first.map(fold), last.map(fold)]
    return parts[0] + "\x1f" + parts[1] + "\x1f" + parts[2]


def resolve_new(new: pd.DataFrame, created: pd.DataFrame, reviewed: Reviewed):
    """Each ``new`` row's freshly created CRM contact: same email, first and last name.

    Exactly one such contact links; none (the import rejected the row, or the export does not
    hold it) or several (duplicates) leave the row unresolved, with the reason.
    """
    mine = _key(new[model.EMAIL], new[model.FIRST_NAME], new[model.LAST_NAME])
    theirs = _key(
        created[model.CRM_EMAIL], created[model.CRM_FIRST_NAME], created[model.CRM_LAST_NAME]
    )
    ids = created[model.CRM_CONTACT_ID].groupby(theirs.to_numpy()).agg(list)
    # A contact the reviewer was offered for this row and did not choose is not the one the
    # import created: linking to it would undo the review (it stays reported instead).
    offered = new[CANDIDATE_IDS] if CANDIDATE_IDS in new.columns else pd.Series([()] * len(new))
    found = pd.Series(
        [
            [i for i in v if str(i).lower() not in {str(c).lower() for c in cands}]
            if isinstance(v, list)
            else v
            for v, cands in zip(mine.map(ids), offered, strict=True)
        ],
        index=new.index,
        dtype=object,
    )
    rejected = pd.Series(
        [
            [i for i in v if str(i).lower() in {str(c).lower() for c in cands}]
            if isinstance(v, list)
            else []
            for v, cands in zip(mine.map(ids), offered, strict=True)
        ],
        index=new.index,
        dtype=object,
    )
    count = found.map(lambda v: len(v) if isinstance(v, list) else 0)
    resolved = new[count == 1].copy()
    resolved[model.CRM_CONTACT_ID] = [v[0] for v in found[count == 1]]
    none = (count == 0) & (rejected.map(len) == 0)
    unresolved = _rows_at(
        new[none],
        reviewed,
        "no contact in the Contacts export has this email, first and last name: was "
        f"{CONTACTS_STEM}.xlsx imported, or was this row rejected (e.g. as a duplicate)?",
        "Email",
    )
    unresolved += _rows_at(
        new[(count == 0) & ~none],
        reviewed,
        "the only contact in the Contacts export with this email and name is one you were "
        "offered for this row and did not choose (the import probably rejected the new one as "
        "a duplicate): not linked; choose link N for it in the review, or skip",
        "Email",
    )
    for (_, row), several in zip(new[count > 1].iterrows(), found[count > 1], strict=True):
        unresolved.append(
            Problem(
                f"{len(several)} contacts in the Contacts export have this email and name "
                f"({', '.join(several[:5])}): merge the duplicates, then run build-import again",
                file=str(reviewed.path),
                sheet=row["sheet"],
                row=int(row["row"]),
                column="Email",
            )
        )
    return resolved, unresolved


def build_import(
    review_path: str | Path,
    out_dir: str | Path,
    *,
    crm_export: str | Path | None = None,
    gr_export: str | Path | None = None,
    dry_run: bool = False,
    max_bytes: int = imports.WIZARD_MAX_BYTES,
    max_rows: int = imports.SHEET_MAX_ROWS,
    progress: Progress = SILENT,
) -> BuildResult:
    """Check the reviewed workbook and write the import files (see the module docstring).

    Any problem in the review workbook raises InputError and writes nothing. Without
    ``crm_export`` it writes files 1 and 2; with it, file 3. ``gr_export`` (a fresh export of
    GetResponse Contacts) replaces the row checksums and modified-on dates of the re-import.
    ``dry_run`` writes into a scratch folder only, to report exactly what would be written.
    """
    reviewed = read_review(review_path, progress)
    rows, meta = reviewed.rows, reviewed.meta
    counts = rows[model.DECISION].value_counts()
    result = BuildResult(
        review=str(review_path),
        out_dir=str(out_dir),
        dry_run=dry_run,
        decisions={d: int(counts.get(d, 0)) for d in DECISIONS},
    )
    export = imports.GrExport.from_meta(meta["gr"])
    fresh = np.ones(len(rows), dtype=bool)
    if gr_export is not None:
        rows, found, export, gone = _refresh(rows, gr_export, reviewed, progress)
        fresh = found.reindex(rows.index, fill_value=False).to_numpy()
        result.unresolved += gone
    blocker = _relink_blocker(meta, rows, export)
    decision = rows[model.DECISION]
    jobs: list[tuple[imports.Layout, pd.DataFrame, imports.ColumnsFor]] = []
    if crm_export is None:
        new = rows[decision == Decision.NEW]
        # One person in several GetResponse lists is several "new" rows: one CRM contact for
        # them all (the second pass links every row to it by the same key).
        new = new[~_key(new[model.EMAIL], new[model.FIRST_NAME], new[model.LAST_NAME]).duplicated()]
        language = meta["crm"].get("language", "en")
        layout = imports.contacts_layout(CONTACTS_STEM)
        jobs.append((layout, new, imports.contact_columns(new, language)))
        link = rows[(decision == Decision.LINK) & fresh]
        stem = LINK_STEM
    else:
        created = read_contacts(crm_export, "crm", progress)
        if created.info.ids_from == "row":
            raise InputError(
                Problem(
                    "the Contacts export has no '(Do Not Modify) Contact' column",
                    file=str(crm_export),
                ),
                hint="Export the contacts with Export to Excel: its hidden first column holds "
                "their ids.",
            )
        link, unresolved = resolve_new(
            rows[(decision == Decision.NEW) & fresh], created.frame, reviewed
        )
        result.unresolved += unresolved
        stem = LINK_NEW_STEM
    if meta["crm"].get("ids_from") == "row" and crm_export is None and len(link):
        result.warnings.append(
            "the CRM input had no contact ids (row numbers were used): no re-import can point at "
            "its contacts; run match on an Export to Excel of 'My active contacts'"
        )
    elif blocker and len(link):
        result.warnings.append(blocker)
    elif len(link):
        frame = link[LINK_COLUMNS].reset_index(drop=True)
        jobs.append((imports.link_layout(stem, export), frame, imports.link_columns(frame, export)))
    result.warnings += _duplicates_chosen(rows, reviewed) if crm_export is None else []
    left = int(counts.get(Decision.REVIEW.value, 0))
    if left:
        result.warnings.append(
            f"{left:,} rows still say 'review': they are in no import file; decide them and run "
            "build-import again"
        )
    with staged_dir(out_dir) as temp:
        written: list[imports.ImportFile] = []
        for layout, frame, columns_for in jobs:
            written += imports.write_parts(
                layout,
                len(frame),
                columns_for,
                temp,
                max_bytes=max_bytes,
                max_rows=max_rows,
                progress=progress,
            )
        language = meta["gr"].get("language") or meta["crm"].get("language", "en")
        result.steps = import_steps(
            written, result.decisions, review_path, crm_export is not None, language
        )
        steps_path = temp / STEPS_FILE
        steps_path.write_text("\n".join(result.steps) + "\n", encoding="utf-8")
        out = Path(out_dir)
        result.files = [
            imports.ImportFile(f.kind, out / f.path.name, f.rows, f.bytes) for f in written
        ]
        if not dry_run:
            owned = (
                (f"{LINK_NEW_STEM}*.xlsx",)
                if crm_export
                else (f"{CONTACTS_STEM}*.xlsx", f"{LINK_STEM}*.xlsx")
            )
            publish([f.path for f in written] + [steps_path], out, replace_glob=owned)
    return result
