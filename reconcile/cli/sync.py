"""``reconcile sync JOB``: one generic command over the sync jobs (docs/sync.md).

Each job declares its options as data (``Job.params``); this module turns every job into a
click command with the options all jobs share (``--dry-run``, ``--json``, ``--full``,
``--state``, settings), calls :func:`reconcile.jobs.sync.run_job` and renders the report.
``reconcile sync all`` runs every job, in SPEC order, with the same context.

Stopping: SIGTERM or a first Ctrl-C asks the job to stop after its current chunk (recorded,
resumable, exit 3 with "run the same command again"); a second Ctrl-C stops at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
from collections.abc import Callable, Iterator
from typing import Any

import click

from reconcile.cli.bars import bars
from reconcile.cli.common import (
    emit_json,
    json_option,
    quiet_option,
    settings_options,
    state_option,
)
from reconcile.errors import EXIT_OK


class Day(click.DateTime):
    """A YYYY-MM-DD day; anything else is refused in words an admin reads (click's own says
    "does not match the format '%Y-%m-%d'"), as `reconcile report --since` does."""

    def __init__(self) -> None:
        super().__init__(["%Y-%m-%d"])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            self.fail(f"{value!r} is not a date: write it YYYY-MM-DD", param, ctx)


KINDS: dict[str, Any] = {"text": str, "int": int, "date": Day()}


def _shared_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option(
                "--dry-run", is_flag=True, help="Read both sides and print the plan; write nothing."
            ),
            click.option(
                "--full",
                is_flag=True,
                help="Re-read everything instead of what changed since the last run.",
            ),
            state_option,
            json_option,
            quiet_option,
        ]
    ):
        func = option(func)
    return settings_options(func)


@contextlib.contextmanager
def graceful_stop(stop: Any) -> Iterator[None]:
    """SIGTERM and a first Ctrl-C request a stop after the current chunk; a second Ctrl-C
    interrupts at once (the journal still makes the next run safe)."""

    def on_signal(signum: int, frame: Any) -> None:
        if signum == signal.SIGINT and stop.requested:
            raise KeyboardInterrupt
        stop.request()
        click.echo("Stopping after the current chunk (Ctrl-C again to stop at once) …", err=True)

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for s in previous:
            signal.signal(s, on_signal)
    except ValueError:  # not the main thread (a test runner): no handlers, nothing to undo
        previous = {}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _run(
    names: list[str], kwargs: dict[str, Any], option_names: set[str], *, many: bool = False
) -> None:
    from reconcile.config import load_settings
    from reconcile.jobs.sync import StopSignal, jobs, open_context, run_job

    as_json, quiet = kwargs.pop("as_json"), kwargs.pop("quiet")
    settings = load_settings(kwargs.pop("config_path"), kwargs.pop("profile"))
    stop = StopSignal()
    options = {k: v for k, v in kwargs.items() if k in option_names}
    registry = jobs()
    reports = []
    with (
        graceful_stop(stop),
        open_context(
            settings,
            state_path=kwargs["state_path"],
            dry_run=kwargs["dry_run"],
            full=kwargs["full"],
            options=options,
            progress=bars(not quiet and not as_json),
            stop=stop,
        ) as ctx,
    ):
        for name in names:
            report = run_job(registry[name], ctx)
            reports.append(report)
            if not as_json:
                for line in report.lines():
                    click.echo(line)
            if report.aborted:
                left = names[names.index(name) + 1 :]
                if left and not as_json:  # say what did not run, not only what stopped
                    click.echo(
                        f"Not run: {', '.join(left)} (sync all stops at the first job cut "
                        "short; run it again once that is fixed)."
                    )
                break
    if as_json:
        data = [r.as_dict() for r in reports]
        emit_json(data if many else data[0])
    raise SystemExit(max((r.exit_code for r in reports), default=EXIT_OK))


def _job_command(job: Any) -> click.Command:
    """The click command of one job: its own options (``job.params``) and the shared ones."""
    names = {p.dest for p in job.params}

    def callback(**kwargs: Any) -> None:
        for key, value in list(kwargs.items()):
            if isinstance(value, dt.datetime):  # --since 2026-12-01: midnight UTC
                kwargs[key] = value.replace(tzinfo=dt.UTC)
        _run([job.name], kwargs, names)

    for p in reversed(job.params):
        callback = click.option(
            p.flag,
            p.dest,
            multiple=p.multiple,
            is_flag=p.is_flag,
            metavar=p.metavar,
            type=None if p.is_flag else KINDS[p.kind],
            help=p.help,
        )(callback)
    return click.command(job.name, help=f"{job.help}\n\n({job.spec})", short_help=job.summary)(
        _shared_options(callback)
    )


class SyncGroup(click.Group):
    """Commands built from the job registry, listed in SPEC order."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from reconcile.jobs.sync import jobs

        return [*jobs(), "all", "callbacks"]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from reconcile.jobs.sync import jobs

        if name == "all":
            return sync_all
        if name == "callbacks":
            return sync_callbacks
        job = jobs().get(name)
        return _job_command(job) if job is not None else None


