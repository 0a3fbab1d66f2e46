"""``reconcile doctor``: is everything in place for the sync to run?

Connects to both services and reports, one check at a time, what works and exactly what
is missing: the Dynamics connection and version, the connector's tables and security
roles, the privileges the running identity holds compared with the service user role,
change tracking on contacts, and the GetResponse account. A check that cannot run because
an earlier one failed is reported as skipped, not as a second failure.

Nothing is written to either service. Secrets never appear in the report: settings are
shown through :meth:`reconcile.config.Settings.describe`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from reconcile.config import Settings, require_getresponse
from reconcile.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, EXIT_SERVICE, ReconcileError
from reconcile.progress import SILENT, Progress
from reconcile.retrying import RetryPolicy

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient

OK, WARNING, FAILED, SKIPPED = "ok", "warning", "failed", "skipped"
# A diagnosis should answer quickly: one retry, not the jobs' patient policy.
DOCTOR_RETRIES = RetryPolicy(max_attempts=2, base_delay=0.5, max_server_wait=10.0)


@dataclass
class Check:
    name: str
    status: str
    summary: str
    details: list[str] = field(default_factory=list)
    hint: str | None = None
    code: int = EXIT_FAILED  # when failed: the exit code of what failed (settings, service, …)


@dataclass
class DoctorReport:
    profile: str
    settings: dict[str, Any]
    checks: list[Check] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.status != FAILED for c in self.checks)

    @property
    def exit_code(self) -> int:
        """Settings first (2: nothing could be checked as asked), then a service that refused
        or could not be reached (3), then something missing or incomplete (1)."""
        codes = {c.code for c in self.checks if c.status == FAILED}
        for code in (EXIT_BAD_INPUT, EXIT_SERVICE, EXIT_FAILED):
            if code in codes:
                return code
        return EXIT_FAILED if codes else EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "profile": self.profile,
            "versions": self.versions,
            "checks": [asdict(c) for c in self.checks],
            "settings": self.settings,
        }


def _failure(name: str, exc: ReconcileError) -> Check:
    return Check(name, FAILED, exc.message, hint=exc.hint, code=exc.exit_code)


def _version_tuple(text: str) -> tuple[int, int] | None:
    match = re.match(r"v?(\d+)\.(\d+)", text.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def check_dynamics(
    report: DoctorReport, connect: Callable[[], DataverseClient], progress: Progress
) -> None:
    from reconcile.dataverse import metadata, resources, security

    names = ("tables", "roles", "service_user", "change_tracking")
    try:
        client = connect()
    except ReconcileError as exc:
        report.checks.append(_failure("dynamics.connection", exc))
        report.checks.extend(Check(f"dynamics.{n}", SKIPPED, "not connected") for n in names)
        return
    with client, progress.task("Checking Dynamics", total=5) as task:
        try:
            identity = resources.who_am_i(client)
            version = resources.server_version(client)
        except ReconcileError as exc:
            report.checks.append(_failure("dynamics.connection", exc))
            report.checks.extend(Check(f"dynamics.{n}", SKIPPED, "not connected") for n in names)
            return
        report.versions["dynamics"] = version
        report.versions["dynamics_api"] = client.api_version.value
        writes = "bulk messages" if client.api_version.supports_bulk_messages else "$batch"
        connection = Check(
            "dynamics.connection",
            OK,
            f"Connected to {client.environment_url} (version {version}, Web API "
            f"{client.api_version.value}, writes through {writes}) as user {identity.user_id}.",
        )
        server, wanted = _version_tuple(version), _version_tuple(client.api_version.value)
        if server and wanted and wanted > server:
            connection.status, connection.code = FAILED, EXIT_BAD_INPUT
            connection.hint = (
                f"The server runs {server[0]}.{server[1]}: set dynamics.api_version to "
                f"v{server[0]}.{server[1]} or lower."
            )
        report.checks.append(connection)
        task.advance()
        _run(report, "dynamics.tables", lambda: _tables(metadata.check(client)), needs_admin=True)
        tables_ok = report.checks[-1].status != FAILED  # "not checked" is no reason to blame them
        task.advance()
        _run(
            report, "dynamics.roles", lambda: _roles(security.check_roles(client)), needs_admin=True
        )
        task.advance()
        _run(
            report,
            "dynamics.service_user",
            lambda: _identity(security.check_identity(client, user_id=identity.user_id), tables_ok),
        )
        task.advance()
        _run(
            report,
            "dynamics.change_tracking",
            lambda: _tracking(resources.change_tracking_enabled(client)),
            needs_admin=True,
        )
        task.advance()


def _run(
    report: DoctorReport, name: str, body: Callable[[], Check], *, needs_admin: bool = False
) -> None:
    """One check; when it needs an administrator's read access (table definitions, roles)
    and the identity lacks it — the connector's own identity usually does — it is reported
    as not checked, not as a broken setup."""
    from reconcile.dataverse.errors import PrivilegeDenied

    try:
        check = body()
        check.name = name
    except PrivilegeDenied as exc:
        check = _failure(name, exc)
        if needs_admin:
            check.status = WARNING
            check.summary = f"Not checked: this identity may not read it ({exc.service_message})"
            check.hint = (
                "Run `reconcile doctor` with an administrator's settings (for example another "
                "--profile) to check the tables and roles."
            )
    except ReconcileError as exc:
        check = _failure(name, exc)
    report.checks.append(check)


def _tables(result: Any) -> Check:
    if result.ok:
        return Check(
            "",
            OK,
            "The six GetResponse tables and the two dashboards with their charts are "
            "installed and complete.",
        )
    fixable = all(f.fixable for f in result.findings)
    return Check(
        "",
        FAILED,
        f"{len(result.findings)} problem(s) with the GetResponse tables.",
        [str(f) for f in result.findings],
        "Run `reconcile schema install`."
        if fixable
        else "Run `reconcile schema install` for what is missing; the other problems need an "
        "administrator in Dynamics.",
    )


def _roles(result: Any) -> Check:
    if result.ok:
        return Check("", OK, "The four GetResponse security roles exist with their privileges.")
    details = []
    for status in result.roles:
        if status.role_id is None:
            details.append(f"role {status.name!r} is missing")
        details.extend(f"role {status.name!r} lacks {s}" for s in status.missing[:20])
        if len(status.missing) > 20:
            details.append(f"role {status.name!r}: … and {len(status.missing) - 20} more")
    return Check(
        "",
        FAILED,
        "The GetResponse security roles are incomplete.",
        details,
        "Run `reconcile schema install` (it creates the roles and their privileges).",
    )


def _identity(result: Any, tables_ok: bool) -> Check:
    if result.ok:
        return Check("", OK, f"The connector's identity holds everything {result.role} grants.")
    hint = (
        f"Assign the {result.role!r} security role to this application user (Power Platform "
        "admin center → Environment → Settings → Users → Application users)."
    )
    if not tables_ok:
        hint = (
            "Run `reconcile schema install` first (the GetResponse tables' privileges exist "
            "only once the tables do), then: " + hint
        )
    return Check(
        "",
        FAILED,
        f"The connector's identity ({result.user_id}) lacks {len(result.missing)} privilege(s) "
        f"of {result.role}.",
        [str(s) for s in result.missing],
        hint,
    )


def _tracking(enabled: bool) -> Check:
    if enabled:
        return Check(
            "",
            OK,
            "Change tracking is enabled on Contact: incremental reads see changes and deletions.",
        )
    return Check(
        "",
        WARNING,
        "Change tracking is off on Contact: incremental reads use "
        "modifiedon and cannot see deleted contacts.",
        hint="Enable 'Track changes' on the Contact table in Dynamics.",
    )


def check_getresponse(
    report: DoctorReport, settings: Settings, client_factory: Callable[[], Any] | None
) -> None:
    try:
        if client_factory is None:
            gr = require_getresponse(settings)
            client_factory = _getresponse_factory(gr)
        from reconcile.getresponse import get_account

        with client_factory() as client:
            account = get_account(client)
    except ReconcileError as exc:
        report.checks.append(_failure("getresponse.connection", exc))
        return
    report.versions["getresponse_api"] = settings.getresponse.api_url
    who = account.email or account.account_id
    company = f" ({account.company_name})" if account.company_name else ""
    report.checks.append(
        Check(
            "getresponse.connection",
            OK,
            f"Connected to {settings.getresponse.api_url} as account {who}{company}.",
        )
    )


def _getresponse_factory(gr: Any) -> Callable[[], Any]:
    from reconcile.getresponse import ApiKeyAuth, BearerAuth, GetResponseClient

    def build() -> Any:
        auth: ApiKeyAuth | BearerAuth
        if gr.api_key is not None:
            auth = ApiKeyAuth(gr.api_key.reveal(), domain=gr.domain)
        else:
            auth = BearerAuth(gr.oauth_token.reveal(), domain=gr.domain)
        return GetResponseClient(auth, base_url=gr.api_url)

    return build


def run_doctor(
    settings: Settings,
    *,
    dataverse: Callable[[], DataverseClient] | None = None,
    getresponse: Callable[[], Any] | None = None,
    skip_getresponse: bool = False,
    progress: Progress = SILENT,
) -> DoctorReport:
    """Every check, in order; never raises for a failed check (it is in the report)."""
    report = DoctorReport(settings.profile, settings.describe())
    if dataverse is None:
        from reconcile.dataverse.connect import connect

        def dataverse() -> DataverseClient:
            return connect(settings, retry_policy=DOCTOR_RETRIES)

    check_dynamics(report, dataverse, progress)
    if skip_getresponse:
        report.checks.append(
            Check("getresponse.connection", SKIPPED, "skipped (--skip-getresponse)")
        )
    else:
        check_getresponse(report, settings, getresponse)
    return report
