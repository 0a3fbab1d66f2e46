"""Match every GetResponse contact to CRM contacts: one decision, score and reason per row.

The cascade (docs/matching.md has the numbers):

1. emails normalized on both sides; a row without a usable address is ``invalid``;
2. identical mailbox: equal ``email_key`` (exact address, or the same Gmail/Outlook/... box).
   One CRM contact whose first name fits -> ``link``; several CRM contacts on that address
   (a shared or duplicated mailbox) or a clearly different first name -> ``review``;
3. the rest (typos, other addresses) is compared, through blocking, with the CRM contacts
   not already taken by step 2. A typo with agreeing names and no close runner-up links;
   anything weaker is reviewed with its best candidates, or ``new`` when nothing comes close.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reconcile import model
from reconcile.matching.blocking import candidate_pairs, codes, join_equal
from reconcile.matching.decide import Decisions, decide
from reconcile.matching.options import MatchOptions
from reconcile.matching.prepare import correct_both, prepare_crm, prepare_gr
from reconcile.matching.scoring import EXACT, FUZZY, KEY, Pairs, score_pairs
from reconcile.model import Decision
from reconcile.progress import SILENT, Progress

OUTPUT_COLUMNS = [
    model.GR_CONTACT_ID,
    model.EMAIL,
    model.NAME,
    model.FIRST_NAME,
    model.LAST_NAME,
    model.DECISION,
    model.CRM_CONTACT_ID,
    model.CRM_NAME,
    model.CRM_EMAIL,
    model.SCORE,
    model.REASON,
    model.CANDIDATES,
    "candidate_ids",
]
CANDIDATE_IDS = "candidate_ids"  # fmt: skip


def _concat(a: Pairs, b: Pairs) -> Pairs:
    return Pairs(**{k: np.concatenate([v, getattr(b, k)]) for k, v in vars(a).items()})


def match_contacts(
    gr: pd.DataFrame,
    crm: pd.DataFrame,
    options: MatchOptions = MatchOptions(),  # noqa: B008 - frozen, safe as a default
    progress: Progress = SILENT,
) -> pd.DataFrame:
    """One row per ``gr`` row (same order and index): decision, CRM contact, score, reason.

    ``gr`` needs ``gr_contact_id`` and ``email`` and, for names, ``name`` and/or
    ``first_name``/``last_name``; ``crm`` needs ``crm_contact_id``, ``crm_email`` and
    ``crm_first_name``/``crm_last_name`` (or ``crm_name``). See docs/matching.md.
    """
    for frame, needed, label in (
        (gr, (model.GR_CONTACT_ID, model.EMAIL), "GetResponse contacts"),
        (crm, (model.CRM_CONTACT_ID, model.CRM_EMAIL), "CRM contacts"),
    ):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise ValueError(f"{label} lack the column(s) {', '.join(missing)}")
    with progress.task("Matching contacts", total=4) as task:
        g, c = prepare_gr(gr), prepare_crm(crm)
        correct_both(g, c)
        task.advance()

        # Step 2: identical mailbox on the email key.
        g_valid, c_valid = np.flatnonzero(g.valid), np.flatnonzero(c.valid)
        g_codes, c_codes = codes(g.key[g_valid], c.key[c_valid])
        li, ri = join_equal(g_codes, c_codes)
        gi, ci = g_valid[li], c_valid[ri]
        kind = np.where(g.email_normalized[gi] == c.email_normalized[ci], EXACT, KEY)
        mailbox = score_pairs(g, c, gi, ci, kind.astype(np.int8), options)
        task.advance()

        # Step 3: the residue, against CRM contacts no identical mailbox claimed.
        matched = np.zeros(g.n, dtype=bool)
        matched[gi] = True
        claimed = np.zeros(c.n, dtype=bool)
        claimed[ci] = True
        residue = np.flatnonzero(g.valid & ~matched)
        fgi, fci = candidate_pairs(
            g, c, residue, ~claimed, max_block=options.max_block, min_typo=options.min_typo_length
        )
        fuzzy = score_pairs(g, c, fgi, fci, np.full(len(fgi), FUZZY, np.int8), options)
        task.advance()

        shared = np.zeros(c.n, dtype=np.int64)  # CRM contacts on the same mailbox
        key_counts = pd.Series(c_codes).map(pd.Series(c_codes).value_counts()).to_numpy()
        shared[c_valid] = key_counts
        decided = decide(g, c, _concat(mailbox, fuzzy), shared, options)
        task.advance()
    return _assemble(gr, crm, decided)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].reset_index(drop=True)
    return pd.Series([None] * len(frame), dtype=object)


def _display_names(crm: pd.DataFrame) -> np.ndarray:
    first = _column(crm, model.CRM_FIRST_NAME).astype("str").fillna("")
    last = _column(crm, model.CRM_LAST_NAME).astype("str").fillna("")
    joined = (first + " " + last).str.strip()
    fallback = _column(crm, model.CRM_NAME).astype("str").fillna("")
    return joined.where(joined != "", fallback).to_numpy(dtype=object)


def _assemble(gr: pd.DataFrame, crm: pd.DataFrame, d: Decisions) -> pd.DataFrame:
    crm_ids = _column(crm, model.CRM_CONTACT_ID).astype("str").to_numpy(dtype=object)
    crm_names = _display_names(crm)
    crm_emails = _column(crm, model.CRM_EMAIL).astype("str").to_numpy(dtype=object)
    n = len(gr)
    linked = d.chosen >= 0

    def chosen_values(values: np.ndarray) -> np.ndarray:
        out = np.full(n, None, dtype=object)
        out[linked] = values[d.chosen[linked]]
        return out

    counts = np.bincount(d.cand_row, minlength=n)
    first = np.searchsorted(d.cand_row, np.arange(n))
    ids = crm_ids[d.cand_crm].tolist()
    candidate_ids: list[tuple[str, ...]] = [()] * n
    for row, at in zip(
        np.flatnonzero(counts == 1).tolist(), first[counts == 1].tolist(), strict=True
    ):
        candidate_ids[row] = (ids[at],)
    for row in np.flatnonzero(counts > 1).tolist():
        candidate_ids[row] = tuple(ids[first[row] : first[row] + counts[row]])

    candidates = np.full(n, "", dtype=object)
    texted = np.flatnonzero(d.decision == Decision.REVIEW.value)
    for row in texted.tolist():
        lines = []
        for at in range(first[row], first[row] + counts[row]):
            c = d.cand_crm[at]
            email = crm_emails[c] if isinstance(crm_emails[c], str) else "(no email)"
            lines.append(
                f"{crm_ids[c]} · {crm_names[c]} {email} · {d.cand_score[at]} · {d.cand_reason[at]}"
            )
        candidates[row] = "\n".join(lines)

    out = pd.DataFrame(
        {
            model.GR_CONTACT_ID: _column(gr, model.GR_CONTACT_ID).to_numpy(),
            model.EMAIL: _column(gr, model.EMAIL).to_numpy(),
            model.NAME: _column(gr, model.NAME).to_numpy(),
            model.FIRST_NAME: _column(gr, model.FIRST_NAME).to_numpy(),
            model.LAST_NAME: _column(gr, model.LAST_NAME).to_numpy(),
            model.DECISION: d.decision,
            model.CRM_CONTACT_ID: pd.Series(chosen_values(crm_ids), dtype=object),
            model.CRM_NAME: pd.Series(chosen_values(crm_names), dtype=object),
            model.CRM_EMAIL: pd.Series(chosen_values(crm_emails), dtype=object),
            model.SCORE: d.score,
            model.REASON: d.reason,
            model.CANDIDATES: candidates,
            CANDIDATE_IDS: pd.Series(candidate_ids, dtype=object).to_numpy(),
        },
        columns=OUTPUT_COLUMNS,
    )
    out.index = gr.index
    return out


__all__ = ["OUTPUT_COLUMNS", "MatchOptions", "match_contacts"]
