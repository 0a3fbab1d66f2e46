"""Small, hand-built inputs for the workbook tests: exports, CSV variants, broken files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd

from reconcile.workbooks import dynamics

GR_IDS = [dynamics.new_guid("test-gr", str(i)) for i in range(6)]
CRM_IDS = [dynamics.new_guid("test-crm", str(i)) for i in range(6)]


def gr_frame() -> pd.DataFrame:
    """Six GetResponse contacts, including the awkward ones."""
    return pd.DataFrame(
        {
            "gr_contact_id": GR_IDS,
            "name": [
                "Jean Dupont",
                "Marie-Claire de la Fontaine",
                '=HYPERLINK("http://evil.example","x")',
                "Zoë Nguyễn",
                "Jean Dupont",
                "Ahmed Ben Ali",
            ],
            "email": [
                "jean.dupont@example.fr",
                "mc.delafontaine@example.fr",
                "+33612345678@example.fr",
                "zoe.nguyen@example.com",
                "jdupont2@example.fr",
                "ahmed.benali@example.fr",
            ],
            "contact_lookup": "",  # the Contact lookup, empty until linked
        }
    )


def crm_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "crm_contact_id": CRM_IDS[:4],
            "crm_first_name": ["Jean", "Marie-Claire", "Zoë", "Jean"],
            "crm_last_name": ["Dupont", "de la Fontaine", "Nguyễn", "Dupont"],
            "crm_name": ["Jean Dupont", "Marie-Claire de la Fontaine", "Zoë Nguyễn", "Jean Dupont"],
            "crm_email": [
                "jean.dupont@example.fr",
                "mc.delafontaine@example.fr",
                "zoe.nguyen@example.com",
                "jean.dupont.pro@example.fr",
            ],
        }
    )


def gr_export(path: Path, language: str = "en", frame: pd.DataFrame | None = None) -> Path:
    return dynamics.write_export(
        gr_frame() if frame is None else frame,
        path,
        dynamics.GETRESPONSE_CONTACT,
        language=language,
    )


def crm_export(path: Path, language: str = "en", frame: pd.DataFrame | None = None) -> Path:
    return dynamics.write_export(
        crm_frame() if frame is None else frame, path, dynamics.CONTACT, language=language
    )


def write_csv(
    path: Path, header: list[str], rows: list[list[str]], *, sep: str = ",", bom: bool = False
) -> Path:
    lines = [sep.join(header)] + [sep.join(r) for r in rows]
    text = "\r\n".join(lines) + "\r\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def encrypted_copy(source: Path, target: Path, password: str = "s3cret") -> Path:  # noqa: S107
    """A real password-protected .xlsx (Agile encryption, as Excel writes it)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    with source.open("rb") as handle:
        OOXMLFile(handle).encrypt(password, out)
    target.write_bytes(out.getvalue())
    return target


def truncated_sheet_copy(source: Path, target: Path) -> Path:
    """The same workbook with its first worksheet's XML cut short (a corrupt part)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            zout.writestr(name, data)
    return target
