"""The one place that maps workbook headers to canonical columns, and back.

Dynamics "Export to Excel" writes each column under its *display name*, in the language of the
user who exported: "First Name" / "Prénom". Headers are matched case-, accent- and
space-insensitively, so that "first name", "FIRST  NAME" and "Prenom" are found too. The same
display name can mean different columns on the two sides — in French, "Nom" is the
GetResponse contact's full *Name* but the CRM contact's *Last Name* — so every lookup is per side.

The hidden columns A–C of an export are ``(Do Not Modify) <Table>``, ``(Do Not Modify) Row
Checksum`` and ``(Do Not Modify) Modified On``; French exports say ``(Ne pas modifier)``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from reconcile import model

Side = Literal["gr", "crm"]
Language = Literal["en", "fr"]

# Prefixes Dynamics puts in front of the hidden id / checksum / modified-on columns.
DO_NOT_MODIFY = {"en": "(Do Not Modify)", "fr": "(Ne pas modifier)"}
_DO_NOT_MODIFY_RE = re.compile(r"^\s*\(\s*(do not modify|ne pas modifier)\s*\)\s*(.*)$", re.I)


@dataclass(frozen=True)
class Column:
    """A canonical column and the headers it is known by, per language."""

    canonical: str
    en: tuple[str, ...]
    fr: tuple[str, ...] = ()

    def display(self, language: Language = "en") -> str:
        names = self.fr if language == "fr" and self.fr else self.en
        return names[0]


CONTACT_LOOKUP = "contact_lookup"

# --- GetResponse Contacts table (the connector's "GetResponse Contact" records) ---------------
GR_COLUMNS: tuple[Column, ...] = (
    Column(
        model.GR_CONTACT_ID,
        ("(Do Not Modify) GetResponse Contact", "GetResponse Contact ID", "GetResponse Contact Id"),
        (
            "(Ne pas modifier) GetResponse Contact",
            "(Ne pas modifier) Contact GetResponse",
            "ID du contact GetResponse",
            "ID de contact GetResponse",
        ),
    ),
    Column(model.NAME, ("Name", "Full Name"), ("Nom", "Nom complet")),
    Column(model.FIRST_NAME, ("First Name",), ("Prénom",)),
    Column(model.LAST_NAME, ("Last Name",), ("Nom de famille",)),
    # The connector's own table keeps "Email" in French too (the help article's French steps
    # copy "la colonne Email" of the GetResponse contacts file).
    Column(
        model.EMAIL, ("Email", "E-mail", "Email Address"), ("Email", "Adresse e-mail", "E-mail")
    ),
    # The lookup the re-import fills with the GetResponse contact's CRM contact. An export
    # shows the contact's full name there; it is read only to keep its header for the re-import.
    Column(CONTACT_LOOKUP, ("Contact",), ("Contact",)),
)

# --- CRM Contacts table ("My active contacts") --------------------------------------------------
CRM_COLUMNS: tuple[Column, ...] = (
    Column(
        model.CRM_CONTACT_ID,
        ("(Do Not Modify) Contact", "Contact ID", "Contact Id"),
        ("(Ne pas modifier) Contact", "ID du contact", "ID de contact"),
    ),
    Column(model.CRM_FIRST_NAME, ("First Name",), ("Prénom",)),
    Column(model.CRM_LAST_NAME, ("Last Name",), ("Nom", "Nom de famille")),
    Column(model.CRM_NAME, ("Full Name",), ("Nom complet",)),
    Column(
        model.CRM_EMAIL,
        ("Email", "E-mail", "Email Address", "Email Address 1"),
        ("Adresse e-mail", "E-mail", "Courrier électronique"),
    ),
)

# Hidden export columns B and C (column A is the record id, mapped above).
ROW_CHECKSUM = Column(
    model.ROW_CHECKSUM,
    ("(Do Not Modify) Row Checksum",),
    ("(Ne pas modifier) Somme de contrôle de ligne", "(Ne pas modifier) Somme de contrôle"),
)
MODIFIED_ON = Column(
    model.MODIFIED_ON,
    ("(Do Not Modify) Modified On",),
    ("(Ne pas modifier) Date de modification", "(Ne pas modifier) Modifié le"),
)

# What each side needs at least; ``None`` entries are alternatives (see ``missing``).
REQUIRED = {
    "gr": ((model.NAME,), (model.FIRST_NAME, model.LAST_NAME)),
    "crm": ((model.CRM_FIRST_NAME, model.CRM_LAST_NAME, model.CRM_EMAIL),),
}
REQUIRED_ALWAYS = {"gr": (model.EMAIL,), "crm": ()}


def fold(header: object) -> str:
    """Case-, accent- and whitespace-insensitive key of a header text."""
    text = unicodedata.normalize("NFKD", str(header or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.replace("\u00a0", " ").split()).casefold()


def columns_for(side: Side) -> tuple[Column, ...]:
    return GR_COLUMNS if side == "gr" else CRM_COLUMNS


def _lookup(side: Side) -> dict[str, tuple[str, Language]]:
    table: dict[str, tuple[str, Language]] = {}
    for column in (*columns_for(side), ROW_CHECKSUM, MODIFIED_ON):
        for language in ("en", "fr"):
            for name in getattr(column, language):
                table.setdefault(fold(name), (column.canonical, language))
    return table


_LOOKUPS = {"gr": _lookup("gr"), "crm": _lookup("crm")}


@dataclass(frozen=True)
class HeaderMap:
    """Where each canonical column sits in one sheet's header row."""

    positions: Mapping[str, int]  # canonical -> 0-based column index
    headers: Mapping[str, str]  # canonical -> header text as written in the file
    language: Language
    duplicates: tuple[tuple[str, str], ...] = ()  # (canonical, header) seen more than once

    def missing(self, side: Side) -> list[str]:
        """Display names of the required columns that are absent (empty if all present)."""
        absent = [c for c in REQUIRED_ALWAYS[side] if c not in self.positions]
        alternatives = REQUIRED[side]
        if not any(all(c in self.positions for c in option) for option in alternatives):
            best = min(alternatives, key=lambda o: sum(c not in self.positions for c in o))
            absent = [c for c in best if c not in self.positions] + absent
        return [display_name(side, c, self.language) for c in absent]


