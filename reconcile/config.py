"""Settings: one TOML file, environment variables for every setting, secrets from the
environment or the system keyring, and profiles for several environments.

Where each value comes from, highest first:

1. ``RECONCILE_<SECTION>_<KEY>`` environment variables (``RECONCILE_DYNAMICS_CLIENT_ID``);
2. the profile's table in the file (``[profiles.staging.dynamics]``);
3. the file's top-level tables (``[dynamics]``, ``[getresponse]``, ``[sync]``);
4. defaults.

Secrets (the Dynamics client secret or access token, the GetResponse API key or OAuth
token) are never read from the file and never written anywhere: they come from
``RECONCILE_DYNAMICS_CLIENT_SECRET`` and friends, or from the keyring entry
``reconcile`` / ``<profile>/<section>.<key>``. :class:`Secret` keeps them out of ``repr``,
``str`` and f-strings; only :meth:`Secret.reveal` gives the value, to an auth object.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from reconcile.errors import ConfigError

ENV_PREFIX = "RECONCILE_"
KEYRING_SERVICE = "reconcile"
DEFAULT_PROFILE = "default"
API_VERSIONS = ("v8.2", "v9.0", "v9.1", "v9.2")
DEPLOYMENTS = ("online", "onpremises")
REMOVED_MEMBERS = ("mark", "remove")
GETRESPONSE_HOSTS = {
    "standard": "https://api.getresponse.com/v3",
    "max-us": "https://api3.getresponse360.com/v3",
    "max-pl": "https://api3.getresponse360.pl/v3",
}


class Secret:
    """A secret value that does not print itself."""

    __slots__ = ("__value", "source")

    def __init__(self, value: str, source: str) -> None:
        self.__value = value
        self.source = source  # "environment (RECONCILE_…)" or "keyring"

    def reveal(self) -> str:
        return self.__value

    def __repr__(self) -> str:
        return f"Secret(*** from {self.source})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> Any:
        raise TypeError("secrets are not pickled")


@dataclass(frozen=True)
class DynamicsSettings:
    """SPEC 1.1: the Dynamics connection."""

    deployment: str = "online"  # online | onpremises
    environment_url: str | None = None
    api_version: str = "v9.2"
    client_id: str | None = None
    authority: str | None = None  # Online: https://login.microsoftonline.com/<tenant>; AD FS URL
    resource: str | None = None  # On-Premises: AD FS relying party id (default: environment_url)
    ca_file: str | None = None  # extra CA bundle (corporate proxy, the sandbox)
    concurrency: int = 16
    # The tenant's 24-hour Power Platform request allowance for the connector's (application)
    # user, which `reconcile status` compares each day's requests with (docs/runner.md).
    daily_requests: int = 100_000
    timeout: float = 120.0
    client_secret: Secret | None = field(default=None, repr=False)
    access_token: Secret | None = field(default=None, repr=False)  # a static bearer token


@dataclass(frozen=True)
class GetResponseSettings:
    """SPEC 1.2: the GetResponse connection (MAX: its own API host and a domain)."""

    api_url: str = GETRESPONSE_HOSTS["standard"]
    domain: str | None = None  # GetResponse MAX: the X-Domain header
    api_key: Secret | None = field(default=None, repr=False)
    oauth_token: Secret | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SyncSettings:
    """SPEC 1.3: what the sync sends, editable later."""

    send_custom_fields: bool = False
    custom_fields: tuple[str, ...] = ()  # which ones (empty with send_custom_fields: all)
    send_tags: bool = False
    # The state store (journal, watermarks, leases): a SQLite file, or a postgresql:// URL
    # shared by runners on several hosts (its password from PGPASSWORD or ~/.pgpass).
    state: str | None = None


@dataclass(frozen=True)
class ListsSettings:
    """``reconcile sync lists`` (SPEC 4): who is pushed, and what a removal does."""

    send_opted_out: bool = False  # push members that do not allow bulk email anyway
    send_inactive: bool = False  # push inactive CRM contacts anyway
    removed_members: str = "mark"  # mark: keep the GetResponse contact | remove: delete it
    unsubscribe_opted_out: bool = True  # opted out after the push: unsubscribe in GetResponse


@dataclass(frozen=True)
class ContactsSettings:
    """``reconcile sync contacts`` (SPEC 5, 8)."""

    link_by_email: bool = False  # link a new GetResponse contact to the one CRM contact with it
    deletion_scan: str = "1d"  # how often the id-only deletion scan runs
    unsubscribe_sets_donotbulkemail: bool = False


@dataclass(frozen=True)
class ActivitiesSettings:
    """``reconcile sync activities`` (SPEC 5.5): what is kept, and for how long."""

    sends: bool = True
    opens: bool = True
    clicks: bool = True
    retention_days: int = 180
    aggregate: bool = False  # one record per contact x message x type, with a count
    # Where activities are read: "report" (GetResponse custom reports, the bulk path),
    # "api" (the per-message / per-contact activity endpoints), "auto" (reports, unless the
    # plan has none or the window holds only a few hundred activities).
    source: str = "auto"
    # How long one run waits for GetResponse to generate a custom report; a report still not
    # ready is kept and the next run goes on with it.
    report_wait: str = "10m"


@dataclass(frozen=True)
class ListenSettings:
    """``reconcile listen`` (near real time): GetResponse callbacks and webhooks received
    behind the admin's own HTTPS reverse proxy."""

    host: str = "127.0.0.1"  # where the receiver listens (the reverse proxy forwards here)
    port: int = 8787
    # The address GetResponse calls: the reverse proxy's public https URL (reconcile sync
    # callbacks --url overrides it). The secret path segment is added to it.
    public_url: str | None = None
    flush_seconds: float = 2.0  # how long received events wait to be written in one batch
    # The secret part of the callback URL (RECONCILE_LISTEN_SECRET or the keyring, never the
    # file); requests without it are refused.
    secret: Secret | None = field(default=None, repr=False)


