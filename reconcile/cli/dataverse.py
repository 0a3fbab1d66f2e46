"""``reconcile schema install|check``, ``reconcile doctor`` and ``reconcile init``.

Each command loads the settings (``--config``, ``--profile``), calls one library function
and renders its report as text or ``--json``; progress goes to stderr. Exit codes: 0 when
all is well, 1 when something is missing or failed (the report says what), 2 for bad
settings, 3 when a service refused or could not be reached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reconcile.cli.bars import bars
from reconcile.cli.common import (
    emit_json,
    json_option,
    quiet_option,
    settings_options,
    shorten,
    write_full_list,
)
from reconcile.errors import EXIT_FAILED

SHOWN_CREATED = 10  # lines of what schema install created; all of them go to a file


def _load(config_path: str | None, profile: str | None) -> Any:
    from reconcile.config import load_settings

    return load_settings(config_path, profile)


@click.group()
def schema() -> None:
    """The connector's tables and security roles in Dynamics.

    \b
    Example:
      reconcile schema check
      reconcile schema install --dry-run
      reconcile schema install
    """


@schema.command("check")
@settings_options
@json_option
def schema_check(config_path: str | None, profile: str | None, as_json: bool) -> None:
    """Report which GetResponse tables, columns, keys and roles are missing.

    Nothing is written. Exit code 1 when something is missing.

    \b
    Example:
      reconcile schema check --profile staging
    """
    from reconcile.dataverse import metadata, security
    from reconcile.dataverse.connect import connect

    with connect(_load(config_path, profile)) as client:
        tables = metadata.check(client)
        roles = security.check_roles(client)
    if as_json:
        emit_json(
            {"ok": tables.ok and roles.ok, "tables": tables.to_json(), "roles": roles.to_json()}
        )
    else:
        _render_tables(tables)
        _render_roles(roles)
    if not (tables.ok and roles.ok):
        raise SystemExit(EXIT_FAILED)


@schema.command("install")
@settings_options
@click.option("--dry-run", is_flag=True, help="Only say what would be created.")
@click.option("--no-roles", is_flag=True, help="Create the tables only, not the security roles.")
@json_option
@quiet_option
def schema_install(
    config_path: str | None,
    profile: str | None,
    dry_run: bool,
    no_roles: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Create the missing GetResponse tables, columns, lookups, keys and security roles.

    Idempotent: what exists is left alone; a second run has nothing to do. The roles are
    created in the root business unit with their privileges; assign them to users in
    Dynamics afterwards (the connector's application user gets 'GetResponse Service User').

    \b
    Example:
      reconcile schema install --dry-run
      reconcile schema install
    """
    from reconcile.dataverse import metadata, security
    from reconcile.dataverse.connect import connect

    progress = bars(not quiet and not as_json)
    with connect(_load(config_path, profile)) as client:
        if dry_run:
            tables = metadata.check(client)
            roles = None if no_roles else security.check_roles(client)
        else:
            tables = metadata.install(client, progress=progress)
            roles = None if no_roles else security.install_roles(client, progress=progress)
    ok = tables.ok and (roles is None or roles.ok)
    if as_json:
        emit_json(
            {
                "ok": ok,
                "dry_run": dry_run,
                "tables": tables.to_json(),
                "roles": roles.to_json() if roles else None,
            }
        )
    else:
        if dry_run:
            _render_plan(tables, roles)
        else:
            made = [f"created {x}" for x in [*tables.created, *(roles.created if roles else [])]]
            for line in shorten(made, SHOWN_CREATED, "reconcile-schema-install.txt"):
                click.echo(line)
            _render_tables(tables)
            if roles:
                _render_roles(roles)
    if not ok and not dry_run:
        raise SystemExit(EXIT_FAILED)


def _render_tables(report: Any) -> None:
    if report.ok:
        click.echo(
            "Tables: the six GetResponse tables and the two dashboards with their charts are "
            "installed and complete."
        )
        return
    click.echo(f"Tables: {len(report.findings)} problem(s):")
    for finding in report.findings:
        action = "" if finding.fixable else "  [needs an administrator]"
        click.echo(f"  - {finding}{action}")


