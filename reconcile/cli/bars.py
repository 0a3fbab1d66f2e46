"""Progress on stderr for the CLI: the library's ``Progress`` drawn with click.

On a terminal, steps with a known size get a bar with an ETA, and steps without one print
their label and, when they end, how long they took. When stderr is a log file, only steps that
took a couple of seconds or more get a line. Everything goes to stderr, so ``--json`` on stdout
stays clean.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from reconcile.progress import SILENT, Progress, Task

SLOW_SECONDS = 2.0  # in a log (stderr not a terminal), steps at least this long get a line


class _BarTask:
    def __init__(self, bar: Any) -> None:
        self._bar = bar

    def advance(self, n: int = 1) -> None:
        self._bar.update(n)


class _QuietTask:
    def advance(self, n: int = 1) -> None:
        pass


class StderrBars:
    """A :class:`~reconcile.progress.Progress` that draws on stderr."""

    def __init__(self, interactive: bool | None = None, slow: float = SLOW_SECONDS) -> None:
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self.slow = slow

    @contextmanager
    def task(self, label: str, total: int | None = None) -> Iterator[Task]:
        """Live bar or label on a terminal; in a log, one line per step that took a while."""
        started = time.monotonic()
        try:
            if self.interactive and total:
                with click.progressbar(
                    length=total, label=label, file=sys.stderr, show_eta=True
                ) as bar:
                    yield _BarTask(bar)
                return
            if self.interactive:
                click.echo(f"{label} …", err=True, nl=False)
            yield _QuietTask()
            if self.interactive:
                click.echo(f" done in {time.monotonic() - started:.1f} s", err=True)
        finally:
            elapsed = time.monotonic() - started
            if not self.interactive and elapsed >= self.slow:
                click.echo(f"{label}: {elapsed:.1f} s", err=True)


def bars(enabled: bool = True) -> Progress:
    """Bars on stderr, or silence (``--quiet``)."""
    return StderrBars() if enabled else SILENT
