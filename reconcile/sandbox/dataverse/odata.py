"""System query options (``$select $filter $orderby $top $count $expand``) and ``Prefer``.

Parsed once per request into :class:`QueryOptions`; unknown properties and unsupported options
are refused with the service's messages. ``$skip`` is refused as Dataverse refuses it: paging
goes through ``@odata.nextLink`` only.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from odata_query import ast

from reconcile.sandbox.dataverse.catalog import Catalog
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.filters import parse_expression
from reconcile.sandbox.dataverse.models import Attribute, Entity, ManyToMany, OneToMany
from reconcile.sandbox.dataverse.paths import split_outside
from reconcile.sandbox.dataverse.terms import odata_error

MAX_PAGE = 5000
NOT_EMULATED = ("$search", "savedQuery", "userQuery", "sql")
KNOWN_OPTIONS = {
    "$select",
    "$filter",
    "$orderby",
    "$top",
    "$count",
    "$expand",
    "$skiptoken",
    "$deltatoken",
    "fetchXml",
    "$apply",
    "$skip",
    "$format",
    "savedQuery",
    "userQuery",
    "$search",
    "sql",
}


@dataclass
class ExpandItem:
    nav: str
    target: Entity
    options: QueryOptions
    lookup: Attribute | None = None  # single-valued: the lookup column ...
    pinned: str | None = None  # ... and the target table when the lookup is polymorphic
    relationship: OneToMany | ManyToMany | None = None  # collection-valued

    @property
    def single(self) -> bool:
        return self.lookup is not None


@dataclass
class QueryOptions:
    select: list[Attribute] | None = None
    filter: ast._Node | None = None
    orderby: list[tuple[Attribute, bool]] = field(default_factory=list)  # (column, descending)
    top: int | None = None
    count: bool = False
    expand: list[ExpandItem] = field(default_factory=list)
    skiptoken: str | None = None
    deltatoken: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)


MAX_EXPANDS = 15  # "You can include up to 15 $expand options in a query" (Microsoft Learn)


def parse_options(
    catalog: Catalog,
    entity: Entity,
    params: list[tuple[str, str]],
    *,
    nested: bool = False,
    within_collection: bool = False,
    expands: list[int] | None = None,
) -> QueryOptions:
    """Query options of a request, or (``nested``) of one ``$expand`` item.

    A nested ``$expand`` on single-valued navigation properties is answered as Dataverse does
    (``contacts?$expand=parentcustomerid_account($expand=primarycontactid)``, "Join tables
    using OData"); one under or of a collection-valued property is refused (not emulated). At
    most 15 ``$expand`` options in all; ``expands`` counts them across the levels."""
    counted = expands if expands is not None else [0]
    options = QueryOptions()
    options.aliases = {k: v for k, v in params if k.startswith("@")}
    for name, value in params:
        if name.startswith("@"):
            continue
        if name == "$skip":
            raise DataverseError("SkipNotSupported")
        if name.startswith("$") and name not in KNOWN_OPTIONS:
            raise odata_error(f"The query parameter '{name}' is not supported.")
        if name == "$select":
            options.select = [_attribute(entity, n) for n in _names(value)]
        elif name == "$filter":
            options.filter = parse_expression(value, options.aliases)
        elif name == "$orderby":
            options.orderby = parse_orderby(entity, value)
        elif name == "$top":
            if not value.isdigit():
                raise odata_error(
                    f"Invalid value '{value}' for $top query option found. The "
                    "$top query option requires a non-negative integer value."
                )
            options.top = int(value)
        elif name == "$count":
            if value not in ("true", "false"):
                raise odata_error(f"'{value}' is not a valid count option.")
            options.count = value == "true"
        elif name == "$expand":
            if within_collection:
                raise odata_error(
                    "Nested $expand on collection-valued navigation properties is not "
                    "emulated by the sandbox."
                )
            parts = split_outside(value)
            counted[0] += len(parts)
            if counted[0] > MAX_EXPANDS:
                raise odata_error(
                    f"The query has {counted[0]} $expand options; at most {MAX_EXPANDS} are "
                    "allowed."
                )
            options.expand = [_expand(catalog, entity, p, nested, counted) for p in parts]
        elif name == "$skiptoken":
            options.skiptoken = value
        elif name == "$deltatoken":
            options.deltatoken = value
        elif name in NOT_EMULATED:
            raise odata_error(f"The sandbox does not emulate the '{name}' query option.")
    return options


def _names(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _attribute(entity: Entity, name: str) -> Attribute:
    attribute = entity.by_wire_name(name)
    if attribute is None:
        raise DataverseError("ODataUnknownProperty", name=name, entity=entity.logical_name)
    return attribute


def parse_orderby(entity: Entity, value: str) -> list[tuple[Attribute, bool]]:
    order = []
    for part in _names(value):
        words = part.split()
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise odata_error(f"Syntax error in $orderby at '{part}'.")
        order.append((_attribute(entity, words[0]), len(words) == 2 and words[1].lower() == "desc"))
    return order


_EXPAND_RE = re.compile(r"^([A-Za-z_][\w]*)\s*(?:\((.*)\))?$", re.S)


def _expand(
    catalog: Catalog, entity: Entity, text: str, nested: bool, counted: list[int]
) -> ExpandItem:
    match = _EXPAND_RE.match(text.strip())
    if not match:
        raise odata_error(f"Syntax error in $expand at '{text}'.")
    nav, inner = match.group(1), match.group(2) or ""
    inner_params = []
    for piece in [p for p in split_outside(inner, ";") if p]:
        name, _, value = piece.partition("=")
        inner_params.append((name.strip(), value.strip()))
    single = catalog.single_nav(entity, nav)
    if single is not None:
        lookup, pinned = single
        if lookup.polymorphic and pinned is None and lookup.type != "Owner":
            raise DataverseError("ODataUnknownProperty", name=nav, entity=entity.logical_name)
        target = catalog.entities[pinned or lookup.targets[0]]
        options = parse_options(catalog, target, inner_params, nested=True, expands=counted)
        return ExpandItem(nav, target, options, lookup=lookup, pinned=pinned)
    rel = catalog.collection_nav(entity, nav)
    if rel is None:
        raise DataverseError("ODataUnknownProperty", name=nav, entity=entity.logical_name)
    if nested:
        raise odata_error(
            "Nested $expand on collection-valued navigation properties is not emulated by the "
            "sandbox."
        )
    if isinstance(rel, ManyToMany):
        other = rel.entity2 if rel.entity1 == entity.logical_name else rel.entity1
    else:
        other = rel.referencing_entity
    target = catalog.entities[other]
    options = parse_options(
        catalog, target, inner_params, nested=True, within_collection=True, expands=counted
    )
    return ExpandItem(nav, target, options, relationship=rel)


# ------------------------------------------------------------------------------ Prefer
@dataclass
class Preferences:
    maxpagesize: int | None = None
    annotations: list[str] = field(default_factory=list)
    return_representation: bool = False
    continue_on_error: bool = False
    track_changes: bool = False
    applied: list[str] = field(default_factory=list)

    def wants(self, annotation: str) -> bool:
        return any(fnmatch.fnmatchcase(annotation, pattern) for pattern in self.annotations)


def parse_prefer(headers: list[str]) -> Preferences:
    prefs = Preferences()
    for header in headers:
        for part in re.findall(r'(?:[^,"]|"[^"]*")+', header):
            name, _, value = part.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "odata.maxpagesize" and value.isdigit() and int(value) > 0:
                prefs.maxpagesize = int(value)
            elif name == "odata.include-annotations":
                prefs.annotations = [
                    a.strip()
                    for a in value.split(",")
                    if a.strip() and not a.strip().startswith("-")
                ]
                prefs.applied.append(part.strip())
            elif name == "return" and value == "representation":
                prefs.return_representation = True
            elif name == "odata.continue-on-error":
                prefs.continue_on_error = True
            elif name == "odata.track-changes":
                prefs.track_changes = True
    return prefs


def page_size(prefs: Preferences) -> int:
    """Page sizes above 5,000 are ignored, as the service ignores them."""
    if prefs.maxpagesize is None or prefs.maxpagesize > MAX_PAGE:
        return MAX_PAGE
    return prefs.maxpagesize
