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
import pyarrow as pa
import pyarrow.compute as pc

from reconcile import model
from reconcile.errors import InputError, Problem
from reconcile.matching.blocking import candidate_pairs, codes, join_equal
from reconcile.matching.decide import Decisions, decide
from reconcile.matching.options import MatchOptions
from reconcile.matching.prepare import Side, correct_both, prepare_crm, prepare_gr
from reconcile.matching.scoring import EXACT, FUZZY, KEY, Pairs, score_pairs
from reconcile.model import Decision
from reconcile.progress import SILENT, Progress

# Progress tasks, in order (the benchmark times each one).
STAGES = (
    "Normalizing emails and names",
    "Matching identical mailboxes",
    "Searching typos and other addresses",
    "Deciding and explaining",
)
CANDIDATE_IDS = "candidate_ids"  # tuple of CRM ids, best first (link and review rows)
SAME_EMAIL = "same_email"  # CRM contacts that hold this row's mailbox (a "new" duplicates it)
RISK = "risk"  # what to check before importing: a likely duplicate, names that differ
LIKELY_DUPLICATE = "likely duplicate: a CRM contact has this name and email domain"
NAMES_DIFFER = "names differ"
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
    CANDIDATE_IDS,
    SAME_EMAIL,
    RISK,
]


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
    problems = [
        Problem(f"{label} have no {column!r} column", column=column)
        for frame, needed, label in (
            (gr, (model.GR_CONTACT_ID, model.EMAIL), "GetResponse contacts"),
            (crm, (model.CRM_CONTACT_ID, model.CRM_EMAIL), "CRM contacts"),
        )
        for column in needed
        if column not in frame.columns
    ]
    if problems:
        raise InputError(problems, hint="map the file's headers to the canonical columns first")
    with progress.task(STAGES[0], total=None):
        g, c = prepare_gr(gr), prepare_crm(crm)
        correct_both(g, c)

    with progress.task(STAGES[1], total=None):  # one CRM mailbox, or several
        g_valid, c_valid = np.flatnonzero(g.valid), np.flatnonzero(c.valid)
        g_codes, c_codes = codes(g.key.take(pa.array(g_valid)), c.key.take(pa.array(c_valid)))
        li, ri = join_equal(g_codes, c_codes)
        gi, ci = g_valid[li], c_valid[ri]
        same = pc.equal(
            g.email_normalized.take(pa.array(gi)), c.email_normalized.take(pa.array(ci))
        )
        kind = np.where(same.to_numpy(zero_copy_only=False), EXACT, KEY)
        mailbox = score_pairs(g, c, gi, ci, kind.astype(np.int8), options)

    with progress.task(STAGES[2], total=None):  # the residue vs the CRM contacts left over
        matched = np.zeros(g.n, dtype=bool)
        matched[gi] = True
        claimed = np.zeros(c.n, dtype=bool)
        claimed[ci] = True
        residue = np.flatnonzero(g.usable & ~matched)
        fgi, fci = candidate_pairs(
            g, c, residue, ~claimed, max_block=options.max_block, min_typo=options.min_typo_length
        )
        fuzzy = score_pairs(g, c, fgi, fci, np.full(len(fgi), FUZZY, np.int8), options)

    with progress.task(STAGES[3], total=None):
        shared = np.zeros(c.n, dtype=np.int64)  # CRM contacts on the same mailbox
        shared[c_valid] = np.bincount(c_codes)[c_codes] if len(c_codes) else 0
        decided = decide(g, c, _concat(mailbox, fuzzy), shared, options)
        out = _assemble(gr, crm, decided)
        out[RISK] = _risks(g, c, decided, out)
        return out


def _risks(g: Side, c: Side, d: Decisions, out: pd.DataFrame) -> np.ndarray:
    """What an admin should look at before importing, per row ("" for nothing):

    * a row not linked whose name and email domain a CRM contact shares: created as ``new``
      it is likely a duplicate of that contact (the Summary counts them, following edits);
    * a link whose names do not agree (an exact email with another name).
    """
    risk = np.full(g.n, "", dtype=object)
    loose = np.flatnonzero((d.decision != Decision.LINK.value) & g.has_name & g.usable)
    if len(loose) and c.n:
        at = pa.scalar("@", pa.large_string())
        g_keys = pc.binary_join_element_wise(
            g.full.take(pa.array(loose)), g.fixed_domain.take(pa.array(loose)), at
        )
        named = pc.and_(pc.not_equal(c.full, ""), pa.array(c.usable))
        c_keys = pc.binary_join_element_wise(c.full, c.fixed_domain, at).filter(named)
        hit = pc.is_in(g_keys, value_set=pc.unique(c_keys)).to_numpy(zero_copy_only=False)
        risk[loose[hit]] = LIKELY_DUPLICATE
    differ = np.flatnonzero(d.names_differ)
    if len(differ):
        names = out[model.NAME].iloc[differ].astype(str).to_numpy(dtype=object)
        crm_names = out[model.CRM_NAME].iloc[differ].astype(str).to_numpy(dtype=object)
        risk[differ] = NAMES_DIFFER + ": " + names + " vs " + crm_names
    return risk


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].reset_index(drop=True)
    return pd.Series([None] * len(frame), dtype=object)


