"""Header mapping: display names in English and French, per side, found case-insensitively."""

from __future__ import annotations

import pytest

from reconcile import model
from reconcile.workbooks import columns as cols


def test_english_export_headers_map_to_canonical_columns():
    headers = cols.map_headers(
        "gr",
        ["(Do Not Modify) GetResponse Contact", "(Do Not Modify) Row Checksum",
         "(Do Not Modify) Modified On", "Name", "Email", "Contact"],
    )  # fmt: skip
    assert headers.positions == {
        model.GR_CONTACT_ID: 0,
        model.ROW_CHECKSUM: 1,
        model.MODIFIED_ON: 2,
        model.NAME: 3,
        model.EMAIL: 4,
        cols.CONTACT_LOOKUP: 5,
    }
    assert headers.language == "en"
    assert headers.missing("gr") == []


@pytest.mark.parametrize(
    ("header", "canonical"),
    [("first name", model.CRM_FIRST_NAME), ("  FIRST   NAME ", model.CRM_FIRST_NAME),
     ("Prenom", model.CRM_FIRST_NAME), ("PRÉNOM", model.CRM_FIRST_NAME),
     ("e-mail", model.CRM_EMAIL), ("Adresse\u00a0e-mail", model.CRM_EMAIL)],
)  # fmt: skip
def test_headers_are_found_case_accent_and_space_insensitively(header, canonical):
    assert cols.map_headers("crm", [header]).positions == {canonical: 0}


def test_french_nom_is_the_full_name_for_getresponse_but_the_last_name_for_crm():
    assert cols.map_headers("gr", ["Nom"]).positions == {model.NAME: 0}
    assert cols.map_headers("crm", ["Nom"]).positions == {model.CRM_LAST_NAME: 0}


def test_french_crm_export_is_recognised_with_its_hidden_columns():
    headers = cols.map_headers(
        "crm",
        ["(Ne pas modifier) Contact", "(Ne pas modifier) Somme de contrôle de ligne",
         "(Ne pas modifier) Date de modification", "Nom complet", "Prénom", "Nom",
         "Adresse e-mail"],
    )  # fmt: skip
    assert headers.language == "fr"
    assert headers.positions[model.CRM_CONTACT_ID] == 0
    assert headers.positions[model.ROW_CHECKSUM] == 1
    assert headers.positions[model.MODIFIED_ON] == 2
    assert headers.missing("crm") == []


def test_unknown_hidden_columns_are_taken_by_position():
    headers = cols.map_headers(
        "gr",
        ["(Do Not Modify) Contact GR", "(Do Not Modify) X", "(Do Not Modify) Y", "Name", "Email"],
    )
    assert headers.positions[model.GR_CONTACT_ID] == 0
    assert headers.positions[model.ROW_CHECKSUM] == 1
    assert headers.positions[model.MODIFIED_ON] == 2


def test_missing_lists_the_required_columns_in_the_file_language():
    assert cols.map_headers("crm", ["Prénom", "Nom"]).missing("crm") == ["Adresse e-mail"]
    assert cols.map_headers("crm", ["Email"]).missing("crm") == ["First Name", "Last Name"]
    # GetResponse side: Name, or First Name + Last Name; and Email.
    assert cols.map_headers("gr", ["First Name", "Last Name", "Email"]).missing("gr") == []
    assert cols.map_headers("gr", ["First Name", "Email"]).missing("gr") == ["Name"]
    assert cols.map_headers("gr", ["Name"]).missing("gr") == ["Email"]


def test_a_repeated_header_keeps_the_first_column_and_is_reported():
    headers = cols.map_headers("crm", ["Email", "First Name", "Last Name", "email"])
    assert headers.positions[model.CRM_EMAIL] == 0
    assert headers.duplicates == ((model.CRM_EMAIL, "email"),)


def test_contact_import_headers_are_the_contact_display_names():
    assert cols.contact_import_headers("en") == ["First Name", "Last Name", "Email"]
    assert cols.contact_import_headers("fr") == ["Prénom", "Nom", "Adresse e-mail"]
