"""The terms ``$filter`` translation is made of, shared by the translator (:mod:`.filters`) and
the query functions it calls (:mod:`.functions`): where an expression is evaluated (a table
and its SQL alias), who asks and when, the Edm type of a column, which types compare, and the
error a bad expression gets. Kept apart so that both modules import it and not each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.models import Attribute, Entity

NUMERIC = {"Edm.Int32", "Edm.Int64", "Edm.Decimal", "Edm.Double"}
_COMPATIBLE = [NUMERIC, {"Edm.DateTimeOffset", "Edm.Date"}]


@dataclass
class Scope:
    entity: Entity
    alias: str


@dataclass
class FilterContext:
    """What query functions need beyond the row: who is asking and what time it is."""

    user_id: str | None = None
    business_unit_id: str | None = None
    now: Any = None  # datetime


def odata_error(message: str) -> DataverseError:
    return DataverseError("ODataSyntax", message=message)


def edm_type(attribute: Attribute) -> str:
    if attribute.type == "DateTime" and attribute.format == "DateOnly":
        return "Edm.Date"
    return attribute.edm_type


def check_types(left: str | None, right: str | None, kind: str) -> None:
    if left is None or right is None or left == right:
        return
    if any(left in group and right in group for group in _COMPATIBLE):
        return
    raise odata_error(
        "A binary operator with incompatible types was detected. Found operand types "
        f"'{left}' and '{right}' for operator kind '{kind}'."
    )