def _render_roles(report: Any) -> None:
    if report.ok:
        click.echo("Roles: the four GetResponse security roles exist with their privileges.")
        return
    click.echo("Roles:")
    for status in report.roles:
        if status.ok:
            click.echo(f"  - {status.name}: complete")
        elif status.role_id is None:
            click.echo(f"  - {status.name}: missing")
        else:
            click.echo(f"  - {status.name}: lacks {len(status.missing)} privilege(s)")
            for shortfall in status.missing:
                click.echo(f"      {shortfall}")


def _render_plan(tables: Any, roles: Any) -> None:
    todo = [f for f in tables.findings if f.fixable]
    manual = [f for f in tables.findings if not f.fixable]
    if not todo and (roles is None or roles.ok):
        click.echo("Nothing to install: the tables and roles are complete.")
    for finding in todo:
        verb = "create" if finding.problem.startswith("missing") else "rewrite"
        click.echo(
            f"would {verb} {finding.kind} {finding.name}"
            + (f" on {finding.table}" if finding.table else "")
            + ("" if verb == "create" else f" (it {finding.problem})")
        )
    if any(f.kind == "table" for f in todo):
        click.echo("would then create the columns, lookups and keys of the new tables")
    for status in roles.roles if roles else []:
        if status.role_id is None:
            click.echo(f"would create role {status.name!r} with its privileges")
        elif status.missing:
            click.echo(f"would add {len(status.missing)} privilege(s) to role {status.name!r}")
    for finding in manual:
        click.echo(f"needs an administrator: {finding}")


@click.command()
@settings_options
@click.option("--skip-getresponse", is_flag=True, help="Check Dynamics only.")
@json_option
@quiet_option
def doctor(
    config_path: str | None,
    profile: str | None,
    skip_getresponse: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Check both connections, the connector's tables and roles, and the privileges of the
    connector's identity; list exactly what is missing. Writes nothing.

    \b
    Example:
      reconcile doctor
      reconcile doctor --profile staging --json
    """
    from reconcile.doctor import run_doctor

    settings = _load(config_path, profile)
    report = run_doctor(
        settings, skip_getresponse=skip_getresponse, progress=bars(not quiet and not as_json)
    )
    if as_json:
        emit_json(report.to_json())
    else:
        _render_doctor(report)
    if not report.ok:
        raise SystemExit(report.exit_code)


DOCTOR_DETAILS = 5  # details shown per check; all of them go to DOCTOR_FILE


def _render_doctor(report: Any) -> None:
    marks = {"ok": "ok  ", "warning": "warn", "failed": "FAIL", "skipped": "skip"}
    full: list[str] = []
    long = any(len(check.details) > DOCTOR_DETAILS for check in report.checks)
    for check in report.checks:
        lines = [f"[{marks[check.status]}] {check.name}: {check.summary}"]
        full.append(lines[0])
        full.extend(f"         - {detail}" for detail in check.details)
        lines.extend(f"         - {detail}" for detail in check.details[:DOCTOR_DETAILS])
        if len(check.details) > DOCTOR_DETAILS:
            lines.append(f"         - … and {len(check.details) - DOCTOR_DETAILS:,} more")
        if check.hint and check.status in ("failed", "warning"):
            lines.append(f"         → {check.hint}")
            full.append(lines[-1])
        for line in lines:
            click.echo(line)
    written = write_full_list(full, DOCTOR_FILE) if long else None
    if written:
        click.echo(f"Every detail is in {written}.")
    warnings = sum(1 for c in report.checks if c.status == "warning")
    if not report.ok:
        click.echo("Some checks failed.")
    elif warnings:
        click.echo(f"No check failed; {warnings} warning(s).")
    else:
        click.echo("All checks passed.")


DOCTOR_FILE = "reconcile-doctor.txt"


@click.command()
@click.argument("path", type=click.Path(dir_okay=False), default="reconcile.toml")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write a commented settings file (no secrets: those go in the environment or keyring).

    \b
    Example:
      reconcile init
      reconcile init ~/.config/reconcile/config.toml
    """
    from reconcile.config import write_template

    written = write_template(Path(path), force=force)
    click.echo(f"Wrote {written}. Fill it in, set the secrets, then run `reconcile doctor`.")


COMMANDS = [schema, doctor, init]