@dataclass(frozen=True)
class NewslettersSettings:
    """``reconcile sync newsletters`` (SPEC 7)."""

    # Environments (their URLs) allowed to send: a copy of production must not mail customers.
    send_environments: tuple[str, ...] = ()
    # The CRM users' time zone (IANA, e.g. "Europe/Paris") for the send time shown on the
    # record; default: the GetResponse account's time zone.
    time_zone: str | None = None
    # POST /newsletters is limited to 256 calls a day by GetResponse; the job sends a copy of
    # the template per newsletter, so it schedules at most this many a day.
    daily_limit: int = 256


@dataclass(frozen=True)
class ScheduleSettings:
    """SPEC 9 cadences for ``reconcile run``: a duration (``1h``, ``5m``) or a cron line."""

    lists: str = "1h"
    contacts: str = "1h"
    activities: str = "1h"
    templates: str = "5m"
    newsletters: str = "1m"
    timezone: str | None = None  # cron lines are read in this zone (default: the host's)
    # A runner that stops renewing its leases (killed, hung, host gone) loses them after this.
    lease: str = "10m"
    # GetResponse blocked the API (1016, 1017): no job calls that account for this long.
    after_block: str = "1h"


@dataclass(frozen=True)
class AlertsSettings:
    """``reconcile run``: who hears about a failed run, stale data or a GetResponse API block
    — once per incident, and once more when it is over."""

    command: str | None = None  # run with the alert as JSON on stdin (RECONCILE_ALERT_* too)
    # a URL that receives the alert as a JSON POST; it is a secret (Slack and Teams webhook
    # URLs embed their key): RECONCILE_ALERTS_WEBHOOK or the keyring, never the file
    webhook: Secret | None = field(default=None, repr=False)
    stale_after: str | None = "3h"  # a job with no successful run for this long is stale
    resolved: bool = True  # also say when an incident is over


SECTIONS: dict[str, type] = {
    "dynamics": DynamicsSettings,
    "getresponse": GetResponseSettings,
    "sync": SyncSettings,
    "lists": ListsSettings,
    "contacts": ContactsSettings,
    "activities": ActivitiesSettings,
    "newsletters": NewslettersSettings,
    "listen": ListenSettings,
    "schedule": ScheduleSettings,
    "alerts": AlertsSettings,
}
SECRETS = {
    "dynamics": ("client_secret", "access_token"),
    "getresponse": ("api_key", "oauth_token"),
    "alerts": ("webhook",),
    "listen": ("secret",),
}


