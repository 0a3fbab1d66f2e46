from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from reconcile.errors import InputError
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


def test_an_output_open_in_excel_is_a_clear_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(src: object, dst: object) -> None:  # what Windows does to a file open in Excel
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("reconcile.workbooks.atomic.os.replace", locked)
    with pytest.raises(InputError) as caught, staged_file(tmp_path / "review.xlsx") as temp:
        temp.write_bytes(b"done")
    assert "review.xlsx" in str(caught.value)
    assert "open in Excel" in str(caught.value)
    assert caught.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_a_failing_write_names_the_output_file(tmp_path: Path) -> None:
    def write_to_a_full_disk() -> None:
        with staged_file(tmp_path / "review.xlsx"):
            raise OSError(28, "No space left on device")

    with pytest.raises(InputError, match="No space left on device") as caught:
        write_to_a_full_disk()
    assert "review.xlsx" in str(caught.value)
    assert "free space" in str(caught.value)
    assert list(tmp_path.iterdir()) == []
