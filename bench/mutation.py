"""Test strength by mutation testing: each module mutated against its own tests (not in CI).

    pip install 'mutmut>=3.8'
    export TEST_POSTGRESQL_URL=$(bash .ci/postgresql)   # the state modules: both databases
    nice -n 19 python bench/mutation.py                  # every module below, one at a time
    nice -n 19 python bench/mutation.py reconcile/retrying.py --keep

For each module it copies the checkout into a temporary folder, gives mutmut a ``[tool.mutmut]``
section that mutates only that module and runs only its tests, runs ``mutmut run`` and prints
killed / total, and each surviving mutant with the line it changes (``mutmut show NAME`` in that
folder shows it whole; the folder is kept when ``--keep`` is given).

After adding tests, re-measuring only the survivors is much faster: copy the new test files
into a kept folder, add them to its ``pytest_add_cli_args_test_selection`` and run
``nice -n 19 python -m mutmut run NAME …`` there with the survivors' names (mutmut then forgets
the other mutants' results: add its kills to the full run's).

Timing out counts as killed (an infinite loop is a caught change); "no tests" counts as
survived. Equivalent mutants — changes no test can see because the behaviour is the same — are
named in a comment next to the code they concern and stay in the count as survivors, except
one class this script recognises by rule and reports apart: a change of letter case inside SQL
text made only of SQL keywords and the state schema's own names, outside quotes (SQLite and
PostgreSQL read both cases the same). The score is printed both ways.

Without ``TEST_POSTGRESQL_URL`` the PostgreSQL cases of ``tests/state`` skip, and what only
PostgreSQL exercises (row locks, the backend) survives: the script says so.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconcile.state.schema import MIGRATIONS  # noqa: E402 (after the path above)

_STATE_TESTS = [
    "tests/state/test_store.py",
    "tests/state/test_store_readback.py",
    "tests/state/test_store_races.py",
    "tests/state/test_backends.py",
    "tests/state/test_sqlite_schema.py",
]
# module -> the tests that are its own (a module is measured against these only)
MODULES = {
    "reconcile/emails.py": [
        "tests/core/test_emails.py",
        "tests/core/test_emails_properties.py",
        "tests/core/test_emails_edges.py",
    ],
    "reconcile/matching/decide.py": [
        "tests/core/test_matching.py",
        "tests/core/test_matching_decide_rules.py",
        "tests/core/test_decide_rows.py",
        "tests/core/test_decide_mailboxes.py",
    ],
    "reconcile/matching/scoring.py": [
        "tests/core/test_matching.py",
        "tests/core/test_matching_decide_rules.py",
        "tests/core/test_scoring_names.py",
    ],
    "reconcile/retrying.py": ["tests/http/test_retrying.py"],
    "reconcile/state/store.py": _STATE_TESTS,
    "reconcile/state/backends.py": _STATE_TESTS,
    "reconcile/state/__init__.py": _STATE_TESTS,
    "reconcile/state/schema.py": _STATE_TESTS,
}
KILLED = ("killed", "timeout", "segfault", "suspicious")

# SQL words of the statements (the state schema's names are added from its migrations)
_SQL_KEYWORDS = frozenset(
    re.findall(
        r"\w+",
        """select insert into values on conflict do update set nothing where and or case when
        then else end from order by desc asc limit returning delete distinct is not null
        coalesce max excluded for pragma journal_mode wal synchronous normal begin immediate
        commit rollback user_version create table if exists bigint""",
    )
)
_LITERAL = re.compile(r"\"([^\"\\]*)\"|'([^'\\]*)'")


def _sql_words() -> frozenset[str]:
    """SQL keywords and every name the state schema defines (tables, columns, indexes)."""
    names = set(re.findall(r"[a-z_]+", " ".join(MIGRATIONS).lower()))
    return frozenset(names | _SQL_KEYWORDS)


SQL_WORDS = _sql_words()


def _sql_case(before: str, after: str) -> bool:
    """Two SQL texts that differ only in the case of keywords and schema names (quoted text,
    such as a status value, is compared as it is)."""
    quoted = re.compile(r"'[^']*'")
    if quoted.findall(before) != quoted.findall(after):
        return False
    words = re.findall(r"[A-Za-z_]+", quoted.sub("", before))
    return bool(words) and all(w.lower() in SQL_WORDS for w in words)


def sql_case_only(diff: str) -> bool:
    """Whether a mutant (its ``mutmut show`` diff) only changes the letter case of SQL text."""
    old = [line[1:] for line in diff.splitlines() if line[:1] == "-" and line[:3] != "---"]
    new = [line[1:] for line in diff.splitlines() if line[:1] == "+" and line[:3] != "+++"]
    if not old or len(old) != len(new):
        return False
    for before, after in zip(old, new, strict=True):
        if before.lower() != after.lower():
            return False
        a, b = list(_LITERAL.finditer(before)), list(_LITERAL.finditer(after))
        if [m.span() for m in a] != [m.span() for m in b]:
            return False
        if _LITERAL.sub("", before) != _LITERAL.sub("", after):
            return False  # a change outside string literals
        for x, y in zip(a, b, strict=True):
            if x.group(0) != y.group(0) and not _sql_case(x.group(0)[1:-1], y.group(0)[1:-1]):
                return False
    return True


def _config(module: str, tests: list[str]) -> str:
    selection = ", ".join(json.dumps(t) for t in tests)
    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["reconcile"]\n'
        f"only_mutate = [{json.dumps(module)}]\n"
        f"pytest_add_cli_args_test_selection = [{selection}]\n"
        'pytest_add_cli_args = ["-q", "-x", "-p", "no:cacheprovider", "-o", "addopts="]\n'
    )


def _mutmut(work: Path, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "mutmut", *args],
        cwd=work,
        check=False,
        capture_output=True,
        text=True,
    ).stdout


def _changed_line(diff: str) -> str:
    plus = [line[1:].strip() for line in diff.splitlines() if line[:1] == "+" and line[:3] != "+++"]
    return plus[0][:100] if plus else "(a line removed)"


def measure(module: str, tests: list[str], keep: bool) -> dict[str, object]:
    sql_rule = module.startswith("reconcile/state/")  # the only modules that hold SQL
    work = Path(tempfile.mkdtemp(prefix="reconcile-mutation-"))
    for name in ("reconcile", "tests"):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (work / "pyproject.toml").write_text(text + _config(module, tests), encoding="utf-8")
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "mutmut", "run"], cwd=work, check=False, capture_output=True
    )
    status: dict[str, str] = {}
    for line in _mutmut(work, "results", "--all", "true").splitlines():
        name, _, state = line.strip().rpartition(": ")
        if name:
            status[name] = state.strip()
    killed = sum(1 for s in status.values() if s in KILLED)
    survivors: list[tuple[str, str, str]] = []  # name, status, the changed line
    equivalent = 0
    for name in sorted(n for n, s in status.items() if s not in KILLED):
        diff = _mutmut(work, "show", name)
        if sql_rule and sql_case_only(diff):
            equivalent += 1
        else:
            survivors.append((name, status[name], _changed_line(diff)))
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    total = len(status)
    counted = total - equivalent
    return {
        "module": module,
        "mutants": total,
        "killed": killed,
        "sql_case": equivalent,
        "score": round(100 * killed / total, 1) if total else None,
        "net_score": round(100 * killed / counted, 1) if counted else None,
        "survivors": survivors,
        "seconds": round(time.monotonic() - started),
        "folder": str(work) if keep else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("modules", nargs="*", help="modules to measure (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep each mutmut folder")
    args = parser.parse_args()
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"not a measured module: {', '.join(unknown)} (one of: {', '.join(MODULES)})")
    for module in args.modules or list(MODULES):
        if module.startswith("reconcile/state/") and not os.environ.get("TEST_POSTGRESQL_URL"):
            print(f"{module}: TEST_POSTGRESQL_URL is not set: the PostgreSQL cases skip")
        r = measure(module, MODULES[module], args.keep)
        print(
            f"{module}: {r['killed']}/{r['mutants']} killed = {r['score']} %; "
            f"without {r['sql_case']} SQL letter-case mutants: "
            f"{r['killed']}/{r['mutants'] - r['sql_case']} = {r['net_score']} % "  # type: ignore[operator]
            f"({r['seconds']} s)"
        )
        for name, state, line in r["survivors"]:  # type: ignore[attr-defined]
            print(f"  {state}: {name}\n      {line}")
        if r["folder"]:
            print(f"  folder: {r['folder']}")


if __name__ == "__main__":
    main()
