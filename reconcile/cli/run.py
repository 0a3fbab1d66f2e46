"""``reconcile run`` and ``reconcile status``: the sync jobs on their cadences, and what the
state store knows about them (docs/runner.md). Thin: settings → the library's
:class:`~reconcile.jobs.runner.Runner` / :mod:`reconcile.jobs.status` → lines or JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from reconcile.cli.bars import bars
from reconcile.cli.common import emit_json, json_option, quiet_option, settings_options
from reconcile.cli.common import state_option as _state_option
from reconcile.cli.runlog import LineLog, LogProgress
from reconcile.cli.sync import graceful_stop
from reconcile.errors import EXIT_FAILED, EXIT_OK, EXIT_SERVICE, ConfigError

DEFAULT_CADENCE = "1h"  # a job the [schedule] section does not know yet


def _cadences(settings: Any, names: list[str]) -> dict[str, Any]:
    from reconcile.schedule import parse_cadence

    return {n: parse_cadence(getattr(settings.schedule, n, None) or DEFAULT_CADENCE) for n in names}


def _registry(only: tuple[str, ...]) -> dict[str, Any]:
    from reconcile.jobs.sync import jobs

    registry = jobs()
    unknown = [name for name in only if name not in registry]
    if unknown:
        raise ConfigError(
            f"no sync job named {', '.join(map(repr, unknown))}",
            hint=f"the jobs are: {', '.join(registry)}",
        )
    return {name: job for name, job in registry.items() if not only or name in only}


@click.command("run")
@click.option(
    "--once",
    is_flag=True,
    help="Run every job that is due now, then exit (for cron, "
    "systemd timers, Windows Task Scheduler, Kubernetes CronJobs).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Plan the jobs due now and print the plans; "
    "write nothing, record nothing (implies --once).",
)
@click.option(
    "--job",
    "only",
    multiple=True,
    metavar="NAME",
    help="Only this job (repeatable); default: every job.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Event lines as text, or one JSON object per line.",
)
@click.option(
    "--sandbox-clock",
    is_flag=True,
    help="Follow the GetResponse sandbox's clock "
    "(reconcile sandbox serve): moving it forward makes jobs due. Demos and tests.",
)
@_state_option
@json_option
@quiet_option
@settings_options
def run_command(
    once: bool,
    dry_run: bool,
    only: tuple[str, ...],
    log_format: str,
    sandbox_clock: bool,
    state_path: str | None,
    as_json: bool,
    quiet: bool,
    config_path: str | None,
    profile: str | None,
) -> None:
    """Run the sync jobs on their cadences (SPEC 9: lists, contacts and activities hourly,
    templates every 5 minutes, newsletters every minute; [schedule] changes them, with a
    duration or a cron line), one job at a time per environment, until stopped.

    SIGTERM or Ctrl-C finishes the current chunk, records it and exits 0; the next start goes
    on from there. Runners sharing a state store (a PostgreSQL one across hosts) never run a
    job twice at a time; a killed runner's leases expire after [schedule] lease. Failures,
    stale data and GetResponse API blocks go to [alerts], once per incident.

    \b
    Example:
      reconcile run                       (a service: systemd, a container)
      reconcile run --once                (from cron or a timer: what is due, then exit)
      reconcile run --once --dry-run      (what would run now, and its plans)
      reconcile run --log-format json --state postgresql://reconcile@db/reconcile
    """
    from reconcile.config import load_settings, stale_seconds, zone_of
    from reconcile.jobs.alerts import Alerts, notifiers
    from reconcile.jobs.clocks import SandboxClock, WallClock
    from reconcile.jobs.runner import Runner
    from reconcile.jobs.sync import StopSignal, open_context
    from reconcile.schedule import parse_duration

    settings = load_settings(config_path, profile)
    registry = _registry(only)
    cadences = _cadences(settings, list(registry))
    log = LineLog("json" if log_format == "json" or (as_json and not once) else "text")
    if quiet:
        progress: Any = bars(False)
    elif sys.stderr.isatty():
        progress = bars(True)
    else:
        progress = LogProgress(log)
    clock = SandboxClock(settings.getresponse.api_url) if sandbox_clock else WallClock()
    stop = StopSignal()
    with (
        graceful_stop(stop),
        open_context(
            settings, state_path=state_path, dry_run=dry_run, progress=progress, stop=stop
        ) as ctx,
    ):
        ctx.lease_seconds = parse_duration(settings.schedule.lease)
        alerts = Alerts(
            ctx.state,
            notifiers(settings.alerts),
            log,
            resolved=settings.alerts.resolved,
            now=clock.now,
        )
        runner = Runner(
            ctx,
            registry,
            cadences,
            log=log,
            clock=clock,
            tz=zone_of(settings.schedule.timezone),
            after_block=parse_duration(settings.schedule.after_block),
            alerts=alerts,
            stale_after=stale_seconds(settings),
        )
        if not (once or dry_run):
            runner.forever()
            raise SystemExit(EXIT_OK)
        reports = runner.once()
    if as_json:
        emit_json([r.as_dict() for r in reports])
    elif dry_run:
        for report in reports:
            for line in report.lines():
                click.echo(line)
    codes = [r.exit_code for r in reports if not r.interrupted]
    raise SystemExit(
        EXIT_SERVICE if EXIT_SERVICE in codes else EXIT_FAILED if EXIT_FAILED in codes else EXIT_OK
    )


@click.command("status")
@click.option(
    "--stale-after",
    metavar="DURATION",
    help="Exit 1 when a job's data (its last "
    "complete run) is older than this, e.g. 2h; default: alerts.stale_after.",
)
@_state_option
@json_option
@settings_options
def status_command(
    stale_after: str | None,
    state_path: str | None,
    as_json: bool,
    config_path: str | None,
    profile: str | None,
) -> None:
    """Per job and environment: the last run (start, duration, outcome, counts, first
    errors), when the job is next due, its watermarks, who holds its lease, how old its data
    is, and the API calls runs made against GetResponse's and Dataverse's limits. Reads the
    state store only: no service is called, no secret needed.

    Exit 1 when the last run of some job failed (or was cut short), or — with --stale-after —
    when some job's data is older than that: for monitoring.

    \b
    Example:
      reconcile status
      reconcile status --json --stale-after 3h
    """
    from reconcile.config import load_settings, stale_seconds, zone_of
    from reconcile.jobs.status import as_dict, environment_status, environments
    from reconcile.jobs.sync import environment_key
    from reconcile.schedule import parse_duration
    from reconcile.state import StateStore, is_postgresql, locate

    settings = load_settings(config_path, profile)
    try:
        limit = parse_duration(stale_after) if stale_after else stale_seconds(settings)
    except ValueError as exc:
        raise ConfigError(f"--stale-after: {exc}") from None
    registry = _registry(())
    cadences = _cadences(settings, list(registry))
    configured = None
    if settings.dynamics.environment_url:
        configured = environment_key(
            settings.dynamics.environment_url,
            settings.getresponse.api_url,
            settings.getresponse.domain,
        )
    from reconcile.jobs.clocks import WallClock

    now = WallClock().now()
    target = locate(state_path, settings.sync.state)
    # A path that names no store is read as an empty one, not created: a typo in --state
    # would otherwise leave a new file behind and look like "nothing ever ran".
    missing = not is_postgresql(target) and target != ":memory:" and not Path(target).exists()
    note = (
        f"No state store at {target}: no run was recorded there. If reconcile run or "
        "reconcile sync ran, they used another one: give status the same --state, "
        "RECONCILE_STATE or sync.state."
    )
    with StateStore(":memory:" if missing else target) as state:
        found = [
            environment_status(
                state,
                env,
                cadences,
                now,
                tz=zone_of(settings.schedule.timezone),
                stale_after=limit,
                daily=settings.dynamics.daily_requests,
            )
            for env in environments(state, configured)
        ]
    failed = [f"{j.job} on {e.environment}" for e in found for j in e.jobs if j.failed]
    stale = [f"{j.job} on {e.environment}" for e in found for j in e.jobs if j.stale]
    if as_json:
        emit_json(
            {
                "ok": not failed and not (stale and stale_after),
                "failed": failed,
                "stale": stale,
                "environments": [as_dict(e) for e in found],
                **({"notes": [note]} if missing else {}),
            }
        )
    else:
        if missing:
            click.echo(note)
        if not found:
            click.echo("No sync job has run yet (reconcile run, or reconcile sync JOB).")
        for env in found:
            for line in env.lines():
                click.echo(line)
        if failed:
            click.echo(f"Failed: {', '.join(failed)}.")
        if stale:
            click.echo(f"Stale: {', '.join(stale)}.")
    raise SystemExit(EXIT_FAILED if failed or (stale and stale_after) else EXIT_OK)


COMMANDS = [run_command, status_command]
