"""Errors a user can act on, and the exit code each one maps to.

Every library error derives from :class:`ReconcileError`, so the CLI needs a single handler
that prints the message (never a traceback) and exits with the class's code. Messages say
where the problem is and what to do about it.
"""

from __future__ import annotations

from dataclasses import dataclass

# The one table of exit codes (README "Exit codes"; tests/cli/test_exit_codes.py holds every
# command to it).
EXIT_OK = 0
EXIT_FAILED = 1  # the job ran but some records failed or were left out, or a check failed
EXIT_BAD_INPUT = 2  # a file, option or setting is wrong; nothing was written
EXIT_SERVICE = 3  # a remote service refused or could not be reached
EXIT_BUSY = 4  # another run holds the lock; nothing was done (wait, or run again later)
EXIT_INTERRUPTED = 130  # Ctrl+C (128 + SIGINT, as shells report it)

EXIT_MEANINGS = {
    EXIT_OK: "done",
    EXIT_FAILED: "the run finished but some records failed or were left out, or a check failed",
    EXIT_BAD_INPUT: "bad input or settings; nothing was written",
    EXIT_SERVICE: "a service refused or could not be reached",
    EXIT_BUSY: "another run holds the lock; nothing was done",
    EXIT_INTERRUPTED: "interrupted (Ctrl+C); run the same command again: it resumes",
}


class ReconcileError(Exception):
    """Base of every error reconcile raises on purpose."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as the input allows."""

    message: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None  # as Excel shows it (header is row 1)
    column: str | None = None

    def __str__(self) -> str:
        where = [
            part
            for part in (
                self.file,
                f"sheet {self.sheet!r}" if self.sheet else None,
                f"row {self.row}" if self.row is not None else None,
                f"column {self.column!r}" if self.column else None,
            )
            if part
        ]
        return f"{', '.join(where)}: {self.message}" if where else self.message


class InputError(ReconcileError):
    """Bad input: reported with every problem found, and nothing written."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, problems: Problem | list[Problem], *, hint: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        if len(self.problems) == 1:
            message = str(self.problems[0])
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{len(self.problems)} problems found, nothing was written:\n{lines}"
        super().__init__(message, hint=hint)


class ConfigError(ReconcileError):
    """A setting or secret is missing or wrong."""

    exit_code = EXIT_BAD_INPUT


class ServiceError(ReconcileError):
    """A remote service (GetResponse, Dataverse) refused a request or could not be reached."""

    exit_code = EXIT_SERVICE


class Busy(ReconcileError):
    """Another run holds the lock this one needs: nothing was done, and nothing is wrong."""

    exit_code = EXIT_BUSY
