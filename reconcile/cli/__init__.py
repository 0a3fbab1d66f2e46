"""The ``reconcile`` command line: a thin layer that parses, calls the library and renders.

Library errors (:class:`reconcile.errors.ReconcileError`) become a short message on stderr
(and a JSON object on stdout with ``--json``) and the error's exit code — never a traceback;
the one handler is :class:`reconcile.cli.common.ReconcileGroup`.
"""

from __future__ import annotations

import sys

import click

from reconcile import __version__
from reconcile.cli.common import ReconcileGroup


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
                 reconcile run                       (every job on its cadence)
                 reconcile status                    (what ran, what is due, what failed)
                 reconcile listen                    (GetResponse callbacks, near real time)
    """


def _register() -> None:
    from reconcile.cli import dataverse, listen, migrate, offline, report, run, sandbox, sync

    for module in (offline, migrate, sync, run, listen, sandbox, dataverse, report):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    sys.exit(cli.main(prog_name="reconcile"))
