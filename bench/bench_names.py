"""Name splitting: accuracy on a labelled French/international set, and speed.

Run:  python bench/bench_names.py [--n 20000] [--seed 1] [--million]

Prints, for reconcile.names and for nameparser 2.6 (HumanName) on the same rows:
- accuracy: a person's row is right when first AND last equal the label (case-insensitive,
  as nameparser never re-cases; our case-exact score is printed too); a row that is no person
  (email, company, couple, placeholder) is right when it is flagged needs_review (nameparser
  cannot flag: right when it returns an empty first and last). Per-tag table included.
- how well the flag tracks errors: share of wrong splits flagged, share of right ones flagged;
- the same accuracy with half of the lexicon's words removed (names the splitter has never
  seen, as in a real base), so the number is not just "every test name is in the lexicon";
- names/s on distinct names: the per-name Python path (split_name) and the column path
  (split_names: Arrow for plain two-word names, Python for the rest, a second process when
  large), and, with --million, split_names on a realistic 1,000,000-row column (namesakes
  repeat). Wall and CPU time are both printed, with the load average: on a shared box, the
  CPU time of this process is the steadier number.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reconcile.names import Lexicon, Splitter, default_splitter, split_names
from reconcile.names._lexicon import default_lexicon
from reconcile.sample.names import labelled_names


def _fold(value: str) -> str:
    return " ".join(str(value).split()).casefold()


def _score(
    labels: pd.DataFrame, first: pd.Series, last: pd.Series, flagged: pd.Series
) -> pd.Series:
    same = (first.map(_fold) == labels["first"].map(_fold)) & (
        last.map(_fold) == labels["last"].map(_fold)
    )
    return same.where(labels["person"], flagged)


def _nameparser(texts: list[str]) -> tuple[pd.DataFrame, float]:
    from nameparser import HumanName

    rows = []
    start = time.perf_counter()
    for text in texts:
        name = HumanName(text)
        first = " ".join(part for part in (name.first, name.middle) if part)
        rows.append((first, name.last, name.title, name.suffix))
    elapsed = time.perf_counter() - start
    return pd.DataFrame(rows, columns=["first", "last", "title", "suffix"]), len(texts) / elapsed


def _ours(splitter: Splitter, texts: list[str]) -> pd.DataFrame:
    rows = [splitter.split(text) for text in texts]
    return pd.DataFrame(rows, columns=["first", "last", "review", "title", "suffix", "reason"])


def _half_lexicon(lexicon: Lexicon) -> Lexicon:
    def keep(word: str) -> bool:
        return hashlib.blake2b(word.encode(), digest_size=1).digest()[0] % 2 == 0

    return Lexicon(
        given=frozenset(w for w in lexicon.given if keep(w)),
        family=frozenset(w for w in lexicon.family if keep(w)),
        given_phrases=frozenset(w for w in lexicon.given_phrases if keep(w)),
        family_phrases=frozenset(w for w in lexicon.family_phrases if keep(w)),
        east_asian_given=frozenset(w for w in lexicon.east_asian_given if keep(w)),
        iberian_given=frozenset(w for w in lexicon.iberian_given if keep(w)),
        respell=lexicon.respell,
    )


def accuracy(n: int, seed: int) -> None:
    labels = labelled_names(n, seed=seed)
    texts = labels["text"].tolist()
    ours = _ours(default_splitter(), texts)
    theirs, theirs_rate = _nameparser(texts)
    ours_right = _score(labels, ours["first"], ours["last"], ours["review"])
    theirs_flag = (theirs["first"] == "") & (theirs["last"] == "")
    theirs_right = _score(labels, theirs["first"], theirs["last"], theirs_flag)
    exact = (ours["first"] == labels["first"]) & (ours["last"] == labels["last"])
    exact = exact.where(labels["person"], ours["review"])
    half = _ours(Splitter(_half_lexicon(default_lexicon())), texts)
    half_right = _score(labels, half["first"], half["last"], half["review"])

    person = labels["person"]
    print(
        f"labelled rows: {n} (seed {seed}), persons {int(person.sum())}, "
        f"not persons {int((~person).sum())}"
    )
    print(
        f"accuracy  reconcile.names {ours_right.mean():.4f}   case-exact {exact.mean():.4f}"
        f"   half lexicon {half_right.mean():.4f}"
    )
    print(f"accuracy  nameparser 2.6  {theirs_right.mean():.4f}")
    print(
        f"persons only: reconcile.names {ours_right[person].mean():.4f}   "
        f"nameparser {theirs_right[person].mean():.4f}"
    )
    wrong = person & ~ours_right
    right = person & ours_right
    print(
        f"flagged: {ours['review'][person].mean():.3f} of persons; "
        f"{ours['review'][wrong].mean():.3f} of wrong splits; "
        f"{ours['review'][right].mean():.3f} of right splits"
    )
    for field in ("title", "suffix"):
        rows = labels[field] != ""
        mine = (ours[field][rows].map(_fold) == labels[field][rows].map(_fold)).mean()
        other = (theirs[field][rows].map(_fold) == labels[field][rows].map(_fold)).mean()
        print(
            f"{field}: {int(rows.sum())} rows, reconcile.names {mine:.3f}, nameparser {other:.3f}"
        )
    table = pd.DataFrame(
        {
            "tag": labels["tag"],
            "ours": ours_right,
            "nameparser": theirs_right,
            "half_lexicon": half_right,
            "flagged": ours["review"],
        }
    ).groupby("tag")
    summary = table.mean().assign(rows=table.size()).sort_values("rows", ascending=False)
    print(summary.round(3).to_string())
    culture = pd.DataFrame(
        {"culture": labels["culture"], "ours": ours_right, "nameparser": theirs_right}
    ).groupby("culture")
    print(culture.mean().assign(rows=culture.size()).round(3).to_string())
    print(f"speed nameparser 2.6 HumanName: {theirs_rate:,.0f} names/s")
    misses = labels[person & ~ours_right].assign(got_first=ours["first"], got_last=ours["last"])
    print("sample of misses:")
    print(misses.head(40)[["text", "first", "last", "got_first", "got_last", "tag"]].to_string())


def _timed(action: Callable[[], object]) -> tuple[object, float, float]:
    """(result, wall seconds, CPU seconds of this process): the box may be shared."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def speed(seed: int, million: bool) -> None:
    print(f"load average before timing: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    splitter = default_splitter()
    splitter.split("warm up")
    _ = splitter.vector
    distinct = labelled_names(200_000, seed=seed + 1)["text"].drop_duplicates().tolist()
    _, wall, cpu = _timed(lambda: [splitter.split(text) for text in distinct])
    print(f"split_name loop, {len(distinct):,} distinct names: {len(distinct) / wall:,.0f} names/s "
          f"wall, {len(distinct) / cpu:,.0f} names/s CPU")  # fmt: skip
    column = pd.Series(distinct)
    for processes in (1, None):
        _, wall, cpu = _timed(partial(split_names, column, processes=processes))
        print(f"split_names, same distinct names, processes={processes or 'auto'}: "
              f"{len(distinct) / wall:,.0f} names/s wall ({cpu:.2f} s CPU here)")  # fmt: skip
    if million:
        column = labelled_names(1_000_000, seed=seed + 2)["text"]
        for processes in (1, None):
            _, wall, cpu = _timed(partial(split_names, column, processes=processes))
            print(f"split_names, 1,000,000 rows ({column.nunique():,} distinct), "
                  f"processes={processes or 'auto'}: {wall:.2f} s wall, {cpu:.2f} s CPU in this "
                  f"process, {len(column) / wall:,.0f} rows/s")  # fmt: skip
    print(f"load average after timing: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--million", action="store_true", help="also split a 1M-row column")
    args = parser.parse_args()
    accuracy(args.n, args.seed)
    speed(args.seed, args.million)


if __name__ == "__main__":
    main()
