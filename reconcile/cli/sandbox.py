"""``reconcile sandbox serve``: the local emulators, for trying things by hand."""

from __future__ import annotations

import json

import click

from reconcile import sandbox as sandboxes
from reconcile.cli.common import remember_json


@click.group()
def sandbox() -> None:
    """Local emulators of GetResponse v3 and the Dataverse Web API."""


@sandbox.command()
@click.option("--getresponse-port", type=int, default=0, show_default="a free port")
@click.option("--dataverse-port", type=int, default=0, show_default="a free port")
@click.option(
    "--db-dir",
    type=click.Path(file_okay=False, writable=True),
    help="Keep each sandbox's SQLite database in this folder (default: in memory).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Sample-data seed.")
@click.option("--no-sample-data", is_flag=True, help="Start empty.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    callback=remember_json,
    help="First line: connection details as JSON.",
)
def serve(
    getresponse_port: int,
    dataverse_port: int,
    db_dir: str | None,
    seed: int,
    no_sample_data: bool,
    as_json: bool,
) -> None:
    """Serve the sandboxes on 127.0.0.1 until interrupted (Ctrl+C).

    \b
    Example:
      reconcile sandbox serve --json
      {"getresponse": {"url": "http://127.0.0.1:PORT/v3", "api_key": "..."}, ...}
    """
    import pathlib

    ports = {"getresponse": getresponse_port, "dataverse": dataverse_port}
    databases = None
    if db_dir:
        folder = pathlib.Path(db_dir)
        folder.mkdir(parents=True, exist_ok=True)
        databases = {name: str(folder / f"{name}.sqlite3") for name in sandboxes.available()}
    with sandboxes.start(
        ports=ports, databases=databases, seed=None if no_sample_data else seed
    ) as running:
        info = {name: item.info for name, item in running.items()}
        if as_json:
            click.echo(json.dumps(info), nl=True)
        else:
            for name, details in info.items():
                click.echo(f"{name}: {details['url']}")
            click.echo("Serving; press Ctrl+C to stop.", err=True)
        try:
            for item in running.values():
                item.server.wait()
        except KeyboardInterrupt:
            click.echo("Stopped.", err=True)


COMMANDS = [sandbox]
