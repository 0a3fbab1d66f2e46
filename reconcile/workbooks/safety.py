"""Formula-injection safety for everything we write (CSV / Excel injection).

A contact named ``=HYPERLINK("http://evil","click")`` or an "email" of ``+33 6…`` must reach
the admin's Excel as text, never as a formula. Three layers:

* ``.xlsx`` written by rustpy-xlsxwriter: every string goes out as an inline *string* cell
  (``t="inlineStr"``), which Excel never evaluates; text columns also carry Excel's
  *quote prefix* style, so that a cell stays text when the reviewer edits it (F2, Enter).
* ``.xlsx`` written by openpyxl (small files: templates, sample exports): openpyxl turns any
  string that starts with ``=`` into a formula, so :func:`text_cell` forces the string type.
* ``.csv``: a cell that starts with a trigger character gets a leading apostrophe, the
  mitigation OWASP recommends; :func:`csv_safe`.

:func:`formula_cells` reads a written workbook's XML and lists any formula cell: the tests and
the demo use it to check the rule on real output.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

# What Excel (and LibreOffice) may read as the start of a formula or a DDE payload.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_FORMULA_RE = re.compile(rb"<(?:\w+:)?f[ >/]")


def is_risky(value: object) -> bool:
    """Whether a spreadsheet could read this value as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def csv_safe(value: Any) -> Any:
    """A value made safe for a CSV cell: risky text gets a leading apostrophe."""
    return "'" + value if is_risky(value) else value


def text_cell(sheet: Any, value: object, style: Any = None) -> Any:
    """An openpyxl write-only cell that holds ``value`` as text, never as a formula.

    ``sheet`` is an openpyxl write-only worksheet; non-string values pass through unchanged.
    """
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        if is_risky(value):
            cell.quotePrefix = True
    if style is not None:
        cell.font = style
    return cell


def formula_cells(path: str | Path, limit: int = 10) -> list[str]:
    """Worksheet parts of an .xlsx that contain at least one formula cell (``<f>``).

    Reads the raw XML rather than a parsed model, so that no library's interpretation of a
    cell can hide a formula. Stops after ``limit`` parts.
    """
    found: list[str] = []
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            with archive.open(name) as part:
                tail = b""
                while chunk := part.read(1 << 20):
                    if _FORMULA_RE.search(tail + chunk):
                        found.append(name)
                        break
                    tail = chunk[-8:]
            if len(found) >= limit:
                break
    return found
