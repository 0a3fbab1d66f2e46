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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from reconcile.matching.domains import PROVIDERS
from reconcile.matching.options import MatchOptions
from reconcile.matching.prepare import Side
from reconcile.matching.weights import odds_score, weak_odds

FUZZY, KEY, EXACT = 0, 1, 2

# Email similarity of a mailbox identical once a typo in its domain is fixed.
DOMAIN_TYPO_SIMILARITY = 97
# Email similarity of one local part with and without a +tag, on the same domain.
SUB_ADDRESS_SIMILARITY = 96
# Email similarity of the same mailbox under provider rules (gmail dots, +tags).
SAME_MAILBOX_SIMILARITY = 98
# A local part found at another domain counts for this share of its similarity.
OTHER_DOMAIN_WEIGHT = 0.8
EMAIL_WEIGHT = 0.6  # the rest is the name's
NO_NAME_PENALTY = 5  # a fuzzy email with no name to confirm it
NO_EMAIL_SIMILARITY = 50  # email similarity counted when the CRM contact has no address
# An identical mailbox whose first names disagree (a shared mailbox?) scores this, plus the
# bonus when the last names agree: reviewed, above plain name matches.
SHARED_MAILBOX_SCORE = 65
SAME_LAST_NAME_BONUS = 10


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
    subaddress: np.ndarray  # the same local part once a +tag is dropped

    def __len__(self) -> int:
        return len(self.gi)

    def take(self, index: np.ndarray) -> Pairs:
        return Pairs(**{k: v[index] for k, v in vars(self).items()})


def _sim(a: np.ndarray, b: np.ndarray, scorer: Callable[..., float]) -> np.ndarray:
    # Equivalent mutants (bench/mutation.py): the empty case's shape and type (every caller
    # checks for rows first) and ``workers`` (how many threads, not what they compute).
    if len(a) == 0:
        return np.empty(0, np.float32)
    return process.cpdist(list(a), list(b), scorer=scorer, dtype=np.float32, workers=-1)


# A masculine and a feminine first name built on one stem count as this similar.
GENDERED_SIMILARITY = 60
# A first name one typo away (4+ letters) counts as this similar.
TYPO_SIMILARITY = 90
_FEMININE_ENDINGS = ("e", "ne", "le", "te", "tte", "ette", "ine")


def _gendered_pair(a: str, b: str) -> bool:
    """True for a masculine / feminine pair of first names: louis / louise, jean / jeanne,
    daniel / danielle, antoine / antoinette, paul / pauline (folded names)."""
    # Equivalent mutant: < (two names of one length are never a pair).
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if not short or short == long_:
        return False
    for stem in {short, short.removesuffix("e")}:
        if stem and long_.startswith(stem) and long_[len(stem) :] in _FEMININE_ENDINGS:
            return True
    return False


@dataclass
class _Names:
    name_sim: np.ndarray
    first_sim: np.ndarray
    last_sim: np.ndarray
    swapped: np.ndarray


