"""Reading exports: .xlsx and CSV variants, folders, ids, and every error case (exit code 2)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from reconcile import model
from reconcile.errors import EXIT_BAD_INPUT, InputError
from reconcile.workbooks import dynamics
from reconcile.workbooks.read import SOURCE_ROW, read_contacts
from tests.workbooks import helpers


def test_dynamics_export_of_getresponse_contacts(tmp_path: Path):
    path = helpers.gr_export(tmp_path / "Active GetResponse contacts.xlsx")
    contacts = read_contacts(path, "gr")
    frame = contacts.frame
    assert frame[model.GR_CONTACT_ID].tolist() == helpers.GR_IDS
    assert frame[model.NAME].iloc[2] == '=HYPERLINK("http://evil.example","x")'
    assert frame[model.EMAIL].iloc[3] == "zoe.nguyen@example.com"
    assert frame[model.ROW_CHECKSUM].str.len().min() == 44
    assert frame[model.MODIFIED_ON].iloc[0] == dt.datetime(2026, 1, 5, 9, 30)
    assert frame[SOURCE_ROW].tolist() == [2, 3, 4, 5, 6, 7]
    info = contacts.info
    assert info.ids_from == "column"
    assert info.sheets == ("Active GetResponse contacts",)
    assert info.metadata.startswith("grc_getresponsecontact:")
    assert info.headers[model.GR_CONTACT_ID] == "(Do Not Modify) GetResponse Contact"


def test_french_crm_export(tmp_path: Path):
    contacts = read_contacts(helpers.crm_export(tmp_path / "Mes contacts actifs.xlsx", "fr"), "crm")
    assert contacts.info.language == "fr"
    assert contacts.frame[model.CRM_LAST_NAME].tolist() == [
        "Dupont",
        "de la Fontaine",
        "Nguyễn",
        "Dupont",
    ]
    assert contacts.frame[model.CRM_CONTACT_ID].tolist() == helpers.CRM_IDS[:4]


@pytest.mark.parametrize(("sep", "bom"), [(",", False), (",", True), (";", False), (";", True)])
def test_csv_with_or_without_bom_comma_or_semicolon(tmp_path: Path, sep: str, bom: bool):
    path = helpers.write_csv(
        tmp_path / "crm.csv",
        ["Contact ID", "Prénom", "Nom", "Adresse e-mail"],
        [["c-1", "Zoë", "Nguyễn", "zoe@example.com"], ["c-2", "Jean", "Dupont", "jean@example.fr"]],
        sep=sep,
        bom=bom,
    )
    frame = read_contacts(path, "crm").frame
    assert frame[model.CRM_CONTACT_ID].tolist() == ["c-1", "c-2"]
    assert frame[model.CRM_FIRST_NAME].tolist() == ["Zoë", "Jean"]


def test_without_an_id_column_the_excel_row_number_is_the_id(tmp_path: Path):
    path = helpers.write_csv(
        tmp_path / "gr.csv", ["Name", "Email"], [["A B", "a@x.fr"], ["C D", "c@x.fr"]]
    )
    contacts = read_contacts(path, "gr")
    assert contacts.frame[model.GR_CONTACT_ID].tolist() == ["2", "3"]
    assert contacts.info.ids_from == "row"


def test_a_folder_of_exports_is_read_as_one_input(tmp_path: Path):
    frame = helpers.gr_frame()
    paths = dynamics.write_exports(
        frame, tmp_path / "exports", dynamics.GETRESPONSE_CONTACT, rows_per_file=4
    )
    assert len(paths) == 2
    (tmp_path / "exports" / "~$lock.xlsx").write_bytes(b"lock file Excel leaves behind")
    contacts = read_contacts(tmp_path / "exports", "gr")
    assert contacts.frame[model.GR_CONTACT_ID].tolist() == helpers.GR_IDS
    assert len(contacts.info.files) == 2


def test_row_number_ids_in_a_folder_name_their_file(tmp_path: Path):
    folder = tmp_path / "csv"
    folder.mkdir()
    helpers.write_csv(folder / "a.csv", ["Name", "Email"], [["A B", "a@x.fr"]])
    helpers.write_csv(folder / "b.csv", ["Name", "Email"], [["C D", "c@x.fr"]])
    assert read_contacts(folder, "gr").frame[model.GR_CONTACT_ID].tolist() == ["a.csv:2", "b.csv:2"]


def test_an_empty_crm_export_is_fine_but_an_empty_getresponse_export_is_not(tmp_path: Path):
    empty_crm = helpers.crm_export(tmp_path / "crm.xlsx", frame=helpers.crm_frame().iloc[:0])
    assert read_contacts(empty_crm, "crm").frame.empty
    empty_gr = helpers.gr_export(tmp_path / "gr.xlsx", frame=helpers.gr_frame().iloc[:0])
    with pytest.raises(InputError, match="no GetResponse contacts"):
        read_contacts(empty_gr, "gr")


def _problems(path: Path, side: str = "gr") -> InputError:
    with pytest.raises(InputError) as caught:
        read_contacts(path, side)
    assert caught.value.exit_code == EXIT_BAD_INPUT
    return caught.value


def test_missing_column_names_file_sheet_and_column(tmp_path: Path):
    frame = helpers.crm_frame().drop(columns="crm_email")
    path = helpers.crm_export(tmp_path / "crm.xlsx", frame=frame)
    error = _problems(path, "crm")
    problem, found = error.problems
    assert problem.file == str(path)
    assert problem.sheet == "My Active Contacts"
    assert problem.column == "Email"
    assert problem.row == 1
    assert "'Email'" in str(error)
    # and what the header row does hold, so the admin sees which export this is
    assert (found.file, found.sheet, found.row) == (str(path), "My Active Contacts", 1)
    assert found.message.startswith("the header row has: '(Do Not Modify) Contact', ")
    assert "'Last Name'" in found.message


def test_every_file_of_a_folder_is_checked_before_failing(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    helpers.write_csv(folder / "a.csv", ["Name"], [["A B"]])
    (folder / "b.xlsx").write_bytes(b"")
    error = _problems(folder)
    assert {Path(p.file).name for p in error.problems} == {"a.csv", "b.xlsx"}


def test_empty_file(tmp_path: Path):
    path = tmp_path / "gr.xlsx"
    path.write_bytes(b"")
    assert "empty" in str(_problems(path))


def test_password_protected_workbook(tmp_path: Path):
    plain = helpers.gr_export(tmp_path / "plain.xlsx")
    locked = helpers.encrypted_copy(plain, tmp_path / "locked.xlsx")
    error = _problems(locked)
    assert error.problems[0].file == str(locked)
    assert "password-protected" in str(error)
    assert "remove the password" in error.hint


def test_ole_file_without_encryption_is_called_an_old_xls(tmp_path: Path):
    # Not a real .xls: just the OLE compound-file signature, which is what the check reads.
    path = tmp_path / "old.xlsx"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 600)
    assert ".xls workbook" in str(_problems(path))


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("a.xlsx", b"Name,Email\n", "a text file (a CSV?)"),
        ("report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
        ("page.xlsx", b"<!DOCTYPE html><html><body>Sign in", "a web page (HTML)"),
    ],
)
def test_a_file_that_is_not_a_workbook_is_called_what_it_is(
    tmp_path: Path, name: str, content: bytes, kind: str
):
    path = tmp_path / name
    path.write_bytes(content)
    error = _problems(path)
    assert error.message == f"{path}: this is {kind}, not an Excel workbook (.xlsx)"
    assert "corrupt" not in str(error)
    assert "Save As > Excel Workbook" in error.hint


def test_a_workbook_named_csv_says_to_rename_it(tmp_path: Path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(helpers.gr_export(tmp_path / "x.xlsx").read_bytes())
    error = _problems(path)
    assert "this is an Excel workbook, not a CSV file (.csv)" in str(error)
    assert "Rename it to contacts.xlsx" in error.hint


def test_corrupt_zip_and_corrupt_sheet(tmp_path: Path):
    not_zip = tmp_path / "a.xlsx"
    not_zip.write_bytes(b"\x00\x01\x02 random bytes")
    assert "damaged or not Excel" in str(_problems(not_zip))
    broken = helpers.truncated_sheet_copy(
        helpers.gr_export(tmp_path / "b.xlsx"), tmp_path / "c.xlsx"
    )
    error = _problems(broken)
    assert "corrupt" in str(error)
    assert error.problems[0].file == str(broken)


def test_merged_header_cells(tmp_path: Path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Contacts"
    sheet.append(["Contact details", None, "Email"])
    sheet.merge_cells("A1:B1")
    sheet.append(["Jean", "Dupont", "j@x.fr"])
    path = tmp_path / "merged.xlsx"
    book.save(path)
    error = _problems(path)
    (problem,) = error.problems
    assert (problem.sheet, problem.row) == ("Contacts", 1)
    assert "merged cells (A1:B1)" in problem.message


def test_swapped_files_are_caught(tmp_path: Path):
    gr = helpers.gr_export(tmp_path / "gr.xlsx")
    assert "were GR_FILE and CRM_FILE swapped" in str(_problems(gr, "crm"))
    crm = helpers.crm_export(tmp_path / "crm.xlsx")
    assert "swapped" in str(_problems(crm, "gr"))


def test_duplicate_and_empty_ids(tmp_path: Path):
    path = helpers.write_csv(
        tmp_path / "crm.csv",
        ["Contact ID", "First Name", "Last Name", "Email"],
        [["c-1", "A", "B", "a@x"], ["c-1", "C", "D", "c@x"], ["", "E", "F", "e@x"]],
    )
    messages = [p.message for p in _problems(path, "crm").problems]
    assert "the id cell is empty" in messages
    assert any("'c-1' appears more than once (crm.csv row 2, crm.csv row 3)" in m for m in messages)


def test_french_excel_csv_cp1252_and_semicolons_is_read_and_said(tmp_path: Path):
    # What French Excel's "CSV (séparateur : point-virgule)" writes: cp1252, ';', CRLF.
    path = tmp_path / "contacts.csv"
    text = "Nom complet;Adresse e-mail\r\nZoë Lefèvre;zoe@exemple.fr\r\nAndré Œuvray;a@x.fr\r\n"
    path.write_bytes(text.encode("cp1252"))
    contacts = read_contacts(path, "gr")
    assert contacts.frame[model.NAME].tolist() == ["Zoë Lefèvre", "André Œuvray"]
    assert contacts.info.language == "fr"
    assert contacts.info.formats == (
        f"{path}: Windows-1252 (Excel's plain 'CSV'), semicolon-separated",
    )


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ("Name,Email\r\nZoë,z@x.fr\r\n".encode(), "UTF-8, comma-separated"),
        (b"\xef\xbb\xbf" + "Name;Email\nZoë;z@x.fr\n".encode(), "UTF-8 with BOM, semicolon"),
        ("Name\tEmail\nZoë\tz@x.fr\n".encode("cp1252"), "Windows-1252 (Excel's plain 'CSV'), tab"),
    ],
)
def test_csv_encoding_and_separator_are_detected(tmp_path: Path, raw: bytes, said: str):
    path = tmp_path / "gr.csv"
    path.write_bytes(raw)
    contacts = read_contacts(path, "gr")
    assert contacts.frame[model.NAME].tolist() == ["Zoë"]
    assert contacts.frame[model.EMAIL].tolist() == ["z@x.fr"]
    (described,) = contacts.info.formats
    assert described.startswith(f"{path}: {said}")


def test_csv_in_neither_utf8_nor_cp1252_is_refused(tmp_path: Path):
    path = tmp_path / "gr.csv"
    path.write_bytes(b"Name,Email\n\x81\x8d,z@x.fr\n")  # bytes cp1252 leaves undefined
    error = _problems(path)
    assert "neither UTF-8 nor Windows-1252" in str(error)
    assert "CSV UTF-8" in error.hint


def test_missing_path(tmp_path: Path):
    assert "not found" in str(_problems(tmp_path / "nope.xlsx"))


def test_duplicate_and_empty_ids_name_the_sheet_of_a_workbook(tmp_path: Path):
    frame = helpers.crm_frame()
    frame.loc[1, "crm_contact_id"] = frame.loc[0, "crm_contact_id"]
    frame.loc[2, "crm_contact_id"] = ""
    path = helpers.crm_export(tmp_path / "My Active Contacts.xlsx", frame=frame)
    problems = _problems(path, "crm").problems
    assert {p.sheet for p in problems} == {dynamics.CONTACT.view["en"]}
    empty = next(p for p in problems if p.message == "the id cell is empty")
    assert (empty.row, empty.column) == (4, "(Do Not Modify) Contact")
