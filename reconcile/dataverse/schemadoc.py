"""Render ``docs/connector-schema.md`` from ``schema.py`` and ``roles.py``.

The page is generated so that it cannot drift from the code: a test compares the file
with :func:`render`. Regenerate with ``python -m reconcile.dataverse.schemadoc``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reconcile.dataverse import roles as r
from reconcile.dataverse import schema as s

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "connector-schema.md"
_LETTER = {
    r.Depth.USER: "U",
    r.Depth.BUSINESS_UNIT: "B",
    r.Depth.PARENT_CHILD: "P",
    r.Depth.ORGANIZATION: "O",
}


def _column_detail(column: s.Column) -> str:
    parts = []
    if column.max_length:
        parts.append(f"max {column.max_length}")
    if column.format and column.format not in ("Text", "DateAndTime"):
        parts.append(column.format)
    if column.minimum is not None:
        parts.append(f"{column.minimum}…{column.maximum}")
    if column.options:
        parts.append(", ".join(f"{value} {text}" for value, text in column.options))
    if column.default is not None:
        parts.append(f"default {'Yes' if column.default else 'No'}")
    return "; ".join(parts)


def _table(table: s.Table) -> list[str]:
    lines = [
        f"### {table.display} (`{table.logical_name}`)",
        "",
        f"{table.description} Entity set `{table.entity_set}`, primary key "
        f"`{table.primary_id}`; implements {', '.join(table.sources)}.",
        "",
        "| Column | Display name | Type | Details |",
        "|---|---|---|---|",
        f"| `{table.primary_name.logical_name}` | {table.primary_name.display} | String (primary "
        f"name) | {_column_detail(table.primary_name)} |",
    ]
    for column in table.all_columns():
        lines.append(
            f"| `{column.logical_name}` | {column.display} | {column.kind} | "
            f"{_column_detail(column)} |"
        )
    for lookup in table.lookups:
        merge = "; follows merges to the master contact" if lookup.follows_merge else ""
        lines.append(
            f"| `{lookup.logical_name}` | {lookup.display} | Lookup | to "
            f"`{lookup.target}`; bind as `{lookup.schema_name}@odata.bind`{merge} |"
        )
    lines.append("")
    for key in table.keys:
        lines.append(
            f"Alternate key `{key.schema_name.lower()}`: "
            + ", ".join(f"`{c}`" for c in key.columns)
            + "."
        )
    lines.append("")
    return lines


def _role(role: r.Role) -> list[str]:
    required = role.required()
    tables = list(dict.fromkeys(g.table for g in role.grants))
    header = "| Table | " + " | ".join(p.value for p in r.Privilege) + " |"
    lines = [
        f"### {role.name}",
        "",
        role.description,
        "",
        header,
        "|---|" + "---|" * len(r.Privilege),
    ]
    for table in tables:
        cells = [
            _LETTER[required[(table, p)]] if (table, p) in required else "·" for p in r.Privilege
        ]
        lines.append(f"| {r.table_display(table)} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Source clauses:")
    lines.append("")
    for grant in role.grants:
        note = f" — *{grant.note}*" if grant.note else ""
        lines.append(
            f"- {r.table_display(grant.table)}, {grant.depth.label}: « {grant.source} »{note}"
        )
    lines.append("")
    return lines


def render() -> str:
    lines = [
        "# Connector tables and security roles",
        "",
        "<!-- Generated from reconcile/dataverse/schema.py and roles.py by",
        "     `python -m reconcile.dataverse.schemadoc`; a test fails when this file is stale. -->",
        "",
        "`reconcile schema install` creates everything on this page in a Dynamics environment",
        "(publisher, solution, tables, columns, lookups, keys, then the security roles);",
        "`reconcile schema check` and `reconcile doctor` report what is missing.",
        "",
        f"Publisher `{s.PUBLISHER.unique_name}` (prefix `{s.PUBLISHER.prefix}_`, choice values "
        f"from {s.option_value(0)}), solution `{s.SOLUTION_UNIQUE_NAME}`. Labels are English "
        f"(LCID {s.LANGUAGE}). Tables are user-owned, with change tracking enabled.",
        "",
        "## Synchronization status",
        "",
        "One choice, the same values in every table (each table offers the statuses it uses):",
        "",
        "| Value | Status | Used by |",
        "|---|---|---|",
    ]
    for status, value in s.SYNC_STATUS_VALUES.items():
        users = ", ".join(t.display for t in s.TABLES if status in t.statuses)
        lines.append(f"| {value} | {status.value} | {users} |")
    lines += ["", "## Tables", ""]
    for table in s.TABLES:
        lines += _table(table)
    lines += [
        "## Security roles",
        "",
        "Transcribed from the source's « Rôles organisationnels » (see `roles.py` for the",
        "vocabulary). Depth: O = Organization, U = User (the source's « leurs enregistrements »",
        "without « pour l'ensemble de l'organisation »), · = not granted.",
        "`reconcile schema install` creates each role in the root business unit and adds",
        "these privileges with `AddPrivilegesRole`; an administrator then assigns the roles.",
        "`reconcile doctor` checks that the connector's identity holds what",
        f"*{r.SERVICE_USER.name}* grants.",
        "",
    ]
    for role in r.ROLES:
        lines += _role(role)
    notes = [(role, g) for role in r.ROLES for g in role.grants if g.note]
    lines += [
        "## Where the source is odd",
        "",
        "Transcribed as written unless said otherwise; listed so that nobody is surprised:",
        "",
        "- Clauses that say both « leurs enregistrements » (their records) and « pour "
        "l'ensemble de l'organisation » (CRM contacts of the two connection roles) are read at "
        "Organization level, as the explicit scope says.",
        "- *Ajouter* is Append; *ajouter à*, *annexer* and *joindre* are all Append To (each "
        "appears next to *ajouter* in some clause, so none of them can mean Append).",
    ]
    for role, grant in notes:
        lines.append(f"- {role.name}, {r.table_display(grant.table)}: {grant.note}")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    DOC_PATH.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC_PATH}\n")


if __name__ == "__main__":
    main()