@dataclass(frozen=True)
class Settings:
    profile: str
    source: Path | None
    dynamics: DynamicsSettings
    getresponse: GetResponseSettings
    sync: SyncSettings
    lists: ListsSettings = field(default_factory=ListsSettings)
    contacts: ContactsSettings = field(default_factory=ContactsSettings)
    activities: ActivitiesSettings = field(default_factory=ActivitiesSettings)
    newsletters: NewslettersSettings = field(default_factory=NewslettersSettings)
    listen: ListenSettings = field(default_factory=ListenSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    alerts: AlertsSettings = field(default_factory=AlertsSettings)

    def describe(self) -> dict[str, Any]:
        """Every setting for display: secrets show where they come from, never their value."""
        out: dict[str, Any] = {"profile": self.profile, "file": str(self.source or "")}
        for name in SECTIONS:
            section = getattr(self, name)
            values: dict[str, Any] = {}
            for f in fields(section):
                value = getattr(section, f.name)
                if isinstance(value, Secret):
                    values[f.name] = f"set ({value.source})"
                elif f.name in SECRETS.get(name, ()):
                    values[f.name] = "not set"
                else:
                    values[f.name] = list(value) if isinstance(value, tuple) else value
            out[name] = values
        return out


def env_name(section: str, key: str) -> str:
    return f"{ENV_PREFIX}{section.upper()}_{key.upper()}"


def default_paths(env: Mapping[str, str]) -> list[Path]:
    config_home = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [Path("reconcile.toml"), config_home / "reconcile" / "config.toml"]


KeyringGet = Callable[[str, str], str | None]


def keyring_get(service: str, username: str) -> str | None:
    """The system keyring's entry, or None when there is no keyring or no entry."""
    try:
        import keyring
        import keyring.errors
    except ImportError:  # pragma: no cover - keyring is a dependency
        return None
    try:
        return keyring.get_password(service, username)
    except keyring.errors.KeyringError:
        return None


# Numbers outside these bounds are refused where they are read (file, profile or environment),
# not discovered later as an httpx or thread-pool traceback. (low, high), inclusive.
RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("dynamics", "timeout"): (1.0, 3600.0),  # seconds per request
    ("dynamics", "concurrency"): (1, 52),  # Dataverse serves 52 concurrent requests per user
    ("dynamics", "daily_requests"): (1, 10**9),  # requests per 24 hours
}


def _coerce(section: str, key: str, value: Any, kind: type, where: str) -> Any:
    number = _coerce_value(section, key, value, kind, where)
    bounds = RANGES.get((section, key))
    if bounds is not None and not bounds[0] <= number <= bounds[1]:  # NaN fails too
        low, high = (f"{b:g}" for b in bounds)
        raise ConfigError(
            f"{where}: {section}.{key} must be between {low} and {high}, not {value!r}.",
            hint=f"Fix {section}.{key} in the settings file or {env_name(section, key)}.",
        )
    return number


def _coerce_value(section: str, key: str, value: Any, kind: type, where: str) -> Any:
    def bad(expected: str) -> ConfigError:
        return ConfigError(
            f"{where}: {section}.{key} must be {expected}, not {value!r}.",
            hint=f"Fix {section}.{key} in the settings file or {env_name(section, key)}.",
        )

    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise bad("true or false")
    if kind is int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad("a whole number") from None
    if kind is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad("a number") from None
    if kind is tuple:
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise bad("a list of names")
    if not isinstance(value, str):
        raise bad("text")
    return value.strip() or None


_KINDS = {"bool": bool, "int": int, "float": float, "tuple[str, ...]": tuple}


def _field_kinds(cls: type) -> dict[str, type]:
    out = {}
    for f in fields(cls):
        annotation = str(f.type)
        out[f.name] = _KINDS.get(annotation, str)
    return out


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}).", hint="Fix the file.") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}).") from None


