"""The connector's two dashboards on Home, as Dynamics stores them (SPEC 10): system views
(``savedquery``), system charts (``savedqueryvisualization``) on the connector tables, and two
system dashboards (``systemform`` of type 0) that show them.

Definitions are data; the XML is written here, following Microsoft's documented shapes
(``docs/report.md`` and ``docs/dataverse-api.md`` [D17–D20]): a chart's *data description*
(``datadefinition`` → ``fetchcollection`` with an aggregate FetchXML, ``categorycollection`` →
``category`` → ``measurecollection`` → ``measure``) and *presentation description* (a
serialized Chart Controls ``<Chart>``), a dashboard's FormXML (tabs → sections → rows → cells
holding chart controls that name a chart and a view of its table). Every record has a fixed
id derived from its key, so ``check`` finds it again and ``install`` creates it once; a record
whose XML differs from the definition is *stale* and ``install`` rewrites it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from reconcile.dataverse import schema as s
from reconcile.dataverse.errors import RecordNotFound
from reconcile.model import SyncStatus

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient

P = s.PUBLISHER.prefix
CHART_CONTROL = "{E7A81278-8635-4d9e-8D4D-59480B391C5B}"  # chart / grid control of dashboards
DASHBOARD_TYPE = 0
COLORS = "55,118,193; 224,121,43; 58,155,92; 181,68,58; 124,92,176; 42,157,176"


def stable_id(kind: str, key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"reconcile-getresponse-connector:{kind}:{key}"))


@dataclass(frozen=True)
class View:
    table: s.Table

    @property
    def id(self) -> str:
        return stable_id("view", self.table.key)

    @property
    def name(self) -> str:
        return f"GetResponse dashboards: {self.table.plural}"

    def record(self) -> dict[str, Any]:
        t = self.table
        columns = [t.primary_name.logical_name, f"{P}_synchronizationstatus", "createdon"]
        attributes = "".join(f'<attribute name="{c}" />' for c in columns)
        fetch = (
            f'<fetch version="1.0" mapping="logical"><entity name="{t.logical_name}">'
            f'<attribute name="{t.primary_id}" />{attributes}'
            f'<order attribute="createdon" descending="true" /></entity></fetch>'
        )
        cells = "".join(f'<cell name="{c}" width="150" />' for c in columns)
        layout = (
            f'<grid name="resultset" object="{t.logical_name}" jump="{columns[0]}" select="1" '
            f'icon="1" preview="1"><row name="result" id="{t.primary_id}">{cells}</row></grid>'
        )
        return {
            "savedqueryid": self.id,
            "name": self.name,
            "returnedtypecode": t.logical_name,
            "querytype": 0,
            "fetchxml": fetch,
            "layoutxml": layout,
            "description": "All records, for the GetResponse dashboards' charts.",
        }


@dataclass(frozen=True)
class Chart:
    key: str
    name: str
    table: s.Table
    kind: str  # Pie | Bar | Column | StackedColumn
    category: str  # the grouped column
    date_grouping: str | None = None  # month
    series: str | None = None  # a second grouped column: one series per value
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    top: int | None = None  # the largest groups only
    description: str = ""

    @property
    def id(self) -> str:
        return stable_id("chart", self.key)

    def data_description(self) -> str:
        t = self.table
        group = f'<attribute name="{self.category}" groupby="true" alias="groupby_column"'
        if self.date_grouping:
            group += f' dategrouping="{self.date_grouping}" usertimezone="false"'
        group += " />"
        if self.series:
            group += f'<attribute name="{self.series}" groupby="true" alias="series_column" />'
        measure = f'<attribute name="{t.primary_id}" aggregate="count" alias="aggregate_column" />'
        where = ""
        if self.conditions:
            parts = []
            for attribute, operator, values in self.conditions:
                if operator == "in":
                    inner = "".join(f"<value>{escape(v)}</value>" for v in values)
                    parts.append(
                        f'<condition attribute="{attribute}" operator="in">{inner}</condition>'
                    )
                else:
                    parts.append(
                        f'<condition attribute="{attribute}" operator="{operator}" '
                        f'value="{escape(values[0])}" />'
                    )
            where = f'<filter type="and">{"".join(parts)}</filter>'
        order = (
            '<order alias="aggregate_column" descending="true" />'
            if self.top
            else '<order alias="groupby_column" descending="false" />'
        )
        count = f' count="{self.top}"' if self.top else ""
        return (
            f'<datadefinition><fetchcollection><fetch mapping="logical" aggregate="true"{count}>'
            f'<entity name="{t.logical_name}">{group}{measure}{where}{order}</entity></fetch>'
            '</fetchcollection><categorycollection><category alias="groupby_column">'
            '<measurecollection><measure alias="aggregate_column" /></measurecollection>'
            "</category></categorycollection></datadefinition>"
        )

    def presentation_description(self) -> str:
        legend = (
            '<Legends><Legend Alignment="Center" LegendStyle="Table" Docking="right" '
            'Font="{0}, 11px" ShadowColor="0, 0, 0, 0" ForeColor="59, 59, 59" /></Legends>'
            if self.kind in ("Pie", "StackedColumn")
            else ""
        )
        custom = (
            "PieLabelStyle=Inside, PieDrawingStyle=Default"
            if self.kind == "Pie"
            else "PointWidth=0.75, MaxPixelPointWidth=40"
        )
        axes = (
            ""
            if self.kind == "Pie"
            else '<AxisY LineColor="165, 172, 181" TitleForeColor="59, 59, 59"><MajorGrid '
            'LineColor="239, 242, 246" /><LabelStyle Font="{0}, 10.5px" ForeColor="59, 59, 59" />'
            '</AxisY><AxisX LineColor="165, 172, 181" TitleForeColor="59, 59, 59"><MajorGrid '
            'Enabled="False" /><MajorTickMark Enabled="False" /><LabelStyle Font="{0}, 10.5px" '
            'ForeColor="59, 59, 59" /></AxisX>'
        )
        return (
            f'<Chart Palette="None" PaletteCustomColors="{COLORS}"><Series><Series '
            f'ChartType="{self.kind}" IsValueShownAsLabel="True" Font="{{0}}, 9.5px" '
            f'LabelForeColor="59, 59, 59" CustomProperties="{custom}"><SmartLabelStyle '
            f'Enabled="True" /></Series></Series><ChartAreas><ChartArea BorderColor="White" '
            f'BorderDashStyle="Solid">{axes}</ChartArea></ChartAreas><Titles><Title '
            'Alignment="TopLeft" DockingOffset="-3" Font="{0}, 13px" ForeColor="59, 59, 59" />'
            f"</Titles>{legend}</Chart>"
        )

    def record(self) -> dict[str, Any]:
        return {
            "savedqueryvisualizationid": self.id,
            "name": self.name,
            "description": self.description,
            "primaryentitytypecode": self.table.logical_name,
            "charttype": 0,
            "isdefault": False,
            "datadescription": self.data_description(),
            "presentationdescription": self.presentation_description(),
        }


@dataclass(frozen=True)
class Dashboard:
    key: str
    name: str
    description: str
    charts: tuple[Chart, ...]  # at most six, two per row

    @property
    def id(self) -> str:
        return stable_id("dashboard", self.key)

    def form_xml(self) -> str:
        rows = []
        for start in range(0, len(self.charts), 2):
            cells = "".join(self._cell(c) for c in self.charts[start : start + 2])
            rows.append(f"<row>{cells}</row>" + "<row></row>" * 11)
        section = stable_id("section", self.key)
        tab = stable_id("tab", self.key)
        return (
            f'<form><tabs><tab showlabel="false" verticallayout="true" id="{{{tab}}}" '
            f'name="{{{tab}}}" locklevel="0" expanded="true"><labels><label description='
            f'"{escape(self.name)}" languagecode="{s.LANGUAGE}" /></labels><columns><column '
            f'width="100%"><sections><section showlabel="false" showbar="false" columns="11" '
            f'id="{{{section}}}" name="{{{section}}}"><labels><label description="Charts" '
            f'languagecode="{s.LANGUAGE}" /></labels><rows>{"".join(rows)}</rows></section>'
            "</sections></column></columns></tab></tabs></form>"
        )

    @staticmethod
    def _cell(chart: Chart) -> str:
        cell = stable_id("cell", chart.key)
        return (
            f'<cell colspan="1" rowspan="12" showlabel="false" id="{{{cell}}}" auto="false">'
            f'<control id="{chart.key}" classid="{CHART_CONTROL}"><parameters>'
            f"<TargetEntityType>{chart.table.logical_name}</TargetEntityType>"
            "<ChartGridMode>Chart</ChartGridMode><EnableQuickFind>false</EnableQuickFind>"
            "<EnableViewPicker>false</EnableViewPicker><EnableJumpBar>false</EnableJumpBar>"
            "<RecordsPerPage>10</RecordsPerPage>"
            f"<ViewId>{{{View(chart.table).id}}}</ViewId><IsUserView>false</IsUserView>"
            "<ViewIds></ViewIds><AutoExpand>Fixed</AutoExpand>"
            f"<VisualizationId>{{{chart.id}}}</VisualizationId><IsUserChart>false</IsUserChart>"
            "<EnableChartPicker>false</EnableChartPicker><RelationshipName></RelationshipName>"
            "</parameters></control></cell>"
        )

    def record(self) -> dict[str, Any]:
        return {
            "formid": self.id,
            "name": self.name,
            "description": self.description,
            "type": DASHBOARD_TYPE,
            "objecttypecode": "none",
            "formxml": self.form_xml(),
        }


def _sent() -> tuple[str, ...]:
    return tuple(str(s.SYNC_STATUS_VALUES[x]) for x in (SyncStatus.SENT, SyncStatus.SYNCHRONIZED))


C, A, N = s.CONTACTS, s.ACTIVITIES, s.NEWSLETTERS
CHARTS = (
    Chart("contacts_by_status", "GetResponse contacts by status", C, "Pie",
          f"{P}_synchronizationstatus", description="GetResponse contacts by synchronization "
          "status."),
    Chart("contacts_by_list", "GetResponse contacts by list", C, "Bar", f"{P}_getresponselistid",
          description="GetResponse contacts by GetResponse list."),
    Chart("contacts_by_origin", "GetResponse contacts by origin", C, "Bar", f"{P}_origin",
          description="How the contacts joined GetResponse."),
    Chart("new_contacts_by_month", "New GetResponse contacts by month", C, "Column",
          f"{P}_createdingetresponseon", "month",
          description="Contacts by the month GetResponse created them."),
    Chart("activities_by_type_over_time", "GetResponse activities by type over time", A,
          "StackedColumn", f"{P}_activitydate", "month", series=f"{P}_activitytype",
          description="Sends, opens and clicks by month."),
    Chart("newsletters_sent_over_time", "GetResponse newsletters sent over time", N, "Column",
          f"{P}_scheduledon", "month",
          conditions=((f"{P}_synchronizationstatus", "in", _sent()),),
          description="Newsletters sent (status Sent or Synchronized) by month of sending."),
    Chart("top_clicked_urls", "Top clicked URLs", A, "Bar", f"{P}_url",
          conditions=((f"{P}_activitytype", "eq", (str(s.ACTIVITY_TYPES["click"]),)),), top=10,
          description="The ten most clicked links."),
)  # fmt: skip
BY_KEY = {c.key: c for c in CHARTS}
DASHBOARDS = (
    Dashboard(
        "contacts",
        "GetResponse — Contacts",
        "GetResponse contacts by status, list and origin, and new contacts by month.",
        tuple(
            BY_KEY[k]
            for k in (
                "contacts_by_status",
                "contacts_by_list",
                "contacts_by_origin",
                "new_contacts_by_month",
            )
        ),
    ),
    Dashboard(
        "activity",
        "GetResponse — Activity and sent emails",
        "Sends, opens and clicks over time, newsletters sent, and the most clicked links.",
        tuple(
            BY_KEY[k]
            for k in (
                "activities_by_type_over_time",
                "newsletters_sent_over_time",
                "top_clicked_urls",
            )
        ),
    ),
)
VIEWS = tuple(View(t) for t in (C, A, N))
TABLES = frozenset(v.table.logical_name for v in VIEWS)  # what the dashboards need installed

# kind -> (entity set, primary id, the columns compared to find a stale record)
KINDS = {
    "view": ("savedqueries", "savedqueryid", ("name", "returnedtypecode", "fetchxml", "layoutxml")),
    "chart": (
        "savedqueryvisualizations",
        "savedqueryvisualizationid",
        ("name", "primaryentitytypecode", "datadescription", "presentationdescription"),
    ),
    "dashboard": ("systemforms", "formid", ("name", "type", "formxml")),
}


def expected() -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, name, record) of everything, in creation order: views, charts, dashboards."""
    items: list[tuple[str, str, dict[str, Any]]] = [("view", v.name, v.record()) for v in VIEWS]
    items += [("chart", c.name, c.record()) for c in CHARTS]
    items += [("dashboard", d.name, d.record()) for d in DASHBOARDS]
    return items


