"""Reasons a person can read: "email typo gmial.com→gmail.com, same last name".

Identical-mailbox pairs (most of a base) get their reason from a small table, vectorized;
fuzzy pairs, far fewer, are described one by one with the actual strings that differ.
"""

from __future__ import annotations

import numpy as np

from reconcile.emails import split_email
from reconcile.matching.prepare import Side
from reconcile.matching.scoring import EXACT, FUZZY, KEY, Pairs

_GMAIL = "same Gmail address once dots and +tag are ignored"
_PROTON = "same Proton Mail address once dots, dashes and +tag are ignored"
_PLUS = "same address once the +tag is ignored"


def name_phrases(p: Pairs, gr: Side, crm: Side) -> np.ndarray:
    """What the names say, for every pair (vectorized)."""
    g_has, c_has = gr.has_name[p.gi], crm.has_name[p.ci]
    conditions = [
        ~g_has,
        ~c_has,
        p.name_sim >= 95,
        p.swapped & p.first_ok & p.last_ok,
        p.first_ok & p.last_ok,
        p.last_ok & ~p.first_ok,
        p.first_ok & ~p.last_ok,
    ]
    choices = [
        "no name in GetResponse",
        "no name in the CRM",
        "same name",
        "first and last name swapped",
        "similar name",
        "same last name, different first name",
        "same first name, different last name",
    ]
    return np.select(conditions, choices, default="different name").astype(object)


def mailbox_phrases(p: Pairs, gr: Side) -> np.ndarray:
    """The email evidence of EXACT and KEY pairs (vectorized); "" for fuzzy pairs."""
    domain = gr.domain[p.gi]
    key_text = np.where(
        domain == "gmail.com",
        _GMAIL,
        np.where(np.isin(domain, ["protonmail.com", "protonmail.ch", "proton.me", "pm.me"]),
                 _PROTON, _PLUS),
    )  # fmt: skip
    return np.where(p.kind == EXACT, "exact email", np.where(p.kind == KEY, key_text, "")).astype(
        object
    )


def _fuzzy_email_phrase(p: Pairs, i: int, gr: Side, crm: Side) -> str:
    g, c = int(p.gi[i]), int(p.ci[i])
    if not crm.valid[c]:
        return "the CRM contact has no email"
    g_local, g_dom = split_email(gr.email_normalized[g])
    c_local, c_dom = split_email(crm.email_normalized[c])
    if p.same_domain[i]:
        if p.local_equal[i]:
            typo, fixed = (c_dom, g_dom) if crm.fixed_domain[c] != c_dom else (g_dom, c_dom)
            return f"email typo {typo}→{fixed}"
        if p.digits_differ[i]:
            return f"emails differ in their digits ({g_local}@ vs {c_local}@)"
        if p.separators[i]:
            return f"emails differ by a separator ({g_local}@ vs {c_local}@)"
        if p.one_edit[i]:
            return f"email typo {g_local}→{c_local}"
        return f"similar email ({g_local}@ vs {c_local}@)"
    if p.local_equal[i]:
        return f"same local part at another domain ({g_dom} vs {c_dom})"
    if p.email_sim[i] >= 60:
        return f"similar email at another domain ({_email(gr, g)} vs {_email(crm, c)})"
    return "different email"


def _email(side: Side, i: int) -> str:
    return str(side.email_normalized[i])


def pair_reasons(p: Pairs, index: np.ndarray, gr: Side, crm: Side) -> list[str]:
    """Reasons of the pairs at ``index``: email evidence, then name evidence."""
    names = name_phrases(p.take(index), gr, crm)
    boxes = mailbox_phrases(p.take(index), gr)
    out = []
    for j, i in enumerate(index.tolist()):
        email = boxes[j] if p.kind[i] != FUZZY else _fuzzy_email_phrase(p, i, gr, crm)
        out.append(f"{email}, {_detail(names[j], p, i, gr, crm)}")
    return out


def _detail(phrase: str, p: Pairs, i: int, gr: Side, crm: Side) -> str:
    g, c = int(p.gi[i]), int(p.ci[i])
    if phrase == "same last name, different first name":
        g_first = gr.last[g] if p.swapped[i] else gr.first[g]
        return f"same last name, different first name ({g_first} vs {crm.first[c]})"
    if phrase == "different name":
        return f"different name ({gr.full[g]} vs {crm.full[c]})"
    return phrase


def bulk_reasons(p: Pairs, gr: Side, crm: Side) -> np.ndarray:
    """Reasons for identical-mailbox pairs, without per-pair Python (used for link rows)."""
    return (mailbox_phrases(p, gr) + ", " + name_phrases(p, gr, crm)).astype(object)


__all__ = ["EXACT", "KEY", "bulk_reasons", "name_phrases", "pair_reasons"]
