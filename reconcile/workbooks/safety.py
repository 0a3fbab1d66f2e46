"""Formula-injection safety for everything we write (CSV / Excel injection).

A contact named ``=HYPERLINK("http://evil","click")`` or an "email" of ``+33 6…`` must reach
the admin's Excel as text, never as a formula. Every workbook we write goes through
rustpy-xlsxwriter, which writes every string as a string cell (inline or shared), never as a
formula; the review workbook's text columns also carry Excel's *quote prefix* style, so that a
cell stays text when the reviewer edits it (F2, Enter). We write no CSV and nothing with
openpyxl: a writer added later must keep this rule and be checked with :func:`formula_cells`.

:func:`formula_cells` reads a written workbook's XML and lists any formula cell: the tests and
the demo use it to check the rule on real output.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

_FORMULA_RE = re.compile(rb"<(?:\w+:)?f[ >/]")


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
