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

import datetime as dt
import re
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
    # Every link listed: a plan is applied to the CRM directly, so each one stays in view.
    return write_review(
        review, path, stored, summary_extra=summary_extra, extra_sheets=extras,
        progress=progress, all_links=True,
    )  # fmt: skip


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
# Column widths (Excel characters): a GUID is 36, an email rarely over 40; long texts wrap.
WIDTHS = {
    "message": 70.0,
    "action": 70.0,
    "reason": 70.0,
    "note": 50.0,
    "email": 36.0,
    "record": 40.0,
    "contact_id": 38.0,
    "crm_contact": 38.0,
    "record_id": 38.0,
    "getresponse_contact": 22.0,
    "getresponse_contacts": 30.0,
    "campaign_id": 20.0,
    "list": 24.0,
    "what": 26.0,
    "first_name": 18.0,
    "last_name": 22.0,
}
WHERE = {"where", "review_row"}  # "Review row 18": written as a sheet and a row number
_WHERE = re.compile(r"^(?P<sheet>.+) row (?P<row>\d+)$")


TITLES = {
    "getresponse_contact": "GetResponse contact",
    "getresponse_contacts": "GetResponse contacts",
    "crm_contact": "CRM contact",
    "contact_id": "CRM contact id",
    "campaign_id": "GetResponse list id",
    "record_id": "GetResponse List record",
}


def _title(name: str) -> str:
    return TITLES.get(name, name.replace("_", " ").capitalize())


def report_file(review: Path, *, dry_run: bool, at: dt.datetime | None = None) -> Path:
    """Where a run's report goes by default: next to the review workbook, named by the time
    of the run, so an apply never overwrites the report of the one before."""
    stamp = (at or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    kind = "dry-run-report" if dry_run else "report"
    target = review.with_name(f"{review.stem}-{kind}-{stamp}.xlsx")
    n = 1
    while target.exists():  # two runs in the same second
        n += 1
        target = review.with_name(f"{review.stem}-{kind}-{stamp}-{n}.xlsx")
    return target


def _outcome(report: Mapping[str, Any]) -> str:
    if report.get("aborted"):
        return f"stopped: {report['aborted']} (run the same command again: it resumes)"
    if report.get("failures") or report.get("duplicates"):
        return "finished; some records failed or were not created (see Failed, Duplicates)"
    if report.get("already_applied"):
        return "nothing to do: this workbook was already applied (that run's results)"
    return "finished: everything planned was written"


STARTED = "Started (UTC)"


def summary_frame(report: Mapping[str, Any]) -> pd.DataFrame:
    """The Summary sheet: what ran where, by whom, when, and every count as a number."""
    started = report.get("started_at")
    when: object = ""
    if started:
        when = dt.datetime.fromisoformat(str(started).replace("Z", "+00:00")).replace(tzinfo=None)
    rows: list[tuple[str, object]] = [
        ("Review workbook", report.get("workbook") or ""),
        ("Environment", report.get("environment") or ""),
        ("Identity (Dataverse user id)", report.get("identity") or "not checked"),
        ("Run id", report["run_id"] if report.get("run_id") is not None else "none (dry run)"),
        (STARTED, when),
        ("Dry run", "yes" if report.get("dry_run") else "no"),
        ("Resumed an interrupted run", "yes" if report.get("resumed") else "no"),
        ("Outcome", _outcome(report)),
        ("Exit code", int(report.get("exit_code") or 0)),
        ("", ""),
    ]
    counts = report.get("counts") or {}
    labels = report.get("count_labels") or {key: key.replace("_", " ") for key in counts}
    rows += [(str(label).strip(), int(counts.get(key, 0))) for key, label in labels.items()]
    requests = report.get("requests") or {}
    rows += [(f"Requests to {name}", int(n)) for name, n in requests.items()]
    rows.append(("Seconds", float(report.get("seconds") or 0.0)))
    rows += [("Note", note) for note in report.get("notes") or []]
    return pd.DataFrame({"Item": [r[0] for r in rows], "Value": [r[1] for r in rows]}, dtype=object)


def _detail_frame(items: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """One outcome sheet; a Review location becomes a sheet name and a row number."""
    data: dict[str, list[object]] = {}
    for column in columns:
        values = [_cell(item.get(column)) for item in items]
        if column not in WHERE:
            data[_title(column)] = values
            continue
        found = [_WHERE.match(str(v)) for v in values]
        data["Review sheet"] = [m["sheet"] if m else v for m, v in zip(found, values, strict=True)]
        data["Review row"] = [int(m["row"]) if m else "" for m in found]
    return pd.DataFrame(data, dtype=object)


def write_run_report(report: Mapping[str, Any], summary: Sequence[str], path: str | Path) -> Path:
    """The run report workbook: a Summary (facts and counts, numbers as numbers), then one
    sheet per kind of outcome (each failure with its record, the service's message and what to
    do). Text cells carry Excel's quote prefix, as in the review workbook, so a value that looks
    like a formula stays text even when edited. Written atomically. ``summary`` (the lines the
    CLI prints) is kept for callers; the sheet is built from ``report`` itself."""
    import rustpy_xlsxwriter as rx

    from reconcile.workbooks.atomic import staged_file

    del summary  # the terminal text; the workbook has the facts as cells
    text = rx.Format().set_quote_prefix()
    sheets: list[tuple[str, pd.DataFrame]] = [("Summary", summary_frame(report))]
    widths: dict[str, dict[str, float] | list[float]] = {"Summary": {"Item": 64.0, "Value": 70.0}}
    formats: dict[str, Any] = {"Summary": {"Item": text, "Value": text}}
    items = sheets[0][1]["Item"].tolist()
    # The start time is a real Excel date (a row format wins over the column's quote prefix).
    dates = {items.index(STARTED) + 1: rx.Format().set_num_format("yyyy-mm-dd hh:mm:ss")}
    for key, (sheet, columns) in REPORT_SHEETS.items():
        frame = _detail_frame(report.get(key) or [], columns)
        sheets.append((sheet, frame))
        widths[sheet] = {
            c: WIDTHS.get(next((k for k in columns if _title(k) == c), ""), 18.0)
            for c in frame.columns
        }
        formats[sheet] = {c: text for c in frame.columns if c != "Review row"}
    target = Path(path)
    with staged_file(target) as temp:
        rx.write_worksheets(
            sheets,
            str(temp),
            bold_headers=True,
            column_widths=widths,
            column_formats=formats,
            datetime_format="yyyy-mm-dd hh:mm:ss",
            row_formats={"Summary": dates},
            freeze_panes={name: {"row": 1, "col": 0} for name, _ in sheets},
            # Printed (or saved as PDF): landscape, each sheet one page wide, headers repeated.
            page_setup={
                name: {"landscape": True, "fit_to_pages": (1, 0), "repeat_rows": 0}
                for name, _ in sheets
            },
            autofilter={name: True for name, _ in sheets[1:]},
        )
    return target


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value
