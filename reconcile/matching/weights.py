"""How likely a pair found on weak evidence is one person: Fellegi–Sunter odds with term
frequencies, as probabilistic record linkage computes them (Splink's term-frequency
adjustments).

"Weak" is everything that is not an identical mailbox, a typo or a sub-address: the same name
with another address, a CRM contact without an address, the same local part at another
domain, addresses that differ only by their digits. For such a pair the odds of a match are

    prior × m(names) / u(names) × m(email) / u(email)

where ``u`` is how often a *random* CRM contact would agree as well — measured on this CRM, per
value: one "Adèle Morel" among a million contacts makes the agreement 1,000,000 times less
likely by chance than a million "Adèle Morel" would, while forty "Jean Martin" make it forty
times weaker than one. With ``u = k / N`` (k contacts of the N share the value) and the prior
``ρ / N`` (a contact not found by its address has its CRM twin with probability ρ, anyone of
the N), N cancels: the odds are ``ρ × m / k × (email factor)``.

Agreements that the name itself explains are not counted twice: namesakes write their address
from their name (``jean.martin@``), so ``jean.martin@orange.fr`` next to
``jean.martin@gmail.com`` says little beyond the name, while ``zorglub1987@`` at two providers
says a lot.

The m-probabilities below are assumptions, not fitted: they are round numbers that the
labelled benchmark (docs/matching.md) supports; the u side comes from the data.
"""

from __future__ import annotations

import numpy as np

from reconcile.matching.prepare import Side

PRIOR = 0.3  # ρ: a contact not found by its address is in the CRM under another one
# m: how often one person's two records agree this way on the name.
M_SAME_NAME = 0.9  # identical once folded (accents, case, order)
M_SIMILAR_NAME = 0.06  # same last name, a first name that fits (initial, typo, compound)
M_LAST_ONLY = 0.01  # same last name, another first name
M_FIRST_ONLY = 0.02  # same first name, another last name (a married name)
M_OTHER_NAME = 0.02  # names that have nothing in common
# Email factors (m / u) of the weak kinds.
F_OTHER_EMAIL = 0.6  # another address: most random pairs differ too
F_NAME_LOCAL = 0.5  # the same name-made local part at another domain (jean.martin@)
F_NAME_DIGITS = 0.3  # name-made local parts that differ by digits: father and son?
F_OTHER_DIGITS = 2.0  # zorglub1987 / zorglub1988: perhaps one person
M_OWN_LOCAL = 0.2  # m of keeping an own-made local part (zorglub1987@) when changing provider
M_NO_EMAIL = 0.15  # m of the CRM record holding no address at all (u: the CRM's share)
MAX_NO_EMAIL_FACTOR = 10.0
WEAK_SCORE_CAP = 89  # weak evidence never reads as a link
MIN_RARITY = 0.25  # the rarest name counts as borne by a quarter of a contact, no less


def _made_from(letters: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    out = np.zeros(len(letters), dtype=bool)
    for i, (text, f, la) in enumerate(zip(letters.tolist(), first.tolist(), last.tolist(),
                                          strict=True)):  # fmt: skip
        if not text or not (f or la):
            continue
        i0, l0 = f[:1], la[:1]
        out[i] = text in {f + la, la + f, i0 + la, la + i0, f, la, f + l0, l0 + f, i0 + l0} - {""}
    return out


def name_made(gr: Side, crm: Side, gi: np.ndarray, ci: np.ndarray) -> np.ndarray:
    """True where the GR contact's local part is written from a name (jean.martin, jmartin,
    martinj, jean, martin ... digits and separators aside): its own as typed, or the CRM
    contact's (a typo in the typed name does not make the address its owner's own)."""
    letters = gr.at("letters", gi)
    own = _made_from(letters, gr.at("first_glued", gi), gr.at("last_glued", gi))
    theirs = _made_from(letters, crm.at("first_glued", ci), crm.at("last_glued", ci))
    return own | theirs


def weak_odds(
    gr: Side,
    crm: Side,
    gi: np.ndarray,
    ci: np.ndarray,
    *,
    same_name: np.ndarray,
    first_ok: np.ndarray,
    last_ok: np.ndarray,
    has_names: np.ndarray,
    local_equal: np.ndarray,
    same_domain: np.ndarray,
    digits_or_separators: np.ndarray,
) -> np.ndarray:
    """Posterior odds that each (gr, crm) pair is one person, for pairs of weak evidence."""
    n = len(gi)
    total = max(crm.n, 1)
    # Names: m / k, k the contacts sharing the candidate's value (its term frequency).
    m = np.full(n, M_OTHER_NAME / total)
    m[~has_names] = 1.0 / total
    kinds = [
        (has_names & first_ok & ~last_ok, M_FIRST_ONLY, "first"),
        (has_names & last_ok & ~first_ok, M_LAST_ONLY, "last"),
        (has_names & first_ok & last_ok, M_SIMILAR_NAME, "last_initial"),
    ]
    for mask, m_value, field in kinds:
        rows = np.flatnonzero(mask & ~same_name)
        if len(rows):
            m[rows] = m_value / np.maximum(crm.frequency(field)[ci[rows]], 1)
    no_email = ~crm.usable[ci]
    rows = np.flatnonzero(same_name & has_names)
    if len(rows):
        # How common the name is: the contacts bearing it, or as many as its first and last
        # names make likely (a combination of two common names, unique here by chance, is
        # still common) — whichever is more. A name borne by this contact alone counts as
        # rare as its first and last names make it: "Adèle Kerjean" far rarer than a
        # "Jean Martin" who happens to be alone here.
        namesakes = crm.namesakes if crm.namesakes is not None else crm.frequency("full")
        c = ci[rows]
        expected = crm.frequency("first")[c] * crm.frequency("last")[c] / total
        bearers = namesakes[c].astype(float)
        common = np.where(
            bearers > 1, np.maximum(bearers, expected), np.maximum(expected, MIN_RARITY)
        )
        m[rows] = M_SAME_NAME / common

    # Email: what the addresses add to the names.
    factor = np.full(n, F_OTHER_EMAIL)
    share_without = float(np.mean(~crm.usable)) if crm.n else 0.0
    factor[no_email] = min(MAX_NO_EMAIL_FACTOR, M_NO_EMAIL / max(share_without, 1e-9))
    moved = np.flatnonzero(local_equal & ~same_domain & ~no_email)
    numbered = np.flatnonzero(same_domain & digits_or_separators & ~local_equal & ~no_email)
    if len(moved) or len(numbered):
        made = np.zeros(n, dtype=bool)
        both = np.concatenate([moved, numbered])
        made[both] = name_made(gr, crm, gi[both], ci[both])
        with_mail = max(int(crm.usable.sum()), 1)
        own = M_OWN_LOCAL * with_mail / np.maximum(crm.frequency("local")[ci[moved]], 1)
        factor[moved] = np.where(made[moved], F_NAME_LOCAL, own)
        factor[numbered] = np.where(made[numbered], F_NAME_DIGITS, F_OTHER_DIGITS)
    return PRIOR * m * factor


def odds_score(odds: np.ndarray) -> np.ndarray:
    """The odds as a 0-100 score (the chance in percent), capped below a link's."""
    return np.minimum(np.rint(100 * odds / (1 + odds)), WEAK_SCORE_CAP)


__all__ = ["PRIOR", "name_made", "odds_score", "weak_odds"]
