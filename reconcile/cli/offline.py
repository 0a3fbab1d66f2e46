"""``reconcile match``, ``reconcile build-import`` and ``reconcile demo``: the offline round-trip.

Each command parses, calls one library function in ``reconcile.jobs``, and renders the result
as text (default) or JSON (``--json``); progress goes to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconcile.cli.bars import bars
from reconcile.cli.common import (
    DESCRIBE,
    emit_json,
    force_option,
    json_option,
    quiet_option,
    review_output_option,
)
from reconcile.errors import EXIT_FAILED

if TYPE_CHECKING:
    from reconcile.jobs.roundtrip import BuildResult, MatchSummary

# The Import Data Wizard's limit, in MB (reconcile.workbooks.imports.WIZARD_MAX_BYTES / 1e6);
# a literal here so that ``reconcile --help`` does not load pandas.
WIZARD_MAX_MB = 8.0


def _render_match(summary: MatchSummary, next_step: bool = True) -> None:
    for described in summary.read_as:
        click.echo(f"Read {described}.")
    click.echo(
        f"Matched {summary.gr_contacts:,} GetResponse contacts against "
        f"{summary.crm_contacts:,} CRM contacts in {summary.seconds:.1f} s."
    )
    for decision, count in summary.decisions.items():
        if count:
            click.echo(f"  {decision:<8}{count:>10,}  {DESCRIBE[decision]}")
    if summary.names_to_check:
        click.echo(f"Names to check: {summary.names_to_check:,} (column 'Name Check').")
    risks = summary.risks
    if risks.get("new_likely_duplicates"):
        click.echo(
            f"Check before importing: {risks['new_likely_duplicates']:,} new rows whose name and "
            "email domain a CRM contact has (likely duplicates; column 'Risk')."
        )
    if risks.get("links_names_differ"):
        click.echo(
            f"Check before importing: {risks['links_names_differ']:,} links whose names differ "
            "(column 'Risk')."
        )
    if summary.kept_copy:
        click.echo(f"The edited review that was there is kept as {summary.kept_copy}.", err=True)
    sheets = ", ".join(summary.sheets)
    click.echo(f"Wrote {summary.review} (sheets {sheets}, Summary).")
    if next_step:
        click.echo("Next: review the 'review' rows in Excel, then run")
        click.echo(f'  reconcile build-import "{summary.review}" -o import')


def _render_build(result: BuildResult) -> None:
    verb = "Would write" if result.dry_run else "Wrote"
    if result.files:
        click.echo(f"{verb} into {result.out_dir}:")
        for f in result.files:
            click.echo(
                f"  {Path(f.path).name:<44}{f.rows:>10,} rows {f.bytes / 1e6:>7.2f} MB  ({f.kind})"
            )
    else:
        click.echo(f"No import file needed ({result.out_dir}).")
    for warning in result.warnings:
        click.echo(f"Note: {warning}", err=True)
    if result.unresolved:
        click.echo(f"{len(result.unresolved):,} rows could not be linked (left out):", err=True)
        for problem in result.unresolved[:50]:
            click.echo(f"  - {problem}", err=True)
        if len(result.unresolved) > 50:
            click.echo(f"  … and {len(result.unresolved) - 50:,} more", err=True)
    click.echo("\nNext steps (also in IMPORT-STEPS.txt):" if not result.dry_run else "\nSteps:")
    for step in result.steps:
        click.echo(step)


@click.command("match")
@click.argument("gr_file", type=click.Path(exists=True, path_type=Path))
@click.argument("crm_file", type=click.Path(exists=True, path_type=Path))
@review_output_option
@force_option
@click.option(
    "--all-links",
    is_flag=True,
    help="List every link on the Links sheet, also those with nothing to check (identical "
    "address, same name), to overrule one; slower on a large base.",
)
@click.option(
    "--no-fuzzy-links", is_flag=True, help="Send typo matches to review instead of linking them."
)
@json_option
@quiet_option
def match(
    gr_file: Path,
    crm_file: Path,
    output: Path,
    force: bool,
    all_links: bool,
    no_fuzzy_links: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Match GetResponse contacts to CRM contacts; write a review workbook.

    \b
    GR_FILE   export of "Active GetResponse contacts" (.xlsx or .csv), or a folder of them
    CRM_FILE  export of "My active contacts" (.xlsx or .csv), or a folder of them

    Headers are found by their Dynamics display names, in English or French. Nothing is
    written when an input has a problem (exit code 2).

    \b
    Example:
      reconcile match "Active GetResponse contacts.xlsx" "My Active Contacts.xlsx" -o review.xlsx
    """
    from reconcile.jobs.roundtrip import match_files
    from reconcile.matching import MatchOptions

    options = MatchOptions(link_fuzzy=not no_fuzzy_links)
    summary = match_files(
        gr_file, crm_file, output, options, progress=bars(not quiet), force=force,
        all_links=all_links,
    )  # fmt: skip
    if as_json:
        emit_json(summary.as_dict())
    else:
        _render_match(summary)


@click.command("build-import")
@click.argument("review", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("import"),
    show_default=True,
    help="Folder for the import workbooks.",
)
@click.option(
    "--crm-export",
    type=click.Path(exists=True, path_type=Path),
    help="Contacts exported AFTER importing 1-contacts-import.xlsx: links the 'new' rows (file 3).",
)
@click.option(
    "--gr-export",
    type=click.Path(exists=True, path_type=Path),
    help="A fresh export of GetResponse Contacts: its row checksums replace the review's.",
)
@click.option(
    "--dry-run", is_flag=True, help="Check and report what would be written; write nothing."
)
@click.option(
    "--max-file-mb",
    type=click.FloatRange(0.01, 32),
    default=WIZARD_MAX_MB,
    show_default=True,
    help="Split import workbooks larger than this (the Import Wizard takes 8 MB).",
)
@json_option
@quiet_option
def build_import_command(
    review: Path,
    out_dir: Path,
    crm_export: Path | None,
    gr_export: Path | None,
    dry_run: bool,
    max_file_mb: float,
    as_json: bool,
    quiet: bool,
) -> None:
    """Check a reviewed workbook and write the Dynamics import files.

    Every row is checked first (decisions, CRM Contact ids among the candidates, rows added,
    deleted or re-keyed); any problem is reported with sheet, row and column, and nothing is
    written (exit code 2). Then it writes 1-contacts-import.xlsx (the 'new' rows) and
    2-getresponse-contacts-link.xlsx (the 'link' rows); after the contacts import, run it
    again with --crm-export to write 3-getresponse-contacts-link-new.xlsx. Files above the
    wizard's 8 MB are split into numbered parts. Exit code 1 if some rows could not be linked.

    \b
    Examples:
      reconcile build-import review.xlsx -o import
      reconcile build-import review.xlsx -o import-after --crm-export "My Active Contacts.xlsx"
    """
    from reconcile.jobs.roundtrip import build_import

    result = build_import(
        review,
        out_dir,
        crm_export=crm_export,
        gr_export=gr_export,
        dry_run=dry_run,
        max_bytes=int(max_file_mb * 1e6),
        progress=bars(not quiet),
    )
    if as_json:
        emit_json(result.as_dict())
    else:
        _render_build(result)
    if result.unresolved:
        raise SystemExit(EXIT_FAILED)


COMMANDS = [match, build_import_command]
