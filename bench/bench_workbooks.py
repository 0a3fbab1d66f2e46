"""Workbook speed: the 1,000,000-row review workbook, a folder of exports, the import split.

Each phase runs in its own Python process, so that its peak RSS is its own:

- ``write``: ``write_review`` of a 1M-row review (all formatting: dropdown, conditional
  colours, frozen header, autofilter, widths, Summary, hidden sheets) — bar: at most 60 s;
- ``read``: ``read_review`` of that workbook, with every validation — bar: at most 30 s;
- ``exports``: ``read_contacts`` of a folder of ten 100,000-row GetResponse exports (Dynamics
  exports at most 100,000 rows per workbook) — the folder-of-exports path at 1M rows;
- ``imports``: ``build_import`` of the 1M-row review: the Contacts import and the re-import
  split into parts under the Import Wizard's 8 MB.

The rows come from ``reconcile.sample.people`` (names, emails) with random GUIDs; decisions,
scores and candidates are drawn with a realistic mix (about 85% link), so that the cells are
as full as a real review. openpyxl needs about 210 s to write and 200 s to read the same
workbook here (measured for the issue; ``--openpyxl`` re-measures it on 100,000 rows).

    python bench/bench_workbooks.py                 # all phases, 1,000,000 rows
    python bench/bench_workbooks.py --rows 200000 --phases write,read
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARS = {"write": 60.0, "read": 30.0}
_CPU_AT_START = 0.0


def _start() -> float:
    """Start the timed part of a phase (after its test data exists)."""
    global _CPU_AT_START
    _CPU_AT_START = _cpu()
    return time.perf_counter()


def review_frame(rows: int, seed: int = 3):
    import numpy as np
    import pandas as pd

    from reconcile import model
    from reconcile.sample.contacts import uuids
    from reconcile.sample.people import people
    from reconcile.workbooks.review import CANDIDATE_IDS, NAME_REVIEW_REASON

    rng = np.random.default_rng(seed)
    persons = people(rows, seed=seed)
    first, last = persons["first_name"], persons["last_name"]
    name = (first + " " + last).str.strip()
    decision = rng.choice(
        ["link", "new", "review", "invalid"], size=rows, p=[0.85, 0.07, 0.07, 0.01]
    )
    crm_ids = uuids(rng, rows + rows // 10)
    pick = rng.integers(0, len(crm_ids), size=(rows, 3))
    chosen = np.where(decision == "link", crm_ids[pick[:, 0]], None)
    one, two, three = (crm_ids[pick[:, i]].tolist() for i in range(3))
    candidates = [
        (a,) if d == "link" else (a, b, c) if d == "review" else ()
        for d, a, b, c in zip(decision.tolist(), one, two, three, strict=True)
    ]
    listed = [
        " ; ".join(f"{c} (72): same name" for c in cs) if len(cs) > 1 else None for cs in candidates
    ]
    return pd.DataFrame(
        {
            model.GR_CONTACT_ID: uuids(rng, rows),
            model.EMAIL: persons["email"],
            model.NAME: name,
            model.FIRST_NAME: first,
            model.LAST_NAME: last,
            model.DECISION: decision,
            model.CRM_CONTACT_ID: chosen,
            model.CRM_NAME: np.where(decision == "link", name, None),
            model.CRM_EMAIL: np.where(decision == "link", persons["email"], None),
            model.SCORE: np.where(decision == "new", np.nan, rng.integers(55, 101, rows)),
            model.REASON: np.where(
                decision == "link",
                "same email address; first names agree",
                "closest candidates below",
            ),
            model.CANDIDATES: listed,
            NAME_REVIEW_REASON: None,
            CANDIDATE_IDS: candidates,
            model.ROW_CHECKSUM: "kzV0bUQjMK2h1zA9oNnD3lC1cX8eF2JwqYpZb4R7sTg=",
            model.MODIFIED_ON: pd.Timestamp("2026-01-05 09:30:00").to_pydatetime(),
        }
    )


def _meta():
    return {
        "gr": {"files": ["bench"], "sheet": "Active GetResponse contacts", "headers": {},
               "language": "en", "metadata": None, "ids_from": "column"},
        "crm": {"files": ["bench"], "language": "en", "ids_from": "column", "rows": 0},
    }  # fmt: skip


def phase_write(work: Path, rows: int) -> dict:
    from reconcile.workbooks.review import write_review

    frame = review_frame(rows)
    started = _start()
    write_review(frame, work / "review.xlsx", _meta())
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "mb": (work / "review.xlsx").stat().st_size / 1e6}


def phase_read(work: Path, rows: int) -> dict:
    from reconcile.workbooks.validate import read_review

    started = _start()
    reviewed = read_review(work / "review.xlsx")
    assert len(reviewed.rows) == rows
    return {"seconds": time.perf_counter() - started}


def phase_exports(work: Path, rows: int) -> dict:
    from reconcile import model
    from reconcile.workbooks import dynamics
    from reconcile.workbooks.read import read_contacts

    frame = review_frame(rows, seed=5)
    gr = frame[[model.GR_CONTACT_ID, model.NAME, model.EMAIL]]
    folder = work / "exports"
    started = time.perf_counter()
    files = dynamics.write_exports(gr, folder, dynamics.GETRESPONSE_CONTACT)
    written = time.perf_counter() - started
    started = _start()
    contacts = read_contacts(folder, "gr")
    assert len(contacts.frame) == rows
    return {"seconds": time.perf_counter() - started, "files": len(files), "write_seconds": written}


def phase_imports(work: Path, rows: int) -> dict:
    from reconcile.jobs.roundtrip import build_import

    started = _start()
    result = build_import(work / "review.xlsx", work / "import")
    seconds = time.perf_counter() - started
    biggest = max(f.bytes for f in result.files)
    return {"seconds": seconds, "files": len(result.files), "largest_mb": biggest / 1e6}


def phase_openpyxl(work: Path, rows: int) -> dict:
    import openpyxl

    frame = review_frame(rows)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Review")
    started = _start()
    sheet.append(list(frame.columns[:13]))
    for row in frame.iloc[:, :13].itertuples(index=False):
        sheet.append([None if v != v else v for v in row])
    book.save(work / "openpyxl.xlsx")
    wrote = time.perf_counter() - started
    started = time.perf_counter()
    read = openpyxl.load_workbook(work / "openpyxl.xlsx", read_only=True)
    count = sum(1 for _ in read["Review"].iter_rows(values_only=True))
    assert count == rows + 1
    return {"seconds": wrote, "read_seconds": time.perf_counter() - started}


PHASES = {"write": phase_write, "read": phase_read, "exports": phase_exports,
          "imports": phase_imports, "openpyxl": phase_openpyxl}  # fmt: skip


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(name: str, work: Path, rows: int) -> None:
    """Run one phase; report its wall time, the CPU time of the timed part, and peak RSS.

    On a busy machine the wall time grows with the load; the CPU time barely does, and on an
    idle machine the two are about equal (every phase is single-threaded).
    """
    result = PHASES[name](work, rows)
    result["cpu_seconds"] = _cpu() - _CPU_AT_START
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--phases", default="write,read,exports,imports")
    parser.add_argument(
        "--openpyxl", action="store_true", help="also time openpyxl on 100,000 rows"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, Path(args.work), args.rows)
        return 0
    phases = args.phases.split(",") + (["openpyxl"] if args.openpyxl else [])
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-workbooks-") as work:
        for name in phases:
            rows = min(args.rows, 100_000) if name == "openpyxl" else args.rows
            run = subprocess.run(
                [sys.executable, __file__, "--child", name, "--work", work, "--rows", str(rows)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if run.returncode:
                print(f"{name}: FAILED\n{run.stderr}")
                failed = True
                continue
            result = json.loads(run.stdout.strip().splitlines()[-1])
            bar = BARS.get(name)
            verdict = ""
            if bar is not None:
                verdict = f" (bar {bar:.0f} s: {'ok' if result['seconds'] <= bar else 'MISSED'})"
            failed |= bar is not None and result["seconds"] > bar
            extras = ", ".join(
                f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                for k, v in result.items()
                if k != "seconds"
            )
            print(f"{name:<9}{rows:>10,} rows  {result['seconds']:7.1f} s{verdict}  [{extras}]")
    load = os.getloadavg()[0]
    print(f"load average after: {load:.1f} (other work on the machine slows every phase)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
