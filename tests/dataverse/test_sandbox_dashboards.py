"""The connector's system charts and dashboards (SPEC 10) on the sandbox: ``schema install``
creates them in the connector's solution and publishes them, ``check`` and ``doctor`` report
them missing or stale, and the sandbox refuses chart and dashboard XML that Dataverse
refuses."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.dataverse import check_schema, install_schema
from reconcile.dataverse import dashboards as d
from reconcile.dataverse import schema as s
from reconcile.dataverse.errors import ValidationFailed
from reconcile.sandbox.dataverse.customizations import COMPONENT_TYPES

Target = Any  # tests/dataverse/conftest.py::Target


def test_install_creates_views_charts_and_dashboards_in_the_solution(dv: Target) -> None:
    client = dv.client()
    report = install_schema(client)
    assert report.ok, [str(f) for f in report.findings]
    assert sum(1 for c in report.created if c.startswith("chart ")) == len(d.CHARTS) == 7
    assert sum(1 for c in report.created if c.startswith("dashboard ")) == 2
    forms = client.get_json("systemforms", params={"$filter": "type eq 0"})["value"]
    assert sorted(f["name"] for f in forms) == [
        "GetResponse — Activity and sent emails",
        "GetResponse — Contacts",
    ]
    charts = client.get_json("savedqueryvisualizations")["value"]
    assert {c["primaryentitytypecode"] for c in charts} == {
        s.CONTACTS.logical_name,
        s.ACTIVITIES.logical_name,
        s.NEWSLETTERS.logical_name,
    }
    solution = client.get_json(
        "solutions", params={"$filter": f"uniquename eq '{s.SOLUTION_UNIQUE_NAME}'"}
    )["value"][0]["solutionid"]
    components = client.get_json(
        "solutioncomponents", params={"$filter": f"_solutionid_value eq {solution}"}
    )["value"]
    kinds = sorted(c["componenttype"] for c in components)
    assert kinds.count(COMPONENT_TYPES["savedqueryvisualization"]) == 7
    assert kinds.count(COMPONENT_TYPES["systemform"]) == 2
    assert kinds.count(COMPONENT_TYPES["savedquery"]) == 3
    published = dv.sandbox.state()["published"][-1]
    assert all(f"{{{board.id}}}" in published for board in d.DASHBOARDS)
    again = install_schema(client)
    assert again.created == []
    assert check_schema(client).ok


def test_check_reports_stale_and_missing_and_install_repairs(dv: Target) -> None:
    client = dv.client()
    install_schema(client)
    chart = d.BY_KEY["contacts_by_status"]
    client.request(
        "PATCH",
        f"savedqueryvisualizations({chart.id})",
        json={
            "presentationdescription": '<Chart><Series><Series ChartType="Bar" /></Series></Chart>'
        },
        headers={"If-Match": "*"},
        idempotent=True,
    )
    board = d.DASHBOARDS[1]
    client.delete("systemforms", board.id)
    found = {str(f) for f in check_schema(client).findings}
    assert found == {
        f"chart {chart.name} is stale (presentationdescription differ)",
        f"dashboard {board.name} missing",
    }
    from click.testing import CliRunner

    from reconcile.cli import cli

    env = {
        "RECONCILE_DYNAMICS_ENVIRONMENT_URL": dv.url,
        "RECONCILE_DYNAMICS_ACCESS_TOKEN": dv.info["identities"]["admin"]["token"],
        "RECONCILE_CONFIG": "",
        "XDG_CONFIG_HOME": "/nonexistent",
    }
    plan = CliRunner().invoke(cli, ["schema", "install", "--dry-run", "--no-roles"], env=env)
    assert f"would create dashboard {board.name}" in plan.output
    assert (
        f"would rewrite chart {chart.name} (it is stale (presentationdescription differ))"
        in plan.output
    )
    repaired = install_schema(client)
    assert repaired.ok
    assert sorted(repaired.created) == sorted([f"chart {chart.name}", f"dashboard {board.name}"])


def test_doctor_reports_a_missing_dashboard(dv: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    from reconcile.config import load_settings
    from reconcile.doctor import run_doctor

    monkeypatch.setenv("RECONCILE_CONFIG", "")
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent")
    monkeypatch.setenv("RECONCILE_DYNAMICS_ENVIRONMENT_URL", dv.url)
    client = dv.client()
    install_schema(client)
    client.delete("systemforms", d.DASHBOARDS[0].id)
    report = run_doctor(load_settings(None, None), dataverse=dv.client, skip_getresponse=True)
    tables = next(c for c in report.checks if c.name == "dynamics.tables")
    assert tables.status == "failed"
    assert f"dashboard {d.DASHBOARDS[0].name} missing" in tables.details


def test_chart_queries_run_on_the_connector_tables(dv: Target) -> None:
    """Each chart's FetchXML is an aggregate Dataverse answers (Home would show it)."""
    import xml.etree.ElementTree as ET

    client = dv.client()
    install_schema(client)
    client.create(s.CONTACTS.entity_set, {"grc_name": "A", "grc_origin": "api"})
    for chart in d.CHARTS:
        definition = ET.fromstring(chart.data_description())  # noqa: S314 - our own XML
        fetch = definition.find("fetchcollection/fetch")
        xml = ET.tostring(fetch, encoding="unicode")
        rows = client.get_json(chart.table.entity_set, params={"fetchXml": xml})["value"]
        if chart.key == "contacts_by_origin":
            assert rows == [{"groupby_column": "api", "aggregate_column": 1}]


