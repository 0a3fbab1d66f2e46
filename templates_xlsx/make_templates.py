"""Generate the import templates in this folder from the code that writes the real files.

    python templates_xlsx/make_templates.py          # rewrite the templates
    python templates_xlsx/make_templates.py --check  # exit 1 if a template is out of date

The templates are what ``reconcile build-import`` writes, with no rows: the Contacts import
(the contact table's display names, so that the Import Data Wizard maps every column by itself)
and the GetResponse Contacts re-import (hidden ``(Do Not Modify)`` id, row checksum and
modified-on, then Name, Email and Contact, the lookup that receives the CRM contact's GUID),
each in English and French. An admin who prefers to fill a file by hand starts from these;
docs/workbooks.md says how each column is used.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from reconcile.workbooks import imports, tables  # noqa: E402
from reconcile.workbooks.dynamics import ExportColumn, write_workbook  # noqa: E402

NAMES = {
    ("contacts", "en"): "contacts-import-template.xlsx",
    ("contacts", "fr"): "contacts-import-template.fr.xlsx",
    ("link", "en"): "getresponse-contacts-link-template.xlsx",
    ("link", "fr"): "getresponse-contacts-link-template.fr.xlsx",
}


def _columns(kind: str, language: str) -> tuple[list[ExportColumn], imports.Layout]:
    if kind == "contacts":
        layout = imports.contacts_layout("contacts")
        headers = imports.cols.contact_import_headers(language)
        return [ExportColumn(h, "", []) for h in headers], layout
    export = imports.GrExport({}, language, None, None)
    # A template has no export behind it: keep Name and Email, which an export always has.
    export.headers.update(
        {
            "name": imports.cols.display_name("gr", "name", language),
            "email": imports.cols.display_name("gr", "email", language),
        }
    )
    layout = imports.link_layout("link", export)
    return [ExportColumn(h, lg, []) for _, h, lg in imports._link_headers(export)], layout


def write_all(folder: Path) -> list[Path]:
    paths = []
    for (kind, language), name in NAMES.items():
        columns, layout = _columns(kind, language)
        paths.append(
            write_workbook(
                folder / name,
                layout.sheet,
                columns,
                layout.metadata,
                hidden_columns=layout.hidden_columns,
            )
        )
    return paths


def describe(path: Path) -> tuple[list[str], list[object]]:
    """What a template must keep: its sheets and its header row."""
    book = tables.open_workbook(path)
    sheet = tables.visible_sheets(book)[0]
    return book.sheet_names, tables.read_sheet(path, book, sheet).header


def main() -> int:
    if "--check" not in sys.argv:
        for path in write_all(HERE):
            print(f"wrote {path.relative_to(HERE.parent)}")
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        fresh = {p.name: describe(p) for p in write_all(Path(scratch))}
    stale = [n for n, d in fresh.items() if not (HERE / n).exists() or describe(HERE / n) != d]
    for name in stale:
        print(f"out of date: templates_xlsx/{name} (run python templates_xlsx/make_templates.py)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
