"""Raw tables out of .xlsx and .csv files, with the file-level errors people actually hit.

This is the only module that opens input spreadsheets. It turns every way a file can be
unusable into an :class:`~reconcile.errors.InputError` that names the file (and sheet): empty
file, password-protected workbook (an encrypted .xlsx is an OLE compound file, recognised by its
magic bytes), old .xls, a PDF or a CSV where a workbook was expected (and a workbook named
.csv), corrupt zip or XML, a CSV in neither UTF-8 nor Windows-1252, merged header cells.

Reading uses python-calamine (Rust): about ten times faster than openpyxl on large sheets.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import python_calamine as calamine

from reconcile.errors import InputError, Problem

OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # Compound File Binary: encrypted .xlsx or .xls
ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt")
METADATA_SHEET = "hiddenSheet"  # Dynamics keeps the table / view / column metadata there


@dataclass
class RawTable:
    """One sheet (or CSV file): its header row and its data rows, cells as read."""

    path: Path
    sheet: str | None  # None for CSV
    header: list[object]
    rows: list[list[object]]
    header_row: int  # 1-based row number of the header, as Excel shows it
    metadata: str | None = None  # A1 of the workbook's hiddenSheet, if any
    text_format: str | None = None  # CSV only: encoding and separator found ("UTF-8, comma-…")
    other_sheets: list[str] = field(default_factory=list)
    # A CSV's data rows as read by pandas, column by column (then ``rows`` is left empty):
    # a million rows are taken as columns, never turned into a million Python lists.
    columns: pd.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.columns) if self.columns is not None else len(self.rows)

    def text(self, index: int) -> list[str] | pd.Series:
        """Column ``index`` of the data rows as stripped text ("" for missing cells)."""
        if self.columns is not None:
            if index >= self.columns.shape[1]:
                return [""] * len(self.columns)
            return self.columns.iloc[:, index].fillna("").str.strip()
        return text_column(self.rows, index)

    def raw(self, index: int) -> list[object]:
        if self.columns is not None:
            if index >= self.columns.shape[1]:
                return [""] * len(self.columns)
            return self.columns.iloc[:, index].fillna("").tolist()
        return raw_column(self.rows, index)

    def problem(self, message: str, row: int | None = None, column: str | None = None) -> Problem:
        return Problem(message, file=str(self.path), sheet=self.sheet, row=row, column=column)


def list_inputs(path: str | Path, what: str) -> list[Path]:
    """The files to read: the file itself, or every .xlsx / .csv in a folder (sorted by name)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file()
            and p.suffix.lower() in (*XLSX_SUFFIXES, *CSV_SUFFIXES)
            and not p.name.startswith(("~$", "."))
        )
        if not files:
            raise InputError(
                Problem(f"the folder holds no .xlsx or .csv file of {what}", file=str(path)),
                hint="Put the exported workbooks in the folder, or give one file.",
            )
        return files
    if not path.exists():
        raise InputError(Problem(f"file of {what} not found", file=str(path)))
    return [path]


def _kind_of(head: bytes) -> str | None:
    """What a file that is not an .xlsx is, from its first bytes (None: unknown)."""
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.lstrip(b"\xef\xbb\xbf \r\n\t").lower().startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)"
    if head.startswith(b"{\\rtf"):
        return "an RTF document"
    if head and all(b >= 32 or b in b"\r\n\t" for b in head):  # UTF-8 or cp1252 text
        return "a text file (a CSV?)"
    return None


def check_readable(path: Path) -> None:
    """Refuse empty, encrypted, legacy or non-workbook files before parsing them."""
    size = path.stat().st_size
    if size == 0:
        raise InputError(Problem("the file is empty (0 bytes)", file=str(path)))
    with path.open("rb") as handle:
        head = handle.read(512)
    if path.suffix.lower() in CSV_SUFFIXES:
        if head[:4] == ZIP_MAGIC or head[:8] == OLE_MAGIC:
            raise InputError(
                Problem(
                    f"this is an Excel workbook, not a CSV file ({path.suffix})", file=str(path)
                ),
                hint=f"Rename it to {path.stem}.xlsx and give that name.",
            )
        return
    if head[:8] == OLE_MAGIC:
        if path.suffix.lower() not in XLSX_SUFFIXES:
            return  # an .xls by name: calamine reads those
        with path.open("rb") as handle:
            body = handle.read(min(size, 16 << 20))
        if _ENCRYPTION_STREAM in body:
            raise InputError(
                Problem("the workbook is password-protected (encrypted)", file=str(path)),
                hint="Open it in Excel, remove the password (File > Info > Protect "
                "Workbook > Encrypt with Password, clear the box), save, and run again.",
            )
        raise InputError(
            Problem(
                "this is an old .xls workbook (or another OLE file), not .xlsx", file=str(path)
            ),
            hint="Open it in Excel and save it as 'Excel Workbook (*.xlsx)'.",
        )
    if head[:4] != ZIP_MAGIC:
        kind = _kind_of(head)
        if kind is not None:
            raise InputError(
                Problem(f"this is {kind}, not an Excel workbook (.xlsx)", file=str(path)),
                hint="Give the .xlsx file (in Excel: File > Save As > Excel Workbook); a CSV "
                "export is read when its name ends in .csv.",
            )
        raise InputError(
            Problem(
                "not an .xlsx workbook (no zip signature): the file is damaged or not Excel",
                file=str(path),
            ),
            hint="Export the view to Excel again, or save the file as .xlsx.",
        )


