"""The round-trip job end to end: exports -> review.xlsx -> edits in "Excel" -> import files."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from reconcile import model
from reconcile.errors import InputError
from reconcile.jobs.roundtrip import build_import, match_files
from reconcile.workbooks import dynamics, tables
from reconcile.workbooks.validate import read_review
from tests.workbooks import helpers


def _sheet_rows(path: Path) -> list[dict]:
    book = tables.open_workbook(path)
    table = tables.read_sheet(path, book, tables.visible_sheets(book)[0])
    return [dict(zip(table.header, row, strict=True)) for row in table.rows]


@pytest.fixture
def matched(tmp_path: Path) -> Path:
    gr = helpers.gr_export(tmp_path / "Active GetResponse contacts.xlsx")
    crm = helpers.crm_export(tmp_path / "My Active Contacts.xlsx")
    # Every link listed (the reviewer overrules some below); by default the ones with nothing
    # to check are kept in the hidden copy only (test_unlisted_links_are_read_back).
    summary = match_files(gr, crm, tmp_path / "review.xlsx", all_links=True)
    assert summary.gr_contacts == 6
    assert summary.crm_contacts == 4
    assert sum(summary.decisions.values()) == 6
    return tmp_path / "review.xlsx"


def _by_id(review: Path) -> pd.DataFrame:
    return read_review(review).rows.set_index(model.GR_CONTACT_ID)


def test_match_writes_one_review_row_per_getresponse_contact(matched: Path):
    rows = _by_id(matched)
    assert rows.index.tolist() == helpers.GR_IDS
    assert rows.loc[helpers.GR_IDS[0], "decision"] == "link"
    assert rows.loc[helpers.GR_IDS[0], "crm_contact_id"] == helpers.CRM_IDS[0]
    assert rows.loc[helpers.GR_IDS[1], "last_name"] == "de la Fontaine"
    assert rows.loc[helpers.GR_IDS[5], "decision"] == "new"  # Ahmed Ben Ali is not in the CRM


def test_nothing_is_written_when_an_input_is_bad(tmp_path: Path):
    gr = helpers.gr_export(tmp_path / "gr.xlsx")
    bad = helpers.write_csv(tmp_path / "crm.csv", ["First Name"], [["Jean"]])
    with pytest.raises(InputError):
        match_files(gr, bad, tmp_path / "review.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.csv", "gr.xlsx"]


def _edit(review: Path, target: Path, changes: dict[str, dict[str, str]]) -> Path:
    """Change cells by GetResponse id and header, as a reviewer does in Excel."""
    book = openpyxl.load_workbook(review)
    for sheet in book.worksheets:  # Review (rows to decide) and Links
        header = {c.value: c.column for c in sheet[1]}
        if "GetResponse Contact" not in header:
            continue
        for row in sheet.iter_rows(min_row=2):
            for column, value in changes.get(row[0].value, {}).items():
                row[header[column] - 1].value = value
    book.save(target)
    return target


def test_end_to_end_match_edit_build(matched: Path, tmp_path: Path):
    rows = _by_id(matched)
    review_ids = rows.index[rows["decision"] == "review"].tolist()
    changes = {gid: {"Decision": "skip"} for gid in review_ids}
    # The reviewer fixes a name of a new contact and links nothing by hand.
    changes[helpers.GR_IDS[5]] = {"First Name": "Ahmed", "Last Name": "Ben Ali"}
    edited = _edit(matched, tmp_path / "reviewed.xlsx", changes)
    result = build_import(edited, tmp_path / "import")
    names = sorted(Path(f.path).name for f in result.files)
    assert names == ["1-contacts-import.xlsx", "2-getresponse-contacts-link.xlsx"]
    assert (
        (tmp_path / "import" / "IMPORT-STEPS.txt").read_text().startswith("1. Dynamics > Contacts")
    )
    contacts = _sheet_rows(tmp_path / "import" / "1-contacts-import.xlsx")
    new_ids = [g for g in helpers.GR_IDS if _by_id(edited).loc[g, "decision"] == "new"]
    assert len(contacts) == len(new_ids)
    assert {
        "First Name": "Ahmed",
        "Last Name": "Ben Ali",
        "Email": "ahmed.benali@example.fr",
    } in contacts
    links = _sheet_rows(tmp_path / "import" / "2-getresponse-contacts-link.xlsx")
    linked = {r["(Do Not Modify) GetResponse Contact"]: r["Contact"] for r in links}
    assert linked[helpers.GR_IDS[0]] == helpers.CRM_IDS[0]
    assert all(dynamics.is_guid(v) for v in linked.values())
    assert result.warnings == []


def test_problems_in_the_review_write_nothing(matched: Path, tmp_path: Path):
    edited = _edit(matched, tmp_path / "bad.xlsx", {helpers.GR_IDS[0]: {"Decision": "yes"}})
    out = tmp_path / "import"
    with pytest.raises(InputError, match="unknown decision 'yes'"):
        build_import(edited, out)
    assert not out.exists() or not any(out.iterdir())


def test_dry_run_reports_the_files_and_writes_nothing(matched: Path, tmp_path: Path):
    out = tmp_path / "import"
    result = build_import(matched, out, dry_run=True)
    assert result.dry_run
    assert [Path(f.path).parent for f in result.files] == [out] * len(result.files)
    assert all(f.rows > 0 and f.bytes > 0 for f in result.files)
    assert list(out.iterdir()) == []


def test_second_pass_links_the_new_contacts_by_email_and_name(matched: Path, tmp_path: Path):
    first = build_import(matched, tmp_path / "import")
    contacts = _sheet_rows(next(Path(f.path) for f in first.files if f.kind == "contacts import"))
    created = helpers.crm_frame()
    new_ids = [dynamics.new_guid("created", str(i)) for i in range(len(contacts))]
    added = pd.DataFrame(
        {
            "crm_contact_id": new_ids,
            "crm_first_name": [c["First Name"] for c in contacts],
            "crm_last_name": [c["Last Name"] for c in contacts],
            "crm_name": [f"{c['First Name']} {c['Last Name']}" for c in contacts],
            "crm_email": [c["Email"].upper() for c in contacts],  # Dynamics may keep another case
        }
    )
    export = helpers.crm_export(tmp_path / "after.xlsx", frame=pd.concat([created, added]))
    second = build_import(matched, tmp_path / "after", crm_export=export)
    (file,) = second.files
    assert Path(file.path).name == "3-getresponse-contacts-link-new.xlsx"
    links = _sheet_rows(Path(file.path))
    assert sorted(r["Contact"] for r in links) == sorted(new_ids)
    assert second.unresolved == []
    steps = (tmp_path / "after" / "IMPORT-STEPS.txt").read_text()
    assert "3-getresponse-contacts-link-new.xlsx" in steps


def test_second_pass_reports_new_contacts_it_cannot_find(matched: Path, tmp_path: Path):
    export = helpers.crm_export(tmp_path / "after.xlsx")  # the import never happened
    result = build_import(matched, tmp_path / "after", crm_export=export)
    assert result.files == []
    assert result.unresolved
    assert all(p.column == "Email" and p.sheet == "Review" for p in result.unresolved)
    assert "no contact in the Contacts export has this email" in result.unresolved[0].message


def test_a_fresh_getresponse_export_replaces_the_checksums(matched: Path, tmp_path: Path):
    frame = helpers.gr_frame()
    fresh = dynamics.write_export(
        frame, tmp_path / "fresh.xlsx", dynamics.GETRESPONSE_CONTACT,
        modified_on=pd.Timestamp("2026-02-01 08:00").to_pydatetime(),
    )  # fmt: skip
    result = build_import(matched, tmp_path / "import", gr_export=fresh)
    link = next(Path(f.path) for f in result.files if f.kind != "contacts import")
    rows = _sheet_rows(link)
    assert {r["(Do Not Modify) Modified On"].isoformat() for r in rows} == {"2026-02-01T08:00:00"}


def test_without_record_ids_no_reimport_is_written(tmp_path: Path):
    gr = helpers.write_csv(
        tmp_path / "gr.csv",
        ["Name", "Email"],
        [["Jean Dupont", "jean.dupont@example.fr"], ["Léa Roy", "lea@x.fr"]],
    )
    crm = helpers.crm_export(tmp_path / "crm.xlsx")
    match_files(gr, crm, tmp_path / "review.xlsx")
    result = build_import(tmp_path / "review.xlsx", tmp_path / "import")
    assert [f.kind for f in result.files] == ["contacts import"]
    assert any("no record ids" in w for w in result.warnings)


def test_an_export_saved_as_csv_gets_no_link_file_but_the_way_out_which_works(tmp_path: Path):
    # The export re-saved as CSV: its GUIDs, checksums and modified-on survive, hiddenSheet not.
    export = helpers.gr_export(tmp_path / "gr.xlsx")
    book = openpyxl.load_workbook(export)
    sheet = book.worksheets[0]
    gr = tmp_path / "gr.csv"
    with gr.open("w", newline="", encoding="utf-8") as out:  # as Excel's "Save as CSV UTF-8"
        csv.writer(out).writerows(
            [("" if c.value is None else str(c.value)) for c in row] for row in sheet.iter_rows()
        )
    crm = helpers.crm_export(tmp_path / "crm.xlsx")
    match_files(gr, crm, tmp_path / "review.xlsx")
    result = build_import(tmp_path / "review.xlsx", tmp_path / "import")
    assert "getresponse contacts link" not in [f.kind for f in result.files]
    (why,) = [w for w in result.warnings if "export metadata" in w]
    assert "its hiddenSheet" in why
    assert "would create new GetResponse Contact records" in why
    assert "--gr-export" in why
    # the way out it names: a fresh Export to Excel given as --gr-export
    again = build_import(tmp_path / "review.xlsx", tmp_path / "import2", gr_export=export)
    assert not [w for w in again.warnings if "export metadata" in w]
    assert any(f.kind != "contacts import" for f in again.files)


def test_a_rerun_replaces_stale_parts(matched: Path, tmp_path: Path):
    out = tmp_path / "import"
    out.mkdir()
    (out / "2-getresponse-contacts-link-part07.xlsx").write_bytes(b"old")
    (out / "keep-me.txt").write_text("mine")
    build_import(matched, out)
    names = sorted(p.name for p in out.iterdir())
    assert "2-getresponse-contacts-link-part07.xlsx" not in names
    assert "keep-me.txt" in names


def test_one_person_in_two_lists_is_created_once_and_both_records_link_to_it(tmp_path: Path):
    """GetResponse keeps one contact per list: the same person twice must be one CRM contact,
    or the Contacts import creates a duplicate (or fails one row as a duplicate)."""
    ids = [dynamics.new_guid("gr", str(i)) for i in range(3)]
    people = pd.DataFrame(
        {
            "gr_contact_id": ids,
            "name": ["Léon Blum", "Léon Blum", "Marie Curie"],
            "email": ["leon.blum@example.com", "Leon.Blum@example.com", "marie@example.org"],
            "contact_lookup": "",
        }
    )
    # an Export to Excel (with its metadata): only such a file can be re-imported as links
    gr = helpers.gr_export(tmp_path / "gr.xlsx", frame=people)
    crm = helpers.crm_export(tmp_path / "crm.xlsx")
    match_files(gr, crm, tmp_path / "review.xlsx")
    assert set(_by_id(tmp_path / "review.xlsx")["decision"]) == {"new"}
    build_import(tmp_path / "review.xlsx", tmp_path / "import")
    contacts = _sheet_rows(tmp_path / "import" / "1-contacts-import.xlsx")
    assert [c["Email"].lower() for c in contacts] == [
        "leon.blum@example.com",
        "marie@example.org",
    ]
    created = [dynamics.new_guid("created", str(i)) for i in range(len(contacts))]
    added = pd.DataFrame(
        {
            "crm_contact_id": created,
            "crm_first_name": [c["First Name"] for c in contacts],
            "crm_last_name": [c["Last Name"] for c in contacts],
            "crm_name": [f"{c['First Name']} {c['Last Name']}" for c in contacts],
            "crm_email": [c["Email"] for c in contacts],
        }
    )
    export = helpers.crm_export(tmp_path / "after.xlsx", frame=added)
    second = build_import(tmp_path / "review.xlsx", tmp_path / "after", crm_export=export)
    assert second.unresolved == []
    (file,) = second.files
    links = {r["(Do Not Modify) GetResponse Contact"]: r["Contact"] for r in _sheet_rows(file.path)}
    assert links == {ids[0]: created[0], ids[1]: created[0], ids[2]: created[1]}


def test_an_existing_review_is_never_replaced_silently(tmp_path: Path) -> None:
    """-o onto an existing workbook refuses; --force replaces an untouched one, and keeps an
    edited one as a dated copy first."""
    gr, crm = helpers.gr_export(tmp_path / "gr.xlsx"), helpers.crm_export(tmp_path / "crm.xlsx")
    review = tmp_path / "review.xlsx"
    match_files(gr, crm, review, all_links=True)
    with pytest.raises(InputError, match="already exists"):
        match_files(gr, crm, review)
    assert match_files(gr, crm, review, force=True, all_links=True).kept_copy is None
    _decide(review, helpers.GR_IDS[0], "skip")
    summary = match_files(gr, crm, review, force=True)
    assert summary.kept_copy is not None
    kept = Path(summary.kept_copy)
    assert kept.exists()
    assert kept.name.startswith("review (replaced ")
    kept_rows = read_review(kept).rows.set_index("gr_contact_id")
    assert kept_rows.loc[helpers.GR_IDS[0], "decision"] == "skip"  # the edits are in the copy


def _decide(review: Path, gr_id: str, decision: str) -> None:
    book = openpyxl.load_workbook(review)
    for sheet in book.worksheets:
        header = [c.value for c in sheet[1]]
        if "GetResponse Contact" not in header:
            continue
        for row in sheet.iter_rows(min_row=2):
            if row[header.index("GetResponse Contact")].value == gr_id:
                row[header.index("Decision")].value = decision
                row[header.index("CRM Contact")].value = None
    book.save(review)


def test_a_reviewer_s_new_for_an_address_the_crm_holds_is_reported(matched: Path, tmp_path: Path):
    """Jean Dupont's address is a CRM contact's: choosing new would create a second one."""
    _decide(matched, helpers.GR_IDS[0], "new")
    result = build_import(matched, tmp_path / "import")
    notes = [w for w in result.warnings if "already has jean.dupont@example.fr" in w]
    assert len(notes) == 1
    assert "row 2" in notes[0]
    assert "creates a duplicate" in notes[0]


def test_crm_export_never_relinks_a_row_to_a_contact_the_reviewer_turned_down(
    matched: Path, tmp_path: Path
):
    """The reviewer chose new for Jean Dupont (jean.dupont@example.fr is CRM_IDS[0]); the
    import rejected the new contact as a duplicate, so the fresh export holds only the
    contact that was turned down: it is not linked, it is reported."""
    _decide(matched, helpers.GR_IDS[0], "new")
    first = build_import(matched, tmp_path / "import")
    assert first.files
    export = helpers.crm_export(tmp_path / "after.xlsx")  # nothing new was created
    second = build_import(matched, tmp_path / "after", crm_export=export)
    texts = [str(p) for p in second.unresolved]
    assert any("you were offered for this row and did not choose" in t for t in texts)
    linked = [r for f in second.files for r in _sheet_rows(f.path)]
    assert helpers.GR_IDS[0] not in {r["(Do Not Modify) GetResponse Contact"] for r in linked}


def test_a_name_read_only_from_the_address_never_creates_a_contact(tmp_path: Path):
    """A GetResponse name that is an address ("lea.roy@x.fr"): first and last names are only
    guessed from it, so the row waits for a person instead of becoming a new contact."""
    gr = helpers.write_csv(
        tmp_path / "gr.csv",
        ["GetResponse Contact ID", "Name", "Email"],
        [[dynamics.new_guid("gr", "1"), "lea.roy@x.fr", "lea.roy@x.fr"],
         [dynamics.new_guid("gr", "2"), "Marc Petit", "marc.petit@x.fr"]],
    )  # fmt: skip
    crm = helpers.crm_export(tmp_path / "crm.xlsx")
    match_files(gr, crm, tmp_path / "review.xlsx")
    rows = read_review(tmp_path / "review.xlsx").rows
    assert rows["decision"].tolist() == ["review", "new"]
    assert rows["last_name"].iloc[0].lower() == "roy"


def test_unlisted_links_are_read_back(tmp_path: Path):
    """By default the links with nothing to check are on no sheet: the Summary counts them
    and build-import links them all the same, from the hidden copy."""
    gr, crm = helpers.gr_export(tmp_path / "gr.xlsx"), helpers.crm_export(tmp_path / "crm.xlsx")
    review = tmp_path / "review.xlsx"
    match_files(gr, crm, review)
    book = openpyxl.load_workbook(review)
    listed = {
        row[0]
        for sheet in book.worksheets
        if sheet.title in ("Review", "Links")
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert helpers.GR_IDS[0] not in listed  # jean.dupont@example.fr: exact email, same name
    summary = {r[0]: r for r in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["links not listed row by row"][4] >= 1
    rows = read_review(review).rows.set_index("gr_contact_id")
    assert rows.loc[helpers.GR_IDS[0], "decision"] == "link"
    assert rows.loc[helpers.GR_IDS[0], "crm_contact_id"] == helpers.CRM_IDS[0]
    result = build_import(review, tmp_path / "import")
    link_file = next(f for f in result.files if f.kind != "contacts import")
    linked = {r["(Do Not Modify) GetResponse Contact"] for r in _sheet_rows(link_file.path)}
    assert helpers.GR_IDS[0] in linked