def _check_tables(data: Mapping[str, Any], path: Path, where: str) -> None:
    allowed = set(SECTIONS) | ({"profiles"} if where == "" else set())
    for name, value in data.items():
        if name not in allowed:
            raise ConfigError(
                f"{path}: unknown table [{where}{name}].",
                hint=f"Use [{'], ['.join(SECTIONS)}] and [profiles.<name>.<section>].",
            )
        if name == "profiles":
            continue
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {where}{name} must be a table ([{where}{name}]).")
        section_fields = {f.name for f in fields(SECTIONS[name])}
        for key in value:
            if key in SECRETS.get(name, ()):
                raise ConfigError(
                    f"{path}: {where}{name}.{key} is a secret, and secrets are not read from "
                    "files.",
                    hint=f"Remove it from the file; set {env_name(name, key)} or store it in the "
                    f"keyring: keyring set {KEYRING_SERVICE} <profile>/{name}.{key}",
                )
            if key not in section_fields:
                raise ConfigError(
                    f"{path}: unknown setting {where}{name}.{key}.",
                    hint=f"Known {name} settings: {', '.join(sorted(section_fields))}.",
                )


def load_settings(
    path: str | Path | None = None,
    profile: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    secret_lookup: KeyringGet | None = keyring_get,
) -> Settings:
    """Read the settings (see the module docstring for precedence)."""
    env = os.environ if env is None else env
    profile = profile or env.get(f"{ENV_PREFIX}PROFILE") or DEFAULT_PROFILE
    if not re.match(r"^[A-Za-z0-9_-]+$", profile):
        raise ConfigError(f"Profile names use letters, digits, - and _ only: {profile!r}.")
    explicit = path or env.get(f"{ENV_PREFIX}CONFIG")
    source: Path | None = None
    if explicit:
        source = Path(explicit).expanduser()
        if not source.is_file():
            raise ConfigError(
                f"Settings file {source} does not exist.",
                hint="Create one with `reconcile init`, or fix --config / RECONCILE_CONFIG.",
            )
    else:
        source = next((p for p in default_paths(env) if p.is_file()), None)
    data = _read_file(source) if source else {}
    if source:
        _check_tables(data, source, "")
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"{source}: profiles must be tables ([profiles.<name>.dynamics]).")
    for name, tables in profiles.items():  # every profile, so a secret anywhere is refused
        if not isinstance(tables, dict):
            raise ConfigError(
                f"{source}: [profiles.{name}] must hold tables like [profiles.{name}.dynamics]."
            )
        assert source is not None
        _check_tables(tables, source, f"profiles.{name}.")
    overrides: dict[str, Any] = {}
    if profile != DEFAULT_PROFILE or profile in profiles:
        if profile not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise ConfigError(
                f"Profile {profile!r} is not defined in {source or 'any settings file'}.",
                hint=f"Defined profiles: {known}. Add a [profiles.{profile}.dynamics] table.",
            )
        overrides = profiles[profile]
    sections: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        kinds = _field_kinds(cls)
        values: dict[str, Any] = {}
        for key, kind in kinds.items():
            if key in SECRETS.get(name, ()):
                values[key] = _secret(name, key, profile, env, secret_lookup)
                continue
            raw, where = None, ""
            if key in data.get(name, {}):
                raw, where = data[name][key], str(source)
            if key in overrides.get(name, {}):
                raw, where = overrides[name][key], f"{source} [profiles.{profile}]"
            if env.get(env_name(name, key)) is not None:
                raw, where = env[env_name(name, key)], f"environment {env_name(name, key)}"
            if raw is not None:
                values[key] = _coerce(name, key, raw, kind, where)
        sections[name] = cls(**{k: v for k, v in values.items() if v is not None})
    settings = Settings(profile, source, **sections)
    _validate(settings)
    return settings


def _secret(
    section: str, key: str, profile: str, env: Mapping[str, str], lookup: KeyringGet | None
) -> Secret | None:
    name = env_name(section, key)
    if env.get(name):
        return Secret(env[name], f"environment {name}")
    if lookup is not None:
        value = lookup(KEYRING_SERVICE, f"{profile}/{section}.{key}")
        if value:
            return Secret(value, f"keyring {KEYRING_SERVICE} {profile}/{section}.{key}")
    return None


