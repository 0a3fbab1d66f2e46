"""The run report built from the journal's outcomes (``writes.fill_report``): every failure
names the Review row it comes from, so the admin can find it in the workbook."""

from __future__ import annotations

from reconcile.jobs.migrate import writes
from reconcile.jobs.migrate.plan import Plan, PlanList, RecordWrite
from reconcile.jobs.migrate.report import RunReport
from reconcile.state import DONE, FAILED


def test_a_failed_custom_field_value_names_its_review_row() -> None:
    plan = Plan("https://org.example", "getresponse", False, [PlanList("C1", "Clients", "L", True)])
    plan.records.append(
        RecordWrite("AbC", "C1", "Jean Dupont", "j@x.fr", "", "new", where="Review row 7")
    )
    states = {"record:AbC": DONE, "field:AbC:f1": FAILED, "field:AbC:f2": DONE}
    results = {
        "record:AbC": {"link": None},
        "field:AbC:f1": {"message": "value too long"},
        "field:AbC:f2": {},
    }
    report = RunReport("review.xlsx", plan.environment, dry_run=False)
    writes.fill_report(report, plan, results, states, {"C1": "L"})
    (failure,) = report.failures
    assert (failure.what, failure.record, failure.email) == (
        "custom field value",
        "AbC:f1",
        "j@x.fr",
    )
    assert failure.where == "Review row 7"
    assert failure.message == "value too long"
    assert report.counts["custom_field_values"] == 1
