"""``reconcile migrate plan|apply`` and ``reconcile demo``: the toolkit's main job.

Each command loads the settings (``--config``, ``--profile``), calls one library function in
``reconcile.jobs.migrate`` (or ``reconcile.jobs.demo``) and renders the result as text or
``--json``; progress goes to stderr. Exit codes: 0 all done, 1 some records failed or were
not created as duplicates (see the report), 2 bad input or settings (nothing written), 3 a
service refused or could not be reached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reconcile.cli.bars import bars
from reconcile.cli.common import (
    DESCRIBE,
    emit_json,
    force_option,
    json_option,
    quiet_option,
    review_output_option,
    settings_options,
    state_option,
)
from reconcile.errors import EXIT_FAILED, InputError


def sync_environment(settings: Any) -> str | None:
    """The sync jobs' key for these settings' GetResponse account × Dynamics environment."""
    from reconcile.jobs.sync import environment_key

    if not settings.dynamics.environment_url:
        return None
    gr = settings.getresponse
    return environment_key(settings.dynamics.environment_url, gr.api_url, gr.domain)


@click.group()
def migrate() -> None:
    """Move GetResponse contacts into Dynamics: plan, review in Excel, apply.

    \b
    Example:
      reconcile migrate plan --list clients_fr -o review.xlsx
      reconcile migrate apply review.xlsx --dry-run
      reconcile migrate apply review.xlsx
    """


@migrate.command("plan")
@settings_options
@click.option(
    "--list",
    "lists",
    multiple=True,
    metavar="NAME",
    help="A GetResponse list to migrate (repeat for several; default: every list).",
)
@click.option(
    "--from",
    "source",
    type=click.Choice(["getresponse", "crm"]),
    default="getresponse",
    show_default=True,
    help="Read the contacts from GetResponse, or from the CRM's GetResponse Contact records "
    "that have no CRM contact yet.",
)
@review_output_option
@force_option
@click.option(
    "--accept-above",
    type=click.FloatRange(0, 100),
    metavar="SCORE",
    help="Turn review rows into links when their best candidate scores at least SCORE and no "
    "other candidate comes close.",
)
@click.option(
    "--no-fuzzy-links", is_flag=True, help="Send typo matches to review instead of linking them."
)
@json_option
@quiet_option
def plan_command(
    config_path: str | None,
    profile: str | None,
    lists: tuple[str, ...],
    source: str,
    output: Path,
    force: bool,
    accept_above: float | None,
    no_fuzzy_links: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Read both sides, match, and write the review workbook with its Plan sheet.

    Reads the GetResponse contacts of the chosen lists and the active CRM contacts, splits
    names, matches them (the same core as `reconcile match`) and writes the review workbook:
    the Review sheet to decide in Excel, and a Plan sheet saying how many CRM contacts will
    be created, how many GetResponse contacts linked, how many are left for review and what
    is skipped and why. Nothing is written to Dynamics or GetResponse.

    \b
    Example:
      reconcile migrate plan --list clients_fr --list newsletter -o review.xlsx
      reconcile migrate plan --from crm --accept-above 92 -o review.xlsx
    """
    from reconcile.config import load_settings
    from reconcile.dataverse.connect import connect
    from reconcile.getresponse.connect import connect as connect_getresponse
    from reconcile.jobs.migrate import make_plan
    from reconcile.matching import MatchOptions

    settings = load_settings(config_path, profile)
    progress = bars(not quiet and not as_json)
    gr = connect_getresponse(settings) if source == "getresponse" else None
    try:
        with connect(settings) as dv:
            summary = make_plan(
                dv,
                output,
                gr=gr,
                source=source,
                lists=lists,
                sync=settings.sync,
                options=MatchOptions(link_fuzzy=not no_fuzzy_links),
                accept_above=accept_above,
                progress=progress,
                force=force,
            )
    finally:
        if gr is not None:
            gr.close()
    if as_json:
        emit_json(summary.as_dict())
        return
    render_plan(summary)