def _validate(settings: Settings) -> None:
    d = settings.dynamics
    if d.deployment not in DEPLOYMENTS:
        raise ConfigError(
            f"dynamics.deployment must be 'online' or 'onpremises', not {d.deployment!r}."
        )
    if d.api_version.lower().lstrip("v") not in [v.lstrip("v") for v in API_VERSIONS]:
        raise ConfigError(
            f"dynamics.api_version must be one of {', '.join(API_VERSIONS)}, not {d.api_version!r}."
        )
    for name, url in (
        ("dynamics.environment_url", d.environment_url),
        ("dynamics.authority", d.authority),
        ("getresponse.api_url", settings.getresponse.api_url),
    ):
        if url and not re.match(r"^https?://[^/\s]+", url):
            raise ConfigError(f"{name} must be an http(s) URL, not {url!r}.")
    web_api = re.search(r"/api/data(/|$)", d.environment_url or "", re.IGNORECASE)
    if web_api:  # the Web API endpoint (Settings → Developer resources), not the environment
        root = (d.environment_url or "")[: web_api.start()]
        raise ConfigError(
            f"dynamics.environment_url is the Web API's address ({d.environment_url!r}); "
            f"give the environment's own URL: {root!r}.",
            hint="The API path and version are added by reconcile (dynamics.api_version).",
        )
    if settings.lists.removed_members not in REMOVED_MEMBERS:
        raise ConfigError(
            f"lists.removed_members must be 'mark' or 'remove', not "
            f"{settings.lists.removed_members!r}.",
            hint="mark: keep the GetResponse contact and mark its record; remove: delete that "
            "list's GetResponse contact.",
        )
    _validate_activities(settings)
    _validate_runner(settings)


ACTIVITY_SOURCES = ("auto", "report", "api")


def _validate_activities(settings: Settings) -> None:
    from reconcile.schedule import parse_duration

    a = settings.activities
    if a.retention_days < 1:
        raise ConfigError("activities.retention_days must be at least 1 (days).")
    if a.source not in ACTIVITY_SOURCES:
        raise ConfigError(
            f"activities.source must be one of {', '.join(ACTIVITY_SOURCES)}, not {a.source!r}.",
            hint="report: GetResponse custom reports; api: the activity endpoints; auto: "
            "reports unless the plan has none or the window is small.",
        )
    if not (a.sends or a.opens or a.clicks):
        raise ConfigError(
            "activities.sends, opens and clicks are all off: the activities job would keep "
            "nothing.",
            hint="Turn at least one on, or leave the activities job out of the schedule.",
        )
    try:
        parse_duration(a.report_wait)
    except ValueError as exc:
        raise ConfigError(f"activities.report_wait: {exc}.") from None
    listen = settings.listen
    if not 1 <= listen.port <= 65535:
        raise ConfigError(f"listen.port must be between 1 and 65535, not {listen.port}.")
    if listen.flush_seconds <= 0:
        raise ConfigError("listen.flush_seconds must be more than 0.")
    if listen.public_url and not re.match(r"^https?://[^/\s]+", listen.public_url):
        raise ConfigError(f"listen.public_url must be an http(s) URL, not {listen.public_url!r}.")


def _validate_runner(settings: Settings) -> None:
    """[schedule], [alerts] and sync.state: refused at load time, before anything runs."""
    from reconcile.schedule import parse_cadence, parse_duration
    from reconcile.state import has_password

    for f in fields(ScheduleSettings):
        value = getattr(settings.schedule, f.name)
        if f.name == "timezone" or value is None:
            continue
        try:
            if f.name in ("after_block", "lease"):
                parse_duration(value)
            else:
                parse_cadence(value)
        except ValueError as exc:
            raise ConfigError(f"schedule.{f.name}: {exc}.") from None
    if settings.schedule.timezone:
        zone_of(settings.schedule.timezone)
    try:
        stale_seconds(settings)
    except ValueError as exc:
        raise ConfigError(f"alerts.stale_after: {exc} (or 'off').") from None
    if settings.sync.state and has_password(settings.sync.state):
        raise ConfigError(
            "sync.state holds a password, and secrets are not read from settings.",
            hint="Remove it from the URL; PostgreSQL's client reads it from PGPASSWORD or "
            "~/.pgpass (chmod 600), or from a service file (PGSERVICEFILE).",
        )


OFF = ("off", "never", "no", "none", "false")


def stale_seconds(settings: Settings) -> float | None:
    """``alerts.stale_after`` in seconds, None when it is ``off``."""
    from reconcile.schedule import parse_duration

    value = (settings.alerts.stale_after or "off").strip()
    return None if value.lower() in OFF else parse_duration(value)


def zone_of(name: str | None) -> Any:
    """The time zone cron lines are read in: ``schedule.timezone``, else the host's."""
    if not name:
        import datetime as dt

        return dt.datetime.now().astimezone().tzinfo
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"schedule.timezone: {name!r} is not a time zone.",
            hint="Use an IANA name such as Europe/Paris or UTC.",
        ) from None


