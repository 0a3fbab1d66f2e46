"""``reconcile report``: the two dashboards (contacts; activity and sent emails) as an Excel
workbook with native charts and, with ``--html``, a self-contained web page.

Numbers come from Dynamics through FetchXML aggregates (``jobs/report``). Exit codes: 0
written, 2 bad input or settings (an unknown list, a bad date, an unwritable file), 3
Dynamics refused or could not be reached.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from reconcile.cli.common import emit_json, json_option, quiet_option, settings_options


def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: write it YYYY-MM-DD") from None


@click.command()
@settings_options
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    default="dashboards.xlsx",
    show_default=True,
    help="The workbook to write (one sheet per dashboard, native Excel charts).",
)
@click.option(
    "--html",
    "html",
    type=click.Path(dir_okay=False),
    help="Also write the dashboards as one self-contained web page.",
)
@click.option(
    "--since",
    metavar="DATE",
    callback=_since,
    help="Start of the time series and activity figures (YYYY-MM-DD; default: the first "
    "record). Status, list, origin and score figures describe the base as it is now.",
)
@click.option(
    "--list",
    "lists",
    metavar="NAME",
    multiple=True,
    help="Only the contacts of this GetResponse list (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Read the numbers and print them; write no file.")
@json_option
@quiet_option
def report(
    config_path: str | None,
    profile: str | None,
    output: str,
    html: str | None,
    since: date | None,
    lists: tuple[str, ...],
    dry_run: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Write the GetResponse dashboards: contacts, and activity and sent emails.

    Every figure is counted by Dynamics itself (FetchXML aggregates, split into ranges
    for tables above Dynamics' 50,000-record aggregate limit); no record is read one by one.

    \b
    Example:
      reconcile report -o dashboards.xlsx --html report.html
      reconcile report --since 2026-01-01 --list clients_fr -o q1.xlsx
    """
    from reconcile.config import load_settings
    from reconcile.dataverse.connect import connect
    from reconcile.jobs.report import build_report, write_report

    settings = load_settings(config_path, profile)
    with connect(settings) as client:
        built = build_report(client, environment=client.environment_url, since=since, lists=lists)
    files = write_report(built, None if dry_run else output, None if dry_run else html)
    summary: dict[str, Any] = {
        "environment": built.environment,
        "time_range": built.range_text,
        "lists": list(built.lists),
        "aggregate_queries": built.queries,
        "workbook": str(files.workbook) if files.workbook else None,
        "page": str(files.page) if files.page else None,
        "figures": {d.key: dict(d.figures) for d in built.dashboards},
    }
    if as_json:
        emit_json(summary)
        return
    for dashboard in built.dashboards:
        figures = ", ".join(f"{name} {value:,}" for name, value in dashboard.figures)
        click.echo(f"{dashboard.title}: {figures}")
    if not quiet:
        click.echo(f"({built.queries} aggregate queries to {built.environment})", err=True)
    for label, path in (("Workbook", files.workbook), ("Web page", files.page)):
        if path:
            click.echo(f"{label}: {path.resolve()}")


COMMANDS = [report]