def _name_similarities(gr: Side, crm: Side, gi: np.ndarray, ci: np.ndarray) -> _Names:
    """Similarities of names that differ after folding (identical ones are 100 throughout).

    Symmetric: swapping which side is GetResponse and which is the CRM gives the same values
    (for contacts whose names come as first + last on both sides).
    """
    g_first, g_last = gr.at("first", gi), gr.at("last", gi)
    c_first, c_last = crm.at("first", ci), crm.at("last", ci)
    name_sim = _sim(gr.at("full", gi), crm.at("full", ci), fuzz.token_sort_ratio)
    # token_set: a compound name contains its parts (Jean-Pierre / Jean, Martin-Dupont).
    direct = _sim(g_first, c_first, fuzz.token_set_ratio)
    direct_last = _sim(g_last, c_last, fuzz.token_set_ratio)
    cross = _sim(g_last, c_first, fuzz.token_set_ratio)
    cross_last = _sim(g_first, c_last, fuzz.token_set_ratio)
    swapped = (cross + cross_last > direct + direct_last + 20) & (
        np.minimum(cross, cross_last) >= 70
    )
    first_sim = np.where(swapped, cross, direct)
    last_sim = np.where(swapped, cross_last, direct_last)
    # One slip of a key in a first name of 4+ letters (Jeqn, Mnih, Agathe/Agahte) is the same
    # name; but Louis / Louise, Jean / Jeanne, Michel / Michèle are two people.
    # Equivalent mutants: the bounds (a typo of 4+ letters is >= 75 similar, a gendered pair
    # under 50 is a one-letter stem, which the initial rule below sets to 90; a name at 100
    # is neither); below, dtype=bool of a list of bools and zip's strict (equal lengths).
    close = np.flatnonzero((first_sim >= 50) & (first_sim < 100))
    if len(close):
        g_name = np.where(swapped[close], g_last[close], g_first[close])
        c_name = c_first[close]
        gendered = np.array(
            [_gendered_pair(a, b) for a, b in zip(g_name, c_name, strict=True)], dtype=bool
        )
        lengths = np.array([min(len(a), len(b)) for a, b in zip(g_name, c_name, strict=True)])
        one_typo = (_sim(g_name, c_name, OSA.distance) == 1) & (lengths >= 4) & ~gendered
        first_sim[close[one_typo]] = np.maximum(first_sim[close[one_typo]], TYPO_SIMILARITY)
        first_sim[close[gendered]] = GENDERED_SIMILARITY
    # An initial fits a first name that starts with it ("J. Dupont" is Jean Dupont).
    g_len, c_len = gr.first_len[gi], crm.first_len[ci]
    initial = (np.minimum(g_len, c_len) == 1) & (np.maximum(g_len, c_len) > 1)
    initial &= gr.at("initial", gi) == crm.at("initial", ci)
    first_sim = np.where(initial & ~swapped, np.maximum(first_sim, 90), first_sim)
    # A one-word GR name is fine if it is either of the CRM names.
    single = gr.last_len[gi] == 0
    first_sim = np.where(single, np.maximum(direct, cross_last), first_sim)
    # Names written without spaces ("山田直樹", "DupontJean") compare glued, in either order.
    g_glued = gr.at("glued", gi)
    glued = np.maximum.reduce(
        [
            _sim(g_glued, crm.at("glued_fl", ci), fuzz.ratio),
            _sim(g_glued, crm.at("glued_lf", ci), fuzz.ratio),
            _sim(gr.at("glued_lf", gi), crm.at("glued_fl", ci), fuzz.ratio),
        ]
    )
    same = glued >= 100
    return _Names(
        name_sim=np.maximum(name_sim, glued),
        first_sim=np.where(same, 100, first_sim),  # equivalent mutants: 101 (no bar over 100)
        last_sim=np.where(same, 100, last_sim),
        swapped=swapped & ~same,
    )