def chart(**changes: str) -> dict[str, Any]:
    record = d.BY_KEY["contacts_by_status"].record()
    record.pop("savedqueryvisualizationid")
    record["name"] = "test chart"
    record.update(changes)
    return record


GOOD = d.BY_KEY["contacts_by_status"].data_description()
MEASURE = '<measure alias="aggregate_column"'


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"datadescription": GOOD[:-5]}, "not well formed"),
        ({"datadescription": GOOD.replace("<categorycollection>", "<colors/><categorycollection>")},
         "holds <fetchcollection> then <categorycollection>"),
        ({"datadescription": GOOD.replace(MEASURE, '<measure alias="x"')},
         "the measure alias 'x' is not in the fetch"),
        ({"datadescription": GOOD.replace('<measure alias', '<measure color="red" alias')},
         "takes exactly one attribute, alias"),
        ({"datadescription": GOOD.replace("grc_synchronizationstatus", "grc_mood")},
         "doesn't contain attribute with Name = 'grc_mood'"),
        ({"presentationdescription": '<Chart Shade="3"></Chart>'},
         "the attribute 'Shade' is not allowed on 'Chart'"),
        ({"presentationdescription": "<Chart><Sparkle /></Chart>"},
         "the element 'Sparkle' is not allowed"),
        ({"primaryentitytypecode": "grc_nothing"}, "the table 'grc_nothing' does not exist"),
    ],
)  # fmt: skip
def test_invalid_charts_are_refused(dv: Target, changes: dict[str, str], message: str) -> None:
    client = dv.client()
    install_schema(client)
    with pytest.raises(ValidationFailed) as caught:
        client.request("POST", "savedqueryvisualizations", json=chart(**changes), idempotent=False)
    assert message in caught.value.service_message


def test_invalid_dashboards_are_refused(dv: Target) -> None:
    client = dv.client()
    install_schema(client)
    board = d.DASHBOARDS[0].record()
    board.pop("formid")
    cases = {
        "the VisualizationId": board["formxml"].replace(
            d.BY_KEY["contacts_by_list"].id, "00000000-0000-0000-0000-000000000001"
        ),
        "the attribute 'flashy' is not allowed on 'cell'": board["formxml"].replace(
            "<cell ", '<cell flashy="1" ', 1
        ),
        "at most 6 components": board["formxml"].replace(
            "</rows>", "".join(_cell(i) for i in range(3)) + "</rows>"
        ),
        "not well formed": board["formxml"][:-3],
    }
    for message, xml in cases.items():
        with pytest.raises(ValidationFailed) as caught:
            client.request("POST", "systemforms", json={**board, "formxml": xml}, idempotent=False)
        assert message in caught.value.service_message, message


def _cell(i: int) -> str:
    chart = d.BY_KEY["contacts_by_status"]
    return (
        "<row>" + d.Dashboard._cell(chart).replace(f'id="{chart.key}"', f'id="extra{i}"') + "</row>"
    )
