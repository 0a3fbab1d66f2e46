"""``POST /search-contacts/contacts``: ad-hoc contact searches (official OpenAPI
``getContactsFromSearchContactsConditions``), the subset reconcile uses.

Emulated: ``subscribersType`` ``subscribed`` (the lists' contacts) and ``removed`` (contacts
deleted, unsubscribed or refused, with ``reason`` and ``deletedOn``); ``unconfirmed`` and
``undelivered`` always find nobody (the sandbox has no double opt-in and no bounces).
Sections combine with ``sectionLogicOperator``, conditions with each section's
``logicOperator``; each section is limited to its ``campaignIdsList``. Conditions: ``tag``
(``exists`` / ``not_exists`` a tag id), ``email`` and ``name`` (``string_operator``: is,
is_not, contains, not_contains, starts, ends, not_starts, not_ends; case-insensitive). Only
``subscriptionDate: all_time`` is emulated. Anything else is refused with 400 / 1000 rather
than silently ignored. Results page like every list (``page``, ``perPage``, the paging
headers) and sort by ``sort[name|email|createdOn]``.
"""

from __future__ import annotations

from typing import Any

from reconcile.sandbox.getresponse import queries
from reconcile.sandbox.getresponse.db import decode_id
from reconcile.sandbox.getresponse.errors import invalid, related_missing
from reconcile.sandbox.getresponse.models import State
from reconcile.sandbox.getresponse.paging import Page
from reconcile.sandbox.getresponse.views import View, _campaign_ref, _f

SEARCHED = View(
    "contactId",
    (
        _f("contactId", "c.cid"),
        _f("href", ":base || '/contacts/' || c.cid"),
        _f("name", "c.name"),
        _f("email", "c.email"),
        _f("origin", "c.origin"),
        _f("dayOfCycle", "CAST(c.day_of_cycle AS TEXT)"),
        _f("createdOn", "c.created_on"),
        _f("campaign", _campaign_ref("k")),
        _f("score", "CAST(CAST(c.scoring AS INTEGER) AS TEXT)"),
    ),
)
REMOVED = View(
    "email",
    (
        _f("email", "r.email_key"),
        _f("campaign", _campaign_ref("k")),
        _f(
            "reason",
            "CASE r.reason WHEN 'unsubscribed' THEN 'unsubscribe' WHEN 'invalid_email' "
            "THEN 'bounce' ELSE r.reason END",
        ),
        _f("deletedOn", "r.removed_on"),
    ),
)
SORTS = {"name": "c.name_key", "email": "c.email_key", "createdOn": "c.created_on"}
REMOVED_SORTS = {"email": "r.email_key", "createdOn": "r.removed_on"}
STRING_OPERATORS = ("is", "is_not", "contains", "not_contains", "starts", "ends",
                    "not_starts", "not_ends")  # fmt: skip
SUBSCRIBERS = ("subscribed", "undelivered", "removed", "unconfirmed")


