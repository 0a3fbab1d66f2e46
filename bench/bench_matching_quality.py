"""Matching quality on the hard labelled set (``reconcile.sample.contacts.HARD_MIX``).

Prints link precision (the share of ``link`` decisions that point at a true CRM contact),
"found" recall (true pairs found as a link or among a review row's candidates), link recall,
and the same per scenario and per name variant, plus the decision mix.

    python bench/bench_matching_quality.py                   # 100k GR x 200k CRM, seed 7
    python bench/bench_matching_quality.py --gr 20000 --crm 40000 --seed 1
    python bench/bench_matching_quality.py --split-names     # with reconcile.names.split_names

Bars (issue 2): link precision >= 0.995; found recall >= 0.95.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reconcile.matching import MatchOptions, match_contacts
from reconcile.sample.contacts import HARD_MIX, pairs


def evaluate(result: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per GR row: is_true_link / wrong_link / found / has_truth, aligned with ``truth``."""
    true_sets = [set(t.split("|")) if t else set() for t in truth["crm_contact_ids"].fillna("")]
    decision = result["decision"].to_numpy(dtype=object)
    linked = result["crm_contact_id"].to_numpy(dtype=object)
    cands = result["candidate_ids"].tolist()
    has_truth = np.array([bool(s) for s in true_sets])
    is_link = decision == "link"
    right_link = np.array(
        [bool(is_link[i] and linked[i] in s) for i, s in enumerate(true_sets)], dtype=bool
    )
    found = np.array(
        [
            bool(s)
            and ((is_link[i] and linked[i] in s) or (decision[i] == "review" and bool(s & set(c))))
            for i, (s, c) in enumerate(zip(true_sets, cands, strict=True))
        ],
        dtype=bool,
    )
    return pd.DataFrame(
        {
            "scenario": truth["scenario"].to_numpy(),
            "name_variant": truth["name_variant"].to_numpy(),
            "decision": decision,
            "has_truth": has_truth,
            "link": is_link,
            "right_link": right_link,
            "wrong_link": is_link & ~right_link,
            "found": found,
        }
    )


def summary(ev: pd.DataFrame) -> dict[str, float]:
    links = int(ev["link"].sum())
    true_pairs = int(ev["has_truth"].sum())
    return {
        "links": links,
        "wrong_links": int(ev["wrong_link"].sum()),
        "link_precision": (ev["right_link"].sum() / links) if links else float("nan"),
        "true_pairs": true_pairs,
        "found_recall": (ev["found"].sum() / true_pairs) if true_pairs else float("nan"),
        "link_recall": (ev["right_link"].sum() / true_pairs) if true_pairs else float("nan"),
    }


def breakdown(ev: pd.DataFrame, by: str) -> pd.DataFrame:
    grouped = ev.groupby(by)
    table = pd.DataFrame(
        {
            "rows": grouped.size(),
            "link": grouped["link"].sum(),
            "wrong_link": grouped["wrong_link"].sum(),
            "review": grouped["decision"].apply(lambda d: int((d == "review").sum())),
            "new": grouped["decision"].apply(lambda d: int((d == "new").sum())),
            "invalid": grouped["decision"].apply(lambda d: int((d == "invalid").sum())),
            "found": grouped["found"].sum(),
            "true_pairs": grouped["has_truth"].sum(),
        }
    )
    table["found_recall"] = (table["found"] / table["true_pairs"]).round(4)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gr", type=int, default=100_000)
    parser.add_argument("--crm", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--split-names", action="store_true", help="use reconcile.names")
    parser.add_argument("--wrong", type=int, default=0, help="print this many wrong links")
    args = parser.parse_args()

    t0 = time.perf_counter()
    gr, crm, truth = pairs(args.gr, args.crm, seed=args.seed, mix=HARD_MIX)
    t1 = time.perf_counter()
    if args.split_names:
        from reconcile.names import split_names

        gr = pd.concat([gr, split_names(gr["name"])[["first_name", "last_name"]]], axis=1)
    t2 = time.perf_counter()
    result = match_contacts(gr, crm, MatchOptions())
    t3 = time.perf_counter()
    ev = evaluate(result, truth)
    print(f"generate {t1 - t0:.1f}s  split {t2 - t1:.1f}s  match {t3 - t2:.1f}s")
    print(f"set: {args.gr} GR x {len(crm)} CRM, seed {args.seed}, split_names={args.split_names}")
    for key, value in summary(ev).items():
        print(f"{key:>16}: {value:.4f}" if isinstance(value, float) else f"{key:>16}: {value}")
    pd.set_option("display.width", 200)
    print("\nper scenario:\n", breakdown(ev, "scenario").to_string())
    print("\nper name variant:\n", breakdown(ev, "name_variant").to_string())
    if args.wrong:
        cols = ["name", "email", "crm_name", "crm_email", "score", "reason"]
        wrong = result[ev["wrong_link"].to_numpy()].head(args.wrong)
        print(pd.concat([wrong[cols], truth.loc[wrong.index, ["scenario"]]], axis=1).to_string())


if __name__ == "__main__":
    main()
