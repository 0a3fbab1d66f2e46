"""Options and rendering every command shares, defined once (click's decorator habit)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON on stdout."
)
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
review_output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("review.xlsx"),
    show_default=True,
    help="The review workbook to write.",
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
