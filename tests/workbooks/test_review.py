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
    """Rows needing a decision first on Review, confident links on Links, candidates in their
    own columns, a dropdown that picks one, print set-up, and a Summary of formulas."""
    path = cases.write(tmp_path / "review.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Review", "Links", "Summary", "_reconcile", "_original"]
    assert [book[s].sheet_state for s in book.sheetnames] == [
        "visible", "visible", "visible", "hidden", "hidden",
    ]  # fmt: skip
    sheet = book["Review"]
    header = [c.value for c in sheet[1]]
    assert header[:11] == [
        "GetResponse Contact", "Email", "Name", "First Name", "Last Name", "Decision", "Score",
        "Reason", "Risk", "Name Check", "Candidate 1",
    ]  # fmt: skip
    assert header[10:15] == ["Candidate 1", "Candidate 1 Name", "Candidate 1 Email",
                             "Candidate 1 Score", "Candidate 1 Reason"]  # fmt: skip
    assert header[-1] == "CRM Contact"
    # review first, then new, then invalid; the link is on Links
    assert [sheet.cell(r, 1).value for r in (2, 3, 4)] == ["g3", "g2", "g4"]
    assert [sheet.cell(2, c).value for c in (11, 12, 13, 14, 15)] == [
        "c2", "Zoé N", "z@x.fr", 71, "same name",
    ]  # fmt: skip
    assert sheet.cell(2, 18).value == "" or sheet.cell(2, 18).value is None  # no email
    crm = sheet.cell(2, len(header))
    assert crm.data_type == "f"
    assert '"link 1"' in crm.value
    assert '"link 2"' in crm.value
    assert sheet.freeze_panes == "B2"
    (validation,) = sheet.data_validations.dataValidation
    assert validation.type == "list"
    assert validation.formula1 == '"link 1,link 2,link 3,new,skip,review,link"'
    assert str(validation.sqref) == "F2:F4"
    rules = [r for cf in sheet.conditional_formatting for r in cf.rules]
    assert {r.text for r in rules} == {"link", "new", "review", "skip", "invalid"}
    assert sheet.column_dimensions["A"].width >= 36  # a GUID shows whole
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$1"
    assert sheet["H2"].alignment.wrap_text
    links = book["Links"]
    head = [c.value for c in links[1]]
    assert links.cell(2, head.index("CRM Contact") + 1).value == "c1"
    assert links.cell(2, head.index("Decision") + 1).value == "link"
    summary = {r[0]: r for r in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert set(summary) >= {"link", "new", "review", "skip", "invalid", "total",
                            "check: new rows that look like a CRM contact",
                            "check: links whose names differ"}  # fmt: skip
    count = summary["link"][-1]
    assert count.startswith("=$E2+IF($B2")
    assert "COUNTIF('Review'!$F$2:$F$1048576,$B" in count
    assert "COUNTIF('Links'!$F$2:$F$1048576,$B" in count
    meta = json.loads(book["_reconcile"]["A2"].value)
    assert meta["rows"] == 4
    assert meta["review_sheets"] == ["Review", "Links"]


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
    path = cases.write(tmp_path / "review.xlsx", rows_per_sheet=2)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:3] == ["Review", "Review 2", "Links"]
    assert book["Review"].max_row == 3
    assert book["Review 2"].max_row == 2
    assert book["Review 2"]["A2"].value == "g4"
    rows = read_review(path).rows
    assert rows["gr_contact_id"].tolist() == ["g1", "g2", "g3", "g4"]
    assert rows["sheet"].tolist() == ["Links", "Review", "Review", "Review 2"]


def test_read_back_unchanged(tmp_path: Path):
    reviewed = read_review(cases.write(tmp_path / "review.xlsx"))
    rows = reviewed.rows
    assert rows["decision"].tolist() == ["link", "new", "review", "invalid"]
    assert rows["candidate_ids"].tolist() == [("c1",), (), ("c2", "c3"), ()]
    assert rows["row"].tolist() == [2, 3, 2, 4]
    assert rows["sheet"].tolist() == ["Links", "Review", "Review", "Review"]
    assert rows["modified_on"].iloc[0].isoformat() == "2026-01-05T09:30:00"
    assert rows["modified_on"].iloc[3] == "05/01/2026 09:30"
    assert reviewed.meta["gr"]["sheet"] == "Active GetResponse contacts"


