"""``$filter`` to SQL: the expression is parsed by ``odata-query``'s OData grammar into an AST,
then translated here into a parameterised SQLite ``WHERE`` clause, checking types the way the
service does (``Edm.Guid`` never equals ``Edm.String``). Nothing is matched with string tricks.

Supported, as on Dataverse: ``eq ne gt ge lt le in and or not ()``, ``contains``,
``startswith``, ``endswith``, lookups as ``_x_value``, single-valued navigation paths
(``parentcustomerid_account/name``), ``any``/``all`` over collection navigation properties, and
the ``Microsoft.Dynamics.CRM.*`` query functions in :mod:`.functions`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from odata_query import ast

from reconcile.sandbox.dataverse.catalog import Catalog
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.functions import query_function
from reconcile.sandbox.dataverse.models import Attribute, Entity, ManyToMany
from reconcile.sandbox.dataverse.syntax import check_characters, operands, parse
from reconcile.sandbox.dataverse.terms import (
    FilterContext,
    Scope,
    check_types,
    edm_type,
    odata_error,
)
from reconcile.sandbox.dataverse.values import parse_datetime

CHAIN_GROUP = 64
_OPERATORS = {ast.Eq: "=", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_KINDS = {
    ast.Eq: "Equal",
    ast.NotEq: "NotEqual",
    ast.Lt: "LessThan",
    ast.LtE: "LessThanOrEqual",
    ast.Gt: "GreaterThan",
    ast.GtE: "GreaterThanOrEqual",
    ast.In: "In",
}


def parse_expression(text: str, aliases: dict[str, str] | None = None) -> ast._Node:
    """Parse an OData boolean expression; JSON arrays (``["a","b"]``) become OData lists."""
    check_characters(text)
    text = _substitute_aliases(text, aliases or {})
    return parse(_json_arrays_to_lists(text))


def _outside_strings(text: str) -> list[tuple[bool, str]]:
    """Split into (is_string_literal, chunk) pieces; '' inside a literal is an escaped quote."""
    return [
        (piece.startswith("'"), piece) for piece in re.split(r"('(?:[^']|'')*')", text) if piece
    ]


def _substitute_aliases(text: str, aliases: dict[str, str]) -> str:
    def swap(match: re.Match[str]) -> str:
        name = match.group(0)
        if name not in aliases:
            raise odata_error(f"The parameter alias '{name}' is not defined in the query string.")
        return aliases[name]

    return "".join(
        chunk if quoted else re.sub(r"@[A-Za-z_]\w*", swap, chunk)
        for quoted, chunk in _outside_strings(text)
    )


def _json_arrays_to_lists(text: str) -> str:
    """``PropertyValues=["O'Brian","b"]`` (Dataverse's array syntax) -> ``('O''Brian','b')``."""
    if "[" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "'":
            end = i + 1
            while end < len(text):
                if text[end] == "'" and text[end + 1 : end + 2] == "'":
                    end += 2
                    continue
                if text[end] == "'":
                    break
                end += 1
            out.append(text[i : end + 1])
            i = end + 1
            continue
        if char == "[":
            end = text.find("]", i)
            if end < 0:
                raise odata_error(
                    f"Syntax error: character '[' is not valid at position {i} in '{text}'."
                )
            items = _array_items(text[i + 1 : end])
            if items is not None:
                out.append("(" + ",".join(_literal(v) for v in items) + ")")
                i = end + 1
                continue
        out.append(char)
        i += 1
    return "".join(out)


_ITEM_RE = re.compile(r"""\s*('(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[^,\s]+)\s*(?:,|$)""")


def _array_items(inner: str) -> list[Any] | None:
    """Items of ``["a","b"]`` (JSON) or ``['a','b']`` (OData quoting); None if neither."""
    import json

    items: list[Any] = []
    position = 0
    inner = inner.strip()
    while position < len(inner):
        match = _ITEM_RE.match(inner, position)
        if not match:
            return None
        token = match.group(1)
        if token.startswith("'"):
            items.append(token[1:-1].replace("''", "'"))
        else:
            try:
                items.append(json.loads(token))
            except ValueError:
                return None
        position = match.end()
    return items


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


@dataclass
class Translator:
    catalog: Catalog
    context: FilterContext = field(default_factory=FilterContext)
    params: list[Any] = field(default_factory=list)
    _aliases: int = 0

    def where(self, node: ast._Node, entity: Entity, alias: str) -> str:
        return self.condition(node, {"$root": Scope(entity, alias)}, Scope(entity, alias))

    def fresh_alias(self) -> str:
        self._aliases += 1
        return f"f{self._aliases}"

    # ----------------------------------------------------------------- conditions
    def condition(self, node: ast._Node, lambdas: dict[str, Scope], scope: Scope) -> str:
        if isinstance(node, ast.BoolOp):
            # A chain of one operator (``a or b or c …``, a thousand long when a client asks
            # for many values) becomes groups of at most 64 terms, grouped again: SQLite
            # parses ``a OR b OR …`` into a tree as deep as the chain is long and refuses one
            # deeper than 1,000 ("Expression tree is too large"), which the service does not.
            op = "AND" if isinstance(node.op, ast.And) else "OR"
            parts = [self.condition(n, lambdas, scope) for n in operands(node)]
            while len(parts) > CHAIN_GROUP:
                parts = [
                    f"({f' {op} '.join(parts[i : i + CHAIN_GROUP])})"
                    for i in range(0, len(parts), CHAIN_GROUP)
                ]
            return f"({f' {op} '.join(parts)})"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            negations, inner = 1, node.operand  # a run of ``not``: only its parity counts
            while isinstance(inner, ast.UnaryOp) and isinstance(inner.op, ast.Not):
                negations, inner = negations + 1, inner.operand
            condition = self.condition(inner, lambdas, scope)
            return f"(NOT {condition})" if negations % 2 else condition
        if isinstance(node, ast.Compare):
            return self.compare(node, lambdas, scope)
        if isinstance(node, ast.Call):
            return self.call(node, lambdas, scope)
        if isinstance(node, ast.CollectionLambda):
            return self.lambda_(node, lambdas, scope)
        if isinstance(node, (ast.Identifier, ast.Attribute)):
            sql, type_ = self.value(node, lambdas, scope)
            if type_ == "Edm.Boolean":
                return f"({sql} = 1)"
        if isinstance(node, ast.Boolean):
            return "1" if node.py_val else "0"
        raise odata_error(f"The $filter expression {_describe(node)} is not a condition.")

    def compare(self, node: ast.Compare, lambdas: dict[str, Scope], scope: Scope) -> str:
        kind = _KINDS.get(type(node.comparator), "Equal")
        if isinstance(node.comparator, ast.In):
            left, left_type = self.value(node.left, lambdas, scope)
            if not isinstance(node.right, ast.List):
                raise odata_error("The right side of 'in' must be a list.")
            marks = []
            for item in node.right.val:
                sql, type_ = self.literal(item, left_type, scope)
                check_types(left_type, type_, kind)
                marks.append(sql)
            return f"({left} IN ({', '.join(marks) or 'NULL'}))"
        # Columns first, so that a literal can take its column's type (dates vs date-times);
        # each side collects its own parameters, joined in the order the SQL text uses them.
        left_literal = isinstance(node.left, ast._Literal)
        first, second = (node.right, node.left) if left_literal else (node.left, node.right)
        first_sql, first_type, first_params = self.side(first, lambdas, scope, None)
        second_sql, second_type, second_params = self.side(second, lambdas, scope, first_type)
        if left_literal:
            left, left_type, right, right_type = second_sql, second_type, first_sql, first_type
            self.params.extend(second_params + first_params)
        else:
            left, left_type, right, right_type = first_sql, first_type, second_sql, second_type
            self.params.extend(first_params + second_params)
        check_types(left_type, right_type, kind)
        if isinstance(node.comparator, (ast.Eq, ast.NotEq)):
            negate = isinstance(node.comparator, ast.NotEq)
            if right_type is None or left_type is None:
                column = left if right_type is None else right
                return f"({column} IS {'NOT ' if negate else ''}NULL)"
            return (
                f"({left} IS {'NOT ' if negate else ''}{right})"
                if negate
                else f"({left} = {right})"
            )
        return f"({left} {_OPERATORS[type(node.comparator)]} {right})"

    def call(self, node: ast.Call, lambdas: dict[str, Scope], scope: Scope) -> str:
        name = node.func.name
        if node.func.namespace:
            return query_function(self, node, scope)
        if name in ("contains", "startswith", "endswith"):
            if len(node.args) != 2:
                raise odata_error(f"The function '{name}' takes two arguments.")
            column, type_ = self.value(node.args[0], lambdas, scope)
            if type_ != "Edm.String" or not isinstance(node.args[1], ast.String):
                raise odata_error(
                    f"No function signature for the function with name '{name}' matches the "
                    "specified arguments. The function signatures considered are: "
                    f"{name}(Edm.String Nullable=true, Edm.String Nullable=true)."
                )
            text = node.args[1].val
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = {
                "contains": f"%{escaped}%",
                "startswith": f"{escaped}%",
                "endswith": f"%{escaped}",
            }[name]
            self.params.append(pattern)
            return f"({column} LIKE ? ESCAPE '\\')"
        raise odata_error(f"The '{name}' function is not supported.")

    def lambda_(self, node: ast.CollectionLambda, lambdas: dict[str, Scope], scope: Scope) -> str:
        if not isinstance(node.owner, ast.Identifier):
            raise odata_error("Lambda operators apply to a collection navigation property.")
        rel = self.catalog.collection_nav(scope.entity, node.owner.name)
        if rel is None:
            raise DataverseError(
                "ODataUnknownProperty", name=node.owner.name, entity=scope.entity.logical_name
            )
        target, join = self.collection_join(scope, rel)
        alias = join[0]
        if node.lambda_ is None:
            inner = "1"
        else:
            inner_lambdas = {**lambdas, node.lambda_.identifier.name: Scope(target, alias)}
            inner = self.condition(node.lambda_.expression, inner_lambdas, scope)
        if isinstance(node.operator, ast.All):
            return f"(NOT EXISTS (SELECT 1 {join[1]} AND NOT ({inner})))"
        return f"(EXISTS (SELECT 1 {join[1]} AND ({inner})))"

    def collection_join(self, scope: Scope, rel: Any) -> tuple[Entity, tuple[str, str]]:
        """FROM/WHERE text joining the scope's row to the related rows; (alias, sql)."""
        alias = self.fresh_alias()
        me = scope.entity
        if isinstance(rel, ManyToMany):
            mine_is_1 = rel.entity1 == me.logical_name
            other = self.catalog.entities[rel.entity2 if mine_is_1 else rel.entity1]
            intersect = self.catalog.entities[rel.intersect_entity]
            my_col = rel.entity1_attribute if mine_is_1 else rel.entity2_attribute
            other_col = rel.entity2_attribute if mine_is_1 else rel.entity1_attribute
            link = self.fresh_alias()
            sql = (
                f'FROM "{intersect.table}" {link} JOIN "{other.table}" {alias} '
                f'ON {alias}."{other.primary_id}" = {link}."{other_col}" '
                f'WHERE {link}."{my_col}" = {scope.alias}."{me.primary_id}"'
            )
            return other, (alias, sql)
        child = self.catalog.entities[rel.referencing_entity]
        column = rel.referencing_attribute
        sql = (
            f'FROM "{child.table}" {alias} '
            f'WHERE {alias}."{column}" = {scope.alias}."{me.primary_id}"'
        )
        if child.attributes[column].polymorphic:
            sql += f" AND {alias}.\"{column}__target\" = '{me.logical_name}'"
        return child, (alias, sql)

    # ---------------------------------------------------------------------- values
    def side(
        self, node: ast._Node, lambdas: dict[str, Scope], scope: Scope, hint: str | None
    ) -> tuple[str, str | None, list[Any]]:
        saved, self.params = self.params, []
        try:
            sql, type_ = self.value(node, lambdas, scope, hint=hint)
            return sql, type_, self.params
        finally:
            self.params = saved

    def value(
        self, node: ast._Node, lambdas: dict[str, Scope], scope: Scope, *, hint: str | None = None
    ) -> tuple[str, str | None]:
        if isinstance(node, ast.Identifier):
            attribute = self.attribute(scope.entity, node.name)
            return f'{scope.alias}."{attribute.logical_name}"', edm_type(attribute)
        if isinstance(node, ast.Attribute):
            return self.path(node, lambdas, scope)
        if isinstance(node, ast._Literal):
            return self.literal(node, hint, scope)
        if isinstance(node, ast.Call):
            raise odata_error(f"The '{node.func.full_name()}' function is not supported.")
        raise odata_error(f"The query node {_describe(node)} is not supported.")

    def path(
        self, node: ast.Attribute, lambdas: dict[str, Scope], scope: Scope
    ) -> tuple[str, str | None]:
        owner = node.owner
        if isinstance(owner, ast.Identifier) and owner.name in lambdas:
            inner = lambdas[owner.name]
            attribute = self.attribute(inner.entity, node.attr)
            return f'{inner.alias}."{attribute.logical_name}"', edm_type(attribute)
        if isinstance(owner, ast.Identifier):
            resolved = self.catalog.single_nav(scope.entity, owner.name)
            if resolved is None:
                raise DataverseError(
                    "ODataUnknownProperty", name=owner.name, entity=scope.entity.logical_name
                )
            lookup, pinned = resolved
            target = self.catalog.entities[pinned or lookup.targets[0]]
            attribute = self.attribute(target, node.attr)
            alias = self.fresh_alias()
            where = f'{alias}."{target.primary_id}" = {scope.alias}."{lookup.logical_name}"'
            if lookup.polymorphic:
                target_column = f'{scope.alias}."{lookup.logical_name}__target"'
                where += f" AND {target_column} = '{target.logical_name}'"
            column = f'{alias}."{attribute.logical_name}"'
            sql = f'(SELECT {column} FROM "{target.table}" {alias} WHERE {where})'
            return sql, edm_type(attribute)
        raise odata_error(f"The path {_describe(node)} is not supported.")

    def attribute(self, entity: Entity, name: str) -> Attribute:
        attribute = entity.by_wire_name(name)
        if attribute is None:
            raise DataverseError("ODataUnknownProperty", name=name, entity=entity.logical_name)
        return attribute

    def literal(self, node: ast._Node, hint: str | None, scope: Scope) -> tuple[str, str | None]:
        if isinstance(node, ast.Null):
            return "NULL", None
        if isinstance(node, ast.String):
            self.params.append(node.val)
            return "?", "Edm.String"
        if isinstance(node, ast.Boolean):
            self.params.append(1 if node.py_val else 0)
            return "?", "Edm.Boolean"
        if isinstance(node, ast.Integer):
            value = int(node.val)
            if abs(value) >= 2**63:  # past Edm.Int64: a decimal, as Microsoft.OData reads it
                self.params.append(float(value))
                return "?", "Edm.Decimal"
            self.params.append(value)
            return "?", "Edm.Int32" if abs(value) < 2**31 else "Edm.Int64"
        if isinstance(node, ast.Float):
            self.params.append(float(node.val))
            return "?", "Edm.Decimal"
        if isinstance(node, ast.GUID):
            self.params.append(node.val.lower())
            return "?", "Edm.Guid"
        if isinstance(node, (ast.DateTime, ast.Date)):
            date_only = hint == "Edm.Date"
            try:
                self.params.append(parse_datetime(node.val, date_only=date_only))
            except ValueError:
                raise odata_error(f"Bad date/time literal '{node.val}'.") from None
            return "?", "Edm.DateTimeOffset" if isinstance(node, ast.DateTime) else "Edm.Date"
        raise odata_error(f"The literal {_describe(node)} is not supported.")


def _describe(node: ast._Node) -> str:
    return type(node).__name__
