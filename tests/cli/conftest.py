"""Every CLI test runs in its own empty folder: commands write files next to where they run
(reconcile-problems.txt, reconcile-doctor.txt, review.xlsx by default), never into the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _in_a_fresh_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