def map_headers(side: Side, header_row: Iterable[object]) -> HeaderMap:
    """Find the canonical columns in a header row (first occurrence wins).

    An export's first ``(Do Not Modify)`` column is its record id whatever the table's name
    is called in the user's language; the next two are the row checksum and modified-on.
    """
    lookup = _LOOKUPS[side]
    id_column = model.GR_CONTACT_ID if side == "gr" else model.CRM_CONTACT_ID
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    duplicates: list[tuple[str, str]] = []
    votes = {"en": 0, "fr": 0}
    hidden_seen = 0
    for index, raw in enumerate(header_row):
        text = "" if raw is None else str(raw).strip()
        if not text:
            continue
        found = lookup.get(fold(text))
        hidden = _DO_NOT_MODIFY_RE.match(text)
        if hidden:
            votes["en" if hidden.group(1).lower().startswith("do") else "fr"] += 1
            if found is None:
                found = (
                    (id_column, "en"),
                    (model.ROW_CHECKSUM, "en"),
                    (model.MODIFIED_ON, "en"),
                )[min(hidden_seen, 2)]
            hidden_seen += 1
        if found is None:
            continue
        canonical, voted = found
        if not hidden and fold(text) not in _SHARED_NAMES:
            votes[voted] += 1
        if canonical in positions:
            duplicates.append((canonical, text))
            continue
        positions[canonical] = index
        headers[canonical] = text
    language: Language = "fr" if votes["fr"] > votes["en"] else "en"
    return HeaderMap(positions, headers, language, tuple(duplicates))


# Headers spelled the same in both languages say nothing about the language.
_SHARED_NAMES = {
    fold(n) for c in (*GR_COLUMNS, *CRM_COLUMNS) for n in c.en if fold(n) in {fold(f) for f in c.fr}
}


def display_name(side: Side, canonical: str, language: Language = "en") -> str:
    """The header Dynamics shows for a canonical column, in English or French."""
    for column in (*columns_for(side), ROW_CHECKSUM, MODIFIED_ON):
        if column.canonical == canonical:
            return column.display(language)
    raise KeyError(f"no display name for {canonical!r} on side {side!r}")


# --- Our own workbooks ----------------------------------------------------------------------------
# The Review sheet (English headers: it is our format, documented in docs/workbooks.md).
REVIEW_HEADERS: dict[str, str] = {
    model.GR_CONTACT_ID: "GetResponse Contact",
    model.EMAIL: "Email",
    model.NAME: "Name",
    model.FIRST_NAME: "First Name",
    model.LAST_NAME: "Last Name",
    model.DECISION: "Decision",
    model.CRM_CONTACT_ID: "CRM Contact",
    model.CRM_NAME: "CRM Name",
    model.CRM_EMAIL: "CRM Email",
    model.SCORE: "Score",
    model.REASON: "Reason",
    model.CANDIDATES: "Candidates",
    "name_review_reason": "Name Check",
}
# The Contacts import workbook: exactly the contact table's display names, so that the
# Import Data Wizard maps every column by itself.
CONTACT_IMPORT = (model.CRM_FIRST_NAME, model.CRM_LAST_NAME, model.CRM_EMAIL)


def contact_import_headers(language: Language = "en") -> list[str]:
    return [display_name("crm", c, language) for c in CONTACT_IMPORT]


def hidden_header(
    kind: Literal["id", "checksum", "modified"], table: str, language: Language
) -> str:
    """Header of a hidden export column: ``(Do Not Modify) <Table>`` and its two siblings."""
    if kind == "id":
        return f"{DO_NOT_MODIFY[language]} {table}"
    column = ROW_CHECKSUM if kind == "checksum" else MODIFIED_ON
    return column.display(language)
