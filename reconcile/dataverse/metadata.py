"""Install and check the connector's tables through the Web API metadata endpoints.

``check`` reads ``EntityDefinitions`` (table, attributes, keys) and lists what is missing
or wrong; ``install`` creates what ``check`` found missing — publisher and solution,
tables, columns, lookups (``RelationshipDefinitions``), alternate keys — then publishes.
Both are idempotent: a second install finds nothing to do. A column that exists with
another type cannot be fixed by an install (Dynamics does not change attribute types); it
is reported for an administrator to resolve.

Payload shapes follow Microsoft Learn, "Create and update table definitions using the Web
API" and "…table relationships using the Web API".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from reconcile.dataverse import dashboards
from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.dataverse.errors import RecordNotFound
from reconcile.progress import SILENT, Progress

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient

SOLUTION_HEADER = "MSCRM.SolutionUniqueName"
# What install creates, in order: a dashboard names its charts and views, which need columns.
KINDS = ("publisher", "solution", "table", "column", "lookup", "key", "view", "chart", "dashboard")


def label(text: str) -> dict[str, Any]:
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.Label",
        "LocalizedLabels": [
            {
                "@odata.type": "Microsoft.Dynamics.CRM.LocalizedLabel",
                "Label": text,
                "LanguageCode": s.LANGUAGE,
            }
        ],
    }


def _required(level: str = "None") -> dict[str, Any]:
    return {
        "Value": level,
        "CanBeChanged": True,
        "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
    }


def attribute_metadata(column: s.Column, *, primary: bool = False) -> dict[str, Any]:
    """The AttributeMetadata payload for one plain column."""
    body: dict[str, Any] = {
        "@odata.type": f"Microsoft.Dynamics.CRM.{column.kind}AttributeMetadata",
        "AttributeType": column.kind,
        "AttributeTypeName": {"Value": f"{column.kind}Type"},
        "SchemaName": column.schema_name,
        "DisplayName": label(column.display),
        "Description": label(column.description),
        "RequiredLevel": _required("ApplicationRequired" if primary else "None"),
    }
    if column.kind == "String":
        body["MaxLength"] = column.max_length or 100
        body["FormatName"] = {"Value": column.format or "Text"}
        if primary:
            body["IsPrimaryName"] = True
    elif column.kind == "Memo":
        body.update(MaxLength=column.max_length or 2000, Format="TextArea")
    elif column.kind == "Integer":
        body.update(
            Format="None",
            MinValue=column.minimum if column.minimum is not None else -2_147_483_648,
            MaxValue=column.maximum if column.maximum is not None else 2_147_483_647,
        )
    elif column.kind == "DateTime":
        body.update(Format=column.format or "DateAndTime")
    elif column.kind == "Boolean":
        body["DefaultValue"] = bool(column.default)
        body["OptionSet"] = {
            "@odata.type": "Microsoft.Dynamics.CRM.BooleanOptionSetMetadata",
            "OptionSetType": "Boolean",
            "TrueOption": {"Value": 1, "Label": label("Yes")},
            "FalseOption": {"Value": 0, "Label": label("No")},
        }
    elif column.kind == "Picklist":
        body["OptionSet"] = {
            "@odata.type": "Microsoft.Dynamics.CRM.OptionSetMetadata",
            "IsGlobal": False,
            "OptionSetType": "Picklist",
            "Options": [{"Value": value, "Label": label(text)} for value, text in column.options],
        }
    else:  # pragma: no cover - the schema only uses the kinds above
        raise ValueError(f"unsupported column kind {column.kind}")
    return body


def entity_metadata(table: s.Table) -> dict[str, Any]:
    """The EntityMetadata payload creating a table with its primary name column."""
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.EntityMetadata",
        "SchemaName": table.schema_name,
        "DisplayName": label(table.display),
        "DisplayCollectionName": label(table.plural),
        "Description": label(table.description),
        "OwnershipType": "UserOwned",
        "IsActivity": False,
        "HasActivities": False,
        "HasNotes": False,
        "ChangeTrackingEnabled": True,
        "Attributes": [attribute_metadata(table.primary_name, primary=True)],
    }


def relationship_name(table: s.Table, lookup: s.Lookup) -> str:
    """``grc_contact_getresponsecontact``: Dynamics' own pattern (prefix, referenced table,
    referencing table), short enough for the 50-character schema-name limit."""
    prefix = f"{s.PUBLISHER.prefix}_"
    return f"{prefix}{lookup.target.removeprefix(prefix)}_{table.logical_name.removeprefix(prefix)}"


def relationship_metadata(table: s.Table, lookup: s.Lookup) -> dict[str, Any]:
    """A one-to-many relationship from ``lookup.target`` with the lookup column (deep insert)."""
    merge = "Cascade" if lookup.follows_merge else "NoCascade"
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
        "SchemaName": relationship_name(table, lookup),
        "ReferencedEntity": lookup.target,
        "ReferencedAttribute": s.primary_id_of(lookup.target),
        "ReferencingEntity": table.logical_name,
        "CascadeConfiguration": {
            "Assign": "NoCascade",
            "Delete": "RemoveLink",
            "Merge": merge,
            "Reparent": "NoCascade",
            "Share": "NoCascade",
            "Unshare": "NoCascade",
        },
        "AssociatedMenuConfiguration": {
            "Behavior": "UseCollectionName",
            "Group": "Details",
            "Label": label(table.plural),
            "Order": 10000,
        },
        "Lookup": {
            "@odata.type": "Microsoft.Dynamics.CRM.LookupAttributeMetadata",
            "AttributeType": "Lookup",
            "AttributeTypeName": {"Value": "LookupType"},
            "SchemaName": lookup.schema_name,
            "DisplayName": label(lookup.display),
            "Description": label(lookup.description),
            "RequiredLevel": _required(),
        },
    }


def key_metadata(key: s.AlternateKey) -> dict[str, Any]:
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.EntityKeyMetadata",
        "SchemaName": key.schema_name,
        "DisplayName": label(key.display),
        "KeyAttributes": list(key.columns),
    }


# --- check -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """Something missing (``fixable``: install creates it) or wrong (an admin must act)."""

    table: str  # logical name ("" for publisher / solution)
    kind: str  # publisher | solution | table | column | lookup | key | view | chart | dashboard
    name: str
    problem: str  # "missing" or a sentence
    fixable: bool = True

    def __str__(self) -> str:
        return f"{self.what()} {self.problem}"

    def what(self) -> str:
        """The thing itself, without the problem ("grc_x: column grc_name")."""
        where = f"{self.table}: " if self.table else ""
        return f"{where}{self.kind} {self.name}"


@dataclass
class SchemaReport:
    findings: list[Finding] = field(default_factory=list)
    tables: dict[str, str] = field(default_factory=dict)  # logical name → EntitySetName
    created: list[str] = field(default_factory=list)  # what install did

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "findings": [asdict(f) for f in self.findings],
            "tables": self.tables,
            "created": self.created,
        }


def _one(
    client: DataverseClient, entity_set: str, column: str, value: str, select: str
) -> dict[str, Any] | None:
    rows = list(
        client.query(
            entity_set, q.Query(select=tuple(select.split(",")), filter=q.eq(column, value), top=1)
        )
    )
    return rows[0] if rows else None


def _definition(client: DataverseClient, table: s.Table) -> dict[str, Any] | None:
    try:
        return client.get_json(
            f"EntityDefinitions(LogicalName={q.literal(table.logical_name)})",
            params={
                "$select": "LogicalName,SchemaName,EntitySetName,PrimaryIdAttribute,"
                "PrimaryNameAttribute,MetadataId"
            },
            headers={"Consistency": "Strong"},
            record=f"table {table.logical_name}",
        )
    except RecordNotFound:
        return None


def check(client: DataverseClient, tables: Iterable[s.Table] = s.TABLES) -> SchemaReport:
    """Compare the environment with the schema; nothing is written."""
    report = SchemaReport()
    if (
        _one(
            client,
            "publishers",
            "uniquename",
            s.PUBLISHER.unique_name,
            "publisherid,customizationprefix",
        )
        is None
    ):
        report.findings.append(Finding("", "publisher", s.PUBLISHER.unique_name, "missing"))
    if _one(client, "solutions", "uniquename", s.SOLUTION_UNIQUE_NAME, "solutionid") is None:
        report.findings.append(Finding("", "solution", s.SOLUTION_UNIQUE_NAME, "missing"))
    for table in tables:
        definition = _definition(client, table)
        if definition is None:
            report.findings.append(Finding(table.logical_name, "table", table.display, "missing"))
            continue
        report.tables[table.logical_name] = str(definition.get("EntitySetName") or "")
        if definition.get("EntitySetName") not in (None, table.entity_set):
            report.findings.append(
                Finding(
                    table.logical_name,
                    "table",
                    table.display,
                    f"has entity set {definition.get('EntitySetName')!r}, expected "
                    f"{table.entity_set!r}",
                    fixable=False,
                )
            )
        _check_columns(client, table, report)
    complete = not any(f.kind in ("table", "column", "lookup") for f in report.findings)
    if complete and set(report.tables) >= dashboards.TABLES:
        # The charts' queries need the tables' columns: checked once the tables are complete.
        report.findings.extend(Finding("", *found) for found in dashboards.check(client))
    return report


def _check_columns(client: DataverseClient, table: s.Table, report: SchemaReport) -> None:
    base = f"EntityDefinitions(LogicalName={q.literal(table.logical_name)})"
    attributes = {
        a["LogicalName"]: a.get("AttributeType")
        for a in client.get_json(
            f"{base}/Attributes",
            params={"$select": "LogicalName,AttributeType"},
            headers={"Consistency": "Strong"},
            record=f"columns of {table.logical_name}",
        ).get("value", [])
    }
    for column in (table.primary_name, *table.all_columns()):
        found = attributes.get(column.logical_name)
        if found is None:
            report.findings.append(
                Finding(table.logical_name, "column", column.logical_name, "missing")
            )
        elif found != column.kind:
            report.findings.append(
                Finding(
                    table.logical_name,
                    "column",
                    column.logical_name,
                    f"is a {found} column, expected {column.kind}; change or delete it in Dynamics",
                    fixable=False,
                )
            )
    for lookup in table.lookups:
        found = attributes.get(lookup.logical_name)
        if found is None:
            report.findings.append(
                Finding(
                    table.logical_name,
                    "lookup",
                    lookup.logical_name,
                    f"missing (to {lookup.target})",
                )
            )
        elif found not in ("Lookup", "Customer", "Owner"):
            report.findings.append(
                Finding(
                    table.logical_name,
                    "lookup",
                    lookup.logical_name,
                    f"is a {found} column, expected a lookup to {lookup.target}",
                    fixable=False,
                )
            )
    keys = {
        k["LogicalName"]: k
        for k in client.get_json(
            f"{base}/Keys",
            params={"$select": "LogicalName,KeyAttributes,EntityKeyIndexStatus"},
            headers={"Consistency": "Strong"},
            record=f"keys of {table.logical_name}",
        ).get("value", [])
    }
    for key in table.keys:
        found_key = keys.get(key.schema_name.lower())
        if found_key is None:
            report.findings.append(
                Finding(table.logical_name, "key", key.schema_name.lower(), "missing")
            )
        elif sorted(found_key.get("KeyAttributes") or []) != sorted(key.columns):
            report.findings.append(
                Finding(
                    table.logical_name,
                    "key",
                    key.schema_name.lower(),
                    f"covers {found_key.get('KeyAttributes')}, expected {list(key.columns)}",
                    fixable=False,
                )
            )
        elif str(found_key.get("EntityKeyIndexStatus", "Active")) == "Failed":
            report.findings.append(
                Finding(
                    table.logical_name,
                    "key",
                    key.schema_name.lower(),
                    "failed to build its index (duplicate GetResponse ids?); remove the duplicates "
                    "and reactivate the key in Dynamics",
                    fixable=False,
                )
            )


# --- install -----------------------------------------------------------------------------


def install(
    client: DataverseClient,
    tables: Iterable[s.Table] = s.TABLES,
    *,
    progress: Progress = SILENT,
) -> SchemaReport:
    """Create what :func:`check` finds missing, then publish; returns what remains wrong
    (findings an admin must resolve) and what was created.

    Creates are not repeated after a lost answer (metadata POSTs are not idempotent);
    an interrupted install is finished by running it again, since it only creates what a
    fresh check finds missing. A new table's columns are found by the check that follows
    its creation, hence the passes.
    """
    chosen = list(tables)
    by_table = {t.logical_name: t for t in chosen}
    headers = {SOLUTION_HEADER: s.SOLUTION_UNIQUE_NAME}
    created: list[str] = []
    touched: set[str] = set()
    boards = False
    report = check(client, chosen)
    with progress.task("Installing the GetResponse tables and dashboards") as task:
        for _ in range(4):  # solution parts and tables; their columns; the dashboards
            todo = [f for f in report.findings if f.fixable]
            if not todo:
                break
            for kind in KINDS:
                for finding in [f for f in todo if f.kind == kind]:
                    if kind in ("view", "chart", "dashboard"):
                        dashboards.install_one(
                            client, finding.kind, finding.name, finding.problem, headers
                        )
                        boards = True
                    elif finding.table:
                        _install_one(client, by_table[finding.table], finding, headers)
                        touched.add(finding.table)
                    else:
                        _install_solution_part(client, finding)
                    created.append(finding.what())  # "created …", not "created … missing"
                    task.advance()
            report = check(client, chosen)
    if touched or boards:
        names = sorted(touched | ({t.logical_name for t in chosen} if boards else set()))
        client.action(
            "PublishXml",
            {"ParameterXml": dashboards.publish_xml(names, boards)},
            idempotent=True,
            record="publish the GetResponse tables",
        )
    report.created = created
    return report


def _install_solution_part(client: DataverseClient, finding: Finding) -> None:
    if finding.kind == "publisher":
        client.create(
            "publishers",
            {
                "uniquename": s.PUBLISHER.unique_name,
                "friendlyname": s.PUBLISHER.display,
                "customizationprefix": s.PUBLISHER.prefix,
                "customizationoptionvalueprefix": s.PUBLISHER.option_value_prefix,
            },
            id_column="publisherid",
            record=f"publisher {s.PUBLISHER.unique_name}",
        )
        return
    publisher = _one(client, "publishers", "uniquename", s.PUBLISHER.unique_name, "publisherid")
    assert publisher is not None, "the publisher is created first"
    client.create(
        "solutions",
        {
            "uniquename": s.SOLUTION_UNIQUE_NAME,
            "friendlyname": s.SOLUTION_DISPLAY,
            "version": s.SOLUTION_VERSION,
            "publisherid@odata.bind": f"/publishers({publisher['publisherid']})",
        },
        id_column="solutionid",
        record=f"solution {s.SOLUTION_UNIQUE_NAME}",
    )


def _install_one(
    client: DataverseClient, table: s.Table, finding: Finding, headers: dict[str, str]
) -> None:
    base = f"EntityDefinitions(LogicalName={q.literal(table.logical_name)})"
    what = f"{finding.kind} {finding.name} of {table.logical_name}"
    if finding.kind == "table":
        body, path = entity_metadata(table), "EntityDefinitions"
    elif finding.kind == "column":
        body, path = attribute_metadata(table.column(finding.name)), f"{base}/Attributes"
    elif finding.kind == "lookup":
        lookup = next(x for x in table.lookups if x.logical_name == finding.name)
        body, path = relationship_metadata(table, lookup), "RelationshipDefinitions"
    else:
        key = next(k for k in table.keys if k.schema_name.lower() == finding.name)
        body, path = key_metadata(key), f"{base}/Keys"
    client.request("POST", path, json=body, headers=headers, idempotent=False, record=what)