def score_pairs(
    gr: Side, crm: Side, gi: np.ndarray, ci: np.ndarray, kind: np.ndarray, options: MatchOptions
) -> Pairs:
    """Features, score and linkability of each (gr position, crm position) pair."""
    n = len(gi)
    has_names = gr.has_name[gi] & crm.has_name[ci]
    g_full, c_full = gr.full.take(pa.array(gi)), crm.full.take(pa.array(ci))
    equal_full = has_names & pc.equal(g_full, c_full).to_numpy(zero_copy_only=False)
    # Same words in another order: first and last name swapped ("DUPONT Jean").
    same_words = np.zeros(n, dtype=bool)
    other = np.flatnonzero(has_names & ~equal_full)
    if len(other):
        g_key = gr.at("name_key", gi[other])
        same_words[other] = (g_key == crm.at("name_key", ci[other])) & (g_key != "")
    identical = equal_full | same_words
    name_sim = np.where(identical, 100.0, 0.0).astype(np.float32)
    first_sim, last_sim = name_sim.copy(), name_sim.copy()
    swapped = np.zeros(n, dtype=bool)
    todo = np.flatnonzero(has_names & ~identical)
    if len(todo):
        sims = _name_similarities(gr, crm, gi[todo], ci[todo])
        name_sim[todo], first_sim[todo], last_sim[todo] = (
            sims.name_sim,
            sims.first_sim,
            sims.last_sim,
        )
        swapped[todo] = sims.swapped
    swapped |= same_words
    no_first = np.where(swapped, gr.last_len[gi], gr.first_len[gi]) == 0
    no_first |= crm.first_len[ci] == 0
    first_ok = ~has_names | no_first | (first_sim >= options.first_name_agreement)
    last_ok = has_names & (last_sim >= 90)

    email = _email_features(gr, crm, gi, ci, kind == FUZZY)
    email_sim = np.where(
        email.same_domain,
        np.where(
            email.local_equal,
            DOMAIN_TYPO_SIMILARITY,
            np.where(email.subaddress, SUB_ADDRESS_SIMILARITY, email.local_sim),
        ),
        email.local_sim * OTHER_DOMAIN_WEIGHT,
    )
    namesake_like = email.same_domain & (email.digits_differ | email.separators)
    email_sim = np.where(namesake_like, email_sim * OTHER_DOMAIN_WEIGHT, email_sim)
    email_sim = np.where(
        kind == EXACT, 100.0, np.where(kind == KEY, SAME_MAILBOX_SIMILARITY, email_sim)
    )
    # Typo-like evidence (one mailbox written two ways) scores on similarity; anything weaker
    # (the same name with another address, a CRM contact without one, digits that differ)
    # scores the chance that it is one person, names weighed by their frequency in this CRM
    # (weights.py): one "Adèle Morel" is a lead, forty "Jean Martin" are not.
    # A one-letter difference where the first names clearly differ is two relatives' addresses
    # (aleroy@ for Antoine, eleroy@ for Eléonore), not a slip of a key.
    relatives = email.one_edit & ~email.local_equal & has_names & ~first_ok
    typo_like = email.same_domain & (
        email.local_equal | email.subaddress | (email.one_edit & ~relatives)
    )
    weak = (kind == FUZZY) & ~(typo_like & ~email.digits_differ & ~email.separators)
    fuzzy_score = np.where(
        has_names,
        EMAIL_WEIGHT * email_sim + (1 - EMAIL_WEIGHT) * name_sim,
        email_sim - NO_NAME_PENALTY,
    )
    w = np.flatnonzero(weak)
    if len(w):
        odds = weak_odds(
            gr, crm, gi[w], ci[w],
            same_name=name_sim[w] >= 100, first_ok=first_ok[w], last_ok=last_ok[w],
            has_names=has_names[w], local_equal=email.local_equal[w],
            same_domain=email.same_domain[w],
            digits_or_separators=email.digits_differ[w] | email.separators[w],
        )  # fmt: skip
        fuzzy_score[w] = odds_score(odds)
    # Identical mailbox: certain unless the first names say these are two people.
    conflict_score = SHARED_MAILBOX_SCORE + SAME_LAST_NAME_BONUS * last_ok
    mailbox_score = np.where(first_ok, email_sim, conflict_score)
    score = np.where(kind == FUZZY, fuzzy_score, mailbox_score)
    score = np.clip(np.rint(score), 0, 100).astype(np.int16)

    same_person = (first_sim >= options.typo_name_agreement) & (
        last_sim >= options.typo_name_agreement
    )
    # The same local part once the domain is fixed, or the address repaired.
    domain_typo = email.local_equal & first_ok
    # A +tag at any provider: one mailbox, unless the names say these are two people.
    gr_last = np.where(swapped, gr.first_len[gi], gr.last_len[gi]) > 0
    sub_address = email.subaddress & first_ok & (last_ok | ~has_names | ~gr_last)
    # With a one- or two-letter first name (Vu, Li), "vnguyen@" and "vunguyen@" are the
    # initial and the full-name pattern of two namesakes, not a typo.
    long_first = np.minimum(gr.first_len[gi], crm.first_len[ci]) >= 3
    local_typo = (
        email.one_edit & ~email.separators & has_names & same_person & long_first
        & (email.shortest >= options.min_typo_length)
    )  # fmt: skip
    # A repair that had to guess (a space dropped: "." or "_" or nothing?) is never a link.
    guessed = gr.guessed_repair[gi] | crm.guessed_repair[ci]
    fuzzy_linkable = (
        options.link_fuzzy
        & email.same_domain
        & ~email.digits_differ
        & ~guessed
        & (domain_typo | local_typo | sub_address)
    )
    linkable = np.where(kind == FUZZY, fuzzy_linkable, first_ok)
    return Pairs(
        gi=gi, ci=ci, kind=kind, score=score, linkable=linkable, email_sim=email_sim,
        name_sim=name_sim, first_ok=first_ok, last_ok=last_ok, swapped=swapped,
        has_names=has_names, same_domain=email.same_domain, local_equal=email.local_equal,
        one_edit=email.one_edit, digits_differ=email.digits_differ, separators=email.separators,
        subaddress=email.subaddress,
    )  # fmt: skip


