"""``reconcile sandbox serve --write-config``: one ``. sandbox.env`` and every command talks to
the sandboxes (the msal flow of a real tenant), with no secret in the settings file."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconcile.config import load_settings

RECONCILE = str(Path(sys.executable).parent / "reconcile")


@pytest.mark.slow
def test_one_env_file_points_every_command_at_the_sandboxes(tmp_path: Path) -> None:
    config = tmp_path / "sandbox.toml"
    serve = subprocess.Popen(
        [RECONCILE, "sandbox", "serve", "--no-sample-data", "--write-config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    env_file = tmp_path / "sandbox.env"
    try:
        deadline = time.monotonic() + 60
        while not env_file.exists() or "RECONCILE_GETRESPONSE_API_KEY" not in env_file.read_text():
            assert serve.poll() is None, serve.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        settings_text = config.read_text(encoding="utf-8")
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in env_file.read_text(encoding="utf-8").splitlines()
            if line.startswith("export ")
        )
        for secret in (
            exports["RECONCILE_DYNAMICS_CLIENT_SECRET"],
            exports["RECONCILE_GETRESPONSE_API_KEY"],
        ):
            assert secret.strip("'") not in settings_text
        settings = load_settings(config, env={})  # the file alone is valid settings
        assert settings.dynamics.environment_url.startswith("http://127.0.0.1:")
        assert settings.dynamics.client_secret is None
        clean = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILE_")}
        script = f". {env_file} && reconcile schema install -q && reconcile doctor --json"
        done = subprocess.run(  # the user's one step, in another shell
            ["bash", "-c", script],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**clean, "PATH": f"{Path(RECONCILE).parent}:{clean.get('PATH', '')}"},
            timeout=240,
        )
        report = json.loads(done.stdout[done.stdout.index('{\n  "ok"') :])
        status = {c["name"]: c["status"] for c in report["checks"]}
        assert status["dynamics.connection"] == "ok", done.stderr
        assert status["dynamics.tables"] == "ok"
        assert status["getresponse.connection"] == "ok"
    finally:
        serve.send_signal(signal.SIGINT)
        _, err = serve.communicate(timeout=30)
    assert serve.returncode == 0, err
    assert "Traceback" not in err
    assert f". {env_file} && reconcile doctor" in err


def test_a_port_in_use_is_a_wrong_option_not_a_traceback() -> None:
    import socket

    from click.testing import CliRunner

    from reconcile.cli import cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["sandbox", "serve", "--getresponse-port", str(port)]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert f"The getresponse sandbox cannot listen on 127.0.0.1:{port}" in result.stderr
        assert "--getresponse-port" in result.stderr
        assert "Traceback" not in result.output
        result = CliRunner().invoke(cli, [*args, "--json"])
        assert (result.exit_code, json.loads(result.stdout)["error"]["code"]) == (2, 2)
