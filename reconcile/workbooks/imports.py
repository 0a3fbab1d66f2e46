"""Import-ready workbooks for the Dynamics Import Data Wizard, split to fit its limits.

Two kinds (docs/workbooks.md says why they look the way they do):

* the **Contacts import**: ``First Name``, ``Last Name``, ``Email`` — the contact table's display
  names (in the CRM's language), so that the wizard maps every column by itself;
* the **GetResponse Contacts re-import**: the export's hidden ``(Do Not Modify)`` id, row
  checksum and modified-on (so that the import *updates* the existing GetResponse Contact),
  ``Name``, ``Email`` as exported, and ``Contact`` holding the CRM contact's GUID — never its
  full name, which namesakes make ambiguous. ``hiddenSheet`` is re-emitted from the export.

The wizard takes at most 8 MB per file and a sheet holds at most 1,048,576 rows: each kind is
written in numbered parts (``…-part01.xlsx``) when it would exceed either, never truncated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reconcile import model
from reconcile.progress import SILENT, Progress
from reconcile.workbooks import columns as cols
from reconcile.workbooks.columns import Language
from reconcile.workbooks.dynamics import (
    CHECKSUM_LOGICAL_NAME,
    CONTACT,
    GETRESPONSE_CONTACT,
    ExportColumn,
    ExportMetadata,
    parse_metadata,
    write_workbook,
)

WIZARD_MAX_BYTES = 8_000_000  # "8 MB" for .xlsx/.csv; decimal, the safer reading
SHEET_MAX_ROWS = 1_048_575  # data rows under the header
SAMPLE_ROWS = 5_000  # rows written first to learn how many bytes a row takes
HEADROOM = 0.9


@dataclass(frozen=True)
class ImportFile:
    """One written (or, in a dry run, would-be) import workbook."""

    kind: str
    path: Path
    rows: int
    bytes: int

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "path": str(self.path), "rows": self.rows, "bytes": self.bytes}


ColumnsFor = Callable[[int, int], Sequence[ExportColumn]]


@dataclass(frozen=True)
class Layout:
    """How one kind of import workbook is written."""

    kind: str
    stem: str  # file name without part number or suffix
    sheet: str
    metadata: str | None = None
    hidden_columns: int = 0


def _write(layout: Layout, columns_for: ColumnsFor, start: int, stop: int, path: Path) -> int:
    write_workbook(
        path,
        layout.sheet,
        columns_for(start, stop),
        layout.metadata,
        hidden_columns=layout.hidden_columns,
    )
    return path.stat().st_size


def write_parts(
    layout: Layout,
    rows: int,
    columns_for: ColumnsFor,
    folder: Path,
    *,
    max_bytes: int = WIZARD_MAX_BYTES,
    max_rows: int = SHEET_MAX_ROWS,
    progress: Progress = SILENT,
) -> list[ImportFile]:
    """Write ``rows`` rows as one workbook, or as numbered parts each under both limits.

    ``columns_for(start, stop)`` gives the columns holding rows ``start:stop``. The part size
    is estimated from a sample, then every part is measured; a part that still comes out too
    big is split again, so the limit holds whatever the data.
    """
    if rows == 0:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".{layout.stem}.probe.xlsx"
    sample = min(rows, SAMPLE_ROWS, max_rows)
    size = _write(layout, columns_for, 0, sample, probe)
    if sample == rows and size <= max_bytes:
        final = folder / f"{layout.stem}.xlsx"
        probe.replace(final)
        return [ImportFile(layout.kind, final, rows, size)]
    probe.unlink()
    per_part = min(max_rows, max(1, math.floor(sample * max_bytes * HEADROOM / size)))
    pending = [(start, min(start + per_part, rows)) for start in range(0, rows, per_part)]
    done: list[tuple[int, int, Path, int]] = []
    with progress.task(f"Writing {layout.kind}", total=rows) as task:
        while pending:
            start, stop = pending.pop(0)
            path = folder / f".{layout.stem}.{start}.xlsx"
            size = _write(layout, columns_for, start, stop, path)
            if size > max_bytes and stop - start > 1:
                path.unlink()
                cut = start + max(1, math.floor((stop - start) * max_bytes * HEADROOM / size))
                pending[:0] = [(start, cut), (cut, stop)]
                continue
            if size > max_bytes:
                raise ValueError(f"one row of {layout.kind} is larger than {max_bytes:,} bytes")
            done.append((start, stop, path, size))
            task.advance(stop - start)
    done.sort()
    if len(done) == 1:
        start, stop, path, size = done[0]
        final = folder / f"{layout.stem}.xlsx"
        path.replace(final)
        return [ImportFile(layout.kind, final, stop - start, size)]
    width = max(2, len(str(len(done))))
    files = []
    for number, (start, stop, path, size) in enumerate(done, start=1):
        final = folder / f"{layout.stem}-part{number:0{width}d}.xlsx"
        path.replace(final)
        files.append(ImportFile(layout.kind, final, stop - start, size))
    return files


# --- the two kinds ------------------------------------------------------------------------------
CONTACTS_KIND = "contacts import"
LINK_KIND = "GetResponse Contacts re-import"


def contacts_layout(stem: str) -> Layout:
    return Layout(CONTACTS_KIND, stem, sheet="Contacts")


def contact_columns(frame: pd.DataFrame, language: Language) -> ColumnsFor:
    """Columns of the Contacts import: first name, last name, email of the ``new`` rows."""
    headers = cols.contact_import_headers(language)
    sources = (model.FIRST_NAME, model.LAST_NAME, model.EMAIL)
    logical = (CONTACT.logical[c] for c in cols.CONTACT_IMPORT)
    data = [(h, lg, frame[s].tolist()) for h, lg, s in zip(headers, logical, sources, strict=True)]

    def columns_for(start: int, stop: int) -> list[ExportColumn]:
        return [ExportColumn(h, lg, values[start:stop]) for h, lg, values in data]

    return columns_for


@dataclass(frozen=True)
class GrExport:
    """What the review workbook remembers of the GetResponse Contacts export."""

    headers: dict[str, str]  # canonical -> header text as exported
    language: Language
    metadata: str | None  # hiddenSheet A1 of the export
    sheet: str | None

    @classmethod
    def from_meta(cls, meta: dict) -> GrExport:
        return cls(
            dict(meta.get("headers") or {}),
            meta.get("language", "en"),
            meta.get("metadata"),
            meta.get("sheet"),
        )


def _link_headers(export: GrExport) -> list[tuple[str, str, str]]:
    """(canonical, header, logical name) of the re-import's columns, in export order."""
    language, headers = export.language, export.headers
    table = GETRESPONSE_CONTACT
    parsed = parse_metadata(export.metadata)
    defaults = {
        model.GR_CONTACT_ID: (
            cols.hidden_header("id", table.display[language], language),
            table.primary_key,
        ),
        model.ROW_CHECKSUM: (cols.hidden_header("checksum", "", language), CHECKSUM_LOGICAL_NAME),
        model.MODIFIED_ON: (cols.hidden_header("modified", "", language), "modifiedon"),
        model.NAME: (cols.display_name("gr", model.NAME, language), table.logical[model.NAME]),
        model.EMAIL: (cols.display_name("gr", model.EMAIL, language), table.logical[model.EMAIL]),
        cols.CONTACT_LOOKUP: ("Contact", table.logical[cols.CONTACT_LOOKUP]),
    }
    out = []
    for canonical, (header, logical) in defaults.items():
        if canonical in (model.NAME, model.EMAIL) and canonical not in headers:
            continue  # not in the export: writing it would change the record
        text = headers.get(canonical, header)
        if canonical == model.GR_CONTACT_ID and not text.startswith("("):
            text = header  # an id column named "GetResponse Contact ID": use the export's
        found = parsed.logical_for(text) if parsed else None
        out.append((canonical, text, found or logical))
    return out


def link_layout(stem: str, export: GrExport) -> Layout:
    parsed = parse_metadata(export.metadata)
    metadata = None
    if parsed is not None:
        pairs = tuple((logical, header) for _, header, logical in _link_headers(export))
        metadata = ExportMetadata(parsed.entity, parsed.token, pairs).render()
    sheet = export.sheet or GETRESPONSE_CONTACT.view[export.language]
    return Layout(LINK_KIND, stem, sheet=sheet, metadata=metadata, hidden_columns=3)


def link_columns(frame: pd.DataFrame, export: GrExport) -> ColumnsFor:
    """Columns of the re-import: the GetResponse Contact rows with ``Contact`` = CRM GUID.

    ``frame`` has gr_contact_id, row_checksum, modified_on, name, email and crm_contact_id.
    """
    source = {cols.CONTACT_LOOKUP: model.CRM_CONTACT_ID}
    data = [
        (header, logical, frame[source.get(canonical, canonical)].tolist())
        for canonical, header, logical in _link_headers(export)
    ]

    def columns_for(start: int, stop: int) -> list[ExportColumn]:
        return [ExportColumn(h, lg, values[start:stop]) for h, lg, values in data]

    return columns_for
