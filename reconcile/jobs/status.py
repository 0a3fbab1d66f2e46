"""``reconcile status``: per job and environment, what the state store knows — the last run
(start, duration, outcome, counts, first errors), when the job is next due, its watermarks,
who holds its lease, how old its data is, and what its runs cost against both services' limits.

Why from the state store alone: status must answer when the runner is dead, on another
host, or blocked — it reads no service and needs no secret, only the settings' addresses (to
name the environment) and the store every runner writes to.

The limits (sources in docs/runner.md): GetResponse allows 30,000 requests per 10-minute
window per account; Dataverse's service protection allows 6,000 requests per user in a
5-minute sliding window; the tenant's Power Platform allowance for the connector's application
user is a number of requests per 24 hours (``dynamics.daily_requests``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from reconcile.jobs.due import Due, next_due, parse_time, runner_lease
from reconcile.jobs.sync.common import lease_name
from reconcile.schedule import Cadence, describe_duration
from reconcile.state import RunRecord, StateStore

GETRESPONSE_QUOTA = 30_000  # requests per account per window
GETRESPONSE_WINDOW = 600.0  # seconds (10 minutes)
DATAVERSE_QUOTA = 6_000  # requests per user per sliding window
DATAVERSE_WINDOW = 300.0  # seconds (5 minutes)
DAY = 86_400.0
FIRST_ERRORS = 3
WATERMARK_SHOWN = 60  # characters of a watermark the text shows (some hold id lists)


@dataclass
class JobStatus:
    job: str
    environment: str
    cadence: str
    last_run: dict[str, Any] | None
    next_due: str
    due_reason: str
    data_as_of: str | None  # the start of the last run that completed
    lag_seconds: float | None
    stale: bool
    watermarks: dict[str, str]
    lease: dict[str, Any] | None
    requests: dict[str, Any]  # the last run's, against the limits

    @property
    def failed(self) -> bool:
        return self.last_run is not None and self.last_run["outcome"] in ("failed", "aborted")

    def lines(self) -> list[str]:
        out = [f"{self.job} ({self.cadence})"]
        run = self.last_run
        if run is None:
            out.append("  last run    never")
        else:
            counts = ", ".join(f"{k} {v:,}" for k, v in run["counts"].items()) or "nothing to do"
            out.append(
                f"  last run    #{run['run_id']} {run['started_at']}, "
                f"{run['seconds']:.1f} s, {run['outcome']}: {counts}"
            )
            for error in run["first_errors"]:
                out.append(f"    error     {error}")
        out.append(f"  next due    {self.next_due} ({self.due_reason})")
        if self.data_as_of is not None and self.lag_seconds is not None:
            stale = "  STALE" if self.stale else ""
            out.append(
                f"  data as of  {self.data_as_of} "
                f"(lag {describe_duration(self.lag_seconds)}){stale}"
            )
        for name, value in self.watermarks.items():
            shown = (
                value
                if len(value) <= WATERMARK_SHOWN
                else (f"{value[:WATERMARK_SHOWN]}… ({len(value):,} characters; --json has it all)")
            )
            out.append(f"  watermark   {name} = {shown}")
        if self.lease:
            out.append(f"  lease       held by {self.lease['holder']} until {self.lease['until']}")
        if run is not None:
            gr, dv = self.requests["getresponse"], self.requests["dataverse"]
            out.append(
                f"  API calls   GetResponse {gr['requests']:,} ({gr['share']:.2%} of "
                f"{GETRESPONSE_QUOTA:,} / 10 min), Dataverse {dv['requests']:,} "
                f"({dv['share']:.2%} of {DATAVERSE_QUOTA:,} / 5 min)"
            )
        return out


@dataclass
class EnvironmentStatus:
    environment: str
    jobs: list[JobStatus]
    usage: dict[str, Any]
    runner: dict[str, Any] | None  # the runner holding the environment now
    incidents: list[dict[str, Any]] = field(default_factory=list)

    def lines(self) -> list[str]:
        dynamics, _, getresponse = self.environment.partition("|")  # the key, as admins say it
        out = [f"Environment {dynamics}" + (f" (GetResponse {getresponse})" if getresponse else "")]
        if self.runner:
            out.append(
                f"  running now: {self.runner['holder']} (lease until {self.runner['until']})"
            )
        for job in self.jobs:
            out += ["  " + line for line in job.lines()]
        gr, dv, day = (self.usage[k] for k in ("getresponse", "dataverse", "dataverse_day"))
        out.append(
            f"  Requests: GetResponse {gr['requests']:,} in the last 10 min ({gr['share']:.2%} of "
            f"{GETRESPONSE_QUOTA:,}); Dataverse {dv['requests']:,} in the last 5 min "
            f"({dv['share']:.2%} of {DATAVERSE_QUOTA:,} per user), {day['requests']:,} in 24 h "
            f"({day['share']:.2%} of {day['limit']:,} a day)"
        )
        for incident in self.incidents:
            out.append(
                f"  Open incident: {incident['kind']} {incident['key']} since "
                f"{incident['opened_at']}"
            )
        return out


def _iso(epoch_or_time: float | datetime) -> str:
    moment = (
        epoch_or_time
        if isinstance(epoch_or_time, datetime)
        else datetime.fromtimestamp(epoch_or_time, UTC)
    )
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def run_summary(run: RunRecord) -> dict[str, Any]:
    report = run.report or {}
    failures = report.get("failures") or []
    errors = [
        f"{f.get('record')}: {f.get('message')}" + (f" → {f['action']}" if f.get("action") else "")
        for f in failures[:FIRST_ERRORS]
    ]
    if report.get("aborted"):
        errors.insert(0, f"stopped: {report['aborted']}")
    elif run.report is None and run.status == "running":
        errors.insert(0, "no report: the run was killed or is still going")
    return {
        "run_id": run.run_id,
        "started_at": _iso(parse_time(report.get("started_at")) or run.started_at),
        "seconds": float(report.get("seconds") or 0.0),
        "outcome": run.outcome or ("running" if run.status == "running" else run.status),
        "status": run.status,
        "counts": dict(report.get("counts") or {}),
        "failures": len(failures),
        "first_errors": errors[:FIRST_ERRORS],
        "requests": dict(report.get("requests") or {}),
    }


def last_complete(state: StateStore, job: str, environment: str) -> RunRecord | None:
    """The last run that completed (its watermarks moved; some records may have failed)."""
    return next(iter(state.runs(f"sync:{job}", environment, limit=1, status="finished")), None)


def data_as_of(run: RunRecord | None) -> datetime | None:
    if run is None:
        return None
    started = parse_time((run.report or {}).get("started_at"))
    return started or datetime.fromtimestamp(run.started_at, UTC)


def _share(requests: int, quota: int) -> dict[str, Any]:
    return {"requests": requests, "limit": quota, "share": requests / quota if quota else 0.0}


def job_status(
    state: StateStore,
    job: str,
    environment: str,
    cadence: Cadence,
    now: datetime,
    *,
    tz: tzinfo = UTC,
    stale_after: float | None = None,
) -> JobStatus:
    last = next(iter(state.runs(f"sync:{job}", environment, limit=1)), None)
    due: Due = next_due(state, job, environment, cadence, now, tz)
    as_of = data_as_of(last_complete(state, job, environment))
    lag = (now - as_of).total_seconds() if as_of is not None else None
    trying = lag
    if as_of is None and last is not None:  # never completed: stale once it tried that long
        first = state.runs(f"sync:{job}", environment, limit=10_000)[-1]
        trying = (now - (data_as_of(first) or now)).total_seconds()
    holder = state.lease_holder(lease_name(job, environment))
    summary = run_summary(last) if last is not None else None
    used = summary["requests"] if summary else {}
    prefix = f"sync:{job}:{environment}:"
    marks = {k.removeprefix(prefix): v for k, v in state.watermarks(prefix).items()}
    return JobStatus(
        job=job,
        environment=environment,
        cadence=cadence.describe(),
        last_run=summary,
        next_due="now" if due.at <= now else _iso(due.at),
        due_reason=f"running on {due.held_by}" if due.held_by else due.reason,
        data_as_of=_iso(as_of) if as_of else None,
        lag_seconds=round(lag, 1) if lag is not None else None,
        stale=stale_after is not None and trying is not None and trying > stale_after,
        watermarks=marks,
        lease={"holder": holder[0], "until": _iso(holder[1])} if holder else None,
        requests={
            "getresponse": _share(int(used.get("getresponse", 0)), GETRESPONSE_QUOTA),
            "dataverse": _share(int(used.get("dataverse", 0)), DATAVERSE_QUOTA),
        },
    )


def usage(state: StateStore, environment: str, daily: int, at: float) -> dict[str, Any]:
    """Requests of every run of this environment in each service's window (as of ``at``)."""

    def total(service: str, window: float) -> int:
        runs = state.runs(input_key=environment, since=at - window, limit=100_000)
        return sum(int(((r.report or {}).get("requests") or {}).get(service, 0)) for r in runs)

    return {
        "getresponse": _share(total("getresponse", GETRESPONSE_WINDOW), GETRESPONSE_QUOTA),
        "dataverse": _share(total("dataverse", DATAVERSE_WINDOW), DATAVERSE_QUOTA),
        "dataverse_day": _share(total("dataverse", DAY), daily),
    }


