"""What a long-running command prints: event lines, as text or one JSON object per line, and
progress that becomes periodic log lines when nobody watches a terminal.

Why not bars everywhere: a runner lives under systemd, in a container or with its output in a
file; a bar redrawn a hundred times a second is noise there, and a log shipper wants one
parseable line per event (``--log-format json``).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any

from reconcile.progress import Task

EVERY = 30.0  # seconds between two progress lines of one step


class LineLog:
    """The runner's :class:`~reconcile.jobs.runner.Log`: ``2026-12-07T10:00:00Z message`` or
    ``{"time": …, "event": …, "message": …, …}``, flushed at once (a log file or a pipe)."""

    def __init__(self, fmt: str = "text", stream: IO[str] | None = None) -> None:
        self.fmt = fmt
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()  # the lease heartbeat logs from its own thread

    def event(self, kind: str, text: str, **fields: Any) -> None:
        at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        if self.fmt == "json":
            line = json.dumps(
                {"time": at, "event": kind, "message": text, **fields},
                ensure_ascii=False,
                default=str,
            )
        else:
            line = f"{at} {text}"
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()


class _LoggedTask:
    def __init__(self, log: LineLog, label: str, total: int | None, every: float) -> None:
        self.log, self.label, self.total, self.every = log, label, total, every
        self.done = 0
        self.started = self._last = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            of = f" of {self.total:,}" if self.total else ""
            self.log.event(
                "progress",
                f"{self.label}: {self.done:,}{of}",
                step=self.label,
                done=self.done,
                total=self.total,
            )


class LogProgress:
    """A :class:`~reconcile.progress.Progress` for logs: a line every :data:`EVERY` seconds
    while a step advances, and one when a step that took that long ends."""

    def __init__(self, log: LineLog, every: float = EVERY) -> None:
        self.log, self.every = log, every

    @contextmanager
    def task(self, label: str, total: int | None = None) -> Iterator[Task]:
        task = _LoggedTask(self.log, label, total, self.every)
        try:
            yield task
        finally:
            elapsed = time.monotonic() - task.started
            if elapsed >= self.every:
                self.log.event(
                    "progress",
                    f"{label}: {task.done:,} in {elapsed:.0f} s",
                    step=label,
                    done=task.done,
                    seconds=round(elapsed, 1),
                )
