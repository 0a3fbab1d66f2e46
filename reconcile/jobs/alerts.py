"""``[alerts]``: a command or a webhook hears about a failed run, stale data or a GetResponse
API block — once per incident, and once more when it is over (``alerts.resolved``).

Why incidents live in the state store: a runner checks every minute, restarts, and may have a
standby on another host sharing the store. An incident is a row (``open_incident`` decides
atomically who opened it), so only the runner that opened it notifies, however many look, and
a restart does not notify again. A delivery that fails (webhook down) is retried at the next
check; nothing else is ever sent twice for one incident.

The alert is JSON: ``{"kind", "key", "job", "environment", "title", "detail", "at", "text"}``
(``text`` is what Slack's and Teams' incoming webhooks show). A command receives it on stdin,
and ``RECONCILE_ALERT_KIND`` / ``_JOB`` / ``_TITLE`` in its environment.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from reconcile.jobs.sync.common import Report
from reconcile.state import StateStore

COMMAND_TIMEOUT = 60.0
WEBHOOK_TIMEOUT = 15.0


@dataclass(frozen=True)
class Alert:
    kind: str  # failed | stale | blocked | resolved
    key: str
    job: str | None
    environment: str
    title: str
    detail: dict[str, Any]
    at: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "text": f"reconcile: {self.title}"}


class Notifier(Protocol):
    name: str

    def send(self, alert: Alert) -> None:
        """Deliver ``alert``; raise OSError / RuntimeError when it could not be delivered."""
        ...


class CommandNotifier:
    """Runs the admin's command with the alert as JSON on stdin (no shell)."""

    def __init__(self, command: str) -> None:
        self.argv = shlex.split(command)
        self.name = f"command {self.argv[0]}" if self.argv else "command"

    def send(self, alert: Alert) -> None:
        env = {
            **os.environ,
            "RECONCILE_ALERT_KIND": alert.kind,
            "RECONCILE_ALERT_JOB": alert.job or "",
            "RECONCILE_ALERT_TITLE": alert.title,
        }
        try:
            done = subprocess.run(  # noqa: S603 - the admin's own command, no shell
                self.argv,
                input=json.dumps(alert.as_dict()),
                text=True,
                env=env,
                capture_output=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"the alert command {self.argv[0]!r} could not run: {exc}") from exc
        if done.returncode != 0:
            raise RuntimeError(
                f"the alert command {self.argv[0]!r} exited {done.returncode}: "
                f"{(done.stderr or done.stdout).strip()[:300]}"
            )


class WebhookNotifier:
    """POSTs the alert as JSON; the URL is a secret and never appears in messages."""

    name = "webhook"

    def __init__(self, url: Any, post: Callable[..., Any] | None = None) -> None:
        self._url = url  # a config.Secret
        self._post = post

    def send(self, alert: Alert) -> None:
        import httpx

        post = self._post or httpx.post
        try:
            response = post(self._url.reveal(), json=alert.as_dict(), timeout=WEBHOOK_TIMEOUT)
        except httpx.HTTPError as exc:
            # never str(exc): it may hold the URL, which is a secret
            raise RuntimeError(
                f"the alert webhook could not be reached ({type(exc).__name__})"
            ) from None
        if response.status_code >= 300:
            raise RuntimeError(f"the alert webhook answered HTTP {response.status_code}")


def notifiers(settings: Any) -> list[Notifier]:
    """The notifiers ``[alerts]`` asks for (none: incidents are still kept for status)."""
    found: list[Notifier] = []
    if settings.command:
        found.append(CommandNotifier(settings.command))
    if settings.webhook is not None:
        found.append(WebhookNotifier(settings.webhook))
    return found


class Log(Protocol):
    def event(self, kind: str, text: str, **fields: Any) -> None: ...


