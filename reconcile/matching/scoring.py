"""Score candidate pairs from email and name similarity, and say in words why.

Each pair gets a score 0-100 and a ``linkable`` flag. The score orders candidates and is what
a reviewer sees; ``linkable`` records whether the *kind* of evidence could ever justify a link
without a person looking (an identical mailbox, or a plain typo with names that agree). A
name alone, a different domain or differing digits (``jean.dupont1`` vs ``jean.dupont2``,
typically siblings or namesakes) never link, whatever the score.

All similarities are rapidfuzz scorers run pairwise (``process.cpdist``) over arrays of pairs,
on all cores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from reconcile.matching.domains import PROVIDERS
from reconcile.matching.options import MatchOptions
from reconcile.matching.prepare import Side

FUZZY, KEY, EXACT = 0, 1, 2

# Email similarity of a mailbox identical once a typo in its domain is fixed.
DOMAIN_TYPO_SIMILARITY = 97
# Email similarity of the same mailbox under provider rules (gmail dots, +tags).
SAME_MAILBOX_SIMILARITY = 98
# A local part found at another domain counts for this share of its similarity.
OTHER_DOMAIN_WEIGHT = 0.8
EMAIL_WEIGHT = 0.6  # the rest is the name's
NO_NAME_PENALTY = 5  # a fuzzy email with no name to confirm it


@dataclass
class Pairs:
    """Candidate pairs and their features, one entry per pair."""

    gi: np.ndarray
    ci: np.ndarray
    kind: np.ndarray  # FUZZY / KEY / EXACT
    score: np.ndarray  # int 0-100
    linkable: np.ndarray
    email_sim: np.ndarray
    name_sim: np.ndarray
    first_ok: np.ndarray
    last_ok: np.ndarray
    swapped: np.ndarray
    has_names: np.ndarray
    same_domain: np.ndarray
    local_equal: np.ndarray
    one_edit: np.ndarray
    digits_differ: np.ndarray
    separators: np.ndarray  # the local parts differ only by a dot, dash or underscore

    def __len__(self) -> int:
        return len(self.gi)

    def take(self, index: np.ndarray) -> Pairs:
        return Pairs(**{k: v[index] for k, v in vars(self).items()})


def _sim(a: np.ndarray, b: np.ndarray, scorer) -> np.ndarray:  # type: ignore[no-untyped-def]
    if len(a) == 0:
        return np.empty(0, np.float32)
    return process.cpdist(list(a), list(b), scorer=scorer, dtype=np.float32, workers=-1)


def _digits(values: np.ndarray) -> np.ndarray:
    return pd.Series(values).astype("str").str.replace(r"\D+", "", regex=True).to_numpy(object)


def score_pairs(
    gr: Side, crm: Side, gi: np.ndarray, ci: np.ndarray, kind: np.ndarray, options: MatchOptions
) -> Pairs:
    """Features, score and linkability of each (gr position, crm position) pair."""
    g_first, g_last, c_first, c_last = gr.first[gi], gr.last[gi], crm.first[ci], crm.last[ci]
    has_names = gr.has_name[gi] & crm.has_name[ci]
    name_sim = _sim(gr.full[gi], crm.full[ci], fuzz.token_sort_ratio)
    direct = _sim(g_first, c_first, fuzz.token_set_ratio)
    direct_last = _sim(g_last, c_last, fuzz.ratio)
    cross = _sim(g_last, c_first, fuzz.token_set_ratio)
    cross_last = _sim(g_first, c_last, fuzz.ratio)
    swapped = (cross + cross_last > direct + direct_last + 20) & (cross >= 80)
    first_sim = np.where(swapped, cross, direct)
    last_sim = np.where(swapped, cross_last, direct_last)
    # An initial fits a first name that starts with it ("J. Dupont" is Jean Dupont).
    g_init = np.where(swapped, g_last, g_first)
    initial = _initial_fits(g_init, c_first)
    first_sim = np.where(initial, np.maximum(first_sim, 90), first_sim)
    # A one-word GR name is fine if it is either of the CRM names.
    single = pd.Series(g_last).astype("str").str.len().to_numpy() == 0
    first_sim = np.where(single, np.maximum(direct, cross_last), first_sim)
    no_first = pd.Series(np.where(swapped, g_last, g_first)).astype("str").str.len() == 0
    no_first = no_first.to_numpy() | (pd.Series(c_first).astype("str").str.len() == 0).to_numpy()
    # Names written without spaces ("山田直樹", "DupontJean") compare glued, in either order.
    g_glued = _glued(gr.full[gi])
    glued = np.maximum(
        _sim(g_glued, _glued(c_first + c_last), fuzz.ratio),
        _sim(g_glued, _glued(c_last + c_first), fuzz.ratio),
    )
    same_glued = has_names & (glued >= 100)
    name_sim = np.maximum(name_sim, glued)
    first_sim = np.where(same_glued, 100, first_sim)
    last_sim = np.where(same_glued, 100, last_sim)
    first_ok = ~has_names | no_first | (first_sim >= options.first_name_agreement)
    last_ok = has_names & (last_sim >= 90)

    g_local, c_local = gr.local[gi], crm.local[ci]
    c_has_email = crm.valid[ci]
    g_dom, c_dom = gr.fixed_domain[gi], crm.fixed_domain[ci]
    same_domain = (g_dom == c_dom) & c_has_email
    # A domain one edit from the other side's, both not known providers, is a typo too
    # (bonnet-assjrances.ch): a pair-level fix for company domains too rare to be corrected.
    near = ~same_domain & c_has_email
    near[near] = (_sim(g_dom[near], c_dom[near], OSA.distance) == 1) & ~(
        np.isin(g_dom[near], list(PROVIDERS)) & np.isin(c_dom[near], list(PROVIDERS))
    )
    same_domain |= near
    local_equal = (g_local == c_local) & c_has_email
    local_sim = np.where(c_has_email, _sim(g_local, c_local, fuzz.ratio), 0.0)
    one_edit = _sim(g_local, c_local, OSA.distance) == 1
    digits_differ = _digits(g_local) != _digits(c_local)
    # jean.dupont vs jeandupont: two ways namesakes write their address, not a slip of a key.
    separators = one_edit & (_bare(g_local) == _bare(c_local))

    email_sim = np.where(
        same_domain,
        np.where(local_equal, DOMAIN_TYPO_SIMILARITY, local_sim),
        local_sim * OTHER_DOMAIN_WEIGHT,
    )
    email_sim = np.where(kind == EXACT, 100.0, np.where(kind == KEY, 98.0, email_sim))
    fuzzy_score = np.where(
        has_names,
        EMAIL_WEIGHT * email_sim + (1 - EMAIL_WEIGHT) * name_sim,
        email_sim - NO_NAME_PENALTY,
    )
    # Identical mailbox: certain unless the first names say these are two people.
    conflict_score = 65 + 10 * last_ok
    mailbox_score = np.where(first_ok, email_sim, conflict_score)
    score = np.where(kind == FUZZY, fuzzy_score, mailbox_score)
    score = np.clip(np.rint(score), 0, 100).astype(np.int16)

    long_enough = np.minimum(_lengths(g_local), _lengths(c_local)) >= options.min_typo_length
    domain_typo = local_equal & first_ok
    same_person = (first_sim >= options.typo_name_agreement) & (
        last_sim >= options.typo_name_agreement
    )
    local_typo = one_edit & ~separators & has_names & same_person & long_enough
    fuzzy_linkable = options.link_fuzzy & same_domain & ~digits_differ & (domain_typo | local_typo)
    linkable = np.where(kind == FUZZY, fuzzy_linkable, first_ok)
    return Pairs(
        gi=gi, ci=ci, kind=kind, score=score, linkable=linkable, email_sim=email_sim,
        name_sim=name_sim, first_ok=first_ok, last_ok=last_ok, swapped=swapped,
        has_names=has_names, same_domain=same_domain, local_equal=local_equal,
        one_edit=one_edit, digits_differ=digits_differ, separators=separators,
    )  # fmt: skip


def _glued(values: np.ndarray) -> np.ndarray:
    return pd.Series(values).astype("str").str.replace(" ", "", regex=False).to_numpy(object)


def _bare(values: np.ndarray) -> np.ndarray:
    return pd.Series(values).astype("str").str.replace(r"[._-]", "", regex=True).to_numpy(object)


def _lengths(values: np.ndarray) -> np.ndarray:
    return pd.Series(values).astype("str").str.len().fillna(0).to_numpy(dtype=np.int64)


def _initial_fits(g_first: np.ndarray, c_first: np.ndarray) -> np.ndarray:
    g = pd.Series(g_first).astype("str")
    c = pd.Series(c_first).astype("str")
    return ((g.str.len() == 1) & (c.str.len() > 1) & (c.str[:1] == g)).to_numpy()
