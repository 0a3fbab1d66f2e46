"""Settings that point every command at running sandboxes: ``sandbox serve --write-config``.

Two files, because secrets are never read from a settings file (``reconcile.config``): the
settings file itself (URLs, client id, authority, CA bundle — nothing secret) and, next to it,
a shell file that exports ``RECONCILE_CONFIG`` and the sandboxes' throw-away secrets. One
``. ./sandbox.env`` in a terminal and every command (``doctor``, ``schema install``,
``migrate plan``…) talks to the sandboxes, through the same msal client-credentials flow a real
tenant uses.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

from reconcile.errors import InputError, Problem


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def settings_text(info: dict[str, Any]) -> str:
    """The settings file (TOML, no secret) for the sandboxes described by ``info``."""
    lines = [
        "# Written by `reconcile sandbox serve --write-config`: the sandboxes it started, valid",
        "# while it runs (ports change on the next start). The secrets are in the .env file",
        "# next to this one, never here.",
    ]
    dataverse = info.get("dataverse")
    if dataverse:
        admin = dataverse["identities"]["admin"]
        lines += [
            "",
            "[dynamics]",
            'deployment = "online"',
            f"environment_url = {_toml_string(dataverse['url'])}",
            f'api_version = "v{dataverse["api_version"].lstrip("v")}"',
            f"client_id = {_toml_string(admin['client_id'])}  # the sandbox's administrator",
            f"authority = {_toml_string(dataverse['authority'])}",
            f"ca_file = {_toml_string(dataverse['ca_file'])}  # the authority's throw-away CA",
        ]
    getresponse = info.get("getresponse")
    if getresponse:
        lines += ["", "[getresponse]", f"api_url = {_toml_string(getresponse['url'])}"]
    return "\n".join(lines) + "\n"


def env_text(info: dict[str, Any], settings_path: Path, secrets_path: Path) -> str:
    """Shell exports: where the settings file is, and the sandboxes' secrets."""
    exports = {"RECONCILE_CONFIG": str(settings_path.resolve())}
    if info.get("dataverse"):
        secret = info["dataverse"]["identities"]["admin"]["client_secret"]
        exports["RECONCILE_DYNAMICS_CLIENT_SECRET"] = secret
    if info.get("getresponse"):
        exports["RECONCILE_GETRESPONSE_API_KEY"] = info["getresponse"]["api_key"]
    lines = [
        "# Throw-away secrets of the sandboxes `reconcile sandbox serve` started. Load them with",
        f"#   . {shlex.quote(str(secrets_path))}",
        "# then run any command: reconcile doctor, reconcile schema install, ...",
    ]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in exports.items()]
    return "\n".join(lines) + "\n"


def env_path(settings_path: Path) -> Path:
    """``sandbox.toml`` → ``sandbox.env`` (next to it; ``x.env`` → ``x.env.env``)."""
    secrets = settings_path.with_suffix(".env")
    return (
        secrets
        if secrets != settings_path
        else settings_path.with_name(settings_path.name + ".env")
    )


def write_settings(info: dict[str, Any], path: str | Path) -> tuple[Path, Path]:
    """Write both files (the .env one readable by its owner only); their paths."""
    target = Path(path).resolve()
    secrets = env_path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(settings_text(info), encoding="utf-8")
        handle = os.open(secrets, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(env_text(info, target, secrets))
        os.chmod(secrets, 0o600)  # also when the file existed with wider permissions
    except OSError as exc:
        raise InputError(
            Problem(f"cannot write here: {exc.strerror or exc}", file=exc.filename or str(target)),
            hint="choose another --write-config path (a folder you can write to)",
        ) from exc
    return target, secrets
