"""Formula-injection safety for everything we write (CSV / Excel injection).

A contact named ``=HYPERLINK("http://evil","click")`` or an "email" of ``+33 6…`` must reach
the admin's Excel as text, never as a formula. Every workbook we write goes through
rustpy-xlsxwriter, which writes every string as a string cell (inline or shared), never as a
formula; the review workbook's text columns also carry Excel's *quote prefix* style, so that a
cell stays text when the reviewer edits it (F2, Enter). We write no CSV and nothing with
openpyxl: a writer added later must keep this rule and be checked with :func:`formula_cells`.

:func:`formula_cells` reads a written workbook's XML and lists any formula cell: the tests and
the demo use it to check the rule on real output. The only formulas we write are our own fixed
templates, never built from data (``review_sheets``): the Review sheet's ``CRM Contact``
(the id of the candidate the Decision chooses) and the Summary's counts. Those are recognised
exactly, by their whole text, and not reported.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

_FORMULA_RE = re.compile(rb"<(?:\w+:)?f(?:\s[^>]*)?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_CELL = r"\$?[A-Z]{1,3}\$?\d+"
_RANGE = r"'[A-Za-z0-9 ]{1,31}'!\$[A-Z]{1,3}\$2:\$[A-Z]{1,3}\$1048576"
OURS = (
    # Review sheet, CRM Contact: IF($F2="link 1",K2,IF($F2="link 2",P2,IF(...,"")))
    re.compile(rf'^(?:IF\({_CELL}="link [1-9]",{_CELL},)+""\)+$'),
    # Summary, Count: $E2+IF($B2="",0,IF($C2="",COUNTIF(…)+…,COUNTIFS(…)+…))
    re.compile(
        rf'^{_CELL}\+IF\({_CELL}="",0,IF\({_CELL}="",'
        rf"COUNTIF\({_RANGE},{_CELL}\)(?:\+COUNTIF\({_RANGE},{_CELL}\))*,"
        rf"COUNTIFS\({_RANGE},{_CELL},{_RANGE},{_CELL}\)"
        rf"(?:\+COUNTIFS\({_RANGE},{_CELL},{_RANGE},{_CELL}\))*\)\)$"
    ),
)
_ENTITIES = {"&quot;": '"', "&apos;": "'", "&lt;": "<", "&gt;": ">", "&amp;": "&"}


def ours(formula: str) -> bool:
    """True for one of the formula templates we write ourselves (see the module docstring)."""
    for entity, char in _ENTITIES.items():
        formula = formula.replace(entity, char)
    return any(pattern.match(formula.removeprefix("=")) for pattern in OURS)


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
                    text = tail + chunk
                    if any(
                        not ours((m.group(1) or b"").decode("utf-8", "replace"))
                        for m in _FORMULA_RE.finditer(text)
                    ):
                        found.append(name)
                        break
                    cut = text.rfind(b"<c ")  # a cell cut by the chunk is read again whole
                    tail = text[cut:] if cut >= 0 and len(text) - cut < 65_536 else b""
            if len(found) >= limit:
                break
    return found