def check(client: DataverseClient) -> list[tuple[str, str, str]]:
    """(kind, name, problem) of the missing or stale views, charts and dashboards; install
    writes them."""
    findings = []
    for kind, name, record in expected():
        entity_set, primary, compared = KINDS[kind]
        try:
            found = client.get_json(
                f"{entity_set}({record[primary]})",
                params={"$select": ",".join(compared)},
                record=f"{kind} {name}",
            )
        except RecordNotFound:
            findings.append((kind, name, "missing"))
            continue
        differs = [c for c in compared if _norm(found.get(c)) != _norm(record[c])]
        if differs:
            findings.append((kind, name, f"is stale ({', '.join(differs)} differ)"))
    return findings


def _norm(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


def install_one(
    client: DataverseClient, kind: str, name: str, problem: str, headers: dict[str, str]
) -> None:
    """Create a missing record (with its fixed id, in the solution) or rewrite a stale one."""
    record = next(r for k, n, r in expected() if k == kind and n == name)
    entity_set, primary, _ = KINDS[kind]
    what = f"{kind} {name}"
    if problem == "missing":
        client.request(
            "POST", entity_set, json=record, headers=headers, idempotent=False, record=what
        )
    else:
        body = {k: v for k, v in record.items() if k != primary}
        client.request(
            "PATCH",
            f"{entity_set}({record[primary]})",
            json=body,
            headers={"If-Match": "*"},
            idempotent=True,
            record=what,
        )


def publish_xml(tables: list[str], dashboards: bool) -> str:
    """The PublishXml parameter: the touched tables (their charts and views publish with
    them) and the dashboards."""
    entities = "".join(f"<entity>{name}</entity>" for name in sorted(tables))
    boards = (
        "<dashboards>" + "".join(f"<dashboard>{{{d.id}}}</dashboard>" for d in DASHBOARDS)
        + "</dashboards>"
        if dashboards
        else ""
    )  # fmt: skip
    return f"<importexportxml><entities>{entities}</entities>{boards}</importexportxml>"
