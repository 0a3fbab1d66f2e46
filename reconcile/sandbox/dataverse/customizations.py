"""System views, charts and dashboards: ``savedquery``, ``savedqueryvisualization`` and
``systemform`` (type 0, dashboard), stored and validated as Dataverse validates them, and the
``solutioncomponent`` rows that a create with ``MSCRM.SolutionUniqueName`` adds.

What is checked (``docs/dataverse-api.md`` §2 lists the sources and the assumptions):

- a view's ``fetchxml`` is a query on its ``returnedtypecode``; its ``layoutxml`` a ``<grid>``;
- a chart's ``datadescription`` follows the visualization data description schema
  (``datadefinition`` → ``fetchcollection`` → ``fetch``+, ``categorycollection`` →
  ``category`` [alias] → ``measurecollection``+ → ``measure`` alias, nothing else), its fetches
  are valid FetchXML on ``primaryentitytypecode`` and every alias it names exists in them; its
  ``presentationdescription`` is a serialized ``<Chart>`` made of the Chart Controls elements
  and attributes the documented charts use;
- a dashboard's ``formxml`` is a ``<form>`` of tabs, columns, sections, rows and cells whose
  chart controls name an existing chart and view of their ``TargetEntityType``; at most six
  components, the documented default.

Malformed XML, an unknown element or attribute, or a dangling reference answers 400.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.models import Entity, new_guid

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.store import Store

CHART_CONTROL = "{e7a81278-8635-4d9e-8d4d-59480b391c5b}"
MAX_COMPONENTS = 6
COMPONENT_TYPES = {"savedquery": 26, "savedqueryvisualization": 59, "systemform": 60}

# Elements of a serialized Chart (presentation description) and the attributes the
# documented charts give them.
_COMMON = {"Enabled", "Font", "ForeColor", "LineColor", "BackColor", "BorderColor", "Name"}
PRESENTATION: dict[str, set[str]] = {
    "Chart": {"Palette", "PaletteCustomColors", "BackColor", "BorderlineWidth"},
    "Series": {
        "_Template_", "ChartType", "IsValueShownAsLabel", "Color", "BorderColor",
        "BorderDashStyle", "BorderWidth", "ShadowColor", "ShadowOffset", "Font",
        "BackGradientStyle", "BackSecondaryColor", "LabelForeColor", "CustomProperties",
        "MarkerStyle", "MarkerSize", "MarkerColor", "YAxisType", "LabelFormat", "Name",
        "IsXValueIndexed", "XValueType",
    },
    "SmartLabelStyle": {"Enabled"},
    "Points": set(),
    "ChartAreas": set(),
    "ChartArea": {"_Template_", "BackColor", "BorderColor", "BorderWidth", "BorderDashStyle",
                  "BackSecondaryColor", "BackGradientStyle"},
    "Area3DStyle": {"Enable3D"},
    "AxisX": {"LineColor", "TitleFont", "TitleForeColor", "LabelAutoFitMaxFontSize",
              "LabelAutoFitMinFontSize", "IsLabelAutoFit", "IsReversed", "IntervalAutoMode",
              "Enabled", "Title", "Interval"},
    "MajorGrid": {"Enabled", "LineColor"},
    "MajorTickMark": {"Enabled", "LineColor"},
    "LabelStyle": {"Font", "ForeColor", "Format", "Enabled"},
    "Titles": set(),
    "Title": {"_Template_", "Name", "DockingOffset", "Font", "ForeColor", "Alignment", "Text"},
    "Legends": set(),
    "Legend": {"_Template_", "Alignment", "LegendStyle", "Docking", "IsEquallySpacedItems",
               "Font", "ShadowColor", "ForeColor", "Enabled"},
    "BorderSkin": {"PageColor", "BackColor", "BackSecondaryColor", "SkinStyle"},
}  # fmt: skip
PRESENTATION["AxisY"] = PRESENTATION["AxisX"] | {"Minimum", "Maximum"}
PRESENTATION["AxisY2"] = PRESENTATION["AxisY"]

# Elements of a dashboard's FormXML and their attributes (the documented sample dashboards).
FORM: dict[str, set[str]] = {
    "form": set(),
    "tabs": set(),
    "tab": {"showlabel", "verticallayout", "id", "name", "locklevel", "expanded", "IsUserDefined"},
    "labels": set(),
    "label": {"description", "languagecode"},
    "columns": set(),
    "column": {"width"},
    "sections": set(),
    "section": {"showlabel", "showbar", "columns", "id", "name", "IsUserDefined", "labelwidth"},
    "rows": set(),
    "row": set(),
    "cell": {"colspan", "rowspan", "showlabel", "id", "auto", "locklevel"},
    "control": {"id", "classid", "indicationOfSubgrid"},
    "parameters": set(),
}
PARAMETERS = {
    "TargetEntityType", "ChartGridMode", "EnableQuickFind", "EnableViewPicker", "EnableJumpBar",
    "RecordsPerPage", "ViewId", "IsUserView", "ViewIds", "AutoExpand", "VisualizationId",
    "IsUserChart", "EnableChartPicker", "RelationshipName",
}  # fmt: skip


def invalid(what: str, message: str) -> DataverseError:
    return DataverseError("InvalidArgument", message=f"The {what} is not valid: {message}")


def _parse(text: Any, what: str) -> ET.Element:
    if not isinstance(text, str) or not text.strip():
        raise invalid(what, "it is empty.")
    if "<!" in text:
        raise invalid(what, "a DOCTYPE or ENTITY is not allowed.")
    try:
        return ET.fromstring(text)  # noqa: S314 - no DTD (checked above)
    except ET.ParseError as exc:
        raise invalid(what, f"the XML is not well formed ({exc}).") from None


def _allowed(node: ET.Element, grammar: dict[str, set[str]], what: str) -> None:
    if node.tag not in grammar:
        raise invalid(what, f"the element '{node.tag}' is not allowed.")
    unknown = sorted(set(node.attrib) - grammar[node.tag])
    if unknown:
        raise invalid(what, f"the attribute '{unknown[0]}' is not allowed on '{node.tag}'.")


def validate(store: Store, entity: Entity, row: dict[str, Any]) -> None:
    """Refuse a view, chart or dashboard that Dataverse would refuse (``row``: the record as
    it would be stored)."""
    name = entity.logical_name
    if name == "savedquery":
        _view(store, row)
    elif name == "savedqueryvisualization":
        _chart(store, row)
    elif name == "systemform" and row.get("type") == 0:
        _dashboard(store, row)


def _target(store: Store, logical_name: Any, what: str) -> Entity:
    target = store.catalog.entity(str(logical_name or ""))
    if target is None:
        raise invalid(what, f"the table '{logical_name}' does not exist.")
    return target


def _fetch(store: Store, node: ET.Element, target: Entity, what: str) -> ET.Element:
    """A ``<fetch>`` on ``target`` whose tables and columns exist (as a query is refused)."""
    if node.tag != "fetch":
        raise invalid(what, "the query's root element must be <fetch>.")
    root = node.find("entity")
    if root is None or root.get("name") != target.logical_name:
        raise invalid(what, f"the query must be on '{target.logical_name}'.")

    def walk(element: ET.Element, entity: Entity) -> None:
        for child in element:
            if child.tag == "link-entity":
                linked = store.catalog.entity(child.get("name", ""))
                if linked is None:
                    raise invalid(what, f"the table '{child.get('name')}' does not exist.")
                walk(child, linked)
                continue
            if child.tag == "filter":
                walk(child, entity)
                continue
            name = child.get("attribute") if child.tag in ("condition", "order") else None
            if child.tag == "attribute":
                name = child.get("name")
            if name is not None and name not in entity.attributes:
                raise DataverseError(
                    "QueryBuilderNoAttribute", entity=entity.logical_name, attribute=name
                )

    walk(root, target)
    return node


def _view(store: Store, row: dict[str, Any]) -> None:
    target = _target(store, row.get("returnedtypecode"), "view")
    _fetch(store, _parse(row.get("fetchxml"), "view's fetchxml"), target, "view")
    if row.get("layoutxml"):
        layout = _parse(row["layoutxml"], "view's layoutxml")
        if layout.tag != "grid":
            raise invalid("view's layoutxml", "the root element must be <grid>.")


def _chart(store: Store, row: dict[str, Any]) -> None:
    what = "chart's datadescription"
    target = _target(store, row.get("primaryentitytypecode"), "chart")
    root = _parse(row.get("datadescription"), what)
    if root.tag != "datadefinition" or root.attrib:
        raise invalid(what, "the root element must be <datadefinition>.")
    if [c.tag for c in root] != ["fetchcollection", "categorycollection"]:
        raise invalid(what, "<datadefinition> holds <fetchcollection> then <categorycollection>.")
    fetches, categories = list(root)
    if not len(fetches) or any(f.tag != "fetch" for f in fetches) or fetches.attrib:
        raise invalid(what, "<fetchcollection> holds one or more <fetch> elements.")
    aliases: set[str] = set()
    groups: set[str] = set()
    for fetch in fetches:
        _fetch(store, fetch, target, "chart")
        for attribute in fetch.iter("attribute"):
            alias = attribute.get("alias") or attribute.get("name") or ""
            aliases.add(alias)
            if attribute.get("groupby", "").lower() == "true":
                groups.add(alias)
    if not len(categories) or categories.attrib:
        raise invalid(what, "<categorycollection> holds one or more <category> elements.")
    for category in categories:
        if category.tag != "category" or set(category.attrib) - {"alias"}:
            raise invalid(what, "<category> takes only an alias attribute.")
        if category.get("alias") and category.get("alias") not in groups:
            raise invalid(what, f"the category alias '{category.get('alias')}' groups nothing.")
        if not len(category):
            raise invalid(what, "a <category> holds one or more <measurecollection> elements.")
        for collection in category:
            if collection.tag != "measurecollection" or collection.attrib or not len(collection):
                raise invalid(what, "a <measurecollection> holds one or more <measure> elements.")
            for measure in collection:
                if measure.tag != "measure" or set(measure.attrib) != {"alias"}:
                    raise invalid(what, "a <measure> takes exactly one attribute, alias.")
                if measure.get("alias") not in aliases:
                    raise invalid(
                        what, f"the measure alias '{measure.get('alias')}' is not in the fetch."
                    )
    chart = _parse(row.get("presentationdescription"), "chart's presentationdescription")
    if chart.tag != "Chart":
        raise invalid("chart's presentationdescription", "the root element must be <Chart>.")
    for node in chart.iter():
        _allowed(node, PRESENTATION, "chart's presentationdescription")


def _dashboard(store: Store, row: dict[str, Any]) -> None:
    what = "dashboard's formxml"
    form = _parse(row.get("formxml"), what)
    if form.tag != "form":
        raise invalid(what, "the root element must be <form>.")
    components = 0
    for node in form.iter():
        if node.tag in PARAMETERS:
            continue
        _allowed(node, FORM, what)
        if node.tag == "control":
            components += 1
            _control(store, node, what)
    if components > MAX_COMPONENTS:
        raise invalid(what, f"a dashboard holds at most {MAX_COMPONENTS} components.")


def _control(store: Store, node: ET.Element, what: str) -> None:
    if (node.get("classid") or "").lower() != CHART_CONTROL:
        raise invalid(what, f"the control '{node.get('id')}' is not a chart or grid control.")
    parameters = node.find("parameters")
    if parameters is None:
        raise invalid(what, f"the control '{node.get('id')}' has no <parameters>.")
    for child in parameters:
        if child.tag not in PARAMETERS:
            raise invalid(what, f"the parameter '{child.tag}' is not allowed.")
    values = {child.tag: (child.text or "").strip() for child in parameters}
    target = _target(store, values.get("TargetEntityType"), "dashboard")
    for key, table_name, column in (
        ("VisualizationId", "savedqueryvisualization", "primaryentitytypecode"),
        ("ViewId", "savedquery", "returnedtypecode"),
    ):
        record_id = values.get(key, "").strip("{}").lower()
        if not record_id and key == "VisualizationId" and values.get("ChartGridMode") != "Chart":
            continue
        found = store.get(store.catalog.entities[table_name], record_id) if record_id else None
        if found is None:
            raise invalid(what, f"the {key} {values.get(key)!r} names no {table_name}.")
        if found.get(column) != target.logical_name:
            raise invalid(what, f"the {key} {values.get(key)} is not on {target.logical_name}.")


def add_to_solution(store: Store, solution_name: str, entity: Entity, record_id: str) -> None:
    """What a create with ``MSCRM.SolutionUniqueName`` does for a solution-aware component."""
    kind = COMPONENT_TYPES.get(entity.logical_name)
    if kind is None:
        return
    solutions = store.catalog.entities["solution"]
    row = store.rows(
        f'SELECT solutionid FROM "{solutions.table}" WHERE uniquename = ?', (solution_name,)
    )
    if not row:
        raise DataverseError(
            "InvalidArgument",
            message=f"The solution '{solution_name}' named in MSCRM.SolutionUniqueName does "
            "not exist.",
        )
    components = store.catalog.entities["solutioncomponent"]
    version = store.next_version()
    values = {
        "solutioncomponentid": new_guid(),
        "solutionid": row[0][0],
        "objectid": record_id,
        "componenttype": kind,
    }
    row_values = store.stamp(components, values, user=None, create=True, version=version)
    store.insert(components, [row_values])
