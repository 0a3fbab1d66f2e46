"""The one table of exit codes, held true for every command, and the one error handler behind it:
``--json`` errors on stdout, floods cut to a screen with the full list in a file, Ctrl+C with how
to resume, settings out of range refused by name. (Commands that need the sandboxes have their
exit codes tested next to their other tests: test_doctor.py, test_migrate_cli.py.)"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from reconcile.cli import cli
from reconcile.cli.common import PROBLEMS_FILE, SHOWN_PROBLEMS, json_option, remember_json
from reconcile.errors import EXIT_MEANINGS
from tests.workbooks import helpers

README = Path(__file__).resolve().parents[2] / "README.md"


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.chdir(tmp_path)
    return helpers.gr_export(tmp_path / "gr.xlsx"), helpers.crm_export(tmp_path / "crm.xlsx")


def leaf_commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*path, name))
        else:
            yield (*path, name)


def test_the_readme_table_is_the_code_table() -> None:
    text = README.read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| `(\d+)` \| (.+?) \|$", text, flags=re.M))
    assert {int(code) for code in table} == set(EXIT_MEANINGS)


def test_every_json_option_is_the_shared_one_so_errors_are_json_too() -> None:
    callback = json_option(click.Command("x")).params[0].callback
    assert callback is remember_json
    for path in leaf_commands(cli):
        command = cli
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        for param in command.params:
            if "--json" in getattr(param, "opts", []):
                assert param.callback is callback, f"reconcile {' '.join(path)}: own --json"


def test_an_input_error_under_json_is_a_json_object_on_stdout(
    exports: tuple[Path, Path], tmp_path: Path
) -> None:
    bad = helpers.write_csv(tmp_path / "crm.csv", ["Prénom", "Nom"], [["Jean", "Dupont"]])
    code, out, err = run(["match", str(exports[0]), str(bad), "--json", "-q"])
    assert code == 2
    error = json.loads(out)["error"]
    assert error["code"] == 2
    assert error["type"] == "InputError"
    assert "Export 'My active contacts'" in error["hint"]
    missing = error["problems"][0]
    assert (missing["file"], missing["row"], missing["column"]) == (
        str(bad),
        1,
        "Adresse e-mail",
    )
    # the wrong-columns error lists the headers it found
    assert error["problems"][-1]["message"] == "the header row has: 'Prénom', 'Nom'"
    assert "Error: 2 problems found" in err


def test_a_cell_longer_than_any_name_or_email_is_exit_2_naming_file_row_and_column(
    exports: tuple[Path, Path], tmp_path: Path
) -> None:
    rows = [[f"Jean{i}", "Dupont", f"j{i}@example.fr"] for i in range(3)]
    rows[1][2] = "x" * 40_000  # more than an Excel cell: a CSV can hold it
    long = helpers.write_csv(tmp_path / "crm.csv", ["First Name", "Last Name", "Email"], rows)
    code, _out, err = run(["match", str(exports[0]), str(long), "-o", str(tmp_path / "r.xlsx")])
    assert code == 2, err
    assert f"{long}, row 3, column 'Email': the cell holds 40,000 characters" in err
    assert "Traceback" not in err
    assert not (tmp_path / "r.xlsx").exists()


def test_a_flood_of_problems_shows_the_first_few_and_writes_all_to_a_file(
    exports: tuple[Path, Path], tmp_path: Path
) -> None:
    rows = [["id-same", f"Jean{i} Dupont", f"j{i}@example.fr"] for i in range(120)]
    rows += [["", f"Paul{i} Durand", f"p{i}@example.fr"] for i in range(40)]
    gr = helpers.write_csv(
        tmp_path / "gr.csv", ["(Do Not Modify) GetResponse Contact", "Name", "Email"], rows
    )
    code, _out, err = run(["match", str(gr), str(exports[1]), "-o", str(tmp_path / "r.xlsx")])
    assert code == 2
    lines = err.splitlines()
    assert lines[0] == "Error: 41 problems found, nothing was written:"
    assert len(lines) == 1 + SHOWN_PROBLEMS + 1 + 1  # headline, the first ten, "… more", hint
    written = tmp_path / PROBLEMS_FILE
    assert lines[SHOWN_PROBLEMS + 1] == f"  - … and 31 more: all 41 are in {written}"
    full = written.read_text(encoding="utf-8").splitlines()
    assert len(full) == 41
    assert (
        full[0]
        == f"{gr}, row 122, column '(Do Not Modify) GetResponse Contact': the id cell is empty"
    )
    assert full[-1].startswith(f"{gr}, column '(Do Not Modify) GetResponse Contact': id 'id-same'")


def test_a_setting_out_of_range_is_a_settings_error(tmp_path: Path) -> None:
    env = {
        "RECONCILE_CONFIG": "",
        "XDG_CONFIG_HOME": str(tmp_path),
        "RECONCILE_DYNAMICS_ENVIRONMENT_URL": "http://127.0.0.1:9",
        "RECONCILE_DYNAMICS_ACCESS_TOKEN": "t",
    }
    for name, value in [("TIMEOUT", "-5"), ("TIMEOUT", "nan"), ("CONCURRENCY", "0")]:
        code, out, err = run(
            ["schema", "check", "--json"], {**env, f"RECONCILE_DYNAMICS_{name}": value}
        )
        assert code == 2, err
        error = json.loads(out)["error"]
        assert error["type"] == "ConfigError"
        assert f"RECONCILE_DYNAMICS_{name}" in error["message"]
        assert "must be between" in error["message"]


def test_a_usage_error_under_json_is_json_too(tmp_path: Path) -> None:
    code, out, err = run(["match", "--json", "--no-such-option", "a", "b"])
    assert code == 2
    assert json.loads(out)["error"]["code"] == 2
    assert "No such option" in json.loads(out)["error"]["message"]
    assert "No such option" in err


def test_ctrl_c_says_how_to_resume_without_a_traceback(
    exports: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconcile.jobs import roundtrip

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(roundtrip, "match_files", interrupted)
    code, out, err = run(["match", str(exports[0]), str(exports[1]), "-q"])
    assert code == 130
    assert "run the same command again: it resumes" in err
    assert "Aborted!" not in err + out
    code, out, _ = run(["match", str(exports[0]), str(exports[1]), "-q", "--json"])
    assert code == 130
    assert json.loads(out)["error"]["code"] == 130
