"""The customization tables a dashboard is made of: system views (``savedquery``), system
charts (``savedqueryvisualization``), forms and dashboards (``systemform``), and the
``solutioncomponent`` rows that tie them to a solution. Columns follow the Dataverse entity
reference pages; the rules are in ``customizations.py``."""

from __future__ import annotations

from reconcile.sandbox.dataverse.builtin import a, lookup, memo, s, table
from reconcile.sandbox.dataverse.models import Entity

COMPONENT_LABELS = {1: "Entity", 26: "View", 59: "System Chart", 60: "System Form"}


def entities() -> list[Entity]:
    """The four tables, in the shape of the Dataverse entity reference pages."""
    view = table(
        "savedquery",
        "savedqueries",
        1039,
        "name",
        [
            s("name", 200, required="SystemRequired"),
            a("returnedtypecode", "EntityName", required="SystemRequired"),
            memo("fetchxml", 1_073_741_823, required="SystemRequired"),
            memo("layoutxml", 1_073_741_823),
            a("querytype", "Integer"),
            a("isdefault", "Boolean"),
            memo("description"),
        ],
        ownership="OrganizationOwned",
    )
    chart = table(
        "savedqueryvisualization",
        "savedqueryvisualizations",
        1111,
        "name",
        [
            s("name", 200, required="SystemRequired"),
            a("primaryentitytypecode", "EntityName", required="SystemRequired"),
            memo("datadescription", 1_073_741_823),
            memo("presentationdescription", 1_073_741_823),
            a("charttype", "Picklist", options={0: "ASP.NET Charts", 1: "Power BI"}),
            a("isdefault", "Boolean"),
            memo("description"),
        ],
        ownership="OrganizationOwned",
        state=None,
        status=None,
    )
    form = table(
        "systemform",
        "systemforms",
        1030,
        "name",
        [
            s("name", 100, required="SystemRequired"),
            a("objecttypecode", "EntityName"),
            a(
                "type",
                "Picklist",
                options={
                    0: "Dashboard",
                    1: "AppointmentBook",
                    2: "Main",
                    6: "Quick View Form",
                    7: "Quick Create",
                    11: "Card",
                },
            ),
            memo("formxml", 1_073_741_823, required="SystemRequired"),
            a("isdefault", "Boolean"),
            memo("description"),
        ],
        ownership="OrganizationOwned",
        state=None,
        status=None,
        primary_id="formid",
    )
    component = table(
        "solutioncomponent",
        "solutioncomponents",
        7103,
        None,
        [
            lookup("solutionid", "solution", readonly=True),
            a("objectid", "Uniqueidentifier", readonly=True),
            a("componenttype", "Picklist", options=dict(COMPONENT_LABELS), readonly=True),
        ],
        ownership="None",
        state=None,
        status=None,
    )
    for entity in (view, chart, form, component):
        entity.bulk_messages = False
    return [view, chart, form, component]