@dataclass
class _Email:
    local_sim: np.ndarray
    same_domain: np.ndarray
    local_equal: np.ndarray
    one_edit: np.ndarray
    digits_differ: np.ndarray
    separators: np.ndarray
    shortest: np.ndarray
    subaddress: np.ndarray


def _email_features(
    gr: Side, crm: Side, gi: np.ndarray, ci: np.ndarray, fuzzy: np.ndarray
) -> _Email:
    """Email evidence of fuzzy pairs; identical-mailbox pairs get "same everything"."""
    n = len(gi)
    # Equivalent mutants: the defaults of local_sim and shortest (read for fuzzy pairs only).
    out = _Email(
        local_sim=np.full(n, 100.0, np.float32), same_domain=np.ones(n, bool),
        local_equal=np.ones(n, bool), one_edit=np.zeros(n, bool),
        digits_differ=np.zeros(n, bool), separators=np.zeros(n, bool),
        shortest=np.full(n, 100, np.int64), subaddress=np.zeros(n, bool),
    )  # fmt: skip
    f = np.flatnonzero(fuzzy)
    if not len(f):
        return out
    g, c = gi[f], ci[f]
    has_email = crm.usable[c]
    g_local, c_local = gr.at("local", g), crm.at("local", c)
    g_dom, c_dom = gr.at("fixed_domain", g), crm.at("fixed_domain", c)
    same_domain = (g_dom == c_dom) & has_email
    # A domain one edit from the other side's, both not known providers, is a typo too
    # (bonnet-assjrances.ch): a pair-level fix for company domains too rare to be corrected.
    near = np.flatnonzero(~same_domain & has_email)
    if len(near):
        one_off = _sim(g_dom[near], c_dom[near], OSA.distance) == 1
        both_known = pd.Series(g_dom[near]).isin(PROVIDERS).to_numpy() & (
            pd.Series(c_dom[near]).isin(PROVIDERS).to_numpy()
        )
        same_domain[near] = one_off & ~both_known
    one_edit = (_sim(g_local, c_local, OSA.distance) == 1) & has_email
    # A CRM contact without an address neither supports nor contradicts the GR one.
    out.local_sim[f] = np.where(has_email, _sim(g_local, c_local, fuzz.ratio), NO_EMAIL_SIMILARITY)
    out.same_domain[f] = same_domain
    out.local_equal[f] = (g_local == c_local) & has_email
    out.one_edit[f] = one_edit
    out.digits_differ[f] = gr.at("digits", g) != crm.at("digits", c)
    # jean.dupont vs jeandupont: two ways namesakes write their address, not a slip of a key.
    out.separators[f] = one_edit & (gr.at("bare", g) == crm.at("bare", c))
    out.shortest[f] = np.minimum(gr.at("local_len", g), crm.at("local_len", c))
    g_un, c_un = gr.at("untagged", g), crm.at("untagged", c)
    out.subaddress[f] = (g_un == c_un) & (g_local != c_local) & has_email
    out.digits_differ[f] &= ~out.subaddress[f]  # digits in a tag ("+2024") are no namesake's
    return out
