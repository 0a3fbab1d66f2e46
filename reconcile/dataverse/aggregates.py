"""Counting a table by groups through FetchXML aggregates, however big the table is.

Why: Dataverse answers an aggregate over at most 50,000 records and otherwise fails with
``AggregateQueryRecordLimit exceeded`` (``0x8004e023``); Microsoft's advice is to filter the
query (a date range), run it several times and add the parts up
(``docs/dataverse-api.md`` [D14]). :class:`Partitioned` does exactly that: it splits the
table into ``createdon`` ranges small enough for the limit — found once per table and
filter by halving a range that is refused — then runs each grouped query on every range and
sums the counts. A million contacts are counted by a few dozen small queries; no record is
read one by one.

Queries are plain data (:class:`Aggregate`) turned into FetchXML here, so the jobs never
assemble XML text themselves.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from reconcile.dataverse.errors import ValidationFailed
from reconcile.errors import InputError, Problem

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient

RECORD_LIMIT_CODE = "0x8004e023"
PARTITION = "createdon"  # always set, indexed, never changes after create
DATE_PARTS = ("year", "month", "day")


@dataclass(frozen=True)
class Condition:
    attribute: str
    operator: str
    values: tuple[str, ...] = ()  # none for null / not-null; several for in

    def element(self) -> ET.Element:
        node = ET.Element("condition", attribute=self.attribute, operator=self.operator)
        if self.operator in ("in", "not-in"):
            for value in self.values:
                ET.SubElement(node, "value").text = value
        elif self.values:
            node.set("value", self.values[0])
        return node


@dataclass(frozen=True)
class Link:
    """An inner link-entity that only filters (``to`` on the root, ``from`` on the link)."""

    entity: str
    from_attribute: str
    to_attribute: str
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Aggregate:
    """``count`` (and ``countcolumn`` of ``count_columns``) grouped by ``groups``; a group
    name ending in ``:day`` (``grc_activitydate:day``) groups by that date's year, month and
    day (UTC)."""

    entity: str
    groups: tuple[str, ...] = ()
    count_columns: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()
    links: tuple[Link, ...] = ()

    def fetch_xml(self, extra: Iterable[Condition] = ()) -> str:
        root = ET.Element("fetch", aggregate="true")
        entity = ET.SubElement(root, "entity", name=self.entity)
        for group in self.groups:
            name, _, part = group.partition(":")
            if part == "day":
                for date_part in DATE_PARTS:
                    ET.SubElement(
                        entity,
                        "attribute",
                        name=name,
                        alias=_alias(f"{name}_{date_part}"),
                        groupby="true",
                        dategrouping=date_part,
                        usertimezone="false",
                    )
            else:
                ET.SubElement(entity, "attribute", name=name, alias=_alias(name), groupby="true")
        ET.SubElement(entity, "attribute", name=f"{self.entity}id", alias="n", aggregate="count")
        for column in self.count_columns:
            ET.SubElement(
                entity, "attribute", name=column, alias=_alias(f"has_{column}"),
                aggregate="countcolumn",
            )  # fmt: skip
        conditions = [*self.conditions, *extra]
        if conditions:
            where = ET.SubElement(entity, "filter", type="and")
            for condition in conditions:
                where.append(condition.element())
        for link in self.links:
            attributes = {"name": link.entity, "to": link.to_attribute}
            attributes |= {"from": link.from_attribute, "link-type": "inner"}
            node = ET.SubElement(entity, "link-entity", attributes)
            where = ET.SubElement(node, "filter", type="and")
            for condition in link.conditions:
                where.append(condition.element())
        return ET.tostring(root, encoding="unicode")

    def key(self, row: dict[str, Any]) -> tuple[Any, ...]:
        """The group values of one answer row (``None`` for a null group)."""
        values: list[Any] = []
        for group in self.groups:
            name, _, part = group.partition(":")
            if part == "day":
                parts = [row.get(_alias(f"{name}_{p}")) for p in DATE_PARTS]
                year, month, day = parts
                if year is None or month is None or day is None:
                    values.append(None)
                else:
                    values.append(date(int(year), int(month), int(day)))
            else:
                values.append(row.get(_alias(name)))
        return tuple(values)


def _alias(name: str) -> str:
    return "a_" + name.replace(".", "_")


@dataclass
class Counts:
    """Summed answers: ``count`` and each ``countcolumn`` by group key."""

    rows: dict[tuple[Any, ...], dict[str, int]] = field(default_factory=dict)

    def add(self, key: tuple[Any, ...], values: dict[str, int]) -> None:
        slot = self.rows.setdefault(key, {})
        for name, value in values.items():
            slot[name] = slot.get(name, 0) + value

    def total(self, measure: str = "n") -> int:
        return sum(r.get(measure, 0) for r in self.rows.values())

    def by(self, position: int = 0, measure: str = "n") -> dict[Any, int]:
        """Counts summed over every group but the one at ``position``."""
        out: dict[Any, int] = {}
        for key, values in self.rows.items():
            out[key[position]] = out.get(key[position], 0) + values.get(measure, 0)
        return out


class Partitioned:
    """Aggregates over one table and base filter, split into ranges under the record limit."""

    def __init__(
        self,
        client: DataverseClient,
        entity_set: str,
        entity: str,
        conditions: tuple[Condition, ...] = (),
        links: tuple[Link, ...] = (),
    ) -> None:
        self.client = client
        self.entity_set = entity_set
        self.entity = entity
        self.conditions = conditions
        self.links = links
        self._ranges: list[tuple[str | None, str | None]] | None = None
        self.queries = 0

    def run(self, query: Aggregate) -> Counts:
        """``query`` (on this table; its conditions added to the base filter) summed over
        every range."""
        narrower = bool(query.conditions or query.links)
        query = Aggregate(
            self.entity,
            query.groups,
            query.count_columns,
            (*self.conditions, *query.conditions),
            (*self.links, *query.links),
        )
        counts = Counts()
        if self._ranges is None and narrower:
            self.ranges()  # ranges found on a subset could be too wide for the whole
        if self._ranges is None:  # the first query finds the ranges as it runs
            answers = self._split(query, None, None)
            self._ranges = [(start, end) for start, end, _ in answers]
        else:
            answers = [(a, b, self._ask(query, a, b)) for a, b in self._ranges]
        for _, _, rows in answers:
            for row in rows:
                values = {"n": int(row.get("n", 0))}
                for column in query.count_columns:
                    values[f"has_{column}"] = int(row.get(_alias(f"has_{column}"), 0))
                counts.add(query.key(row), values)
        return counts

    def ranges(self) -> list[tuple[str | None, str | None]]:
        """``createdon`` ranges [start, end) whose counts each fit the limit."""
        if self._ranges is None:
            self.run(Aggregate(self.entity))
        assert self._ranges is not None
        return self._ranges

    def _split(
        self, query: Aggregate, start: str | None, end: str | None
    ) -> list[tuple[str | None, str | None, list[dict[str, Any]]]]:
        """``query`` answered on [start, end), halving the range while Dynamics refuses it."""
        try:
            return [(start, end, self._ask(query, start, end))]
        except ValidationFailed as exc:
            if (exc.code or "").lower() != RECORD_LIMIT_CODE:
                raise
        low = _parse(start) if start else self._edge(descending=False)
        high = _parse(end) if end else self._edge(descending=True) + timedelta(seconds=1)
        if high - low <= timedelta(seconds=1):
            raise InputError(
                Problem(
                    f"{self.entity}: more than 50,000 records were created within one second "
                    f"({_text(low)}); Dynamics cannot aggregate them in one query and the "
                    "report cannot split them further"
                )
            )
        middle = (low + (high - low) / 2).replace(microsecond=0)
        return [
            *self._split(query, _text(low), _text(middle)),
            *self._split(query, _text(middle), _text(high)),
        ]

    def _edge(self, *, descending: bool) -> datetime:
        """The first or last ``createdon`` under the base filter (one row read)."""
        root = ET.Element("fetch", top="1")
        entity = ET.SubElement(root, "entity", name=self.entity)
        ET.SubElement(entity, "attribute", name=PARTITION)
        ET.SubElement(entity, "order", attribute=PARTITION, descending=str(descending).lower())
        if self.conditions:
            where = ET.SubElement(entity, "filter", type="and")
            for condition in self.conditions:
                where.append(condition.element())
        # Links are left out: the edges of the table bound its linked subset too.
        rows = self._get(ET.tostring(root, encoding="unicode"))
        if not rows:
            return datetime.now(UTC).replace(microsecond=0)
        return _parse(str(rows[0][PARTITION]))

    def _ask(self, query: Aggregate, start: str | None, end: str | None) -> list[dict[str, Any]]:
        extra = []
        if start:
            extra.append(Condition(PARTITION, "ge", (start,)))
        if end:
            extra.append(Condition(PARTITION, "lt", (end,)))
        return self._get(query.fetch_xml(extra))

    def _get(self, xml: str) -> list[dict[str, Any]]:
        self.queries += 1
        body = self.client.get_json(
            self.entity_set, params={"fetchXml": xml}, record=f"counts of {self.entity}"
        )
        return list(body.get("value", []))


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