def render_plan(summary: Any, next_step: bool = True) -> None:
    where = "GetResponse" if summary.source == "getresponse" else "the CRM's GetResponse Contacts"
    names = ", ".join(x["name"] for x in summary.lists) or "none"
    click.echo(
        f"Read {summary.gr_contacts:,} GetResponse contacts from {where} (lists: {names}) and "
        f"{summary.crm_contacts:,} active CRM contacts in {summary.seconds:.1f} s."
    )
    if summary.already_linked:
        click.echo(f"  already linked in the CRM: {summary.already_linked:,} (left as they are)")
    for decision, count in summary.decisions.items():
        if count:
            click.echo(f"  {decision:<8}{count:>10,}  {DESCRIBE[decision]}")
    if summary.accepted_above:
        click.echo(f"  ({summary.accepted_above:,} review rows accepted by --accept-above)")
    plan = summary.plan
    click.echo(
        f"Plan: create {plan['contacts_to_create']:,} CRM contacts, link "
        f"{plan['link_existing'] + plan['link_new']:,} GetResponse contacts, write "
        f"{plan['records_to_write']:,} GetResponse Contact records and "
        f"{plan['lists_to_create']:,} GetResponse List "
        f"{'record' if plan['lists_to_create'] == 1 else 'records'}."
    )
    risks = getattr(summary, "risks", {}) or {}
    if risks.get("new_likely_duplicates") or risks.get("links_names_differ"):
        click.echo(
            f"Check before applying: {risks.get('new_likely_duplicates', 0):,} new rows that look "
            f"like a CRM contact, {risks.get('links_names_differ', 0):,} links whose names "
            "differ (Plan sheet; Review column Risk)."
        )
    if getattr(summary, "kept_copy", None):
        click.echo(f"The edited review that was there is kept as {summary.kept_copy}.", err=True)
    click.echo(f"Wrote {summary.review} (sheets Review, Summary, Plan).")
    if next_step:
        click.echo("Next: decide the 'review' rows in Excel, then run")
        click.echo(f'  reconcile migrate apply "{summary.review}" --dry-run')


