"""``reconcile match GR.csv CRM.csv -o review.xlsx`` at scale, the command as users run it, side
by side with a pandas exact-email merge of the same files, in one run.

Each side runs in its own process, timed from the start of the process to its output on disk;
peak RSS and CPU time (user + system) come from the OS (``os.wait4``), so nothing the bench
itself holds counts. The load average is printed with every number: the machine is shared.

    python bench/bench_matching.py                      # 1M GR x 1M CRM, BENCH_MIX, seed 11
    python bench/bench_matching.py --gr 100000 --crm 100000
    python bench/bench_matching.py --quality            # then score the workbook's decisions

The CSVs are generated once (in a child process) and cached under bench/.data/. Bars (issue
13): 1M x 1M in at most 30 s wall and 2.5 GB peak RSS on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / ".data"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# The baseline: what a data person would write first. Same files, one process.
PANDAS_MERGE = """
import sys, pandas as pd
gr = pd.read_csv(sys.argv[1], dtype=str, engine="pyarrow")
crm = pd.read_csv(sys.argv[2], dtype=str, engine="pyarrow")
gr["key"] = gr["Email"].str.strip().str.lower()
crm["key"] = crm["Email"].str.strip().str.lower()
out = gr.merge(crm, on="key", how="left", suffixes=("", " (CRM)"))
out.to_csv(sys.argv[3], index=False)
"""


def paths(n_gr: int, n_crm: int, seed: int) -> tuple[Path, Path, Path]:
    stem = f"match_{n_gr}x{n_crm}_s{seed}"
    return DATA / f"{stem}_gr.csv", DATA / f"{stem}_crm.csv", DATA / f"{stem}_truth.csv"


def generate(n_gr: int, n_crm: int, seed: int) -> None:
    from bench_matching_quality import write_exports

    from reconcile.sample.contacts import BENCH_MIX, pairs

    gr_path, crm_path, truth_path = paths(n_gr, n_crm, seed)
    started = time.perf_counter()
    gr, crm, truth = pairs(n_gr, n_crm, seed=seed, mix=BENCH_MIX)
    write_exports(gr, crm, DATA, gr_path.name.removesuffix("_gr.csv"))
    truth.to_csv(truth_path, index=False)
    print(f"generated {gr_path.name} and {crm_path.name} in {time.perf_counter() - started:.1f}s")


def measure(cmd: list[str]) -> dict[str, float]:
    """Run ``cmd``; wall seconds, CPU seconds (user + system) and peak RSS (MB) of the child."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{stderr}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gr", type=int, default=1_000_000)
    parser.add_argument("--crm", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--quality", action="store_true", help="score the decisions afterwards")
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
    out = DATA / "bench-out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    reconcile = shutil.which("reconcile", path=str(Path(sys.executable).parent)) or "reconcile"
    print(f"{args.gr:,} GR x {args.crm:,} CRM (BENCH_MIX, seed {args.seed}); "
          f"load before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    runs = {
        "pandas exact-email merge -> CSV": measure(
            [sys.executable, "-c", PANDAS_MERGE, str(gr_path), str(crm_path), str(out / "m.csv")]
        ),
        "reconcile match -> review.xlsx": measure(
            [reconcile, "match", str(gr_path), str(crm_path), "-o", str(out / "review.xlsx"), "-q"]
        ),
    }
    for label, r in runs.items():
        print(f"  {label:<34} wall {r['wall']:6.1f} s   CPU {r['cpu']:6.1f} s   "
              f"peak RSS {r['rss_mb']:6.0f} MB   (load {r['load']:.2f})")  # fmt: skip
    size = (out / "review.xlsx").stat().st_size / 1e6
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"  review.xlsx: {size:.1f} MB; uptime: {uptime}")
    if args.quality:
        import pandas as pd
        from bench_matching_quality import breakdown, evaluate, summary

        from reconcile.workbooks.validate import read_review

        rows = read_review(out / "review.xlsx").rows
        truth = pd.read_csv(truth_path, dtype=str, keep_default_na=False)
        truth = truth.set_index("gr_contact_id").loc[rows["gr_contact_id"].to_numpy()]
        ev = evaluate(rows, truth.reset_index())
        for key, value in summary(ev).items():
            print(f"{key:>22}: {value:.4f}" if isinstance(value, float) else f"{key:>22}: {value}")
        print(breakdown(ev, "scenario").to_string())


if __name__ == "__main__":
    main()
