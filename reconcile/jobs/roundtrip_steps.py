"""The admin's next steps after ``build-import``, in the order the files must be imported.

Written to ``IMPORT-STEPS.txt`` next to the files and printed by the CLI, so that what the
admin reads always matches what was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reconcile.workbooks.imports import CONTACTS_KIND, ImportFile

STEPS_FILE = "IMPORT-STEPS.txt"

# The steps in each language the exports' headers can be in (reconcile.workbooks.columns): an
# admin whose Dynamics shows French menus reads French menu names. Placeholders: {contacts},
# {links} (file names), {review} (the review workbook).
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "contacts": "Dynamics > Contacts > Import from Excel: import {contacts} (one import per "
        "file). First Name, Last Name and Email map by themselves; leave 'Allow Duplicates' at "
        "No; Finish Import. Wait until the import shows Completed (Settings > Data Management > "
        "Imports).",
        "links": "Dynamics > GetResponse Contacts > Import from Excel: import {links}. On "
        "Review Mapping, open the Lookup Reference of 'Contact' and keep only the Contact "
        "table's own id field ('Contact'), not 'Full Name': the column holds contact GUIDs, "
        "which resolve to exactly one contact (a full name may match several). Finish Import. "
        "Rows whose record changed since the export fail with 'the record was updated … after "
        "it was exported': export 'Active GetResponse contacts' again and re-run build-import "
        "with --gr-export <that export>.",
        "second": "When the contacts import has completed: Contacts > My Active Contacts > "
        "Export to Excel (several files if over 100,000 contacts; put them in one folder), then "
        'run\n   reconcile build-import "{review}" -o import-after --crm-export <export file or '
        "folder>\n   which links each new contact and writes "
        "3-getresponse-contacts-link-new.xlsx; import it into GetResponse Contacts as in the "
        "step above.",
        "sync": "Within the hour the connector's run synchronizes the linked records: their "
        "status becomes Synchronized (GetResponse Contacts > Active GetResponse contacts).",
        "nothing": "Nothing to import: no row has a decision that needs a file.",
    },
    "fr": {
        "contacts": "Dynamics > Contacts > Importer à partir d'Excel : importez {contacts} (une "
        "importation par fichier). Prénom, Nom et Adresse e-mail se mappent d'eux-mêmes ; "
        "laissez « Autoriser les doublons » à Non ; Terminer l'importation. Attendez que "
        "l'importation soit Terminée (Paramètres > Gestion des données > Importations).",
        "links": "Dynamics > GetResponse Contacts > Importer à partir d'Excel : importez "
        "{links}. À l'étape de vérification du mappage, ouvrez la référence de recherche de "
        "« Contact » et ne gardez que le champ d'identifiant de la table Contact (« Contact »), "
        "pas « Nom complet » : la colonne contient des GUID de contacts, qui désignent chacun "
        "un seul contact (un nom complet peut en désigner plusieurs). Terminer l'importation. "
        "Les lignes dont l'enregistrement a changé depuis l'export échouent (« the record was "
        "updated … after it was exported ») : exportez de nouveau « Contacts GetResponse "
        "actifs » et relancez build-import avec --gr-export <cet export>.",
        "second": "Quand l'importation des contacts est terminée : Contacts > Mes contacts "
        "actifs > Exporter vers Excel (plusieurs fichiers au-delà de 100 000 contacts ; mettez-"
        'les dans un même dossier), puis lancez\n   reconcile build-import "{review}" -o '
        "import-after --crm-export <fichier ou dossier exporté>\n   qui relie chaque nouveau "
        "contact et écrit 3-getresponse-contacts-link-new.xlsx ; importez-le dans GetResponse "
        "Contacts comme à l'étape précédente.",
        "sync": "Dans l'heure, la synchronisation du connecteur traite les enregistrements "
        "reliés : leur statut devient Synchronisé (GetResponse Contacts > Contacts GetResponse "
        "actifs).",
        "nothing": "Rien à importer : aucune ligne n'a une décision qui demande un fichier.",
    },
}


def _names(files: Sequence[ImportFile]) -> str:
    return ", ".join(Path(f.path).name for f in files)


def import_steps(
    files: Sequence[ImportFile],
    decisions: dict[str, int],
    review_path: str | Path,
    second_pass: bool,
    language: str = "en",
) -> list[str]:
    """Numbered steps for the files just written (no step for a file that was not needed), in
    ``language`` ("en" or "fr": the language of the exports' headers)."""
    text = TEXTS.get(language, TEXTS["en"])
    contacts = [f for f in files if f.kind == CONTACTS_KIND]
    links = [f for f in files if f.kind != CONTACTS_KIND]
    steps: list[str] = []

    def step(key: str) -> None:
        body = text[key].format(contacts=_names(contacts), links=_names(links), review=review_path)
        steps.append(f"{len(steps) + 1}. {body}")

    if contacts:
        step("contacts")
    if links:
        step("links")
    if decisions.get("new", 0) and not second_pass:
        step("second")
    step("sync" if files else "nothing")
    return steps
