"""The set-ups docs/runner.md shows work as written: every `reconcile` command line on the page
parses (its options exist and take those values), the TOML snippets are valid settings, the
cron lines are cron lines, the systemd units pass `systemd-analyze verify`, and the Kubernetes
manifests are the objects they say, running `reconcile run` with options that parse."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from croniter import croniter

from reconcile.cli import cli
from reconcile.config import load_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "runner.md"
TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", TEXT, flags=re.DOTALL)


def blocks(kind: str) -> list[str]:
    return [body for lang, body in BLOCKS if lang == kind]


def command_lines() -> list[list[str]]:
    """The arguments after `reconcile` on every line of a shell-like block that runs it."""
    found = []
    for lang, body in BLOCKS:
        if lang not in ("bash", "ini", "powershell"):
            continue
        for line in body.replace("`\n", " ").replace("\\\n", " ").splitlines():
            match = re.search(r"reconcile(?:\.exe)? ((?:run|status)\b[^'\"#>&|]*)", line)
            if match:
                found.append(shlex.split(match.group(1).replace("\\", "/")))
    return found


def test_the_page_has_the_examples_it_promises() -> None:
    assert len(command_lines()) >= 10
    assert {args[0] for args in command_lines()} == {"run", "status"}
    assert len(blocks("yaml")) == 2
    assert sum(1 for body in blocks("ini") if "[Service]" in body) == 2


@pytest.mark.parametrize("args", command_lines(), ids=" ".join)
def test_every_command_line_parses(args: list[str]) -> None:
    command = cli.commands[args[0]]
    with command.make_context(args[0], args[1:]) as ctx:  # raises on an unknown option or value
        assert ctx.params


@pytest.mark.parametrize("body", blocks("toml"), ids=lambda b: b.splitlines()[0])
def test_every_settings_snippet_is_valid(body: str, tmp_path: Path) -> None:
    path = tmp_path / "reconcile.toml"
    path.write_text(body, encoding="utf-8")
    load_settings(path, env={}, secret_lookup=None)


def test_the_cron_line_is_a_cron_line() -> None:
    [line] = [ln for b in blocks("bash") for ln in b.splitlines() if ln.startswith("* * * * *")]
    assert croniter.is_valid(" ".join(line.split()[:5]))
    assert line.split()[5] == "reconcile"  # /etc/cron.d lines name the user


def test_the_systemd_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    binary = shutil.which("reconcile")
    assert binary is not None
    units = []
    for body in blocks("ini"):
        name = body.splitlines()[0].removeprefix("# /etc/systemd/system/")
        text = body.replace("/opt/reconcile/.venv/bin/reconcile", binary)
        (tmp_path / name).write_text(text, encoding="utf-8")
        units.append(str(tmp_path / name))
    done = subprocess.run(
        [analyze, "verify", *units], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout + done.stderr == "", done.stdout + done.stderr


def test_the_kubernetes_manifests() -> None:
    cronjob, deployment = (yaml.safe_load(body) for body in blocks("yaml"))
    assert (cronjob["apiVersion"], cronjob["kind"]) == ("batch/v1", "CronJob")
    assert croniter.is_valid(cronjob["spec"]["schedule"])
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"  # never two runs at once
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert (deployment["apiVersion"], deployment["kind"]) == ("apps/v1", "Deployment")
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 60
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    for spec in (pod, deployment["spec"]["template"]["spec"]):
        [container] = spec["containers"]
        args = container["args"]
        with cli.commands[args[0]].make_context(args[0], args[1:]) as ctx:
            assert ctx.params["log_format"] == "json"