def _corrupt(path: Path, sheet: str | None, exc: Exception) -> InputError:
    return InputError(
        Problem(f"the workbook is corrupt and cannot be read ({exc})", file=str(path), sheet=sheet),
        hint="Export it again from Dynamics, or open and re-save it in Excel.",
    )


def open_workbook(path: Path) -> calamine.CalamineWorkbook:
    check_readable(path)
    try:
        return calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError as exc:
        raise InputError(Problem("the workbook is password-protected", file=str(path))) from exc
    except calamine.CalamineError as exc:
        raise _corrupt(path, None, exc) from exc


def visible_sheets(book: calamine.CalamineWorkbook) -> list[str]:
    return [
        meta.name
        for meta in book.sheets_metadata
        if meta.visible == calamine.SheetVisibleEnum.Visible
        and meta.typ == calamine.SheetTypeEnum.WorkSheet
    ]


def read_sheet(path: Path, book: calamine.CalamineWorkbook, name: str) -> RawTable:
    """Every row of one sheet; the header is its first non-empty row."""
    try:
        sheet = book.get_sheet_by_name(name)
        rows = sheet.to_python(skip_empty_area=False)
        merged = sheet.merged_cell_ranges or []
    except calamine.CalamineError as exc:
        raise _corrupt(path, name, exc) from exc
    start = next((i for i, row in enumerate(rows) if any(v != "" for v in row)), None)
    if start is None:
        return RawTable(path, name, [], [], 1)
    for (r0, c0), (r1, c1) in merged:
        if r0 <= start <= r1:
            span = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
            raise InputError(
                Problem(
                    f"the header row has merged cells ({span})",
                    file=str(path),
                    sheet=name,
                    row=start + 1,
                ),
                hint="Unmerge the header cells so that every column has its own heading.",
            )
    body = cast("list[list[object]]", rows[start + 1 :])  # cells as calamine typed them
    return RawTable(path, name, list(rows[start]), body, start + 1)


def read_metadata(book: calamine.CalamineWorkbook) -> str | None:
    """A1 of the Dynamics ``hiddenSheet`` (entity, token and column map), if present."""
    if METADATA_SHEET not in book.sheet_names:
        return None
    try:
        rows = book.get_sheet_by_name(METADATA_SHEET).to_python(skip_empty_area=False, nrows=1)
    except calamine.CalamineError:
        return None
    value = rows[0][0] if rows and rows[0] else ""
    return value if isinstance(value, str) and value else None


# What the Excel "Save as" CSV types produce: UTF-8 (with a BOM: "CSV UTF-8"), else the
# Windows code page — cp1252 for French, English and the other Western European Excels.
ENCODINGS = (("utf-8-sig", "UTF-8"), ("cp1252", "Windows-1252 (Excel's plain 'CSV')"))
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}


def decode_csv(path: Path, raw: bytes) -> tuple[str, str]:
    """(text, the encoding's name for people): UTF-8 with or without BOM, else cp1252."""
    for codec, name in ENCODINGS:
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError as exc:
            failure = exc
            continue
        if codec == "utf-8-sig" and raw.startswith(b"\xef\xbb\xbf"):
            name = "UTF-8 with BOM"
        return text, name
    raise InputError(
        Problem(
            f"the CSV file is neither UTF-8 nor Windows-1252 (byte {failure.start} cannot be read)",
            file=str(path),
        ),
        hint="Save it again from Excel as 'CSV UTF-8 (Comma delimited)'.",
    )


def sniff_separator(first_line: str) -> str:
    """The separator of a CSV header line: the most frequent of , ; and tab (comma on a tie,
    as a one-column file has none). French Excel separates with ';' (the comma is its decimal
    mark)."""
    counts = {sep: first_line.count(sep) for sep in SEPARATORS}
    best = max(counts, key=lambda sep: (counts[sep], sep == ","))
    return best if counts[best] else ","


