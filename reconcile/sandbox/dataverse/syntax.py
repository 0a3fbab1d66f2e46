"""Parsing ``$filter`` text into ``odata-query``'s AST, with Dataverse's own error messages.

Dataverse parses query options with Microsoft.OData's URI parser and answers a syntax error
with that parser's text and code ``0x0``, e.g. "Syntax error: character '&' is not valid at
position 70 in '…'." (a real answer quoted in AleksandrRogov/DynamicsWebApi#40), "Syntax error
at position 23 in '…'." (OData/WebApi), "There is an unterminated string literal at position
17 in '…'." (Microsoft.OData, Azure/data-api-builder#3039). The sandbox says the same instead
of the parser library's "Failed to parse at: Token(…)". Positions are where ``odata-query``
stopped, which is where Microsoft.OData stops for the common mistakes, not always to the
character.

An expression nested deeper than :data:`MAX_DEPTH` (runs of one ``and``/``or`` count once,
however long: a client asking for 1,200 values writes a flat chain; so does a run of ``not``)
is refused with Microsoft.OData's "The recursion limit has been exceeded." rather than
overflowing the evaluators or SQLite's parser, whose stack holds about 35 nested parentheses
(Microsoft.OData allows 800: a sandbox limit, far beyond what clients send).
"""

from __future__ import annotations

from typing import Any

from odata_query import ast, exceptions
from odata_query.grammar import ODataLexer, ODataParser

from reconcile.sandbox.dataverse.terms import odata_error

MAX_DEPTH = 25
# Characters with no meaning in an expression outside a string literal.
_INVALID = set("&;#%!^|`~\\?<>")
_OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le", "and", "or", "not", "in", "has")


def check_characters(text: str) -> None:
    """Refuse a character no expression can hold, where Microsoft.OData's lexer would."""
    bad = _invalid_character(text)
    if bad is not None:
        raise odata_error(
            f"Syntax error: character '{text[bad]}' is not valid at position {bad} in '{text}'."
        )


def parse(text: str) -> ast._Node:
    check_characters(text)
    words = text.split()
    if words and words[-1].lower() in _OPERATORS:
        raise odata_error(f"Expression expected at position {len(text)} in '{text}'.")
    try:
        tree = ODataParser().parse(ODataLexer().tokenize(text))
    except exceptions.TokenizingException as exc:
        raise odata_error(_tokenizing_message(exc, text)) from None
    except exceptions.ParsingException as exc:
        raise odata_error(_parsing_message(exc, text)) from None
    except exceptions.UnknownFunctionException as exc:
        raise odata_error(
            f"An unknown function with name '{exc.function_name}' was found. This may also be "
            "a function import or a key lookup on a navigation property, which is not allowed."
        ) from None
    except (exceptions.ODataException, ValueError) as exc:
        raise odata_error(f"{exc} in '{text}'.") from None
    except AttributeError:
        # odata-query's grammar fails this way on some malformed function calls (a named
        # parameter given twice: In(PropertyName='a',PropertyName='b',…)).
        raise odata_error(f"Syntax error in the function parameters in '{text}'.") from None
    if tree is None:
        raise odata_error(f"Expression expected at position 0 in '{text}'.")
    if depth(tree) > MAX_DEPTH:
        raise odata_error("The recursion limit has been exceeded.")
    return tree


def _invalid_character(text: str) -> int | None:
    """Where the first character that no expression can hold is, outside '…' literals."""
    quoted = False
    for position, char in enumerate(text):
        if char == "'":
            quoted = not quoted  # '' inside a literal toggles twice: still inside
        elif not quoted and char in _INVALID:
            return position
    return None


def _tokenizing_message(exc: exceptions.TokenizingException, text: str) -> str:
    token = exc.token
    position = getattr(token, "index", 0)
    value = str(getattr(token, "value", "") or "")
    if value.startswith("'"):
        return f"There is an unterminated string literal at position {position} in '{text}'."
    char = value[:1] or text[position : position + 1]
    return f"Syntax error: character '{char}' is not valid at position {position} in '{text}'."


def _parsing_message(exc: exceptions.ParsingException, text: str) -> str:
    token = exc.token
    if token is None or exc.eof:
        return f"Expression expected at position {len(text)} in '{text}'."
    return f"Syntax error at position {token.index} in '{text}'."


def children(node: Any) -> list[Any]:
    """The sub-expressions of an AST node (the nodes the evaluators descend into)."""
    if isinstance(node, ast.BoolOp | ast.Compare | ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    if isinstance(node, ast.NamedParam):
        return [node.param]
    if isinstance(node, ast.List):
        return list(node.val)
    if isinstance(node, ast.Attribute):
        return [node.owner]
    if isinstance(node, ast.CollectionLambda):
        return [node.owner, *([node.lambda_.expression] if node.lambda_ else [])]
    return []


def depth(tree: ast._Node) -> int:
    """How deep the expression nests, without recursion; a chain of one boolean operator
    (``a or b or c``) adds one level, however long."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        op = type(node.op) if isinstance(node, ast.BoolOp | ast.UnaryOp) else None
        for child in children(node):
            same = op is not None and isinstance(child, type(node)) and isinstance(child.op, op)
            stack.append((child, level if same else level + 1))
    return deepest


def operands(node: ast.BoolOp) -> list[ast._Node]:
    """The operands of a run of the same boolean operator, left to right, without recursion."""
    op = type(node.op)
    out: list[ast._Node] = []
    stack: list[ast._Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.BoolOp) and isinstance(current.op, op):
            stack.append(current.right)
            stack.append(current.left)
        else:
            out.append(current)
    return out