def _crm_values(crm: pd.DataFrame, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(id, "First Last", email) of the CRM rows at ``index``, as object arrays."""

    def values(name: str) -> pd.Series:
        return _column(crm, name).iloc[index].astype("str").fillna("").reset_index(drop=True)

    ids = values(model.CRM_CONTACT_ID).to_numpy(dtype=object)
    names = (values(model.CRM_FIRST_NAME) + " " + values(model.CRM_LAST_NAME)).str.strip()
    names = names.where(names != "", values(model.CRM_NAME)).to_numpy(dtype=object)
    emails = _column(crm, model.CRM_EMAIL).iloc[index].astype("str").to_numpy(dtype=object)
    emails[np.asarray(pd.isna(emails), dtype=bool)] = None
    return ids, names, emails


def _tuples(values: list[tuple[str, ...]]) -> np.ndarray:
    """A 1-D object array of tuples (numpy would otherwise read them as a second axis)."""
    out = np.empty(len(values), dtype=object)
    out[:] = pd.Series(values, dtype=object).to_numpy()
    return out


def _candidate_text(
    d: Decisions, ids: np.ndarray, names: np.ndarray, emails: np.ndarray
) -> np.ndarray:
    """Review rows' candidates, one line each: "<id> · <First Last> <email> · 87 · <reason>"."""
    n = len(d.decision)
    review = np.flatnonzero(d.decision == Decision.REVIEW.value)
    out = np.full(n, "", dtype=object)
    entries = np.flatnonzero(np.isin(d.cand_row, review))
    if not len(entries):
        return out
    emails = np.where(pd.isna(emails[entries]), "(no email)", emails[entries])
    lines = (
        ids[entries] + " · " + names[entries] + " " + emails + " · "
        + d.cand_score[entries].astype(str).astype(object) + " · " + d.cand_reason[entries]
    )  # fmt: skip
    rows = d.cand_row[entries]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    stops = np.r_[starts[1:], len(rows)]
    single = stops - starts == 1
    out[rows[starts[single]]] = lines[starts[single]]
    for start, stop in zip(starts[~single].tolist(), stops[~single].tolist(), strict=True):
        out[rows[start]] = "\n".join(lines[start:stop].tolist())
    return out


def _assemble(gr: pd.DataFrame, crm: pd.DataFrame, d: Decisions) -> pd.DataFrame:
    n = len(gr)
    linked = np.flatnonzero(d.chosen >= 0)
    # Only the CRM rows that appear in the result are read.
    needed, inverse = np.unique(np.concatenate([d.chosen[linked], d.cand_crm]), return_inverse=True)
    crm_ids, crm_names, crm_emails = _crm_values(crm, needed)
    chosen_at, cand_at = inverse[: len(linked)], inverse[len(linked) :]

    def chosen_values(values: np.ndarray) -> pd.Series:
        out = np.full(n, None, dtype=object)
        out[linked] = values[chosen_at]
        return pd.Series(out, dtype=object)

    counts = np.bincount(d.cand_row, minlength=n)
    first = np.searchsorted(d.cand_row, np.arange(n))
    ids = crm_ids[cand_at]
    candidate_ids = _tuples([()] * n)
    single = np.flatnonzero(counts == 1)
    candidate_ids[single] = _tuples(list(zip(ids[first[single]].tolist(), strict=True)))
    for row in np.flatnonzero(counts > 1).tolist():
        candidate_ids[row] = tuple(ids[first[row] : first[row] + counts[row]].tolist())

    candidates = _candidate_text(d, crm_ids[cand_at], crm_names[cand_at], crm_emails[cand_at])

    out = pd.DataFrame(
        {
            model.GR_CONTACT_ID: _column(gr, model.GR_CONTACT_ID),
            model.EMAIL: _column(gr, model.EMAIL),
            model.NAME: _column(gr, model.NAME),
            model.FIRST_NAME: _column(gr, model.FIRST_NAME),
            model.LAST_NAME: _column(gr, model.LAST_NAME),
            model.DECISION: d.decision,
            model.CRM_CONTACT_ID: chosen_values(crm_ids),
            model.CRM_NAME: chosen_values(crm_names),
            model.CRM_EMAIL: chosen_values(crm_emails),
            model.SCORE: d.score,
            model.REASON: d.reason,
            model.CANDIDATES: candidates,
            CANDIDATE_IDS: candidate_ids,
            SAME_EMAIL: d.same_email,
        },
        columns=OUTPUT_COLUMNS,
    )
    out.index = gr.index
    return out


__all__ = ["OUTPUT_COLUMNS", "RISK", "SAME_EMAIL", "MatchOptions", "match_contacts"]
