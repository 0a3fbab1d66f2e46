"""Import workbooks: headers the wizard maps, the re-import's hidden columns, and the splits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from reconcile.workbooks import dynamics, imports, tables
from tests.workbooks import helpers


def _contacts(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "first_name": [f"Prénom{i}" for i in range(n)],
            "last_name": [f"Nom-{i} de la Fontaine" for i in range(n)],
            "email": [f"person.{i}@example-{i % 97}.fr" for i in range(n)],
        }
    )


def _read(path: Path) -> tuple[list, list[list]]:
    book = tables.open_workbook(path)
    table = tables.read_sheet(path, book, tables.visible_sheets(book)[0])
    return table.header, table.rows


def test_contacts_import_single_file_with_wizard_headers(tmp_path: Path):
    frame = _contacts(3)
    for language, header in (
        ("en", ["First Name", "Last Name", "Email"]),
        ("fr", ["Prénom", "Nom", "Adresse e-mail"]),
    ):
        folder = tmp_path / language
        files = imports.write_parts(
            imports.contacts_layout("1-contacts-import"),
            3,
            imports.contact_columns(frame, language),
            folder,
        )
        assert [f.path.name for f in files] == ["1-contacts-import.xlsx"]
        assert files[0].rows == 3
        assert files[0].bytes == files[0].path.stat().st_size
        head, rows = _read(files[0].path)
        assert head == header
        assert rows[0] == ["Prénom0", "Nom-0 de la Fontaine", "person.0@example-0.fr"]
    assert sorted(p.name for p in (tmp_path / "en").iterdir()) == ["1-contacts-import.xlsx"]


def test_split_by_size_keeps_every_part_under_the_limit_and_every_row(tmp_path: Path):
    frame = _contacts(6000)
    limit = 60_000
    files = imports.write_parts(
        imports.contacts_layout("1-contacts-import"), len(frame),
        imports.contact_columns(frame, "en"),
        tmp_path, max_bytes=limit,
    )  # fmt: skip
    assert len(files) > 2
    assert [f.path.name for f in files][:2] == [
        "1-contacts-import-part01.xlsx",
        "1-contacts-import-part02.xlsx",
    ]
    assert all(f.path.stat().st_size <= limit for f in files)
    emails = [row[2] for f in files for row in _read(f.path)[1]]
    assert emails == frame["email"].tolist()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_split_by_sheet_rows_never_truncates(tmp_path: Path):
    frame = _contacts(25)
    files = imports.write_parts(
        imports.contacts_layout("x"),
        25,
        imports.contact_columns(frame, "en"),
        tmp_path,
        max_rows=10,
    )
    assert [f.rows for f in files] == [10, 10, 5]
    assert [row[2] for f in files for row in _read(f.path)[1]] == frame["email"].tolist()


def test_a_split_part_that_still_comes_out_too_big_is_split_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    frame = _contacts(3000)
    # Rows grow longer further down, so the estimate from the first rows is too optimistic.
    frame.loc[1500:, "last_name"] = [f"{'Long-' * 40}{i}" for i in range(1500)]
    monkeypatch.setattr(imports, "SAMPLE_ROWS", 200)
    files = imports.write_parts(
        imports.contacts_layout("c"),
        3000,
        imports.contact_columns(frame, "en"),
        tmp_path,
        max_bytes=40_000,
    )
    assert all(f.bytes <= 40_000 for f in files)
    assert sum(f.rows for f in files) == 3000


def test_no_rows_no_file(tmp_path: Path):
    assert (
        imports.write_parts(
            imports.contacts_layout("c"), 0, imports.contact_columns(_contacts(0), "en"), tmp_path
        )
        == []
    )


def _export_meta(tmp_path: Path, language: str = "en") -> imports.GrExport:
    path = helpers.gr_export(tmp_path / "gr.xlsx", language)
    from reconcile.workbooks.read import read_contacts

    info = read_contacts(path, "gr").info
    return imports.GrExport(dict(info.headers), info.language, info.metadata, info.sheets[0])


def test_reimport_links_by_guid_and_keeps_the_hidden_columns(tmp_path: Path):
    export = _export_meta(tmp_path)
    frame = pd.DataFrame(
        {
            "gr_contact_id": helpers.GR_IDS[:2],
            "row_checksum": ["ck1", "ck2"],
            "modified_on": [dt.datetime(2026, 1, 5, 9, 30), dt.datetime(2026, 1, 6, 10, 0)],
            "name": ["Jean Dupont", "=HYPERLINK(1)"],
            "email": ["a@x.fr", "b@x.fr"],
            "crm_contact_id": helpers.CRM_IDS[:2],
        }
    )
    (file,) = imports.write_parts(
        imports.link_layout("2-getresponse-contacts-link", export),
        2,
        imports.link_columns(frame, export),
        tmp_path / "out",
    )
    book = openpyxl.load_workbook(file.path)
    sheet = book["Active GetResponse contacts"]
    assert [c.value for c in sheet[1]] == [
        "(Do Not Modify) GetResponse Contact", "(Do Not Modify) Row Checksum",
        "(Do Not Modify) Modified On",
        "Name", "Email", "Contact",
    ]  # fmt: skip
    assert sheet["F2"].value == helpers.CRM_IDS[0]  # the CRM contact's GUID, never its name
    assert sheet["C3"].value == dt.datetime(2026, 1, 6, 10, 0)
    assert sheet["D3"].value == "=HYPERLINK(1)"
    assert sheet["D3"].data_type == "s"
    hidden = {
        i for d in sheet.column_dimensions.values() if d.hidden for i in range(d.min, d.max + 1)
    }
    assert hidden == {1, 2, 3}  # A–C hidden, as in an export
    assert book["hiddenSheet"].sheet_state == "hidden"
    meta = dynamics.parse_metadata(book["hiddenSheet"]["A1"].value)
    original = dynamics.parse_metadata(export.metadata)
    assert (meta.entity, meta.token) == (original.entity, original.token)
    assert [logical for logical, _ in meta.columns] == [
        "grc_getresponsecontactid", "checksumLogicalName", "modifiedon", "grc_name", "grc_email",
        "grc_contactid",
    ]  # fmt: skip


def test_reimport_in_french_uses_the_export_headers(tmp_path: Path):
    export = _export_meta(tmp_path, "fr")
    headers = [h for _, h, _ in imports._link_headers(export)]
    assert headers == [
        "(Ne pas modifier) GetResponse Contact", "(Ne pas modifier) Somme de contrôle de ligne",
        "(Ne pas modifier) Date de modification", "Nom", "Email", "Contact",
    ]  # fmt: skip


def test_reimport_without_export_metadata_has_no_hidden_sheet(tmp_path: Path):
    export = imports.GrExport({}, "en", None, None)
    layout = imports.link_layout("2-link", export)
    assert layout.metadata is None
    assert layout.sheet == "Active GetResponse contacts"
    # Name and Email were not in the input: they are left out rather than overwritten.
    assert [c for c, _, _ in imports._link_headers(export)] == [
        "gr_contact_id",
        "row_checksum",
        "modified_on",
        "contact_lookup",
    ]
