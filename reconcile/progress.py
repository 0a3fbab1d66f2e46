"""Progress reporting that the library can call without knowing who listens.

Library functions take a ``progress`` argument (default: silent); the CLI passes one that
draws bars on stderr, so that ``--json`` output on stdout stays clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol


class Task(Protocol):
    def advance(self, n: int = 1) -> None: ...


class Progress(Protocol):
    def task(self, label: str, total: int | None = None) -> AbstractContextManager[Task]: ...


class _SilentTask:
    def advance(self, n: int = 1) -> None:
        pass


class Silent:
    """The default: report nothing."""

    @contextmanager
    def task(self, label: str, total: int | None = None) -> Iterator[Task]:
        yield _SilentTask()


SILENT = Silent()