@click.group(cls=SyncGroup)
def sync() -> None:
    """Run the connector's sync jobs once (reconcile run keeps them on their cadences).

    Every job first plans (reads only), then applies in bulk, journaled: interrupt it at any
    point and run it again, nothing is lost or done twice. --dry-run prints the plan.

    \b
    Example:
      reconcile sync lists --dry-run
      reconcile sync lists --list clients_fr
      reconcile sync all --json
    """


@click.command("all")
@_shared_options
def sync_all(**kwargs: Any) -> None:
    """Run every sync job once, in SPEC order (lists, contacts, activities, templates,
    newsletters); a job that is stopped by a service failure stops the rest.

    \b
    Example:
      reconcile sync all --dry-run
      reconcile sync all --json > last-run.json
    """
    from reconcile.jobs.sync import jobs

    _run(list(jobs()), kwargs, set(), many=True)


@click.command("callbacks")
@click.option(
    "--url",
    metavar="URL",
    help="Your HTTPS reverse proxy's address for reconcile listen (default: listen.public_url);"
    " GetResponse calls URL/getresponse/<listen.secret>.",
)
@click.option("--disable", is_flag=True, help="Turn GetResponse's callbacks off.")
@click.option(
    "--action",
    "actions",
    multiple=True,
    type=click.Choice(["open", "click", "subscribe", "unsubscribe"]),
    help="Only these events (repeatable; default: open, click, subscribe, unsubscribe).",
)
@json_option
@settings_options
def sync_callbacks(
    url: str | None,
    disable: bool,
    actions: tuple[str, ...],
    as_json: bool,
    config_path: str | None,
    profile: str | None,
) -> None:
    """Enable GetResponse's callbacks (/accounts/callbacks) to reconcile listen, or turn them
    off. The secret (listen.secret) goes into the URL and is never printed.

    \b
    Example:
      reconcile sync callbacks --url https://hooks.example.com
      reconcile sync callbacks --disable
    """
    from reconcile.config import load_settings
    from reconcile.jobs.sync.callbacks import configure

    settings = load_settings(config_path, profile)
    result = configure(settings, url=url, disable=disable, actions=actions)
    if as_json:
        emit_json(result)
    elif result["enabled"]:
        click.echo(
            f"GetResponse callbacks enabled: {result['url']} ({', '.join(result['actions'])})."
        )
        if result.get("warning"):
            click.echo(f"Warning: {result['warning']}", err=True)
    else:
        click.echo(
            "GetResponse callbacks are off."
            + (" (They were off already.)" if not result["changed"] else "")
        )
    raise SystemExit(EXIT_OK)


COMMANDS = [sync]
