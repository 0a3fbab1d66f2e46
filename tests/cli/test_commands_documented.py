"""Every command, at every depth, has --help with an example, and the README names it."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from reconcile.cli import cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
        else:
            found.append(path)
    return found


ALL = _commands(cli)


def test_the_tree_is_what_we_ship() -> None:
    assert {"demo", "match", "build-import", "doctor", "init"} <= {p[0] for p in ALL}
    assert ("migrate", "apply") in ALL
    assert ("sandbox", "serve") in ALL
    assert ("schema", "install") in ALL


@pytest.mark.parametrize("path", ALL, ids=" ".join)
def test_help_has_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"reconcile {' '.join(path)} --help shows no example"


@pytest.mark.parametrize("path", ALL, ids=" ".join)
def test_readme_names_the_command(path: tuple[str, ...]) -> None:
    name = f"reconcile {' '.join(path)}"
    assert name in README or _in_alternation(path), f"README does not mention `{name}`"


def _in_alternation(path: tuple[str, ...]) -> bool:
    """`reconcile schema install|check` in a table names both sub-commands."""
    for line in README.splitlines():
        marker = f"reconcile {path[0]} "
        if marker in line:
            rest = line.split(marker, 1)[1].split()[0].replace("\\|", "|").strip("`")
            if len(path) > 1 and path[1] in rest.split("|"):
                return True
    return False


def _groups(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix] if prefix else []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.extend(_groups(command, (*prefix, name)))
    return found


@pytest.mark.parametrize("path", [("",), *_groups(cli)], ids=" ".join)
def test_group_help_has_an_example_too(path: tuple[str, ...]) -> None:
    words = [w for w in path if w]
    result = CliRunner().invoke(cli, [*words, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output or "Start with:" in result.output, (
        f"reconcile {' '.join(words)} --help shows no example"
    )
