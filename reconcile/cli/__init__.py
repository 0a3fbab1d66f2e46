"""The ``reconcile`` command line: a thin layer that parses, calls the library and renders.

Library errors (:class:`reconcile.errors.ReconcileError`) become a one-paragraph message on
stderr and the error's exit code — never a traceback.
"""

from __future__ import annotations

import sys

import click

from reconcile import __version__
from reconcile.errors import ReconcileError


class ReconcileGroup(click.Group):
    """Maps library errors to exit codes in one place."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ReconcileError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=ReconcileGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconcile")
def cli() -> None:
    """Move a GetResponse base into Dynamics 365, and keep the two in step.

    \b
    Start with:  reconcile demo          (the migration on bundled sample data)
    Migrate:     reconcile migrate plan --list NAME -o review.xlsx
                 reconcile migrate apply review.xlsx
    Dashboards:  reconcile report -o dashboards.xlsx --html report.html
    Offline:     reconcile match GR_FILE CRM_FILE -o review.xlsx
                 reconcile build-import review.xlsx -o import/
    Sync:        reconcile sync lists --dry-run      (the connector's jobs, once)
    """


def _register() -> None:
    from reconcile.cli import dataverse, migrate, offline, report, sandbox, sync

    for module in (offline, migrate, sync, sandbox, dataverse, report):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    sys.exit(cli.main(prog_name="reconcile"))
