"""Split a whole column fast: each distinct name once, the commonest ones all at once.

Real bases repeat names (namesakes, the same contact on several lists): ``pd.factorize``
finds the distinct ones in C. Plain two-word names then go through Arrow kernels
(``_vector``); the rest through the Python splitter, one distinct name at a time, shared
with a second process when there are many of them and the machine has a second core.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection

import numpy as np
import pandas as pd

from reconcile.model import FIRST_NAME, LAST_NAME, NAME_NEEDS_REVIEW
from reconcile.names._order import ORDER_GUESSED
from reconcile.names._split import Splitter

NAME_REVIEW_REASON = "name_review_reason"
COLUMNS = [FIRST_NAME, LAST_NAME, NAME_NEEDS_REVIEW, NAME_REVIEW_REASON]
VECTOR_FROM = 2_000  # fewer distinct names: Arrow's setup costs more than it saves
FORK_FROM = 40_000  # fewer names for the Python path: a second process does not pay

Row = tuple[str, str, bool, str]  # first, last, needs_review, reason

# What a forked helper process reads: set just before the fork, inherited, never pickled.
_job: tuple[Splitter, Sequence[str], Sequence[int]] | None = None


def split_column(
    names: pd.Series,
    splitter: Splitter,
    to_text: Callable[[object], str],
    processes: int | None = None,
) -> pd.DataFrame:
    """The four result columns of ``names``, on its index (see ``reconcile.names.split_names``).

    ``processes``: 1 keeps everything in this process; None (default) lets a second
    process take half of a large Python-path share when that is safe (see ``_can_fork``).
    """
    codes, uniques = pd.factorize(names, use_na_sentinel=True)
    texts = [to_text(value) for value in uniques.tolist()]
    count = len(texts)
    first = np.empty(count + 1, dtype=object)  # the extra slot is code -1: missing values
    last = np.empty(count + 1, dtype=object)
    review = np.zeros(count + 1, dtype=bool)
    reason = np.full(count + 1, "", dtype=object)
    todo = np.ones(count + 1, dtype=bool)
    if count >= VECTOR_FROM:
        positions, given, family, guessed = splitter.vector.split(texts)
        first[positions], last[positions], review[positions] = given, family, guessed
        reason[positions[guessed]] = ORDER_GUESSED
        todo[positions] = False
    texts.append("")
    rest = np.flatnonzero(todo).tolist()
    for position, row in zip(rest, _split_many(splitter, texts, rest, processes), strict=True):
        first[position], last[position], review[position], reason[position] = row
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


def _rows(splitter: Splitter, texts: Sequence[str], positions: Sequence[int]) -> list[Row]:
    split = splitter.split
    rows = []
    for position in positions:
        result = split(texts[position])
        rows.append((result[0], result[1], result[2], result[5]))
    return rows


def _can_fork(processes: int | None) -> bool:
    """A second process helps only with a spare core, and fork is safe only without threads.

    "A spare core": more cores than the last minute's load average plus this process. On a
    box busy with other work the helper only competes for the same cores (measured: no gain
    at a load of 1.5 on 2 cores), so it is not started.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    if processes is not None:
        return processes > 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    idle = os.getloadavg()[0] < (cores or 1) - 1 if hasattr(os, "getloadavg") else False
    return (cores or 1) > 1 and idle and threading.active_count() == 1


def _split_many(
    splitter: Splitter, texts: Sequence[str], positions: list[int], processes: int | None
) -> list[Row]:
    large = len(positions) >= FORK_FROM or processes is not None
    if not positions or not large or not _can_fork(processes):
        return _rows(splitter, texts, positions)
    global _job
    half = len(positions) // 2
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    _job = (splitter, texts, positions[half:])
    helper = context.Process(target=_helper, args=(writer,), daemon=True)
    try:
        helper.start()
    except OSError:  # no process to be had: do it all here
        _job = None
        reader.close()
        writer.close()
        return _rows(splitter, texts, positions)
    try:
        writer.close()
        mine = _rows(splitter, texts, positions[:half])
        try:
            theirs = reader.recv()
        except EOFError:  # the helper died: do its half here
            theirs = _rows(splitter, texts, positions[half:])
    finally:
        _job = None
        reader.close()
        helper.join()
    return mine + theirs


def _helper(writer: Connection) -> None:
    """Runs in the forked process: split the second half, send the rows back."""
    assert _job is not None
    splitter, texts, positions = _job
    writer.send(_rows(splitter, texts, positions))
    writer.close()
