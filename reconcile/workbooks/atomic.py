"""Write files so that a failure leaves nothing half-written behind.

Outputs are written to temporary names in the destination folder (same file system, so the
final rename is atomic) and moved into place only when every one of them is complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reconcile.errors import InputError, Problem


@contextmanager
def output_errors(path: str | Path) -> Iterator[None]:
    """Turn a failed write into an error that names the file and says what to do.

    The usual cause is the previous output still open in Excel (Windows locks it), a folder
    the admin cannot write to, or a full disk — never a reason for a traceback.
    """
    try:
        yield
    except PermissionError as exc:
        raise InputError(
            Problem(f"cannot write here: {exc.strerror or exc}", file=str(path)),
            hint="close the file if it is open in Excel, or choose another output with -o",
        ) from exc
    except OSError as exc:
        raise InputError(
            Problem(f"cannot write here: {exc.strerror or exc}", file=str(path)),
            hint="check that the folder exists and the disk has free space, or choose another -o",
        ) from exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def staged_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``."""
    path = Path(path)
    with output_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(handle)
    temp_path = Path(temp)
    try:
        with output_errors(path):
            yield temp_path
            # mkstemp makes the file private (0600); the output is an ordinary file the admin
            # shares with colleagues, so give it the permissions any new file would get.
            os.chmod(temp_path, 0o666 & ~_umask())
            os.replace(temp_path, path)
    finally:
        temp_path.unlink(missing_ok=True)


@contextmanager
def staged_dir(out_dir: str | Path) -> Iterator[Path]:
    """Yield a temporary folder inside ``out_dir``; the caller moves finished files out of it.

    The folder and anything left in it are removed on exit, success or not.
    """
    out = Path(out_dir)
    with output_errors(out):
        out.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=".reconcile-", dir=out))
    try:
        with output_errors(out):
            yield temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def publish(
    files: list[Path], out_dir: str | Path, replace_glob: tuple[str, ...] = ()
) -> list[Path]:
    """Move finished files into ``out_dir``, first removing stale outputs of earlier runs.

    ``replace_glob`` names the patterns of files this run owns (e.g. ``1-contacts-import*.xlsx``):
    a previous run's extra parts would otherwise sit next to the new ones and be imported twice.
    """
    out = Path(out_dir)
    for pattern in replace_glob:
        for stale in out.glob(pattern):
            if stale.is_file():
                with output_errors(stale):
                    stale.unlink()
    placed = []
    for file in files:
        target = out / file.name
        with output_errors(target):
            os.replace(file, target)
        placed.append(target)
    return placed