def environment_status(
    state: StateStore,
    environment: str,
    jobs: Mapping[str, Cadence],
    now: datetime,
    *,
    tz: tzinfo = UTC,
    stale_after: float | None = None,
    daily: int = 100_000,
    at: float | None = None,
) -> EnvironmentStatus:
    """Everything ``reconcile status`` shows about one environment. ``at``: wall-clock epoch
    for the request windows (the runs' start times are wall clock)."""
    import time

    runner = state.lease_holder(runner_lease(environment))
    incidents = [
        {"key": i.key, "kind": i.kind, "opened_at": _iso(i.opened_at), "detail": i.detail}
        for i in state.incidents()
        if environment in i.key
    ]
    return EnvironmentStatus(
        environment=environment,
        jobs=[
            job_status(state, name, environment, cadence, now, tz=tz, stale_after=stale_after)
            for name, cadence in jobs.items()
        ],
        usage=usage(state, environment, daily, time.time() if at is None else at),
        runner={"holder": runner[0], "until": _iso(runner[1])} if runner else None,
        incidents=incidents,
    )


def as_dict(status: EnvironmentStatus) -> dict[str, Any]:
    data = asdict(status)
    for job, source in zip(data["jobs"], status.jobs, strict=True):
        job["failed"] = source.failed
    return data


def environments(state: StateStore, configured: str | None) -> list[str]:
    """The configured environment first, then every other one the store has runs of."""
    found = [key for _, key in state.inputs("sync:")]
    ordered = [configured] if configured else []
    for key in found:
        if key not in ordered:
            ordered.append(key)
    return ordered
