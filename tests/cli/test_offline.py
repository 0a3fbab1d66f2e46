"""``reconcile match``, ``build-import`` and ``demo --offline`` through click: output, JSON, exit
codes."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from reconcile.cli import cli, offline
from reconcile.workbooks import imports
from reconcile.workbooks.safety import formula_cells
from tests.workbooks import helpers


@pytest.fixture
def exports(tmp_path: Path) -> tuple[Path, Path]:
    return helpers.gr_export(tmp_path / "gr.xlsx"), helpers.crm_export(tmp_path / "crm.xlsx")


def _run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", ["match", "build-import", "demo"])
def test_every_command_has_help_with_an_example(command: str):
    result = _run(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output
    assert f"reconcile {command}" in result.output


def test_wizard_limit_literal_matches_the_library():
    assert offline.WIZARD_MAX_MB * 1e6 == imports.WIZARD_MAX_BYTES


def test_match_then_build_import(exports: tuple[Path, Path], tmp_path: Path):
    review = tmp_path / "review.xlsx"
    result = _run("match", str(exports[0]), str(exports[1]), "-o", str(review), "-q")
    assert result.exit_code == 0, result.output
    assert "Matched 6 GetResponse contacts against 4 CRM contacts" in result.output
    assert "reconcile build-import" in result.output
    out = tmp_path / "import"
    result = _run("build-import", str(review), "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    assert "2-getresponse-contacts-link.xlsx" in result.output
    assert "Next steps" in result.output
    assert (out / "IMPORT-STEPS.txt").exists()


def test_match_json(exports: tuple[Path, Path], tmp_path: Path):
    result = CliRunner().invoke(
        cli, ["match", str(exports[0]), str(exports[1]), "-o", str(tmp_path / "r.xlsx"), "--json"]
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["gr_contacts"] == 6
    assert set(data["decisions"]) == {"link", "new", "review", "skip", "invalid"}


def test_bad_input_exits_2_and_writes_nothing(exports: tuple[Path, Path], tmp_path: Path):
    bad = helpers.write_csv(tmp_path / "crm.csv", ["Prénom", "Nom"], [["Jean", "Dupont"]])
    result = CliRunner().invoke(
        cli, ["match", str(exports[0]), str(bad), "-o", str(tmp_path / "r.xlsx")]
    )
    assert result.exit_code == 2
    assert "Adresse e-mail" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.xlsx").exists()


def test_missing_file_is_a_usage_error(tmp_path: Path):
    result = CliRunner().invoke(cli, ["match", str(tmp_path / "no.xlsx"), str(tmp_path / "no.csv")])
    assert result.exit_code == 2


def test_build_import_reports_review_problems_with_exit_2(
    exports: tuple[Path, Path], tmp_path: Path
):
    review = tmp_path / "review.xlsx"
    _run("match", str(exports[0]), str(exports[1]), "-o", str(review), "-q")
    book = openpyxl.load_workbook(review)
    book["Review"]["F2"] = "perhaps"
    book.save(review)
    result = CliRunner().invoke(cli, ["build-import", str(review), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "sheet 'Review', row 2, column 'Decision'" in result.output
    assert not any((tmp_path / "out").glob("*.xlsx"))


def test_build_import_dry_run_json(exports: tuple[Path, Path], tmp_path: Path):
    review = tmp_path / "review.xlsx"
    _run("match", str(exports[0]), str(exports[1]), "-o", str(review), "-q")
    result = CliRunner().invoke(
        cli, ["build-import", str(review), "-o", str(tmp_path / "o"), "--dry-run", "--json"]
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["dry_run"] is True
    assert data["files"]
    assert not any((tmp_path / "o").iterdir())


def test_unlinked_new_contacts_exit_1(exports: tuple[Path, Path], tmp_path: Path):
    review = tmp_path / "review.xlsx"
    _run("match", str(exports[0]), str(exports[1]), "-o", str(review), "-q")
    result = CliRunner().invoke(
        cli,
        [
            "build-import",
            str(review),
            "-o",
            str(tmp_path / "after"),
            "--crm-export",
            str(exports[1]),
        ],
    )
    assert result.exit_code == 1
    assert "could not be linked" in result.output


def test_demo_runs_the_whole_round_trip(tmp_path: Path):
    out = tmp_path / "demo"
    result = _run("demo", "--offline", "--out", str(out), "--rows", "400", "-q")
    assert result.exit_code == 0, result.output
    assert "Data cells that Excel would run as formulas (CSV injection check): none." in (
        result.output
    )
    for name in (
        "review.xlsx",
        "import/1-contacts-import.xlsx",
        "import/2-getresponse-contacts-link.xlsx",
        "import-after/3-getresponse-contacts-link-new.xlsx",
        "exports/Active GetResponse contacts.xlsx",
        "exports/My Active Contacts.xlsx",
    ):
        assert (out / name).exists(), name
        assert formula_cells(out / name) == []
    data = json.loads(
        _run(
            "demo", "--offline", "--out", str(tmp_path / "d2"), "--rows", "400", "--json", "-q"
        ).stdout
    )
    assert data["links_wrong"] <= 0.005 * data["links_checked"]  # the matcher's precision bar
    assert data["second_pass"]["unresolved"] == []


def test_french_exports_give_french_import_steps_and_a_french_csv_is_read(tmp_path: Path):
    gr = helpers.gr_export(tmp_path / "Contacts GetResponse actifs.xlsx", language="fr")
    # The CRM side as French Excel saves "CSV (séparateur : point-virgule)": cp1252 and ';'.
    crm = tmp_path / "Mes contacts actifs.csv"
    lines = ["Prénom;Nom;Adresse e-mail", "Zoë;Nguyễn;zoe.nguyen@example.com"]
    lines[1] = "Zoë;Lefèvre;zoe.nguyen@example.com"  # cp1252 has è, not ễ
    crm.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    review = tmp_path / "review.xlsx"
    result = _run("match", str(gr), str(crm), "-o", str(review), "-q")
    assert result.exit_code == 0, result.output
    said = f"Read {crm}: Windows-1252 (Excel's plain 'CSV'), semicolon-separated."
    assert said in result.output
    result = _run("build-import", str(review), "-o", str(tmp_path / "import"), "-q")
    assert result.exit_code == 0, result.output
    steps = (tmp_path / "import" / "IMPORT-STEPS.txt").read_text(encoding="utf-8")
    assert "Importer à partir d'Excel" in steps
    assert "Import from Excel" not in steps
    assert "Paramètres > Gestion des données > Importations" in steps
