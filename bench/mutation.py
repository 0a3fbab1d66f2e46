"""Test strength by mutation testing: each module mutated against its own tests (not in CI).

    pip install 'mutmut>=3.8'
    python bench/mutation.py                     # every module below
    python bench/mutation.py reconcile/retrying.py

For each module it copies the checkout into a temporary folder, gives mutmut a ``[tool.mutmut]``
section that mutates only that module and runs only its tests, runs ``mutmut run`` and prints
killed / survived / score, and the surviving mutants' names (``mutmut show NAME`` in that folder
shows each one; the folder is kept when ``--keep`` is given). Equivalent mutants — changes no
test can see because the behaviour is the same — are named next to the code they concern.
Timing out counts as killed (an infinite loop is a caught change); "no tests" counts as survived.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# module -> the tests that are its own (a module is measured against these only)
MODULES = {
    "reconcile/emails.py": ["tests/core/test_emails.py", "tests/core/test_emails_properties.py"],
    "reconcile/matching/decide.py": [
        "tests/core/test_matching.py",
        "tests/core/test_matching_decide_rules.py",
    ],
    "reconcile/matching/scoring.py": [
        "tests/core/test_matching.py",
        "tests/core/test_matching_decide_rules.py",
    ],
    "reconcile/retrying.py": ["tests/http/test_retrying.py"],
    "reconcile/state/store.py": [
        "tests/state/test_store.py",
        "tests/state/test_store_readback.py",
        "tests/state/test_sqlite_schema.py",
    ],
}
KILLED = ("killed", "timeout", "segfault", "suspicious")


def _config(module: str, tests: list[str]) -> str:
    selection = ", ".join(json.dumps(t) for t in tests)
    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["reconcile"]\n'
        f"only_mutate = [{json.dumps(module)}]\n"
        f"pytest_add_cli_args_test_selection = [{selection}]\n"
        'pytest_add_cli_args = ["-q", "-x", "-p", "no:cacheprovider", "-o", "addopts="]\n'
    )


def measure(module: str, tests: list[str], keep: bool) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="reconcile-mutation-"))
    for name in ("reconcile", "tests"):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (work / "pyproject.toml").write_text(text + _config(module, tests), encoding="utf-8")
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "mutmut", "run"], cwd=work, check=False, capture_output=True
    )
    listing = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=work,
        check=False,
        capture_output=True,
        text=True,
    ).stdout
    status: dict[str, str] = {}
    for line in listing.splitlines():
        name, _, state = line.strip().rpartition(": ")
        if name:
            status[name] = state.strip()
    killed = sum(1 for s in status.values() if s in KILLED)
    survivors = sorted(n for n, s in status.items() if s not in KILLED)
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    total = len(status)
    return {
        "module": module,
        "mutants": total,
        "killed": killed,
        "score": round(100 * killed / total, 1) if total else None,
        "survivors": survivors,
        "seconds": round(time.monotonic() - started),
        "folder": str(work) if keep else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("modules", nargs="*", help="modules to measure (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep each mutmut folder")
    args = parser.parse_args()
    for module in args.modules or list(MODULES):
        result = measure(module, MODULES[module], args.keep)
        print(
            f"{module}: {result['killed']}/{result['mutants']} killed = {result['score']} % "
            f"({result['seconds']} s)"
        )
        for name in result["survivors"]:  # type: ignore[union-attr]
            print(f"  survived: {name}")
        if result["folder"]:
            print(f"  folder: {result['folder']}")


if __name__ == "__main__":
    main()
