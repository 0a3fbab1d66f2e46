"""The admin's next steps after ``build-import``, in the order the files must be imported.

Written to ``IMPORT-STEPS.txt`` next to the files and printed by the CLI, so that what the
admin reads always matches what was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reconcile.workbooks.imports import CONTACTS_KIND, ImportFile

STEPS_FILE = "IMPORT-STEPS.txt"
LOOKUP_ADVICE = (
    "On Review Mapping, open the Lookup Reference of 'Contact' and keep only the Contact "
    "table's own id field ('Contact'), not 'Full Name': the column holds contact GUIDs, which "
    "resolve to exactly one contact (a full name may match several)."
)


def _names(files: Sequence[ImportFile]) -> str:
    return ", ".join(Path(f.path).name for f in files)


def import_steps(
    files: Sequence[ImportFile],
    decisions: dict[str, int],
    review_path: str | Path,
    second_pass: bool,
) -> list[str]:
    """Numbered steps for the files just written (no step for a file that was not needed)."""
    contacts = [f for f in files if f.kind == CONTACTS_KIND]
    links = [f for f in files if f.kind != CONTACTS_KIND]
    steps: list[str] = []

    def step(text: str) -> None:
        steps.append(f"{len(steps) + 1}. {text}")

    if contacts:
        step(
            f"Dynamics > Contacts > Import from Excel: import {_names(contacts)} (one import "
            "per file). First Name, Last Name and Email map by themselves; leave 'Allow "
            "Duplicates' at No; Finish Import. Wait until the import shows Completed "
            "(Settings > Data Management > Imports)."
        )
    if links:
        step(
            f"Dynamics > GetResponse Contacts > Import from Excel: import {_names(links)}. "
            f"{LOOKUP_ADVICE} Finish Import. Rows whose record changed since the export fail "
            "with 'the record was updated … after it was exported': export 'Active GetResponse "
            "contacts' again and re-run build-import with --gr-export <that export>."
        )
    new = decisions.get("new", 0)
    if new and not second_pass:
        step(
            "When the contacts import has completed: Contacts > My Active Contacts > Export to "
            "Excel (several files if over 100,000 contacts; put them in one folder), then run\n"
            f'   reconcile build-import "{review_path}" -o import-after '
            "--crm-export <export file or folder>\n"
            "   which links each new contact and writes 3-getresponse-contacts-link-new.xlsx; "
            "import it into GetResponse Contacts as in the step above."
        )
    if files:
        step(
            "Within the hour the connector's run synchronizes the linked records: their "
            "status becomes Synchronized (GetResponse Contacts > Active GetResponse contacts)."
        )
    else:
        step("Nothing to import: no row has a decision that needs a file.")
    return steps
