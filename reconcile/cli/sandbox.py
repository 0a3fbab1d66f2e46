"""``reconcile sandbox serve``: the local emulators, for trying things by hand."""

from __future__ import annotations

import json
import pathlib

import click

from reconcile import sandbox as sandboxes
from reconcile.cli.common import remember_json


@click.group()
def sandbox() -> None:
    """Local emulators of GetResponse v3 and the Dataverse Web API.

    \b
    Example:
      reconcile sandbox serve --write-config sandbox.toml
      . ./sandbox.env && reconcile doctor     (in another terminal)
    """


@sandbox.command()
@click.option(
    "--getresponse-port", type=int, default=0, show_default="a free port",
    help="Port of the GetResponse sandbox on 127.0.0.1.",
)  # fmt: skip
@click.option(
    "--dataverse-port", type=int, default=0, show_default="a free port",
    help="Port of the Dataverse sandbox (Dynamics' Web API) on 127.0.0.1.",
)  # fmt: skip
@click.option(
    "--db-dir",
    type=click.Path(file_okay=False, writable=True),
    help="Keep each sandbox's SQLite database in this folder (default: in memory).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Sample-data seed.")
@click.option("--no-sample-data", is_flag=True, help="Start empty.")
@click.option(
    "--write-config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    metavar="FILE",
    help="Write a settings file pointing at these sandboxes, and beside it the .env file with "
    "their secrets (sandbox.toml → sandbox.env); load that file in another shell and every "
    "command uses the sandboxes.",
)
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
    config_file: pathlib.Path | None,
    as_json: bool,
) -> None:
    """Serve the sandboxes on 127.0.0.1 until interrupted (Ctrl+C).

    With --write-config, every other command can be pointed at them in one step: load the
    .env file it writes (in another terminal), then run doctor, schema install, migrate ….

    \b
    Example:
      reconcile sandbox serve --write-config sandbox.toml
      . ./sandbox.env && reconcile doctor && reconcile schema install
      reconcile sandbox serve --json
      {"getresponse": {"url": "http://127.0.0.1:PORT/v3", "api_key": "..."}, ...}
    """
    try:
        _serve(getresponse_port, dataverse_port, db_dir, seed, no_sample_data, config_file, as_json)
    except KeyboardInterrupt:  # Ctrl+C is how this command ends, also while it starts
        click.echo("Stopped.", err=True)


def _serve(
    getresponse_port: int,
    dataverse_port: int,
    db_dir: str | None,
    seed: int,
    no_sample_data: bool,
    config_file: pathlib.Path | None,
    as_json: bool,
) -> None:
    from reconcile.sandbox.settings_file import write_settings

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
        written = write_settings(info, config_file) if config_file else None
        if as_json:
            click.echo(json.dumps(info), nl=True)
        else:
            for name, details in info.items():
                click.echo(f"{name}: {details['url']}")
        if written:
            click.echo(
                f"Settings: {written[0]}; secrets: {written[1]}. In another terminal:", err=True
            )
            click.echo(f"  . {written[1]} && reconcile doctor", err=True)
        if not as_json:
            click.echo("Serving; press Ctrl+C to stop.", err=True)
        for item in running.values():
            item.server.wait()


COMMANDS = [sandbox]
