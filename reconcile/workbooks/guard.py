"""Never lose a review: what ``-o`` may do to a review workbook that is already there.

An admin may spend days deciding rows in ``review.xlsx``; running ``reconcile match`` (or
``migrate plan``) again with the same ``-o`` must not wipe that out. So an existing output is
refused unless ``--force``; with ``--force``, a workbook whose decisions were edited since it
was written (or a file we cannot read as one) is first kept as a dated copy next to it, and
the command says so.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from reconcile.errors import InputError, Problem


def refuse_existing(path: str | Path, force: bool) -> None:
    """Fail fast (before any matching) when ``path`` exists and ``force`` is off."""
    target = Path(path)
    if target.exists() and not force:
        raise InputError(
            Problem("the output workbook already exists (it may hold a review)", file=str(target)),
            hint="choose another file with -o, or add --force to replace it (an edited review "
            "is kept as a dated copy first)",
        )


def keep_edited(path: str | Path) -> Path | None:
    """Before replacing ``path`` (with ``--force``): copy it aside when it holds edits, or
    when it is not a review workbook we can read; returns the copy, or None."""
    from reconcile.workbooks.validate import edited_decisions

    target = Path(path)
    if not target.exists():
        return None
    edited = edited_decisions(target)
    if edited == 0:
        return None
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H%M%S")
    copy = target.with_name(f"{target.stem} (replaced {stamp}){target.suffix}")
    shutil.copy2(target, copy)
    return copy


__all__ = ["keep_edited", "refuse_existing"]
