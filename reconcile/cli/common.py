"""Options, rendering and error handling every command shares, defined once.

The one place where library errors become exit codes is :class:`ReconcileGroup` (the root
``reconcile`` group; every command and sub-group registered under it goes through it):

- a :class:`~reconcile.errors.ReconcileError` prints its message, at most
  :data:`SHOWN_PROBLEMS` of its problems (the full list goes to a file) and its hint on
  stderr — never a traceback — and exits with the error class's code; with ``--json`` the
  same error is also a JSON object on stdout (:func:`error_json`);
- Ctrl+C says how to resume and exits 130;
- a usage error (bad option) under ``--json`` is a JSON error too, then click's usual text.

The exit codes are the table in :mod:`reconcile.errors` (``EXIT_MEANINGS``), as the README says.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from reconcile.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    InputError,
    Problem,
    ReconcileError,
)

F = TypeVar("F", bound=Callable[..., Any])

JSON_META = "reconcile.json"  # ctx.meta key: --json was given (the error handler reads it)
SHOWN_PROBLEMS = 10  # problems printed on the terminal; the rest only in the problems file
PROBLEMS_FILE = "reconcile-problems.txt"
RESUME = "run the same command again: it resumes (what was done is not redone)"


def remember_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    """The callback of every ``--json`` option: tells the error handler to answer in JSON."""
    if value:
        ctx.meta[JSON_META] = True
    return value


json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    callback=remember_json,
    help="Print the result as JSON on stdout (an error too: code, message, hint, problems).",
)
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
state_option = click.option(
    "--state",
    "state_path",
    metavar="FILE|URL",
    help="The state store (journal, watermarks, leases): a SQLite file or a postgresql:// "
    "URL; default: RECONCILE_STATE, else sync.state in the settings, else "
    "~/.local/share/reconcile/state.sqlite3.",
)
review_output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("review.xlsx"),
    show_default=True,
    help="The review workbook to write.",
)

force_option = click.option(
    "--force",
    is_flag=True,
    help="Replace the output workbook if it exists (an edited review is kept as a dated copy).",
)

# What each decision of the review workbook means, in the summaries commands print.
DESCRIBE = {
    "link": "linked to an existing CRM contact",
    "new": "no CRM contact: one will be created",
    "review": "for you to decide (see Candidates)",
    "skip": "left out",
    "invalid": "no usable email",
}


def settings_options(func: F) -> F:
    """``--config`` and ``--profile``: which settings file and which environment."""
    func = click.option(
        "--profile",
        metavar="NAME",
        help="Settings profile ([profiles.NAME] in the file; default: RECONCILE_PROFILE or "
        "'default').",
    )(func)
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help="Settings file (default: RECONCILE_CONFIG, ./reconcile.toml, "
        "~/.config/reconcile/config.toml).",
    )(func)


def emit_json(data: object) -> None:
    """JSON on stdout (progress is on stderr, so stdout stays machine-readable)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# --- errors -----------------------------------------------------------------------------


def write_full_list(lines: Sequence[str], name: str = PROBLEMS_FILE) -> Path | None:
    """Write ``lines`` to ``name`` in the current folder (else the temp folder); its path.

    Used when a list is too long for a terminal: the admin gets the first few and a file
    with all of them. None when neither folder can be written (the terminal list then ends
    with a count only).
    """
    text = "\n".join(lines) + "\n"
    for folder in (Path.cwd(), Path(tempfile.gettempdir())):
        target = folder / name
        try:
            target.write_text(text, encoding="utf-8")
        except OSError:
            continue
        return target
    return None


def shorten(lines: Sequence[str], limit: int, name: str = PROBLEMS_FILE) -> list[str]:
    """At most ``limit`` of ``lines``, then one line saying where all of them are."""
    if len(lines) <= limit:
        return list(lines)
    written = write_full_list(lines, name)
    where = f": all {len(lines):,} are in {written}" if written else ""
    return [*lines[:limit], f"… and {len(lines) - limit:,} more{where}"]


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "message": problem.message,
        "file": problem.file,
        "sheet": problem.sheet,
        "row": problem.row,
        "column": problem.column,
    }


def error_json(exc: ReconcileError) -> dict[str, Any]:
    """The ``--json`` form of an error: ``{"ok": false, "error": {code, type, message, …}}``."""
    problems = getattr(exc, "problems", None) or []
    return {
        "ok": False,
        "error": {
            "code": exc.exit_code,
            "type": type(exc).__name__,
            "message": exc.message,
            "hint": exc.hint,
            "problems": [_problem_json(p) for p in problems],
        },
    }


def error_lines(exc: ReconcileError) -> list[str]:
    """The stderr form of an error: message, the first problems, the hint."""
    if isinstance(exc, InputError) and len(exc.problems) > 1:
        shown = shorten([str(p) for p in exc.problems], SHOWN_PROBLEMS)
        lines = [f"Error: {len(exc.problems):,} problems found, nothing was written:"]
        lines.extend(f"  - {line}" for line in shown)
    else:
        lines = [f"Error: {exc.message}"]
    if exc.hint:
        lines.append(f"  → {exc.hint}")
    return lines


def report_error(exc: ReconcileError, as_json: bool) -> int:
    """Print ``exc`` (stderr; and stdout as JSON with ``--json``); its exit code."""
    if as_json:
        emit_json(error_json(exc))
    for line in error_lines(exc):
        click.echo(line, err=True)
    return exc.exit_code


def _wants_json(ctx: click.Context, words: list[str]) -> bool:
    if ctx.meta.get(JSON_META):
        return True
    # A usage error stops parsing before --json's callback runs: look at the words given.
    return "--json" in (words[: words.index("--")] if "--" in words else words)


class ReconcileGroup(click.Group):
    """The root group: every command's errors become exit codes here, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        words = [*getattr(ctx, "_protected_args", []), *ctx.args]  # before click consumes them
        try:
            return super().invoke(ctx)
        except ReconcileError as exc:
            ctx.exit(report_error(exc, _wants_json(ctx, words)))
        except (KeyboardInterrupt, click.Abort):
            interrupted = ReconcileError("interrupted (Ctrl+C)", hint=RESUME)
            interrupted.exit_code = EXIT_INTERRUPTED
            click.echo("", err=True)  # end a progress bar's line
            ctx.exit(report_error(interrupted, _wants_json(ctx, words)))
        except click.UsageError as exc:
            if _wants_json(ctx, words):
                usage = ReconcileError(exc.format_message(), hint="see --help")
                usage.exit_code = EXIT_BAD_INPUT
                emit_json(error_json(usage))
            raise
