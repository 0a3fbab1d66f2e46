"""Generate ``docs/dataverse-sandbox-coverage.md``: what the Dataverse sandbox emulates.

Built from the sandbox's own registries (tables, actions, functions, FetchXML operators,
metadata routes), so it cannot drift from the code; a test fails when the checked-in copy is
stale. Regenerate with ``python -m reconcile.sandbox.dataverse.coverage``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from reconcile.sandbox.dataverse import actions, bulk, fetchxml, functions
from reconcile.sandbox.dataverse.catalog import Catalog
from reconcile.sandbox.dataverse.service import BULK_VERSIONS

OUT = Path(__file__).resolve().parents[3] / "docs" / "dataverse-sandbox-coverage.md"
API = "/api/data/v{8.2,9.0,9.1,9.2}"


def _tables() -> list[str]:
    catalog = Catalog(sqlite3.connect(":memory:"))
    lines = [
        "| Entity set | Table | Primary id | Primary name | Alternate keys | Writes |",
        "|---|---|---|---|---|---|",
    ]
    for entity in sorted(catalog.entities.values(), key=lambda e: e.entity_set_name):
        writes = (
            "read only (intersect: use the list actions or `$ref`)"
            if entity.is_intersect
            else ("POST, PATCH (update / upsert), DELETE")
        )
        lines.append(
            f"| `{entity.entity_set_name}` | `{entity.logical_name}` | `{entity.primary_id}` | "
            f"`{entity.primary_name or '-'}` | defined via metadata API | {writes} |"
        )
    return lines


ROW_ROUTES = [
    (
        "GET",
        "/{set}",
        "list: `$select $filter $orderby $top $count $expand`, `$apply` (groupby, aggregate), "
        "`fetchXml=` (aggregate too), "
        "`Prefer: odata.maxpagesize` + `@odata.nextLink`, "
        "`Prefer: odata.track-changes` + `$deltatoken`",
    ),
    ("GET", "/{set}/$count", "text/plain count (capped at 5,000)"),
    (
        "POST",
        "/{set}",
        "create: 204 + `OData-EntityId`, 201 with `Prefer: return=representation`; "
        "duplicate detection with `MSCRM.SuppressDuplicateDetection: false`",
    ),
    ("GET", "/{set}({id})", "read; `{set}(key='v')` alternate keys; `If-None-Match` 304"),
    (
        "PATCH",
        "/{set}({id}) or /{set}(key='v')",
        "update or upsert; `If-Match` (412 / `*` 404), `If-None-Match: *` (412)",
    ),
    ("DELETE", "/{set}({id})", "delete with cascades; `If-Match`"),
    ("GET, PUT, DELETE", "/{set}({id})/{column}", "single property (`/$value` too)"),
    (
        "GET",
        "/{set}({id})/{navigation}",
        "related row (single-valued) or rows (collection, pageable)",
    ),
    ("POST, DELETE", "/{set}({id})/{collection}/$ref", "associate / disassociate (1:N and N:N)"),
    ("PUT, DELETE", "/{set}({id})/{single}/$ref", "set / clear a lookup"),
    (
        "POST",
        "/$batch",
        "multipart batches, change sets, `Content-ID` `$n` references, "
        "`odata.continue-on-error`, at most 1,000 requests",
    ),
    ("GET", "/$metadata", "CSDL of every table; `?annotations=true` adds change tracking and keys"),
]

METADATA_ROUTES = [
    (
        "GET, POST",
        "/EntityDefinitions",
        "list (with `$select`, `$filter` eq/ne/and/or) / create table",
    ),
    (
        "GET, PUT, DELETE",
        "/EntityDefinitions(LogicalName='x') or (<MetadataId>)",
        "read (`$expand=Attributes,Keys,...Relationships`), update labels/change tracking, delete",
    ),
    (
        "GET, POST",
        "/EntityDefinitions(...)/Attributes",
        "list (`/Microsoft.Dynamics.CRM.<Type>AttributeMetadata` "
        "casts, `$expand=OptionSet`) / add a column",
    ),
    (
        "GET, PUT, DELETE",
        "/EntityDefinitions(...)/Attributes(LogicalName='x')",
        "read / update / delete a column",
    ),
    (
        "GET, POST",
        "/EntityDefinitions(...)/Keys",
        "alternate keys (index status Active, or Failed on duplicates)",
    ),
    ("GET, DELETE", "/EntityDefinitions(...)/Keys(LogicalName='x')", "read / delete a key"),
    (
        "GET",
        "/EntityDefinitions(...)/{OneToMany,ManyToOne,ManyToMany}Relationships",
        "relationships",
    ),
    ("GET, POST", "/RelationshipDefinitions", "list / create 1:N (with its Lookup) or N:N"),
    ("GET, DELETE", "/RelationshipDefinitions(SchemaName='x') or (<MetadataId>)", "read / delete"),
]

CONTROL_ROUTES = [
    ("POST", "/__sandbox__/reset", "back to the initial state (sample data again if seeded)"),
    (
        "POST",
        "/__sandbox__/seed",
        "load an exact scenario (rows in Web API JSON, members, roles, "
        "privileges, identity roles, merges, duplicate rules, generated sample)",
    ),
    (
        "GET, POST",
        "/__sandbox__/limits",
        "service protection limits (requests, window, execution time, concurrency)",
    ),
    ("POST", "/__sandbox__/token", "a bearer token for an identity (`admin`, `service`)"),
    ("GET", "/__sandbox__/state", "row counts, custom tables, PublishXml calls"),
    (
        "GET, POST, DELETE",
        "/__sandbox__/faults",
        "fault injection (latency, status, dropped connection)",
    ),
]

AUTH_ROUTES = [
    (
        "GET",
        "/{tenant}/v2.0/.well-known/openid-configuration",
        "Entra-shaped OpenID discovery (msal)",
    ),
    ("POST", "/{tenant}/oauth2/v2.0/token", "client credentials, `scope=<url>/.default`"),
    ("GET", "/adfs/.well-known/openid-configuration", "AD FS-shaped discovery (msal)"),
    ("POST", "/adfs/oauth2/token", "client credentials, `resource=<url>` or `scope`"),
]


def _routes(rows: list[tuple[str, str, str]], prefix: str = "") -> list[str]:
    lines = ["| Verb | Path | Behaviour |", "|---|---|---|"]
    lines += [f"| {verb} | `{prefix}{path}` | {notes} |" for verb, path, notes in rows]
    return lines


def generate() -> str:
    out = [
        "# Dataverse sandbox: emulated endpoints",
        "",
        "<!-- Generated by `python -m reconcile.sandbox.dataverse.coverage`; do not edit. -->",
        "",
        f"The Web API is served at `{API}` over http; the OAuth authority on a second, TLS port. "
        "Behaviour, sources and assumptions: `docs/dataverse-api.md`. Every route below is "
        "exercised in `tests/sandbox/dataverse/` (a test fails if an action or function listed "
        "here is named in no test).",
        "",
        "## Rows",
        "",
    ]
    out += _routes(ROW_ROUTES, API)
    out += ["", "## Tables", "", *_tables()]
    out += [
        "",
        "## Query functions in `$filter`",
        "",
        "Standard: `eq ne gt ge lt le in and or not ()`, `contains startswith endswith`, "
        "`any`/`all` over collection navigation properties, single-valued navigation paths. "
        "Dataverse functions (`Microsoft.Dynamics.CRM.*`):",
        "",
        ", ".join(f"`{name}`" for name in functions.SUPPORTED),
        "",
        "## FetchXML condition operators",
        "",
        ", ".join(f"`{op}`" for op in fetchxml.operators()),
        "",
        "## Functions and actions",
        "",
        "| Kind | Bound to | Name | Versions |",
        "|---|---|---|---|",
    ]
    for name, (_, is_function) in sorted(actions.UNBOUND.items()):
        out.append(f"| {'function' if is_function else 'action'} | - | `{name}` | all |")
    for (entity, name), _ in sorted(actions.ENTITY_BOUND.items()):
        kind = "function" if name.startswith("Retrieve") else "action"
        out.append(f"| {kind} | `{entity}` | `Microsoft.Dynamics.CRM.{name}` | all |")
    for name in bulk.MESSAGES:
        versions = ", ".join(BULK_VERSIONS)
        out.append(f"| action | entity set | `Microsoft.Dynamics.CRM.{name}` | {versions} only |")
    out += ["", "## Metadata", "", *_routes(METADATA_ROUTES, API)]
    out += ["", "## Authority (TLS port)", "", *_routes(AUTH_ROUTES)]
    out += ["", "## Sandbox controls", "", *_routes(CONTROL_ROUTES)]
    return "\n".join(out) + "\n"


def action_names() -> list[str]:
    """Every function and action name the sandbox serves (for the coverage test)."""
    return sorted({*actions.UNBOUND, *(n for _, n in actions.ENTITY_BOUND), *bulk.MESSAGES})


if __name__ == "__main__":
    OUT.write_text(generate(), encoding="utf-8")
    print(f"wrote {OUT}")
