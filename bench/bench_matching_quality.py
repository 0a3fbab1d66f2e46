"""Matching quality on the hard labelled set (``reconcile.sample.contacts.HARD_MIX``), measured
on what ``reconcile match`` itself decides.

The set is written as the two Dynamics exports an admin would give the CLI (CSV, the export's
own headers); the decisions come from ``reconcile.jobs.roundtrip.read_and_match``, the very
function ``reconcile match`` (and, through ``review_frame``, ``migrate plan``) runs: same
reading, name splitting, options and decisions. ``tests/jobs/test_bench_path.py`` pins that
this bench and the CLI decide identically on one input.

Prints the four bars of issue 13 and the same per scenario (each failure class is one) and per
name variant:

* link precision: the share of ``link`` decisions that point at a true CRM contact;
* found: true pairs found as a link or among a review row's candidates;
* new with a CRM contact: GetResponse contacts the CRM holds, decided ``new`` (a duplicate
  once imported), as a share of the contacts the CRM holds;
* review: rows left for review, as a share of all rows.

    python bench/bench_matching_quality.py                    # 100k GR x 200k CRM, seed 7
    python bench/bench_matching_quality.py --gr 20000 --crm 40000 --seed 1
    python bench/bench_matching_quality.py --wrong 20         # print wrong links

Bars (issue 13): link precision >= 0.999; found >= 0.97; new with a CRM contact <= 1%;
review <= 15%.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconcile.jobs.roundtrip import read_and_match  # noqa: E402
from reconcile.matching import CANDIDATE_IDS, MatchOptions  # noqa: E402
from reconcile.sample.contacts import HARD_MIX, pairs  # noqa: E402

DATA = ROOT / "bench" / ".data"
GR_HEADERS = {"gr_contact_id": "(Do Not Modify) GetResponse Contact", "name": "Name",
              "email": "Email"}  # fmt: skip
CRM_HEADERS = {"crm_contact_id": "(Do Not Modify) Contact", "crm_first_name": "First Name",
               "crm_last_name": "Last Name", "crm_email": "Email"}  # fmt: skip
BARS = {"link_precision": (">=", 0.999), "found": (">=", 0.97),
        "new_with_crm_contact": ("<=", 0.01), "review_share": ("<=", 0.15)}  # fmt: skip


def write_exports(
    gr: pd.DataFrame, crm: pd.DataFrame, folder: Path, stem: str
) -> tuple[Path, Path]:
    """The two sides as Dynamics-like CSV exports (the headers ``reconcile match`` reads)."""
    folder.mkdir(parents=True, exist_ok=True)
    gr_path, crm_path = folder / f"{stem}_gr.csv", folder / f"{stem}_crm.csv"
    out = gr[list(GR_HEADERS)].rename(columns=GR_HEADERS)
    out[["Name", "Email", GR_HEADERS["gr_contact_id"]]].to_csv(gr_path, index=False)
    crm[list(CRM_HEADERS)].rename(columns=CRM_HEADERS).to_csv(crm_path, index=False)
    return gr_path, crm_path


def evaluate(result: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per GR row: is_true_link / wrong_link / found / has_truth, aligned with ``truth``."""
    true_sets = [set(t.split("|")) if t else set() for t in truth["crm_contact_ids"].fillna("")]
    decision = result["decision"].to_numpy(dtype=object)
    linked = result["crm_contact_id"].to_numpy(dtype=object)
    cands = result[CANDIDATE_IDS].tolist()
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
    new_with = int(((ev["decision"] == "new") & ev["has_truth"]).sum())
    return {
        "rows": len(ev),
        "links": links,
        "wrong_links": int(ev["wrong_link"].sum()),
        "link_precision": (ev["right_link"].sum() / links) if links else float("nan"),
        "true_pairs": true_pairs,
        "found": (ev["found"].sum() / true_pairs) if true_pairs else float("nan"),
        "link_recall": (ev["right_link"].sum() / true_pairs) if true_pairs else float("nan"),
        "new_with_crm_contact": new_with / true_pairs if true_pairs else float("nan"),
        "review_share": float((ev["decision"] == "review").mean()) if len(ev) else float("nan"),
    }


