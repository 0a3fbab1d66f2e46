"""Reasons a person can read: "email typo gmial.com→gmail.com, same last name".

Identical-mailbox pairs (most of a base) get their reason from a small table, vectorized;
fuzzy pairs, far fewer, are described one by one with the actual strings that differ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from reconcile.emails import PROTON_DOMAINS, split_at
from reconcile.matching.prepare import Side, to_numpy
from reconcile.matching.scoring import FUZZY, KEY, Pairs

_GMAIL = "same Gmail address once dots and +tag are ignored"
_PROTON = "same Proton Mail address once dots, dashes and +tag are ignored"
_PLUS = "same address once the +tag is ignored"


NAME_PHRASES = (
    "no name in GetResponse",
    "no name in the CRM",
    "same name",
    "first and last name swapped",
    "similar name",
    "same last name, different first name",
    "same first name, different last name",
    "different name",
)
MAILBOX_PHRASES = ("exact email", _GMAIL, _PROTON, _PLUS)
_PAIRED = np.array([f"{m}, {n}" for m in MAILBOX_PHRASES for n in NAME_PHRASES], dtype=object)


def name_codes(p: Pairs, gr: Side, crm: Side) -> np.ndarray:
    """What the names say, as an index into NAME_PHRASES, for every pair (vectorized)."""
    conditions = [
        ~gr.has_name[p.gi],
        ~crm.has_name[p.ci],
        p.first_ok & p.last_ok & (p.name_sim >= 95),
        p.swapped & p.first_ok & p.last_ok,
        p.first_ok & p.last_ok,
        p.last_ok & ~p.first_ok,
        p.first_ok & ~p.last_ok,
    ]
    return np.select(conditions, np.arange(7), default=7)


def mailbox_codes(p: Pairs, gr: Side) -> np.ndarray:
    """The email evidence of EXACT and KEY pairs, as an index into MAILBOX_PHRASES."""
    out = np.zeros(len(p), dtype=np.int64)
    key = np.flatnonzero(p.kind == KEY)
    if len(key):
        domain = pd.Series(gr.at("domain", p.gi[key]))
        out[key] = np.where(domain == "gmail.com", 1, np.where(domain.isin(PROTON_DOMAINS), 2, 3))
    return out


def _fuzzy_email_phrases(p: Pairs, gr: Side, crm: Side) -> np.ndarray:
    """The email evidence of fuzzy pairs, with the strings that differ (vectorized)."""
    same, equal = p.same_domain, p.local_equal
    repaired = gr.repaired[p.gi] | crm.repaired[p.ci]
    category = np.select(
        [~crm.usable[p.ci], same & equal & repaired, same & equal, same & p.subaddress,
         same & p.digits_differ, same & p.separators, same & p.one_edit, same, equal,
         p.email_sim >= 60],
        np.arange(10), default=10,
    )  # fmt: skip
    g_mail = gr.email_normalized.take(pa.array(p.gi))
    c_mail = crm.email_normalized.take(pa.array(p.ci))
    g_local, g_dom = (to_numpy(a) for a in split_at(g_mail))
    c_local, c_dom = (to_numpy(a) for a in split_at(c_mail))
    g_mail, c_mail = to_numpy(g_mail), to_numpy(c_mail)
    crm_typo = crm.at("fixed_domain", p.ci) != crm.at("domain", p.ci)
    typo, fixed = np.where(crm_typo, c_dom, g_dom), np.where(crm_typo, g_dom, c_dom)
    g_key, c_key = gr.at("key", p.gi), crm.at("key", p.ci)
    broken = np.where(gr.repaired[p.gi], g_mail, c_mail)
    reading = np.where(gr.repaired[p.gi], g_key, c_key)
    texts = [
        lambda: np.full(len(p), "the CRM contact has no email", dtype=object),
        lambda: "broken address " + broken + " read as " + reading,
        lambda: "email typo " + typo + "→" + fixed,
        lambda: "same address once the +tag is ignored (" + g_local + "@ vs " + c_local + "@)",
        lambda: "emails differ in their digits (" + g_local + "@ vs " + c_local + "@)",
        lambda: "emails differ by a separator (" + g_local + "@ vs " + c_local + "@)",
        lambda: "email typo " + g_local + "→" + c_local,
        lambda: "similar email (" + g_local + "@ vs " + c_local + "@)",
        lambda: "same local part at another domain (" + g_dom + " vs " + c_dom + ")",
        lambda: "similar email at another domain (" + g_mail + " vs " + c_mail + ")",
        lambda: np.full(len(p), "different email", dtype=object),
    ]
    out = np.empty(len(p), dtype=object)
    for k, text in enumerate(texts):
        rows = category == k
        if rows.any():
            out[rows] = text()[rows]
    return out


def pair_reasons(p: Pairs, index: np.ndarray, gr: Side, crm: Side) -> np.ndarray:
    """Reasons of the pairs at ``index``: email evidence, then name evidence."""
    sub = p.take(index)
    codes = name_codes(sub, gr, crm)
    names = np.array(NAME_PHRASES, dtype=object)[codes]
    boxes = np.array(MAILBOX_PHRASES, dtype=object)[mailbox_codes(sub, gr)]
    fuzzy = np.flatnonzero(sub.kind == FUZZY)
    if len(fuzzy):
        boxes[fuzzy] = _fuzzy_email_phrases(sub.take(fuzzy), gr, crm)
    detail = np.flatnonzero((codes == 5) | (codes == 7))
    g_full, c_full = gr.at("full", sub.gi[detail]), crm.at("full", sub.ci[detail])
    g_first = np.where(
        sub.swapped[detail], gr.at("last", sub.gi[detail]), gr.at("first", sub.gi[detail])
    )
    c_first = crm.at("first", sub.ci[detail])
    for k, j in enumerate(detail.tolist()):
        if codes[j] == 7:
            names[j] = f"different name ({g_full[k]} vs {c_full[k]})"
        else:
            names[j] = f"same last name, different first name ({g_first[k]} vs {c_first[k]})"
    # On weak evidence the name is the clue: say how rare it is in this CRM.
    typo_like = sub.same_domain & (sub.local_equal | sub.subaddress | sub.one_edit)
    weak = np.flatnonzero((sub.kind == FUZZY) & ~typo_like & (codes == 2))
    if len(weak) and crm.namesakes is not None:
        bearing = crm.namesakes[sub.ci[weak]]
        names[weak] = np.where(
            bearing > 1,
            "same name (" + bearing.astype(str).astype(object) + " CRM contacts bear it)",
            "same name (the only CRM contact bearing it)",
        )
    return boxes + ", " + names


def bulk_reasons(p: Pairs, gr: Side, crm: Side) -> np.ndarray:
    """Reasons for identical-mailbox pairs from a small table (used for link rows)."""
    return _PAIRED[mailbox_codes(p, gr) * len(NAME_PHRASES) + name_codes(p, gr, crm)]


__all__ = ["bulk_reasons", "name_codes", "pair_reasons"]
