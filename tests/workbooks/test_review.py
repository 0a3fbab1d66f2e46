"""The review workbook: its layout, and the checks build-import runs on the edited copy."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from reconcile.errors import InputError
from reconcile.workbooks import packing
from reconcile.workbooks.validate import read_review
from tests.workbooks import review_cases as cases


def test_layout(tmp_path: Path):
    path = cases.write(tmp_path / "review.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Review", "Summary", "_reconcile", "_original"]
    assert [book[s].sheet_state for s in book.sheetnames] == [
        "visible",
        "visible",
        "hidden",
        "hidden",
    ]
    sheet = book["Review"]
    header = [c.value for c in sheet[1]]
    assert header[:12] == [
        "GetResponse Contact", "Email", "Name", "First Name", "Last Name", "Decision",
        "CRM Contact", "CRM Name", "CRM Email", "Score", "Reason", "Candidates",
    ]  # fmt: skip
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:M5"
    (validation,) = sheet.data_validations.dataValidation
    assert validation.type == "list"
    assert validation.formula1 == '"link,new,skip,review"'
    assert str(validation.sqref) == "F2:F5"
    rules = [r for cf in sheet.conditional_formatting for r in cf.rules]
    assert {r.text for r in rules} == {"link", "new", "review", "skip", "invalid"}
    assert all(r.dxf.fill is not None for r in rules)
    assert sheet.column_dimensions["B"].width > 20
    assert sheet["J2"].value == 100
    assert sheet["J2"].data_type == "n"
    assert sheet["K3"].value == "no CRM contact"
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary == {"link": 1, "new": 1, "review": 1, "skip": 0, "invalid": 1, "total": 4}
    meta = json.loads(book["_reconcile"]["A2"].value)
    assert meta["rows"] == 4
    assert meta["review_sheets"] == ["Review"]


def test_metadata_longer_than_an_excel_cell_is_kept(tmp_path: Path):
    """A migration of a few hundred GetResponse lists (or a folder of many exports) makes the
    hidden metadata longer than the 32,767 characters one cell holds."""
    from reconcile.workbooks.review import write_review

    lists = [{"campaign_id": f"L{i}", "name": f"Liste n°{i} 🎯" * 3} for i in range(1500)]
    meta = {**cases.META, "migrate": {"lists": lists}}
    path = tmp_path / "review.xlsx"
    write_review(cases.frame(), path, meta)
    assert read_review(path).meta["migrate"]["lists"] == lists


def test_rows_beyond_a_sheet_continue_on_numbered_sheets(tmp_path: Path):
    path = cases.write(tmp_path / "review.xlsx", rows_per_sheet=3)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:2] == ["Review", "Review 2"]
    assert book["Review"].max_row == 4
    assert book["Review 2"].max_row == 2
    assert book["Review 2"]["A2"].value == "g4"
    rows = read_review(path).rows
    assert rows["gr_contact_id"].tolist() == ["g1", "g2", "g3", "g4"]
    assert rows["sheet"].tolist() == ["Review", "Review", "Review", "Review 2"]


def test_read_back_unchanged(tmp_path: Path):
    reviewed = read_review(cases.write(tmp_path / "review.xlsx"))
    rows = reviewed.rows
    assert rows["decision"].tolist() == ["link", "new", "review", "invalid"]
    assert rows["candidate_ids"].tolist() == [("c1",), (), ("c2", "c3"), ()]
    assert rows["row"].tolist() == [2, 3, 4, 5]
    assert rows["modified_on"].iloc[0].isoformat() == "2026-01-05T09:30:00"
    assert rows["modified_on"].iloc[3] == "05/01/2026 09:30"
    assert reviewed.meta["gr"]["sheet"] == "Active GetResponse contacts"


def test_reviewer_choices_are_read(tmp_path: Path):
    path = cases.write(tmp_path / "review.xlsx")
    edited = cases.edit(
        path,
        tmp_path / "edited.xlsx",
        {"F4": " Link ", "G4": "c3", "D3": "Bob", "E3": "Martin", "C3": "Robert Martin"},
    )
    rows = read_review(edited).rows.set_index("gr_contact_id")
    assert rows.loc["g3", "decision"] == "link"
    assert rows.loc["g3", "crm_contact_id"] == "c3"
    assert (rows.loc["g2", "first_name"], rows.loc["g2", "last_name"]) == ("Bob", "Martin")
    assert rows.loc["g2", "name"] == "@SUM(1+1)"  # Name is GetResponse's: edits are not taken


def test_sorting_the_sheet_is_fine(tmp_path: Path):
    path = cases.write(tmp_path / "review.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["Review"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    for index, row in enumerate(reversed(rows), start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(index, column)
            cell.value = value  # (sheet.cell(..., value=None) would leave the old value)
            if isinstance(value, str):
                cell.data_type = "s"  # Excel moves text as text; openpyxl would make '=…' a formula
    book.save(tmp_path / "sorted.xlsx")
    reviewed = read_review(tmp_path / "sorted.xlsx").rows
    assert reviewed["gr_contact_id"].tolist() == ["g1", "g2", "g3", "g4"]
    assert reviewed["row"].tolist() == [5, 4, 3, 2]


def _problems(path: Path) -> list:
    with pytest.raises(InputError) as caught:
        read_review(path)
    return caught.value.problems


def test_all_problems_are_reported_at_once_with_sheet_row_and_column(tmp_path: Path):
    path = cases.write(tmp_path / "review.xlsx")
    edited = cases.edit(
        path,
        tmp_path / "edited.xlsx",
        {
            "F2": "maybe",  # unknown decision
            "F3": "link",  # link without CRM contact
            "F4": "link", "G4": "c9",  # not a candidate
            "F5": None,  # empty decision
        },
    )  # fmt: skip
    problems = _problems(edited)
    where = {(p.sheet, p.row, p.column) for p in problems}
    assert where == {
        ("Review", 2, "Decision"),
        ("Review", 3, "CRM Contact"),
        ("Review", 4, "CRM Contact"),
        ("Review", 5, "Decision"),
    }
    messages = " | ".join(p.message for p in problems)
    assert "unknown decision 'maybe'" in messages
    assert "CRM Contact is empty" in messages
    assert "'c9' was not a candidate" in messages
    assert "c2, c3" in messages
    assert "Decision is empty" in messages
    assert all(p.file == str(edited) for p in problems)


def test_added_deleted_copied_and_rekeyed_rows(tmp_path: Path):
    path = cases.write(tmp_path / "review.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["Review"]
    sheet["A3"] = "g2-changed"  # id changed
    sheet.delete_rows(4)  # g3 deleted
    sheet.append([c.value for c in sheet[2]])  # g1 copied
    book.save(tmp_path / "edited.xlsx")
    messages = [(p.row, p.message) for p in _problems(tmp_path / "edited.xlsx")]
    text = " | ".join(m for _, m in messages)
    assert "'g2-changed' was not written by 'reconcile match'" in text
    assert "'g1' appears again (first in sheet 'Review' row 2): the row was copied" in text
    assert "GetResponse Contact 'g2' (written at row 3) was deleted" in text
    assert "GetResponse Contact 'g3' (written at row 4) was deleted" in text


def test_changed_email_and_new_without_last_name(tmp_path: Path):
    path = cases.write(tmp_path / "review.xlsx")
    edited = cases.edit(
        path, tmp_path / "edited.xlsx", {"B2": "other@x.fr", "F5": "new", "E3": None}
    )
    problems = {(p.row, p.column): p.message for p in _problems(edited)}
    assert "Email was changed" in problems[(2, "Email")]
    assert "no email" in problems[(5, "Email")]
    assert "Last Name is empty" in problems[(3, "Last Name")]


def test_an_email_recased_in_excel_is_read_as_exported(tmp_path: Path):
    """Only the case may differ (Excel's AutoCorrect capitalises a first letter): accepted,
    but the imports write the address GetResponse has, not the recased one."""
    path = cases.write(tmp_path / "review.xlsx")
    edited = cases.edit(path, tmp_path / "edited.xlsx", {"B2": "A@X.FR"})
    rows = read_review(edited).rows.set_index("gr_contact_id")
    assert rows.loc["g1", "email"] == "a@x.fr"


def test_names_longer_than_dynamics_holds(tmp_path: Path):
    path = cases.write(tmp_path / "review.xlsx")
    edited = cases.edit(path, tmp_path / "e.xlsx", {"D3": "Jean", "E3": "X" * 51})
    (problem,) = _problems(edited)
    assert (problem.row, problem.column) == (3, "Last Name")
    assert "51 characters" in problem.message


def test_a_renamed_column_is_reported(tmp_path: Path):
    edited = cases.edit(
        cases.write(tmp_path / "review.xlsx"), tmp_path / "e.xlsx", {"F1": "Choice"}
    )
    (problem,) = _problems(edited)
    assert (problem.sheet, problem.row, problem.column) == ("Review", 1, "Decision")


def test_tampered_hidden_sheet_or_foreign_workbook(tmp_path: Path):
    path = cases.write(tmp_path / "review.xlsx")
    tampered = cases.edit(
        path, tmp_path / "t.xlsx", {"A2": '[["g1","a@x.fr","c1 c9","",""]]'}, sheet="_original"
    )
    with pytest.raises(InputError, match="'_original' was changed"):
        read_review(tampered)
    book = openpyxl.Workbook()
    book.active.append(["GetResponse Contact", "Decision"])
    book.save(tmp_path / "foreign.xlsx")
    with pytest.raises(InputError, match="not a review workbook written by 'reconcile match'"):
        read_review(tmp_path / "foreign.xlsx")


def test_many_problems_of_one_kind_are_summarised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from reconcile.workbooks import validate

    monkeypatch.setattr(validate, "MAX_PER_KIND", 2)
    path = cases.write(tmp_path / "review.xlsx")
    edited = cases.edit(path, tmp_path / "e.xlsx", {"F2": "x", "F3": "y", "F4": "z", "F5": "w"})
    problems = _problems(edited)
    assert len(problems) == 3
    assert problems[-1].message == "… and 2 more rows with an unknown decision"


@pytest.mark.parametrize(
    "values",
    [
        [f"id{i}" for i in range(500)],
        ["", "", ""],
        ["a\nb", "back\\slash", "\\n", "x" * 150, "é" * 10],
        [],
    ],
)
def test_packing_round_trips_and_keeps_cells_under_the_limit(values: list[str]):
    cells = packing.pack(values, limit=200)
    assert all(len(c) <= 200 for c in cells)
    assert all(c.startswith("|") for c in cells)
    assert packing.unpack(cells) == values


def test_packing_refuses_an_edited_cell_and_an_oversized_value():
    with pytest.raises(ValueError, match="changed"):
        packing.unpack(["|a\nb", "edited"])
    with pytest.raises(ValueError, match="longer than an Excel cell"):
        packing.pack(["x" * 300], limit=200)
