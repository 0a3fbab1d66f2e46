from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from reconcile.workbooks.atomic import staged_file


def test_finished_file_gets_ordinary_permissions_not_private_ones(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with staged_file(tmp_path / "review.xlsx") as temp:
            temp.write_bytes(b"done")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "review.xlsx").stat().st_mode)
    assert mode == 0o644


def test_failure_leaves_neither_the_file_nor_a_temporary(tmp_path: Path) -> None:
    def write_then_fail() -> None:
        with staged_file(tmp_path / "review.xlsx") as temp:
            temp.write_bytes(b"half")
            raise RuntimeError("writer failed")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert list(tmp_path.iterdir()) == []
