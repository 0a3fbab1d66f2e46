"""FetchXML: read a query (a dynamic marketing list's ``query``), page it, and spot the
conditions that depend on who runs it.

Why it matters here: dynamic marketing lists store their member query as FetchXML, and the
connector evaluates it as its *service user*. A condition such as "Owner equals current
user" (``operator="eq-userid"``) then selects the service user's contacts, not the list
author's — SPEC 4.6 asks us to warn about such lists.

Paging follows the documented cookie protocol: the response's
``@Microsoft.Dynamics.CRM.fetchxmlpagingcookie`` is ``<cookie pagenumber="2"
pagingcookie="…" />`` whose ``pagingcookie`` attribute is URL-encoded twice; the next
request sets ``page`` and ``paging-cookie`` on the ``<fetch>`` element.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import unquote

from reconcile.errors import InputError, Problem

# Operators whose result depends on the identity that runs the query.
CURRENT_USER_OPERATORS = frozenset(
    {
        "eq-userid",
        "ne-userid",
        "eq-userteams",
        "eq-useroruserteams",
        "eq-useroruserhierarchy",
        "eq-useroruserhierarchyandteams",
        "eq-businessid",
        "ne-businessid",
        "eq-userlanguage",
    }
)


def parse(fetch_xml: str, *, source: str = "FetchXML") -> ET.Element:
    """Parse a FetchXML document; :class:`InputError` naming ``source`` when it is not one."""
    if re.search(r"<!(DOCTYPE|ENTITY)", fetch_xml or "", re.IGNORECASE):
        raise InputError(Problem(f"{source}: a DOCTYPE or ENTITY is not allowed in FetchXML"))
    try:
        root = ET.fromstring(fetch_xml)  # noqa: S314 - no DTD, see above
    except ET.ParseError as exc:
        raise InputError(Problem(f"{source}: not valid XML ({exc})")) from None
    if root.tag != "fetch" or root.find("entity") is None:
        raise InputError(Problem(f"{source}: expected <fetch><entity name=…>…</entity></fetch>"))
    return root


@dataclass(frozen=True)
class CurrentUserCondition:
    """One condition that depends on the running identity."""

    entity: str  # the entity or link-entity the condition is on
    attribute: str
    operator: str

    def __str__(self) -> str:
        return f"{self.entity}.{self.attribute} {self.operator}"


def current_user_conditions(
    fetch_xml: str, *, source: str = "FetchXML"
) -> list[CurrentUserCondition]:
    """Every condition whose result depends on who runs the query (SPEC 4.6)."""
    root = parse(fetch_xml, source=source)
    found: list[CurrentUserCondition] = []

    def walk(node: ET.Element, entity: str) -> None:
        for child in node:
            if child.tag in ("entity", "link-entity"):
                walk(child, child.get("alias") or child.get("name") or entity)
            elif child.tag == "condition":
                operator = (child.get("operator") or "").lower()
                if operator in CURRENT_USER_OPERATORS:
                    found.append(CurrentUserCondition(entity, child.get("attribute", ""), operator))
            else:
                walk(child, entity)

    walk(root, "")
    return found


def with_attributes(fetch_xml: str, attributes: list[str], *, source: str = "FetchXML") -> str:
    """The same query also returning ``attributes`` of its root entity (a list's query
    often selects only what its author looked at; the sync needs id and email)."""
    root = parse(fetch_xml, source=source)
    entity = root.find("entity")
    assert entity is not None
    if entity.find("all-attributes") is None:
        present = {a.get("name") for a in entity.findall("attribute")}
        for name in attributes:
            if name not in present:
                entity.insert(0, ET.Element("attribute", name=name))
    return ET.tostring(root, encoding="unicode")


def with_paging(fetch_xml: str, *, page: int, count: int, cookie: str | None = None) -> str:
    """The same query asking for page ``page`` of ``count`` rows (after ``cookie``)."""
    root = parse(fetch_xml)
    if root.get("aggregate", "").lower() == "true":
        raise InputError(Problem("FetchXML: aggregate queries cannot be paged"))
    root.set("page", str(page))
    root.set("count", str(count))
    if cookie:
        root.set("paging-cookie", cookie)
    elif "paging-cookie" in root.attrib:
        del root.attrib["paging-cookie"]
    return ET.tostring(root, encoding="unicode")


def parse_paging_cookie(annotation: str | None) -> str | None:
    """The cookie to send with the next page, from the response annotation, or None.

    Only the ``pagingcookie`` attribute is used (decoded twice): the documented protocol
    increments ``page`` on the client, and the annotation's ``pagenumber`` is not reliable
    (the docs' own second response still says ``pagenumber="2"``).
    """
    if not annotation or "<!" in annotation:
        return None
    try:
        node = ET.fromstring(annotation)  # noqa: S314 - no DTD (checked above)
    except ET.ParseError:
        return None
    raw = node.get("pagingcookie")
    return unquote(unquote(raw)) if raw else None


def simple_fetch(
    entity: str, attributes: list[str], *, conditions: list[tuple[str, str, str]] | None = None
) -> str:
    """A small FetchXML document (used for tests and for ad-hoc reads)."""
    root = ET.Element("fetch")
    node = ET.SubElement(root, "entity", name=entity)
    for attribute in attributes:
        ET.SubElement(node, "attribute", name=attribute)
    if conditions:
        where = ET.SubElement(node, "filter", type="and")
        for attribute, operator, value in conditions:
            ET.SubElement(where, "condition", attribute=attribute, operator=operator, value=value)
    return ET.tostring(root, encoding="unicode")
