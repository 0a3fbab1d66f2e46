"""Many short values per cell: how the review workbook keeps its hidden copy of what it wrote.

One value per cell would make the hidden sheet as slow to read as the visible one (a million
rows: about as many seconds as the whole read budget). Joining a column's values with newlines,
a few hundred per cell, turns a million cells into a few thousand, read back with one
``str.split``. Each cell starts with ``|`` so that a cell of empty values is never an empty cell;
a value holding a newline or a backslash is escaped (``\\n``, ``\\\\``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CELL_CHARS = 32_000  # Excel holds at most 32,767 characters in a cell
MARK = "|"


def _escape(value: str) -> str:
    if "\\" in value or "\n" in value:
        return value.replace("\\", "\\\\").replace("\n", "\\n")
    return value


def _unescape(value: str) -> str:
    if "\\" not in value:
        return value
    out, chars, i = [], value, 0
    while i < len(chars):
        ch = chars[i]
        if ch == "\\" and i + 1 < len(chars):
            out.append("\n" if chars[i + 1] == "n" else chars[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def pack(values: Sequence[str], limit: int = CELL_CHARS) -> list[str]:
    """Cells (each at most ``limit`` characters) that :func:`unpack` turns back into ``values``.

    The values are joined once; each cell is a slice of that text (no per-value work unless a
    value holds a newline or a backslash to escape)."""
    escaped = values if isinstance(values, list) else list(values)
    if not escaped:
        return []
    text = "\n".join(escaped)
    if "\\" in text or text.count("\n") != len(escaped) - 1:
        escaped = [_escape(v) for v in escaped]
        text = "\n".join(escaped)
    lengths = np.fromiter(map(len, escaped), dtype=np.int64, count=len(escaped))
    ends = np.cumsum(lengths + 1)  # value i ends (with its newline) at ends[i] in ``text``
    cells, start, offset = [], 0, 0
    while start < len(escaped):
        stop = int(np.searchsorted(ends, offset + limit - len(MARK), side="right"))
        if stop <= start:
            raise ValueError(
                f"a value is longer than an Excel cell holds: {escaped[start][:80]!r}…"
            )
        end = int(ends[stop - 1])
        cells.append(MARK + text[offset : end - 1])
        offset = end
        start = stop
    return cells


def unpack(cells: Sequence[str]) -> list[str]:
    """The values :func:`pack` stored (raises ValueError on a cell it did not write)."""
    if any(not isinstance(c, str) or not c.startswith(MARK) for c in cells):
        raise ValueError("a packed cell was changed")
    values: list[str] = []
    for cell in cells:
        values.extend(cell[len(MARK) :].split("\n"))
    if any("\\" in v for v in values):
        values = [_unescape(v) for v in values]
    return values