def require_dynamics(settings: Settings) -> DynamicsSettings:
    """The Dynamics settings, or a ConfigError listing everything still missing."""
    d, missing = settings.dynamics, []
    if not d.environment_url:
        missing.append(f"dynamics.environment_url ({env_name('dynamics', 'environment_url')})")
    if d.access_token is None:
        if not d.client_id:
            missing.append(f"dynamics.client_id ({env_name('dynamics', 'client_id')})")
        if d.client_secret is None:
            missing.append(
                f"the client secret ({env_name('dynamics', 'client_secret')} or keyring "
                f"{KEYRING_SERVICE} {settings.profile}/dynamics.client_secret)"
            )
        if d.deployment == "onpremises" and not d.authority:
            missing.append("dynamics.authority (the AD FS URL, https://<adfs-host>/adfs)")
    if missing:
        secret_only = len(missing) == 1 and d.client_secret is None and d.access_token is None
        raise ConfigError(
            "Dynamics connection settings are missing: " + "; ".join(missing) + ".",
            hint=(
                f"Set {env_name('dynamics', 'client_secret')} to the app's client secret "
                f"value, or store it: keyring set {KEYRING_SERVICE} "
                f"{settings.profile}/dynamics.client_secret (it never goes in the file)."
                if secret_only
                else "Put the settings in reconcile.toml (`reconcile init` writes a commented "
                "one) and the secret in the environment or the keyring."
            ),
        )
    return d


def require_getresponse(settings: Settings) -> GetResponseSettings:
    g = settings.getresponse
    if g.api_key is None and g.oauth_token is None:
        raise ConfigError(
            "No GetResponse API key or OAuth token is set.",
            hint=f"Set {env_name('getresponse', 'api_key')} (or "
            f"{env_name('getresponse', 'oauth_token')}), or store it in the keyring: "
            f"keyring set {KEYRING_SERVICE} {settings.profile}/getresponse.api_key",
        )
    if (
        g.api_url != GETRESPONSE_HOSTS["standard"]
        and g.api_url in (GETRESPONSE_HOSTS["max-us"], GETRESPONSE_HOSTS["max-pl"])
        and not g.domain
    ):
        raise ConfigError(
            "GetResponse MAX needs the account's domain (getresponse.domain).",
            hint=f"Set getresponse.domain or {env_name('getresponse', 'domain')}.",
        )
    return g


