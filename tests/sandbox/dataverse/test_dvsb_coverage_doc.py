"""docs/dataverse-sandbox-coverage.md is generated; a stale copy, or an action or function
that no test names, fails here."""

from __future__ import annotations

from pathlib import Path

from reconcile.sandbox.dataverse import coverage


def test_coverage_list_is_current() -> None:
    assert coverage.OUT.read_text(encoding="utf-8") == coverage.generate(), (
        "docs/dataverse-sandbox-coverage.md is stale: "
        "run python -m reconcile.sandbox.dataverse.coverage"
    )


def test_every_action_and_function_is_exercised() -> None:
    here = Path(__file__).parent
    tests = "".join(
        p.read_text(encoding="utf-8") for p in here.glob("test_dvsb_*.py") if p != Path(__file__)
    )
    missing = [name for name in coverage.action_names() if name not in tests]
    assert missing == [], f"no test names {missing}"
