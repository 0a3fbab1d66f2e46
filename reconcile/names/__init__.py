"""Split a typed full name into first and last name, and say when a person should check it.

>>> split_name("DUPONT Jean-Pierre")
SplitName(first='Jean-Pierre', last='Dupont', needs_review=False, title='', suffix='', reason='')
>>> split_name("Mme Marie-Claire de la Fontaine").last
'de la Fontaine'
>>> split_name("jean.dupont@gmail.com").reason
'looks like an email'

How the splitter decides, what it flags and how fast it is: docs/names.md. The pipeline's
entry point is ``split_names`` (a pandas column in, four columns out, duplicates split once).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import pandas as pd

from reconcile.names._frame import split_column
from reconcile.names._lexicon import Lexicon, default_lexicon
from reconcile.names._split import Splitter

__all__ = ["Lexicon", "SplitName", "Splitter", "default_splitter", "split_name", "split_names"]


@dataclass(frozen=True, slots=True)
class SplitName:
    """A full name split for the CRM; ``reason`` says why ``needs_review`` is set."""

    first: str
    last: str
    needs_review: bool
    title: str = ""
    suffix: str = ""
    reason: str = ""  # "looks like an email", "looks like a company", "single name", ...


@cache
def default_splitter() -> Splitter:
    """The splitter ``split_name`` and ``split_names`` use (built once, on first use)."""
    return Splitter(default_lexicon())


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value if isinstance(value, str) else str(value)


def split_name(text: str | None) -> SplitName:
    """Split one full name: ``first`` holds every given name, ``last`` the family name."""
    return SplitName(*default_splitter().split(_text(text)))


def split_names(names: pd.Series, *, processes: int | None = None) -> pd.DataFrame:
    """Split a column of full names; each distinct name is split once.

    Returns columns ``first_name``, ``last_name``, ``name_needs_review`` and
    ``name_review_reason`` on the same index, row by row equal to ``split_name``.
    ``processes=1`` keeps the work in this process; by default a second process helps with
    very large columns when the machine has a spare core and no other thread runs.
    """
    return split_column(names, default_splitter(), _text, processes)