TEMPLATE = """\
# reconcile settings. Secrets are never read from this file: set them in the environment
# (RECONCILE_DYNAMICS_CLIENT_SECRET, RECONCILE_GETRESPONSE_API_KEY, ...) or store them in the
# system keyring:   keyring set reconcile default/dynamics.client_secret
# Every setting can also be given as RECONCILE_<SECTION>_<KEY>, e.g. RECONCILE_DYNAMICS_CLIENT_ID.

[dynamics]
# "online" (Dynamics 365 Online, Entra ID) or "onpremises" (AD FS).
deployment = "online"
# The CRM environment address. On-Premises: https://server/OrganizationName
environment_url = "https://contoso.crm4.dynamics.com"
# Web API version: v8.2, v9.0, v9.1 or v9.2 (bulk messages are used on v9.2).
api_version = "v9.2"
# The application (client) id registered for the connector.
client_id = "00000000-0000-0000-0000-000000000000"
# Authority server URL. Online: https://login.microsoftonline.com/<tenant-id> (left out, it is
# discovered from the environment). On-Premises: https://<adfs-host>/adfs
# authority = "https://login.microsoftonline.com/<tenant-id>"
# On-Premises only: the AD FS relying-party identifier of the CRM (default: environment_url).
# resource = "https://crm.contoso.com/"
# Extra CA bundle to trust (a corporate TLS proxy).
# ca_file = "/etc/ssl/certs/corporate.pem"
# Requests in flight at once (Dataverse allows 52 per user).
concurrency = 16
# The tenant's 24-hour request allowance for the connector's application user (Power Platform
# admin center > Capacity); reconcile status compares each day's requests with it.
daily_requests = 100000

[getresponse]
# https://api.getresponse.com/v3; GetResponse MAX: https://api3.getresponse360.com/v3
# (or https://api3.getresponse360.pl/v3) plus your domain.
api_url = "https://api.getresponse.com/v3"
# domain = "example.com"

[sync]
# Send GetResponse custom fields to the CRM, and which ones (empty list: all).
send_custom_fields = false
custom_fields = []
# Send GetResponse tags to the CRM.
send_tags = false
# The state store (journal, watermarks, leases), default ~/.local/share/reconcile/state.sqlite3.
# Runners on several hosts share a PostgreSQL database instead (the password comes from
# PGPASSWORD or ~/.pgpass, never from this file):
# state = "postgresql://reconcile@db.example.com/reconcile"

[lists]
# reconcile sync lists (CRM marketing lists -> GetResponse). Members who do not allow bulk
# email, or inactive contacts, are not pushed unless these say so.
send_opted_out = false
send_inactive = false
# A member removed from the marketing list later: "mark" keeps the GetResponse contact and
# marks its record; "remove" deletes that list's GetResponse contact.
removed_members = "mark"
# A contact that stops allowing bulk email after the push is unsubscribed in GetResponse.
unsubscribe_opted_out = true

[contacts]
# reconcile sync contacts (GetResponse -> GetResponse Contact records). A new GetResponse
# contact gets a record without CRM contact; true links it to the one active CRM contact
# whose email is exactly its address (never when two or more have it).
link_by_email = false
# How often each list is scanned for contacts deleted in GetResponse: "1d", "12h", "30m",
# "0" (every run) or "off" (only with --full).
deletion_scan = "1d"
# A contact that unsubscribed in GetResponse sets "Do not allow Bulk Emails" on its CRM
# contact (never cleared). Needs Write on Contact for the connector's identity.
unsubscribe_sets_donotbulkemail = false

[newsletters]
# reconcile sync newsletters sends only from these Dynamics environments (their URLs): a copy
# of production in a test environment must not mail real customers.
send_environments = []
# The CRM users' time zone for the send time shown on newsletter records (IANA name); empty:
# the GetResponse account's time zone.
# time_zone = "Europe/Paris"

[activities]
# reconcile sync activities (SPEC 5.5): which GetResponse activities become GetResponse
# Activity records, and for how long they are kept (older records are deleted by the job).
sends = true
opens = true
clicks = true
retention_days = 180
# One record per contact, message and type with a count, instead of one per activity.
aggregate = false
# "report" (custom reports, the bulk path), "api" (the activity endpoints) or "auto".
source = "auto"
report_wait = "10m"

[listen]
# reconcile listen: GetResponse callbacks in near real time, behind your HTTPS reverse proxy.
# The secret part of the callback URL: RECONCILE_LISTEN_SECRET or
#   keyring set reconcile default/listen.secret
host = "127.0.0.1"
port = 8787
# public_url = "https://hooks.example.com"

[schedule]
# reconcile run: how often each job runs (a duration like 1h / 5m, or a cron line such as
# "*/5 * * * *", read in the host's time zone unless timezone says otherwise).
lists = "1h"
contacts = "1h"
activities = "1h"
templates = "5m"
newsletters = "1m"
# timezone = "Europe/Paris"
# GetResponse blocked the API (codes 1016, 1017): leave that account alone this long.
after_block = "1h"
# A runner that stops renewing its leases (killed, hung, its host gone) loses them after this
# and another runner takes over; a live one renews them every third of it.
lease = "10m"

[alerts]
# A failed run, data older than stale_after, a GetResponse API block: told once per incident.
# command gets the alert as JSON on stdin; the webhook URL is a secret (set
# RECONCILE_ALERTS_WEBHOOK or: keyring set reconcile default/alerts.webhook).
# command = "/usr/local/bin/page-the-admin"
# A job without a successful run for this long is stale ("off": never).
stale_after = "3h"
resolved = true

# Another environment: reconcile --profile staging ... (or RECONCILE_PROFILE=staging).
# [profiles.staging.dynamics]
# environment_url = "https://contoso-staging.crm4.dynamics.com"
"""


def write_template(path: str | Path, *, force: bool = False) -> Path:
    """Write the commented settings template; refuses to overwrite unless ``force``."""
    target = Path(path).expanduser()
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists.", hint="Use --force to overwrite it.")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(TEMPLATE, encoding="utf-8")
    return target