def breakdown(ev: pd.DataFrame, by: str) -> pd.DataFrame:
    grouped = ev.groupby(by)
    decisions = pd.crosstab(ev[by], ev["decision"])
    table = pd.DataFrame({"rows": grouped.size()})
    for d in ("link", "review", "new", "invalid"):
        table[d] = decisions.get(d, 0)
    table["wrong_link"] = grouped["wrong_link"].sum()
    table["true_pairs"] = grouped["has_truth"].sum()
    table["found"] = (grouped["found"].sum() / table["true_pairs"]).round(4)
    new_with = ev[(ev["decision"] == "new") & ev["has_truth"]].groupby(by).size()
    table["new_with_crm"] = new_with.reindex(table.index, fill_value=0) / table["true_pairs"]
    table["new_with_crm"] = table["new_with_crm"].round(4)
    return table


def run(n_gr: int, n_crm: int, seed: int, folder: Path = DATA, options: MatchOptions | None = None):
    """Generate (once: cached in ``folder``), write the exports, decide as ``reconcile match``
    does; returns (result, truth, seconds)."""
    stem = f"hard_{n_gr}x{n_crm}_s{seed}"
    truth_path = folder / f"{stem}_truth.csv"
    gr_path, crm_path = folder / f"{stem}_gr.csv", folder / f"{stem}_crm.csv"
    if truth_path.exists() and gr_path.exists() and crm_path.exists():
        truth = pd.read_csv(truth_path, dtype=str, keep_default_na=False)
    else:
        gr, crm, truth = pairs(n_gr, n_crm, seed=seed, mix=HARD_MIX)
        write_exports(gr, crm, folder, stem)
        truth.to_csv(truth_path, index=False)
    started = time.perf_counter()
    _, _, result = read_and_match(gr_path, crm_path, options or MatchOptions())
    return result, truth, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gr", type=int, default=100_000)
    parser.add_argument("--crm", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--wrong", type=int, default=0, help="print this many wrong links")
    parser.add_argument("--show", default="", help="print 20 rows of this scenario")
    parser.add_argument("--review-threshold", type=int, default=MatchOptions().review_threshold)
    args = parser.parse_args()

    options = MatchOptions(review_threshold=args.review_threshold)
    result, truth, seconds = run(args.gr, args.crm, args.seed, options=options)
    ev = evaluate(result, truth)
    print(f"set: {args.gr:,} GR x {args.crm:,} CRM, HARD_MIX, seed {args.seed}; "
          f"read + split + match {seconds:.1f}s")  # fmt: skip
    for key, value in summary(ev).items():
        bar = BARS.get(key)
        mark = ""
        if bar:
            ok = value >= bar[1] if bar[0] == ">=" else value <= bar[1]
            mark = f"   (bar {bar[0]} {bar[1]}: {'met' if ok else 'NOT MET'})"
        text = f"{value:.4f}" if isinstance(value, float) else f"{value:,}"
        print(f"{key:>22}: {text}{mark}")
    pd.set_option("display.width", 200)
    print("\nper scenario:\n", breakdown(ev, "scenario").to_string())
    print("\nper name variant:\n", breakdown(ev, "name_variant").to_string())
    cols = ["name", "email", "decision", "crm_name", "crm_email", "score", "reason", "candidates"]
    if args.wrong:
        wrong = result[ev["wrong_link"].to_numpy()].head(args.wrong)
        print(pd.concat([wrong[cols], truth.loc[wrong.index, ["scenario"]]], axis=1).to_string())
    if args.show:
        rows = result[(ev["scenario"] == args.show).to_numpy()].head(20)
        print(rows[cols].to_string())


if __name__ == "__main__":
    main()