# Bytes that make the Arrow reader unsuitable for a file: a blank line (pandas numbers it as a
# row, so the rows' numbers in messages stay the file's line numbers).
_BLANK_LINES = (b"\n\n", b"\r\n\r\n", b"\r\r")


def _read_csv_arrow(path: Path, raw: bytes) -> RawTable | None:
    """The common case, read by Arrow's multi-threaded parser (several times faster than
    pandas' on a million rows, and it releases the GIL): UTF-8, a header on the first line,
    no blank line, every row as long as the header. Anything else returns None and is read
    by :func:`read_csv`'s pandas path, which says what is wrong with the file."""
    bom = raw.startswith(b"\xef\xbb\xbf")
    body = pa.py_buffer(raw).slice(3) if bom else pa.py_buffer(raw)
    start = 3 if bom else 0
    end = raw.find(b"\n", start)
    head = raw[start : end if end >= 0 else len(raw)]
    if not head or head[:1] == b"\r" or any(b in raw for b in _BLANK_LINES):
        return None
    try:
        first_line = head.decode("utf-8")
    except UnicodeDecodeError:
        return None  # cp1252, or a very long first line cut inside a character
    delimiter = sniff_separator(first_line)
    most = first_line.count(delimiter) + 1  # columns of the header (fewer if quoted)
    try:
        arrow = pa_csv.read_csv(
            body,
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True, block_size=4 << 20),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(most)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
        return None  # not UTF-8, ragged rows, a stray quote: the pandas path reports it
    if arrow.num_rows == 0 or any(not pa.types.is_string(t) for t in arrow.schema.types):
        return None
    header = [column[0].as_py() for column in arrow.columns]
    if all(h == "" for h in header):
        return None
    data = pd.DataFrame({i: column.slice(1).to_pandas() for i, column in enumerate(arrow.columns)})
    table = RawTable(path, None, header, [], 1, columns=data)
    encoding = "UTF-8 with BOM" if bom else "UTF-8"
    table.text_format = f"{encoding}, {SEPARATORS[delimiter]}-separated"
    return table


def read_csv(path: Path) -> RawTable:
    """A CSV as Excel saves it: UTF-8 (with or without BOM) or Windows-1252; comma-,
    semicolon- or tab-separated. What was found is in ``RawTable.text_format``."""
    check_readable(path)
    raw = path.read_bytes()
    fast = _read_csv_arrow(path, raw)
    if fast is not None:
        return fast
    text, encoding = decode_csv(path, raw)
    first_line = text.split("\n", 1)[0]
    delimiter = sniff_separator(first_line)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            header=None,
            keep_default_na=False,
            skip_blank_lines=False,
            quoting=csv.QUOTE_MINIMAL,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(
            Problem(f"the CSV file cannot be parsed: {exc}", file=str(path)),
            hint="Check the quotes and the number of separators on that line.",
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(Problem("the CSV file has no header row", file=str(path))) from exc
    filled = frame.ne("").any(axis=1).to_numpy()
    if not filled.any():
        raise InputError(Problem("the CSV file has no header row", file=str(path)))
    start = int(filled.argmax())
    header = frame.iloc[start].tolist()
    data = frame.iloc[start + 1 :].reset_index(drop=True)
    table = RawTable(path, None, header, [], start + 1, columns=data)
    table.text_format = f"{encoding}, {SEPARATORS[delimiter]}-separated"
    return table


def column_letter(index: int) -> str:
    """``0 -> 'A'``, ``27 -> 'AB'``: how Excel names a column."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def as_text(value: object) -> str:
    """A cell as text: whole floats lose their ``.0``, dates become ISO text, blanks ''."""
    if isinstance(value, str):
        return value.strip()
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def text_column(rows: Sequence[Sequence[object]], index: int) -> list[str]:
    """One column of the rows as text (missing cells of short rows are '').

    The hot loop of every read: calamine's rows are rectangular, so the common case takes the
    column in one comprehension and strips it in another.
    """
    if rows and all(len(rows[i]) > index for i in (0, -1)) and len(set(map(len, rows[:2]))) == 1:
        try:
            values = [row[index] for row in rows]
        except IndexError:
            values = [row[index] if index < len(row) else "" for row in rows]
    else:
        values = [row[index] if index < len(row) else "" for row in rows]
    return [v.strip() if v.__class__ is str else as_text(v) for v in values]


def raw_column(rows: Sequence[Sequence[object]], index: int) -> list[object]:
    """One column as read (datetimes stay datetimes); missing cells of short rows are ''."""
    return [row[index] if index < len(row) else "" for row in rows]