def test_reviewer_choices_are_read(tmp_path: Path):
    path = cases.write(tmp_path / "review.xlsx")
    edited = cases.edit(
        path,
        tmp_path / "edited.xlsx",
        {("g3", "Decision"): " Link ", ("g3", "CRM Contact"): "c3",
         ("g2", "First Name"): "Bob", ("g2", "Last Name"): "Martin",
         ("g2", "Name"): "Robert Martin"},
    )  # fmt: skip
    rows = read_review(edited).rows.set_index("gr_contact_id")
    assert rows.loc["g3", "decision"] == "link"
    assert rows.loc["g3", "crm_contact_id"] == "c3"
    assert (rows.loc["g2", "first_name"], rows.loc["g2", "last_name"]) == ("Bob", "Martin")
    assert rows.loc["g2", "name"] == "@SUM(1+1)"  # Name is GetResponse's: edits are not taken


@pytest.mark.parametrize(("choice", "chosen"), [("link 1", "c2"), ("Link 2", "c3")])
def test_the_dropdown_chooses_a_candidate(tmp_path: Path, choice: str, chosen: str):
    """'link 2' links to candidate 2, whatever the CRM Contact formula cell holds (empty in a
    workbook nobody opened in Excel)."""
    path = cases.write(tmp_path / "review.xlsx")
    edited = cases.edit(path, tmp_path / "edited.xlsx", {("g3", "Decision"): choice})
    rows = read_review(edited).rows.set_index("gr_contact_id")
    assert (rows.loc["g3", "decision"], rows.loc["g3", "crm_contact_id"]) == ("link", chosen)


def test_a_choice_beyond_the_candidates_or_against_crm_contact_is_reported(tmp_path: Path):
    path = cases.write(tmp_path / "review.xlsx")
    edited = cases.edit(
        path, tmp_path / "edited.xlsx",
        {("g3", "Decision"): "link 3", ("g2", "Decision"): "link 1"},
    )  # fmt: skip
    messages = " | ".join(p.message for p in _problems(edited))
    assert "'link 3' chooses a candidate this row does not have" in messages
    assert "'link 1' chooses a candidate this row does not have" in messages
    edited = cases.edit(
        path, tmp_path / "e2.xlsx", {("g3", "Decision"): "link 1", ("g3", "CRM Contact"): "c3"}
    )
    (problem,) = _problems(edited)
    assert "Decision says 'link 1' but CRM Contact holds another id" in problem.message


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
    assert reviewed["row"].tolist() == [2, 3, 4, 2]  # g1 on Links; Review reversed


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
            ("g1", "Decision"): "maybe",  # unknown decision
            ("g2", "Decision"): "link",  # link without CRM contact
            ("g3", "Decision"): "link", ("g3", "CRM Contact"): "c9",  # not a candidate
            ("g4", "Decision"): None,  # empty decision
        },
    )  # fmt: skip
    problems = _problems(edited)
    where = {(p.sheet, p.row, p.column) for p in problems}
    assert where == {
        ("Links", 2, "Decision"),
        ("Review", 3, "CRM Contact"),
        ("Review", 2, "CRM Contact"),
        ("Review", 4, "Decision"),
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
    sheet.delete_rows(4)  # g4 deleted
    sheet.append([c.value for c in sheet[2]])  # g3 copied
    book.save(tmp_path / "edited.xlsx")
    messages = [(p.row, p.message) for p in _problems(tmp_path / "edited.xlsx")]
    text = " | ".join(m for _, m in messages)
    assert "'g2-changed' was not written by 'reconcile match'" in text
    assert "'g3' appears again (first in sheet 'Review' row 2): the row was copied" in text
    assert "GetResponse Contact 'g2' (written at row 3) was deleted" in text
    assert "GetResponse Contact 'g4' (written at row 4) was deleted" in text


def test_changed_email_and_new_without_last_name(tmp_path: Path):
    path = cases.write(tmp_path / "review.xlsx")
    edited = cases.edit(
        path,
        tmp_path / "edited.xlsx",
        {("g1", "Email"): "other@x.fr", ("g4", "Decision"): "new", ("g2", "Last Name"): None},
    )
    problems = {(p.sheet, p.row, p.column): p.message for p in _problems(edited)}
    assert "Email was changed" in problems[("Links", 2, "Email")]
    assert "no email" in problems[("Review", 4, "Email")]
    assert "Last Name is empty" in problems[("Review", 3, "Last Name")]


def test_an_email_recased_in_excel_is_read_as_exported(tmp_path: Path):
    """Only the case may differ (Excel's AutoCorrect capitalises a first letter): accepted,
    but the imports write the address GetResponse has, not the recased one."""
    path = cases.write(tmp_path / "review.xlsx")
    edited = cases.edit(path, tmp_path / "edited.xlsx", {("g1", "Email"): "A@X.FR"})
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
    edited = cases.edit(
        path, tmp_path / "e.xlsx", {(g, "Decision"): d for g, d in zip(["g1", "g2", "g3", "g4"],
                                                                        "xyzw", strict=True)}
    )  # fmt: skip
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
