"""The committed import templates are what the generator (and build-import) write."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_templates_are_up_to_date():
    run = subprocess.run(
        [sys.executable, str(ROOT / "templates_xlsx" / "make_templates.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_template_is_committed_next_to_its_generator():
    names = {p.name for p in (ROOT / "templates_xlsx").glob("*.xlsx")}
    assert names == {
        "contacts-import-template.xlsx",
        "contacts-import-template.fr.xlsx",
        "getresponse-contacts-link-template.xlsx",
        "getresponse-contacts-link-template.fr.xlsx",
    }
