"""Rows to JSON inside SQLite: ``json_object(...)`` per row, so that a 5,000-row page is built
in C, not in Python. Key order follows the service: ``@odata.etag``, the selected columns,
then the primary id; lookups appear as ``_x_value`` with their annotations when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconcile.sandbox.dataverse.catalog import Catalog
from reconcile.sandbox.dataverse.filters import Translator
from reconcile.sandbox.dataverse.models import Attribute, Entity
from reconcile.sandbox.dataverse.odata import MAX_PAGE, ExpandItem, Preferences, QueryOptions
from reconcile.sandbox.dataverse.terms import FilterContext, Scope

FORMATTED = "OData.Community.Display.V1.FormattedValue"
LOOKUP_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
NAV_NAME = "Microsoft.Dynamics.CRM.associatednavigationproperty"
MAX_PAIRS = 63  # SQLite functions take at most 127 arguments


def q(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def json_object_sql(pairs: list[tuple[str, str]]) -> str:
    """One JSON object from (key, SQL expression) pairs, however many there are."""
    chunks = [pairs[i : i + MAX_PAIRS] for i in range(0, len(pairs), MAX_PAIRS)] or [[]]
    parts = ["json_object(" + ", ".join(f"{q(k)}, {v}" for k, v in chunk) + ")" for chunk in chunks]
    if len(parts) == 1:
        return parts[0]
    inner = " || ',' || ".join(f"substr({p}, 2, length({p}) - 2)" for p in parts)
    return f"json('{{' || {inner} || '}}')"


def _case(column: str, options: dict[int, str]) -> str:
    whens = " ".join(f"WHEN {value} THEN {q(label)}" for value, label in options.items())
    return f"CASE {column} {whens} END"


def _datetime_text(column: str, date_only: bool) -> str:
    day = (
        f"ltrim(strftime('%m', {column}), '0') || '/' || ltrim(strftime('%d', {column}), '0')"
        f" || '/' || strftime('%Y', {column})"
    )
    if date_only:
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE {day} END"
    hour = f"((CAST(strftime('%H', {column}) AS INTEGER) + 11) % 12 + 1)"
    ampm = f"CASE WHEN CAST(strftime('%H', {column}) AS INTEGER) < 12 THEN 'AM' ELSE 'PM' END"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE {day} || ' ' || {hour} || ':' || "
        f"strftime('%M', {column}) || ' ' || {ampm} END"
    )


@dataclass
class Renderer:
    catalog: Catalog
    prefs: Preferences
    context: FilterContext = field(default_factory=FilterContext)
    params: list[Any] = field(default_factory=list)  # parameters of the SELECT list, in order
    _aliases: int = 0

    def alias(self) -> str:
        self._aliases += 1
        return f"r{self._aliases}"

    # --------------------------------------------------------------------------- rows
    def row_sql(
        self, entity: Entity, alias: str, options: QueryOptions, *, etag: bool = True
    ) -> str:
        """SQL for one JSON object per row of ``entity`` (aliased ``alias``)."""
        pairs: list[tuple[str, str]] = []
        if etag and "versionnumber" in entity.attributes:
            pairs.append(("@odata.etag", f"""'W/"' || {alias}."versionnumber" || '"'"""))
        columns = options.select if options.select is not None else self.default_columns(entity)
        seen = set()
        for attribute in columns:
            if attribute.logical_name in seen:
                continue
            seen.add(attribute.logical_name)
            pairs.extend(self.column_pairs(entity, alias, attribute))
        primary = entity.attributes[entity.primary_id]
        if primary.logical_name not in seen:
            pairs.append((primary.logical_name, f'{alias}."{primary.logical_name}"'))
        for item in options.expand:
            pairs.append((item.nav, self.expand_sql(entity, alias, item)))
        annotations = [(k, v) for k, v in pairs if "@" in k and not k.startswith("@")]
        if not annotations:
            return json_object_sql(pairs)
        # The service leaves out the annotations of null values; merging them in as a JSON
        # merge patch does the same (a null member of a patch adds nothing).
        plain = [(k, v) for k, v in pairs if not ("@" in k and not k.startswith("@"))]
        return f"json_patch({json_object_sql(plain)}, {json_object_sql(annotations)})"

    @staticmethod
    def default_columns(entity: Entity) -> list[Attribute]:
        return [a for a in entity.attributes.values() if not a.is_primary_id]

    def column_pairs(
        self, entity: Entity, alias: str, attribute: Attribute
    ) -> list[tuple[str, str]]:
        column = f'{alias}."{attribute.logical_name}"'
        name = attribute.wire_name
        if attribute.type == "Boolean":
            value = f"CASE {column} WHEN 1 THEN json('true') WHEN 0 THEN json('false') END"
        else:
            value = column
        pairs = [(name, value)]
        if attribute.is_lookup:
            pairs.extend(self.lookup_annotations(entity, alias, attribute))
        elif self.prefs.wants(FORMATTED):
            formatted = self.formatted(attribute, column)
            if formatted is not None:
                pairs.append((f"{name}@{FORMATTED}", formatted))
        return pairs

    def formatted(self, attribute: Attribute, column: str) -> str | None:
        type_ = attribute.type
        if type_ in ("Picklist", "State", "Status"):
            return _case(column, attribute.options)
        if type_ == "Boolean":
            labels = attribute.options or {0: "No", 1: "Yes"}
            return _case(column, labels)
        if type_ == "DateTime":
            return _datetime_text(column, attribute.format == "DateOnly")
        if type_ in ("Integer", "BigInt"):
            return f"printf('%,d', {column})"
        if type_ == "Money":
            return f"CASE WHEN {column} IS NULL THEN NULL ELSE '$' || printf('%.2f', {column}) END"
        if type_ in ("Decimal", "Double"):
            return f"printf('%.2f', {column})"
        return None

    def lookup_annotations(
        self, entity: Entity, alias: str, attribute: Attribute
    ) -> list[tuple[str, str]]:
        name = attribute.wire_name
        column = f'{alias}."{attribute.logical_name}"'
        target_col = f'{alias}."{attribute.logical_name}__target"'
        pairs = []
        targets = attribute.targets
        if self.prefs.wants(FORMATTED):
            names = []
            for target in targets:
                other = self.catalog.entities.get(target)
                if other is None or other.primary_name is None:
                    continue
                inner = self.alias()
                names.append(
                    (
                        target,
                        f'(SELECT {inner}."{other.primary_name}" FROM "{other.table}" '
                        f'{inner} WHERE {inner}."{other.primary_id}" = {column})',
                    )
                )
            if attribute.polymorphic:
                whens = " ".join(f"WHEN {q(t)} THEN {sql}" for t, sql in names)
                pairs.append(
                    (f"{name}@{FORMATTED}", f"CASE {target_col} {whens} END" if names else "NULL")
                )
            elif names:
                pairs.append((f"{name}@{FORMATTED}", names[0][1]))
        if self.prefs.wants(NAV_NAME):
            navs = {t: self.nav_name(entity, attribute, t) for t in targets}
            if attribute.polymorphic:
                whens = " ".join(f"WHEN {q(t)} THEN {q(n)}" for t, n in navs.items())
                nav_sql = (
                    f"CASE WHEN {column} IS NULL THEN NULL ELSE CASE {target_col} {whens} END END"
                )
            else:
                nav_sql = f"CASE WHEN {column} IS NULL THEN NULL ELSE {q(navs[targets[0]])} END"
            pairs.append((f"{name}@{NAV_NAME}", nav_sql))
        if self.prefs.wants(LOOKUP_NAME):
            logical = target_col if attribute.polymorphic else q(targets[0])
            pairs.append(
                (
                    f"{name}@{LOOKUP_NAME}",
                    f"CASE WHEN {column} IS NULL THEN NULL ELSE {logical} END",
                )
            )
        return pairs

    def nav_name(self, entity: Entity, attribute: Attribute, target: str) -> str:
        if attribute.type == "Owner":
            return "ownerid"
        for rel in self.catalog.one_to_many.values():
            if (
                rel.referencing_entity == entity.logical_name
                and rel.referencing_attribute == attribute.logical_name
                and rel.referenced_entity == target
            ):
                return rel.referencing_nav
        return attribute.logical_name

    # ------------------------------------------------------------------------- expand
    def expand_sql(self, entity: Entity, alias: str, item: ExpandItem) -> str:
        target = item.target
        inner = self.alias()
        if item.single:
            lookup = item.lookup
            assert lookup is not None
            where = f'{inner}."{target.primary_id}" = {alias}."{lookup.logical_name}"'
            if lookup.polymorphic and item.pinned:
                where += f' AND {alias}."{lookup.logical_name}__target" = {q(target.logical_name)}'
            obj = self.row_sql(target, inner, item.options)
            return f'json((SELECT {obj} FROM "{target.table}" {inner} WHERE {where}))'
        translator = Translator(self.catalog, self.context)
        _, (join_alias, join_sql) = translator.collection_join(
            Scope(entity, alias), item.relationship
        )
        where = ""
        if item.options.filter is not None:
            where = " AND " + translator.where(item.options.filter, target, join_alias)
        order = order_sql(target, join_alias, item.options.orderby)
        limit = min(item.options.top if item.options.top is not None else MAX_PAGE, MAX_PAGE)
        obj = self.row_sql(target, join_alias, item.options)
        self.params.extend(translator.params)
        return (
            f"json((SELECT json_group_array(json(o)) FROM (SELECT {obj} AS o {join_sql}"
            f"{where} ORDER BY {order} LIMIT {limit})))"
        )


def order_sql(entity: Entity, alias: str, orderby: list[tuple[Attribute, bool]]) -> str:
    """ORDER BY text; the primary id always breaks ties so that paging is stable."""
    parts = [f'{alias}."{a.logical_name}"{" DESC" if desc else ""}' for a, desc in orderby]
    if entity.primary_id not in [a.logical_name for a, _ in orderby]:
        parts.append(f'{alias}."{entity.primary_id}"')
    return ", ".join(parts)
