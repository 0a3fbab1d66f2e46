"""End-to-end matching at scale: two Dynamics-like CSV exports in, decisions out.

Times, in one process: reading both CSVs, splitting names (``reconcile.names.split_names``),
then each stage of ``match_contacts``; prints total wall, peak RSS and decision counts, then
link precision / recall against the labelled truth (scored after the clock stops).

    python bench/bench_matching.py                      # 1M GR x 1M CRM, BENCH_MIX, seed 11
    python bench/bench_matching.py --gr 100000 --crm 100000
    python bench/bench_matching.py --no-split           # names split naively by the matcher
    /usr/bin/time -v python bench/bench_matching.py     # peak RSS from the OS as well

The CSVs are generated once (in a child process, so generation never counts in the peak
RSS) and cached under bench/.data/. Bar (issue 2): 1M x 1M in at most 30 s and 4 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconcile.matching import MatchOptions, match_contacts  # noqa: E402

DATA = ROOT / "bench" / ".data"
GR_HEADERS = {"gr_contact_id": "(Do Not Modify) GetResponse Contact", "name": "Name",
              "email": "Email"}  # fmt: skip
CRM_HEADERS = {"crm_contact_id": "(Do Not Modify) Contact", "crm_first_name": "First Name",
               "crm_last_name": "Last Name", "crm_email": "Email"}  # fmt: skip


def paths(n_gr: int, n_crm: int, seed: int) -> tuple[Path, Path, Path]:
    stem = f"match_{n_gr}x{n_crm}_s{seed}"
    return DATA / f"{stem}_gr.csv", DATA / f"{stem}_crm.csv", DATA / f"{stem}_truth.csv"


def generate(n_gr: int, n_crm: int, seed: int) -> None:
    from reconcile.sample.contacts import BENCH_MIX, pairs

    gr_path, crm_path, truth_path = paths(n_gr, n_crm, seed)
    DATA.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    gr, crm, truth = pairs(n_gr, n_crm, seed=seed, mix=BENCH_MIX)
    gr = gr[list(GR_HEADERS)].rename(columns=GR_HEADERS)
    gr = gr[["Name", "Email", "(Do Not Modify) GetResponse Contact"]]
    gr.to_csv(gr_path, index=False)
    crm[list(CRM_HEADERS)].rename(columns=CRM_HEADERS).to_csv(crm_path, index=False)
    truth.to_csv(truth_path, index=False)
    print(f"generated {gr_path.name} and {crm_path.name} in {time.perf_counter() - started:.1f}s")


class Timer:
    """A ``Progress`` that records how long each task took."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, float]] = []

    @contextmanager
    def task(self, label: str, total: int | None = None) -> Iterator[Timer]:
        started = time.perf_counter()
        yield self
        self.stages.append((label, time.perf_counter() - started))

    def advance(self, n: int = 1) -> None:
        pass


def read_csv(path: Path, headers: dict[str, str]) -> pd.DataFrame:
    frame = pd.read_csv(path, engine="pyarrow", dtype_backend="pyarrow", dtype=str)
    frame = frame.rename(columns={v: k for k, v in headers.items()})
    return frame.astype("str")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gr", type=int, default=1_000_000)
    parser.add_argument("--crm", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-split", action="store_true", help="skip reconcile.names")
    parser.add_argument("--generate-only", action="store_true")
    args = parser.parse_args()
    gr_path, crm_path, truth_path = paths(args.gr, args.crm, args.seed)
    if args.generate_only:
        generate(args.gr, args.crm, args.seed)
        return
    if not truth_path.exists():
        cmd = [sys.executable, __file__, "--generate-only", "--gr", str(args.gr),
               "--crm", str(args.crm), "--seed", str(args.seed)]  # fmt: skip
        subprocess.run(cmd, check=True)

    timer = Timer()
    started = time.perf_counter()
    cpu_started = time.process_time()
    with timer.task("read GR CSV"):
        gr = read_csv(gr_path, GR_HEADERS)
    with timer.task("read CRM CSV"):
        crm = read_csv(crm_path, CRM_HEADERS)
    if not args.no_split:
        from reconcile.names import split_names

        with timer.task("split names"):
            split = split_names(gr["name"])
            gr["first_name"], gr["last_name"] = split["first_name"], split["last_name"]
    result = match_contacts(gr, crm, MatchOptions(), progress=timer)
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"{args.gr:,} GR x {args.crm:,} CRM (seed {args.seed}), names split: "
          f"{'no (naive first word)' if args.no_split else 'reconcile.names'}")  # fmt: skip
    for label, seconds in timer.stages:
        print(f"  {label:<40} {seconds:6.2f} s")
    print(f"  {'TOTAL wall':<40} {total:6.2f} s")
    print(f"  {'CPU time (user + system, both cores)':<40} {cpu:6.2f} s")
    print(f"  {'peak RSS':<40} {peak_mb:6.0f} MB")
    print(f"  (load average when done: {', '.join(f'{x:.1f}' for x in os.getloadavg())})")
    print("decisions:", result["decision"].value_counts().to_dict())

    truth = pd.read_csv(truth_path, dtype=str, keep_default_na=False)
    truth = truth.set_index("gr_contact_id").loc[result["gr_contact_id"].to_numpy()]
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_matching_quality import breakdown, evaluate, summary

    ev = evaluate(result, truth.reset_index())
    for key, value in summary(ev).items():
        print(f"{key:>16}: {value:.4f}" if isinstance(value, float) else f"{key:>16}: {value}")
    pd.set_option("display.width", 200)
    print(breakdown(ev, "scenario").to_string())


if __name__ == "__main__":
    main()