@migrate.command("apply")
@click.argument("review", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@settings_options
@click.option(
    "--dry-run", is_flag=True, help="Check and say exactly what would be written; write nothing."
)
@click.option(
    "--allow-duplicates",
    is_flag=True,
    help="Create new CRM contacts even when a contact with the same email exists (the Import "
    "Wizard's 'Allow Duplicates').",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The run report workbook (default: next to REVIEW, '<name>-report-<date>-<time>.xlsx', "
    "so each run keeps its own).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 1000),
    default=1000,
    show_default=True,
    help="Records per bulk request; lower it if Dataverse times out on large requests.",
)
@state_option
@json_option
@quiet_option
def apply_command(
    review: Path,
    config_path: str | None,
    profile: str | None,
    dry_run: bool,
    allow_duplicates: bool,
    report_path: Path | None,
    batch_size: int,
    state_path: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Check a reviewed workbook and write it into Dynamics: create the 'new' contacts,
    write the GetResponse Contact records linked to their CRM contact and list.

    The workbook is checked as build-import checks it (every problem with sheet, row and
    column; nothing written, exit code 2). The identity's privileges are checked before any
    write. Every write is journaled: if the run is interrupted (even killed), run the same
    command again and it finishes the work, creating nothing twice; on a completed run it
    changes nothing. Exit code 1 when some rows failed or were not created as duplicates
    (see the report workbook), 3 when a service refused or could not be reached.

    \b
    Example:
      reconcile migrate apply review.xlsx --dry-run
      reconcile migrate apply review.xlsx --report migration-report.xlsx
    """
    from reconcile.config import load_settings
    from reconcile.dataverse.connect import connect
    from reconcile.jobs.migrate import apply_plan, load_plan
    from reconcile.state import StateStore, locate
    from reconcile.workbooks.migration import report_file, write_run_report

    settings = load_settings(config_path, profile)
    progress = bars(not quiet and not as_json)
    plan = load_plan(review, allow_duplicates=allow_duplicates, progress=progress)
    with StateStore(locate(state_path, settings.sync.state)) as state, connect(settings) as dv:
        report = apply_plan(
            dv,
            plan,
            workbook=str(review),
            state=state,
            dry_run=dry_run,
            chunk=batch_size,
            progress=progress,
            sync_environment=sync_environment(settings),
        )
    target = report_path or report_file(review, dry_run=dry_run)
    report.report_path = str(target)
    unwritten = None
    try:
        write_run_report(report.as_dict(), report.summary(), target)
    except InputError as exc:  # the file could not be written (reconcile.workbooks.atomic)
        # The writes are made and journaled: show what they were before saying what failed.
        report.report_path, unwritten = None, exc
    if as_json:
        emit_json(report.as_dict())
    else:
        for line in report.summary():
            click.echo(line)
    if unwritten is not None:
        click.echo(
            f"Error: the run report {target} could not be written "
            f"({unwritten.problems[0].message}). Close it if Excel has it open, or give "
            "--report another path, and run the same command again: it writes the report "
            "without redoing what is done.",
            err=True,
        )
        raise SystemExit(report.exit_code or EXIT_FAILED)
    raise SystemExit(report.exit_code)


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reconcile-demo"),
    show_default=True,
    help="Folder for every file the demo writes.",
)
@click.option(
    "--rows",
    type=click.IntRange(100, 100_000),
    default=3000,
    show_default=True,
    help="GetResponse contacts to generate.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Sample-data seed.")
@click.option(
    "--accept-above",
    type=click.FloatRange(0, 100),
    default=90.0,
    show_default=True,
    metavar="SCORE",
    help="Review rows accepted as links at this score (as 'migrate plan --accept-above').",
)
@click.option(
    "--offline",
    is_flag=True,
    help="The spreadsheet-only round-trip instead (match, build-import): no sandbox, no API.",
)
@json_option
@quiet_option
def demo(
    out_dir: Path, rows: int, seed: int, accept_above: float, offline: bool, as_json: bool,
    quiet: bool,
) -> None:  # fmt: skip
    """Run the whole migration on bundled sample data (no account, no network).

    Starts both sandboxes on 127.0.0.1, seeds GetResponse lists and an overlapping CRM
    (typos, duplicates, namesakes, shared mailboxes), installs the connector's tables and
    roles, runs 'migrate plan' (confident links accepted) and 'migrate apply', then each
    sync job once as an admin would meet it (a marketing list pushed, contacts changed in
    GetResponse, a template, a newsletter scheduled and sent, its opens and clicks), and
    writes the dashboards; it prints what each step did and where every file is. With
    --offline: the Excel round-trip of 'match' and 'build-import' on generated exports
    instead.

    \b
    Example:
      reconcile demo --out /tmp/reconcile-demo
      reconcile demo --offline --out /tmp/reconcile-offline
    """
    progress = bars(not quiet and not as_json)
    if offline:
        _offline_demo(out_dir, rows, seed, as_json, progress)
        return
    from reconcile.jobs.demo import run_demo

    result = run_demo(out_dir, rows=rows, seed=seed, accept_above=accept_above, progress=progress)
    if as_json:
        emit_json(result.as_dict())
        return
    plan = result.plan
    click.echo(
        f"Sandboxes: GetResponse with {plan['gr_contacts']:,} contacts in "
        f"{len(plan['lists'])} lists, Dynamics with {plan['crm_contacts']:,} contacts."
    )
    click.echo(f"Plan: {result.review}")
    for decision, count in plan["decisions"].items():
        if count:
            click.echo(f"  {decision:<8}{count:>10,}  {DESCRIBE[decision]}")
    if plan["accepted_above"]:
        click.echo(f"  ({plan['accepted_above']:,} review rows accepted above {accept_above:g})")
    click.echo(
        f"Meanwhile {result.merged} linked CRM contacts were merged in Dynamics; their "
        "links follow the master contact."
    )
    for line in result.summary:
        click.echo(line)
    click.echo(
        f"Links checked against the generator's truth: {result.links_checked:,}, wrong: "
        f"{result.links_wrong:,}; contacts created for people the CRM had: {result.new_wrong:,}."
    )
    _formula_check(result.formula_cells)
    for step in result.sync:
        click.echo(f"Then reconcile sync {step['job']}: {step['title']}")
        for line in [*step["setup"], *step["lines"]]:
            click.echo(f"  {line}")
    click.echo(f"Review workbook: {Path(result.review).resolve()}")
    click.echo(f"Report workbook: {Path(result.report).resolve()}")
    click.echo(f"Dashboards workbook: {Path(result.dashboards).resolve()}")
    click.echo(f"Dashboards web page: {Path(result.dashboards_page).resolve()}")
    click.echo(f"Done in {result.seconds:.1f} s; everything is in {result.out_dir}.")


def _formula_check(cells: list[str]) -> None:
    """The written workbooks hold no formula made from the data (a name or an email starting
    with '=' is text): our own Summary counts are the only formulas, and are not listed."""
    verdict = "none" if not cells else ", ".join(cells)
    click.echo(f"Data cells that Excel would run as formulas (CSV injection check): {verdict}.")


def _offline_demo(out_dir: Path, rows: int, seed: int, as_json: bool, progress: Any) -> None:
    from reconcile.cli.offline import _render_match
    from reconcile.jobs.demo_offline import run_offline_demo

    result = run_offline_demo(out_dir, rows=rows, seed=seed, progress=progress)
    if as_json:
        emit_json(result.as_dict())
        return
    click.echo(f"Sample exports: {', '.join(Path(p).name for p in result.exports)}")
    _render_match(result.match, next_step=False)
    click.echo(
        f"Proposed links checked against the generator's truth: {result.links_checked:,}, "
        f"wrong: {result.links_wrong:,}; 'new' rows that did have a CRM contact: "
        f"{result.new_wrong:,}."
    )
    for label, build in (
        ("First pass", result.first_pass),
        ("After the contacts import", result.second_pass),
    ):
        files = ", ".join(f"{Path(f.path).name} ({f.rows:,} rows)" for f in build.files) or "none"
        click.echo(f"{label}: {files}")
        for problem in build.unresolved[:5]:
            click.echo(f"  unresolved: {problem}")
    _formula_check(result.formula_cells)
    click.echo(
        f"Everything is in {result.out_dir}; IMPORT-STEPS.txt in each import folder says "
        "what an admin does next."
    )


COMMANDS = [migrate, demo]
