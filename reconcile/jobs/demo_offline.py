"""``reconcile demo --offline``: the whole offline Excel round-trip on generated sample data, in
one folder (``reconcile demo`` itself runs the migration over both sandboxes: ``demo.py``).

1. Realistic Dynamics exports of both sides from the seeded sample generator (French and
   international names, shared mailboxes, typos, namesakes, unusable addresses…):
   ``exports/Active GetResponse contacts.xlsx`` and ``exports/My Active Contacts.xlsx``.
2. ``match`` → ``review.xlsx`` (review rows are left for a person, as in real life).
3. ``build-import`` → ``import/`` (files 1 and 2).
4. What Dynamics would do when file 1 is imported — every new row becomes a contact with a
   fresh GUID — is *simulated* from the file itself, giving the export an admin takes next:
   ``exports/My Active Contacts (after import).xlsx``.
5. ``build-import --crm-export`` → ``import-after/`` (file 3).

The generator knows the truth, so the demo also reports how many proposed links are right.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from reconcile import model
from reconcile.jobs.roundtrip import BuildResult, MatchSummary, build_import, match_files
from reconcile.model import Decision
from reconcile.progress import SILENT, Progress
from reconcile.sample.contacts import BENCH_MIX, HARD_MIX, pairs
from reconcile.workbooks import dynamics, tables
from reconcile.workbooks.columns import CONTACT_LOOKUP
from reconcile.workbooks.safety import formula_cells
from reconcile.workbooks.validate import read_review

# Half a real migration (mostly identical mailboxes), half the traps: every hard case shows up
# a few dozen times in a few thousand rows.
DEMO_MIX = {k: (BENCH_MIX[k] + HARD_MIX[k]) / 2 for k in BENCH_MIX}


@dataclass
class OfflineDemoResult:
    out_dir: str
    exports: list[str]
    match: MatchSummary
    first_pass: BuildResult
    second_pass: BuildResult
    links_checked: int = 0
    links_wrong: int = 0
    new_wrong: int = 0
    formula_cells: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["match"] = self.match.as_dict()
        out["first_pass"] = self.first_pass.as_dict()
        out["second_pass"] = self.second_pass.as_dict()
        return out


def _crm_frame(crm: pd.DataFrame) -> pd.DataFrame:
    full = (
        crm[model.CRM_FIRST_NAME].fillna("") + " " + crm[model.CRM_LAST_NAME].fillna("")
    ).str.strip()
    return crm.assign(**{model.CRM_NAME: full})


def simulate_contact_import(files: list[Path], crm: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The Contacts table after Dynamics imported ``files``: one new GUID per imported row.

    The rows are read back from the written import workbooks, so the demo also proves that
    those files hold what the wizard needs under the headers it maps.
    """
    created = []
    for path in files:
        book = tables.open_workbook(path)
        table = tables.read_sheet(path, book, tables.visible_sheets(book)[0])
        frame = pd.DataFrame(table.rows, columns=[str(h) for h in table.header], dtype=object)
        created.append(frame)
    if not created:
        return crm
    new = pd.concat(created, ignore_index=True)
    new = pd.DataFrame(
        {
            model.CRM_CONTACT_ID: [
                dynamics.new_guid(f"demo-{seed}", str(i)) for i in range(len(new))
            ],
            model.CRM_FIRST_NAME: new.iloc[:, 0].astype(str),
            model.CRM_LAST_NAME: new.iloc[:, 1].astype(str),
            model.CRM_EMAIL: new.iloc[:, 2].astype(str),
        }
    )
    return pd.concat([crm, _crm_frame(new)], ignore_index=True)


def _score(review_path: Path, truth: pd.DataFrame) -> tuple[int, int, int]:
    """(links proposed, links to a wrong contact, new rows that had a CRM contact)."""
    review = read_review(review_path).rows[
        [model.GR_CONTACT_ID, model.DECISION, model.CRM_CONTACT_ID]
    ]
    merged = review.merge(truth, on=model.GR_CONTACT_ID, how="left")
    link = merged[model.DECISION] == Decision.LINK
    right = [
        cid in ids.split("|")
        for cid, ids in zip(
            merged.loc[link, model.CRM_CONTACT_ID], merged.loc[link, "crm_contact_ids"], strict=True
        )
    ]
    new = merged[model.DECISION] == Decision.NEW
    return (
        int(link.sum()),
        right.count(False),
        int((merged.loc[new, "crm_contact_ids"] != "").sum()),
    )


def run_offline_demo(
    out_dir: str | Path, rows: int = 3000, seed: int = 7, progress: Progress = SILENT
) -> OfflineDemoResult:
    """Run the whole round-trip on sample data into ``out_dir`` (see the module docstring)."""
    out = Path(out_dir)
    exports = out / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    with progress.task("Generating sample exports", total=None):
        gr, crm, truth = pairs(rows, int(rows * 1.4) + 50, seed=seed, mix=DEMO_MIX)
        crm = _crm_frame(crm)
        # Not linked yet: the view shows an empty Contact lookup, which the re-import fills.
        gr = gr.assign(**{CONTACT_LOOKUP: ""})
        gr_path = dynamics.write_export(
            gr, exports / "Active GetResponse contacts.xlsx", dynamics.GETRESPONSE_CONTACT
        )
        crm_path = dynamics.write_export(crm, exports / "My Active Contacts.xlsx", dynamics.CONTACT)
    review = out / "review.xlsx"
    summary = match_files(gr_path, crm_path, review, progress=progress, force=True)
    first = build_import(review, out / "import", progress=progress)
    contact_files = [f.path for f in first.files if f.kind == "contacts import"]
    after = simulate_contact_import(contact_files, crm, seed)
    after_path = dynamics.write_export(
        after, exports / "My Active Contacts (after import).xlsx", dynamics.CONTACT
    )
    second = build_import(review, out / "import-after", crm_export=after_path, progress=progress)
    links, wrong, new_wrong = _score(review, truth)
    written = [gr_path, crm_path, after_path, review, *(f.path for f in first.files + second.files)]
    unsafe = [f"{p.name}: {part}" for p in written for part in formula_cells(p)]
    return OfflineDemoResult(
        out_dir=str(out),
        exports=[str(gr_path), str(crm_path), str(after_path)],
        match=summary,
        first_pass=first,
        second_pass=second,
        links_checked=links,
        links_wrong=wrong,
        new_wrong=new_wrong,
        formula_cells=unsafe,
    )
