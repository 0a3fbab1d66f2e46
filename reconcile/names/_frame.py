"""Split a whole column fast: each distinct name once, results spread back with numpy.

Real bases repeat names (namesakes, the same contact on several lists), and ``pd.factorize``
finds the distinct ones in C, so the Python splitter runs once per distinct name.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from reconcile.model import FIRST_NAME, LAST_NAME, NAME_NEEDS_REVIEW
from reconcile.names._split import Splitter

NAME_REVIEW_REASON = "name_review_reason"
COLUMNS = [FIRST_NAME, LAST_NAME, NAME_NEEDS_REVIEW, NAME_REVIEW_REASON]


def split_column(
    names: pd.Series, splitter: Splitter, to_text: Callable[[object], str]
) -> pd.DataFrame:
    """The four result columns of ``names``, on its index (see ``reconcile.names.split_names``)."""
    codes, uniques = pd.factorize(names, use_na_sentinel=True)
    split = splitter.split
    results = [split(to_text(value)) for value in uniques]
    results.append(split(""))  # code -1: missing values
    first = np.array([result[0] for result in results], dtype=object)
    last = np.array([result[1] for result in results], dtype=object)
    review = np.array([result[2] for result in results], dtype=bool)
    reason = np.array([result[5] for result in results], dtype=object)
    return pd.DataFrame(
        {
            FIRST_NAME: first[codes],
            LAST_NAME: last[codes],
            NAME_NEEDS_REVIEW: review[codes],
            NAME_REVIEW_REASON: reason[codes],
        },
        index=names.index,
        columns=COLUMNS,
    )
