"""``reconcile listen``: receive GetResponse callbacks and webhooks as they happen (thin:
settings → :func:`reconcile.jobs.listen.serve`)."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from reconcile.cli.common import (
    emit_json,
    json_option,
    quiet_option,
    settings_options,
    state_option,
)
from reconcile.errors import EXIT_OK


@click.command("listen")
@click.option(
    "--host", metavar="ADDRESS", help="Where to listen (default: listen.host, 127.0.0.1)."
)
@click.option("--port", type=click.IntRange(1, 65535), help="Default: listen.port (8787).")
@state_option
@json_option
@quiet_option
@settings_options
def listen(
    host: str | None,
    port: int | None,
    state_path: str | None,
    as_json: bool,
    quiet: bool,
    config_path: str | None,
    profile: str | None,
) -> None:
    """Receive GetResponse's opens, clicks, subscribes and unsubscribes as they happen, and
    write them to the CRM like the hourly `sync activities` does (the same records, never
    twice). Put it behind your own HTTPS reverse proxy; GetResponse calls
    https://<your proxy>/getresponse/<listen.secret>. Requests without the secret are
    refused; each event is journaled before it is acknowledged. Stop with Ctrl-C or SIGTERM:
    what was received is written first.

    \b
    Example:
      export RECONCILE_LISTEN_SECRET=...      # a long random string
      reconcile listen --port 8787
      reconcile sync callbacks --url https://hooks.example.com
    """
    from reconcile.config import load_settings
    from reconcile.jobs.listen import serve

    settings = load_settings(config_path, profile)
    if not quiet:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    def started(info: dict[str, Any]) -> None:
        if as_json:
            return
        click.echo(f"Receiving GetResponse callbacks on {info['listening']}", err=True)
        if info["callback_url"]:
            click.echo(f"GetResponse calls {info['callback_url']}", err=True)
        click.echo("Stop with Ctrl-C: what was received is written first.", err=True)

    def ran(report: Any) -> None:
        if not quiet and not as_json and report.counts:
            click.echo(
                "wrote " + ", ".join(f"{n:,} {what}" for what, n in report.counts.items()),
                err=True,
            )

    summary = serve(settings, host=host, port=port, state_path=state_path, on_start=started,
                    on_report=ran)  # fmt: skip
    if as_json:
        emit_json(summary)
    else:
        click.echo(
            f"Received {summary['received']:,} events; {summary['written']:,} activity "
            f"records written in {summary['runs']:,} runs."
        )
    sys.exit(EXIT_OK)


COMMANDS = [listen]