def _choice(value: Any, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise invalid(field, f"Allowed values: {', '.join(allowed)}", value)
    return str(value)


def _text_condition(column: str, operator: str, value: str, q: queries.Query) -> str:
    name = f"s{len(q.params)}"
    q.params[name] = value.lower()
    positive = {
        "is": f"{column} = :{name}",
        "contains": f"instr({column}, :{name}) > 0",
        "starts": f"substr({column}, 1, length(:{name})) = :{name}",
        "ends": f"substr({column}, -length(:{name})) = :{name}",
    }
    base = operator.removeprefix("not_").removesuffix("_not")
    clause = positive[base]
    return f"NOT coalesce({clause}, 0)" if operator != base else f"coalesce({clause}, 0)"


class Search:
    def __init__(self, state: State) -> None:
        self.s = state

    def _campaigns(self, ids: Any, field: str) -> list[int]:
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise invalid(field, "A non-empty array of campaign ids is required", ids)
        numbers = []
        for i, cid in enumerate(ids):
            number = decode_id("campaign", cid) or -1
            row = self.s.conn.execute(
                "SELECT 1 FROM campaigns WHERE id = ? AND deleted = 0", (number,)
            ).fetchone()
            if row is None:
                raise related_missing(f"{field}[{i}]", cid)
            numbers.append(number)
        return numbers

    def _condition(self, item: Any, field: str, q: queries.Query, removed: bool) -> str:
        if not isinstance(item, dict):
            raise invalid(field, "A condition object is required", item)
        kind = item.get("conditionType")
        if kind == "tag":
            _choice(item.get("operatorType"), ("exists",), f"{field}.operatorType")
            operator = _choice(item.get("operator"), ("exists", "not_exists"), f"{field}.operator")
            tag = decode_id("tag", str(item.get("value") or "")) or -1
            if removed:
                return "0" if operator == "exists" else "1"
            name = f"s{len(q.params)}"
            q.params[name] = tag
            exists = (
                "EXISTS (SELECT 1 FROM contact_tags ct"
                f" WHERE ct.contact = c.id AND ct.tag = :{name})"
            )
            return exists if operator == "exists" else f"NOT {exists}"
        if kind in ("email", "name"):
            _choice(item.get("operatorType"), ("string_operator",), f"{field}.operatorType")
            operator = _choice(item.get("operator"), STRING_OPERATORS, f"{field}.operator")
            value = item.get("value")
            if not isinstance(value, str):
                raise invalid(f"{field}.value", "A string is required", value)
            if kind == "name" and removed:
                return "0"
            column = (
                "r.email_key" if removed else ("c.email_key" if kind == "email" else "c.name_key")
            )
            return _text_condition(column, operator, value, q)
        raise invalid(
            f"{field}.conditionType",
            "The sandbox emulates the tag, email and name conditions only",
            kind,
        )

    def _sections(self, body: dict[str, Any], q: queries.Query, removed: bool) -> str:
        joiner = _choice(body.get("sectionLogicOperator"), ("or", "and"), "sectionLogicOperator")
        sections = body.get("section")
        if not isinstance(sections, list) or not sections or len(sections) > 8:
            raise invalid("section", "Between 1 and 8 sections are required", sections)
        parts = []
        for n, section in enumerate(sections):
            field = f"section[{n}]"
            if not isinstance(section, dict):
                raise invalid(field, "A section object is required", section)
            campaigns = self._campaigns(section.get("campaignIdsList"), f"{field}.campaignIdsList")
            logic = _choice(section.get("logicOperator"), ("and", "or"), f"{field}.logicOperator")
            _choice(section.get("subscriptionDate"), ("all_time",), f"{field}.subscriptionDate")
            conditions = section.get("conditions") or []
            if not isinstance(conditions, list) or len(conditions) > 8:
                raise invalid(f"{field}.conditions", "At most 8 conditions", conditions)
            alias = "r" if removed else "c"
            clauses = [
                self._condition(c, f"{field}.conditions[{i}]", q, removed)
                for i, c in enumerate(conditions)
            ]
            scope = f"{alias}.campaign IN ({', '.join(str(c) for c in campaigns)})"
            inner = f" {logic.upper()} ".join(f"({c})" for c in clauses) or "1"
            parts.append(f"({scope} AND ({inner}))")
        return f" {joiner.upper()} ".join(parts)

    def contacts(self, params: Any, body: Any, base: str) -> Page:
        if not isinstance(body, dict):
            raise invalid("body", "A search object is required", body)
        kinds = body.get("subscribersType")
        if not isinstance(kinds, list) or len(kinds) != 1:
            raise invalid("subscribersType", "Exactly one subscription status is required", kinds)
        kind = _choice(kinds[0], SUBSCRIBERS, "subscribersType[0]")
        removed = kind == "removed"
        sorts = REMOVED_SORTS if removed else SORTS
        unique = "r.rowid" if removed else "c.id"
        query = queries.parse(params, {}, sorts, [(unique, "ASC")], unique)
        query.where.append(self._sections(body, query, removed))
        if kind in ("unconfirmed", "undelivered"):
            query.where.append("0")
        view, source = (
            (REMOVED, "removals r JOIN campaigns k ON k.id = r.campaign")
            if removed
            else (SEARCHED, "contacts c JOIN campaigns k ON k.id = c.campaign")
        )
        return self.s.page(view, source, query, params, base)