class Alerts:
    """Opens and closes incidents in the store and tells the notifiers, once each."""

    def __init__(
        self,
        state: StateStore,
        senders: Sequence[Notifier],
        log: Log,
        *,
        resolved: bool = True,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.state, self.senders, self.log, self.resolved = state, list(senders), log, resolved
        self.now = now or (lambda: datetime.now(UTC))

    def _at(self) -> str:
        return self.now().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    def _deliver(self, alert: Alert) -> bool:
        delivered = True
        for sender in self.senders:
            try:
                sender.send(alert)
            except (OSError, RuntimeError) as exc:
                delivered = False
                self.log.event(
                    "alert failed",
                    f"alert {alert.key} not delivered by {sender.name}: {exc}",
                    key=alert.key,
                )
        if delivered and self.senders:
            self.log.event(
                "alert", f"alert sent: {alert.title}", key=alert.key, incident=alert.kind
            )
        return delivered

    def open(
        self, kind: str, key: str, job: str | None, env: str, title: str, detail: dict[str, Any]
    ) -> bool:
        """Open the incident ``key``; notify when this call opened it. True when it did."""
        if not self.state.open_incident(
            key, kind, {**detail, "title": title, "job": job, "environment": env}
        ):
            return False
        self.log.event("incident", f"incident: {title}", key=key, incident=kind, job=job)
        if self._deliver(Alert(kind, key, job, env, title, detail, self._at())):
            self.state.mark_notified(key)
        return True

    def close(self, key: str, title: str) -> bool:
        """Close ``key`` if open; say so (``resolved``) when its opening was told."""
        incident = self.state.close_incident(key)
        if incident is None:
            return False
        self.log.event("resolved", f"resolved: {title}", key=key)
        if self.resolved and incident.notified_at is not None:
            detail = {"was": incident.kind, "opened_at": incident.opened_at}
            job, env = incident.detail.get("job"), str(incident.detail.get("environment", ""))
            self._deliver(Alert("resolved", key, job, env, title, detail, self._at()))
        return True

    def retry(self) -> None:
        """Deliver incidents whose first delivery failed (the webhook was down)."""
        if not self.senders:
            return
        for incident in self.state.incidents():
            if incident.notified_at is None:
                d = incident.detail
                alert = Alert(
                    incident.kind,
                    incident.key,
                    d.get("job"),
                    str(d.get("environment", "")),
                    str(d.get("title", incident.key)),
                    d,
                    self._at(),
                )
                if self._deliver(alert):
                    self.state.mark_notified(incident.key)

    # -- what the runner calls --------------------------------------------------------------
    def after_run(self, job: str, environment: str, report: Report) -> None:
        key = f"failed:{job}:{environment}"
        if report.interrupted:
            return
        if report.aborted or report.failures:
            what = (report.aborted or "").split("\n")[0] or (
                f"{len(report.failures):,} record(s) failed, first: "
                f"{report.failures[0].record}: {report.failures[0].message}"
                + (f" → {report.failures[0].action}" if report.failures[0].action else "")
            )
            self.open(
                "failed",
                key,
                job,
                environment,
                f"sync {job} failed: {what}",
                {
                    "run_id": report.run_id,
                    "outcome": report.outcome,
                    "failures": len(report.failures),
                    "aborted": report.aborted,
                },
            )
        else:
            self.close(key, f"sync {job} ran cleanly again (run {report.run_id})")

    def staleness(
        self, environment: str, lags: Iterable[tuple[str, float | None, bool]], limit: float
    ) -> None:
        """(job, lag seconds, stale) for each job: open or close its stale incident."""
        from reconcile.schedule import describe_duration

        for job, lag, stale in lags:
            key = f"stale:{job}:{environment}"
            if stale:
                age = "never completed" if lag is None else f"{describe_duration(lag)} old"
                self.open(
                    "stale",
                    key,
                    job,
                    environment,
                    f"{job} data is stale: {age} (more than {describe_duration(limit)})",
                    {"lag_seconds": lag},
                )
            else:
                self.close(key, f"{job} data is fresh again")

    def blocked(self, environment: str, code: int | None, until: str, message: str) -> None:
        key = f"blocked:{environment}"
        title = f"GetResponse blocked the API (code {code}); no job calls it before {until}"
        detail = {"until": until, "code": code, "message": message}
        if not self.open("blocked", key, None, environment, title, detail):
            incident = self.state.incident(key)  # blocked again: the same incident, a new end
            known = dict(incident.detail) if incident else {}
            self.state.update_incident(key, {**known, "until": until, "message": message})

    def unblocked(self, environment: str) -> None:
        self.close(f"blocked:{environment}", "GetResponse answers again")
