"""The Dynamics 365 "Export to Excel" format, as far as the round-trip needs it.

An exported workbook (see docs/workbooks.md for sources) has:

* one visible sheet named after the view ("Active GetResponse contacts", "My Active Contacts"),
  whose hidden columns A–C are ``(Do Not Modify) <Table>`` (the record GUID),
  ``(Do Not Modify) Row Checksum`` and ``(Do Not Modify) Modified On``; the import uses them
  to *update* the record instead of creating one, to skip unchanged rows, and to refuse rows
  whose record changed in Dynamics after the export;
* a hidden sheet ``hiddenSheet`` whose A1 reads
  ``<entity logical name>:<token>:<logical>=<display>&<logical>=<display>…`` (display names
  percent-encoded; the checksum column's logical name is ``checksumLogicalName``), and whose
  next rows hold option-set labels for the dropdowns.

This module knows the two tables of the round-trip, parses and builds that metadata line, and
writes realistic exports (for ``reconcile demo``, the tests and the benchmarks).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pandas as pd
import rustpy_xlsxwriter as rx

from reconcile import model
from reconcile.workbooks import columns as cols
from reconcile.workbooks.columns import Language
from reconcile.workbooks.tables import METADATA_SHEET

CHECKSUM_LOGICAL_NAME = "checksumLogicalName"
GUID_RE = re.compile(
    r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$"
)
EXPORT_ROW_LIMIT = 100_000  # Dynamics exports at most this many records per workbook


@dataclass(frozen=True)
class Table:
    """One Dataverse table as its export shows it."""

    logical_name: str
    primary_key: str
    display: Mapping[str, str]  # language -> table display name (used in "(Do Not Modify) …")
    view: Mapping[str, str]  # language -> the view the export is taken from
    logical: Mapping[str, str]  # canonical column -> logical attribute name


CONTACT = Table(
    logical_name="contact",
    primary_key="contactid",
    display={"en": "Contact", "fr": "Contact"},
    view={"en": "My Active Contacts", "fr": "Mes contacts actifs"},
    logical={
        model.CRM_CONTACT_ID: "contactid",
        model.CRM_NAME: "fullname",
        model.CRM_FIRST_NAME: "firstname",
        model.CRM_LAST_NAME: "lastname",
        model.CRM_EMAIL: "emailaddress1",
    },
)

# The connector's table. Its publisher prefix is not public; exports carry the real logical
# names in hiddenSheet, and the re-import reuses those whenever the export had them.
GETRESPONSE_CONTACT = Table(
    logical_name="grc_getresponsecontact",
    primary_key="grc_getresponsecontactid",
    display={"en": "GetResponse Contact", "fr": "GetResponse Contact"},
    view={"en": "Active GetResponse contacts", "fr": "Contacts GetResponse actifs"},
    logical={
        model.GR_CONTACT_ID: "grc_getresponsecontactid",
        model.NAME: "grc_name",
        model.EMAIL: "grc_email",
        cols.CONTACT_LOOKUP: "grc_contactid",
    },
)


@dataclass(frozen=True)
class ExportMetadata:
    """The parsed ``hiddenSheet`` A1 line of an export."""

    entity: str
    token: str
    columns: tuple[tuple[str, str], ...]  # (logical name, header text), in sheet order

    def logical_for(self, header: str) -> str | None:
        key = cols.fold(header)
        return next((logical for logical, text in self.columns if cols.fold(text) == key), None)

    def render(self) -> str:
        pairs = "&".join(f"{logical}={quote(text, safe='')}" for logical, text in self.columns)
        return f"{self.entity}:{self.token}:{pairs}"


def parse_metadata(text: str | None) -> ExportMetadata | None:
    """Parse ``entity:token:logical=display&…``; None when the text is not in that shape."""
    if not text:
        return None
    parts = text.split(":", 2)
    if len(parts) != 3 or not parts[0] or "=" not in parts[2]:
        return None
    pairs = []
    for item in parts[2].split("&"):
        logical, _, display = item.partition("=")
        if logical:
            pairs.append((logical, unquote(display)))
    return ExportMetadata(parts[0], parts[1], tuple(pairs))


def is_guid(value: str) -> bool:
    return bool(GUID_RE.match(value))


def row_checksum(values: Sequence[object]) -> str:
    """A checksum in the shape Dynamics writes (base64 of a hash of the row's values)."""
    digest = hashlib.sha256("\x1f".join(str(v) for v in values).encode()).digest()
    return base64.b64encode(digest).decode()


def _token(table: Table, headers: Sequence[str]) -> str:
    digest = hashlib.sha512(("|".join([table.logical_name, *headers])).encode()).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class ExportColumn:
    header: str
    logical: str
    values: Sequence[object]


def export_columns(
    table: Table, frame: pd.DataFrame, language: Language, modified_on: dt.datetime
) -> list[ExportColumn]:
    """The columns of an export of ``table`` holding ``frame`` (canonical columns + extras).

    ``frame`` has the table's canonical columns (the id column holds GUIDs); columns not known
    to ``table.logical`` are written after them, under their own name, as extra view columns.
    """
    side: cols.Side = "crm" if table is CONTACT else "gr"
    id_column = model.CRM_CONTACT_ID if side == "crm" else model.GR_CONTACT_ID
    shown = [c for c in table.logical if c != id_column and c in frame.columns]
    extras = [c for c in frame.columns if c not in table.logical]
    body = [
        ExportColumn(
            cols.display_name(side, c, language) if c != cols.CONTACT_LOOKUP else "Contact",
            table.logical[c],
            frame[c].tolist(),
        )
        for c in shown
    ] + [ExportColumn(c, c.lower().replace(" ", ""), frame[c].tolist()) for c in extras]
    records = list(zip(*(c.values for c in body), strict=True)) if body else [()] * len(frame)
    return [
        ExportColumn(
            cols.hidden_header("id", table.display[language], language),
            table.primary_key,
            frame[id_column].tolist(),
        ),
        ExportColumn(
            cols.hidden_header("checksum", "", language),
            CHECKSUM_LOGICAL_NAME,
            [row_checksum(r) for r in records],
        ),
        ExportColumn(
            cols.hidden_header("modified", "", language), "modifiedon", [modified_on] * len(frame)
        ),
        *body,
    ]


def write_workbook(
    path: str | Path,
    sheet: str,
    columns: Sequence[ExportColumn],
    metadata: str | None,
    *,
    hidden_columns: int = 3,
) -> Path:
    """Write one export-shaped workbook: data sheet with hidden A–C, plus ``hiddenSheet``.

    rustpy-xlsxwriter always writes a header row, so the metadata line is the (only) header
    cell of ``hiddenSheet``: that is its A1, where Dynamics puts it.
    """
    path = Path(path)
    sheet = sheet[:31]
    data = pd.DataFrame({c.header: pd.Series(c.values, dtype=object) for c in columns})
    widths = {
        c.header: 0 if i < hidden_columns else max(12.0, min(40.0, len(c.header) + 4))
        for i, c in enumerate(columns)
    }
    text = rx.Format().set_quote_prefix()
    sheets: list[tuple[str, object]] = [(sheet, data)]
    options: dict[str, Any] = {
        "column_widths": {sheet: widths},
        "column_formats": {sheet: {c.header: text for c in columns if _is_text(c.values)}},
        "freeze_panes": {sheet: {"row": 1, "col": 0}},
    }
    if metadata is not None:
        sheets.append((METADATA_SHEET, pd.DataFrame({metadata: pd.Series([], dtype=object)})))
        options["sheet_view"] = {METADATA_SHEET: {"hidden": True}}
    rx.write_worksheets(
        sheets, str(path), datetime_format="dd/mm/yyyy hh:mm:ss", bold_headers=True, **options
    )
    return path


def _is_text(values: Sequence[object]) -> bool:
    return any(isinstance(v, str) for v in values[:50])


def write_export(
    frame: pd.DataFrame,
    path: str | Path,
    table: Table,
    *,
    language: Language = "en",
    modified_on: dt.datetime | None = None,
) -> Path:
    """Write ``frame`` as Dynamics would export it from ``table``'s view."""
    if len(frame) > EXPORT_ROW_LIMIT:
        raise ValueError(
            f"Dynamics exports at most {EXPORT_ROW_LIMIT:,} rows per workbook; split the frame"
        )
    modified = modified_on or dt.datetime(2026, 1, 5, 9, 30, 0)
    columns = export_columns(table, frame, language, modified)
    headers = [c.header for c in columns]
    meta = ExportMetadata(
        table.logical_name, _token(table, headers), tuple((c.logical, c.header) for c in columns)
    )
    return write_workbook(path, table.view[language], columns, meta.render())


def write_exports(
    frame: pd.DataFrame,
    folder: str | Path,
    table: Table,
    *,
    language: Language = "en",
    rows_per_file: int = EXPORT_ROW_LIMIT,
) -> list[Path]:
    """Split ``frame`` into several exports of at most ``rows_per_file`` rows, as an admin must."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for part, start in enumerate(range(0, max(len(frame), 1), rows_per_file), start=1):
        chunk = frame.iloc[start : start + rows_per_file]
        name = f"{table.view[language]} {part:02d}.xlsx"
        paths.append(write_export(chunk, folder / name, table, language=language))
    return paths


def new_guid(namespace: str, key: str) -> str:
    """A deterministic GUID for sample records (uuid5), so that seeded runs are repeatable."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"reconcile:{namespace}:{key}"))
