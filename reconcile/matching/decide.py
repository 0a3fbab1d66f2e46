"""From scored pairs to one decision per GetResponse contact.

The rules, in the order they bite (docs/matching.md):

* no usable email -> ``invalid``;
* identical mailbox, one CRM contact, first names compatible -> ``link``;
* identical mailbox shared by several CRM contacts, or a clearly different first name ->
  ``review`` (a family or office mailbox: a person decides whom it belongs to);
* otherwise the best fuzzy candidate links only if its evidence is linkable (see
  ``scoring``), it scores at least ``link_threshold``, no runner-up is within ``margin``, its
  address is not shared in the CRM and no other GetResponse address claims the same contact;
* a best candidate scoring at least ``review_threshold`` -> ``review``; else ``new``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reconcile.matching.explain import bulk_reasons, pair_reasons
from reconcile.matching.options import MatchOptions
from reconcile.matching.prepare import Side
from reconcile.matching.scoring import KEY, Pairs
from reconcile.model import Decision

NO_CANDIDATE = "no CRM contact with this email or a similar one"


@dataclass
class Decisions:
    """Per GR row: decision, score, reason, chosen CRM position (-1: none); and the flat list
    of candidates (GR row, CRM position, score, reason) ordered by row then rank."""

    decision: np.ndarray
    score: np.ndarray
    reason: np.ndarray
    chosen: np.ndarray
    cand_row: np.ndarray
    cand_crm: np.ndarray
    cand_score: np.ndarray
    cand_reason: np.ndarray
    same_email: np.ndarray  # per GR row: CRM contacts holding its mailbox
    names_differ: np.ndarray  # per GR row: a link whose names do not agree


def decide(
    gr: Side, crm: Side, pairs: Pairs, shared: np.ndarray, options: MatchOptions
) -> Decisions:
    """Decide every GR row from its candidate ``pairs``; ``shared[c]`` counts the CRM
    contacts on CRM contact c's mailbox."""
    n = gr.n
    p = pairs.take(np.lexsort((pairs.ci, -pairs.kind, -pairs.score, pairs.gi)))
    starts = np.flatnonzero(np.r_[True, p.gi[1:] != p.gi[:-1]]) if len(p) else np.empty(0, int)
    sizes = np.diff(np.r_[starts, len(p)])
    rank = np.arange(len(p)) - np.repeat(starts, sizes)
    rows = p.gi[starts]

    decision = np.full(n, Decision.NEW.value, dtype=object)
    score = np.zeros(n, dtype=np.int64)
    reason = np.full(n, NO_CANDIDATE, dtype=object)
    # Equivalent mutants (bench/mutation.py): -2 for -1 and no dtype here (a row is linked
    # where chosen >= 0; the default is int64), None for the invalid reason (the "unusable"
    # line below sets it again), -1001 for -1000 (no runner-up either way), zip's strict.
    chosen = np.full(n, -1, dtype=np.int64)
    invalid = ~gr.valid
    decision[invalid] = Decision.INVALID.value
    reason[invalid] = gr.invalid_reason[invalid]

    best = starts
    b_score = p.score[best].astype(np.int64)
    second = np.where(sizes > 1, p.score[np.minimum(best + 1, len(p) - 1)], -1000)
    n_mailbox = np.bincount(p.gi[p.kind >= KEY], minlength=n)[rows]
    score[rows] = b_score

    is_mailbox = n_mailbox >= 1
    link_ok = p.linkable[best] & (b_score >= options.link_threshold)
    ambiguous = (~is_mailbox) & (b_score - second < options.margin)
    shared_box = (~is_mailbox) & (shared[p.ci[best]] > 1)
    settled = _settled_mailboxes(p, crm, rows, best, n_mailbox, gr.has_name[rows])
    propose = link_ok & ((n_mailbox <= 1) | settled) & ~ambiguous & ~shared_box
    conflict = _conflicts(gr, rows, p.ci[best], propose & ~is_mailbox)
    link = propose & ~conflict
    review = ~link & (is_mailbox | (b_score >= options.review_threshold))

    decision[rows[link]] = Decision.LINK.value
    decision[rows[review]] = Decision.REVIEW.value
    chosen[rows[link]] = p.ci[best[link]]

    # Candidates: the best few of link and review rows (identical mailboxes always listed).
    row_listed = np.zeros(n, dtype=bool)
    row_listed[rows[link | review]] = True
    keep = (
        row_listed[p.gi]
        & (rank < options.max_candidates)
        & ((p.score >= options.candidate_threshold) | (p.kind >= KEY) | (rank == 0))
    )
    cand = np.flatnonzero(keep)
    is_review = np.zeros(n, dtype=bool)
    is_review[rows[review]] = True
    reviewed = cand[is_review[p.gi[cand]]]

    # Reasons: table-driven for identical-mailbox links, spelled out (once per pair) for the
    # other rows and for the candidates a reviewer reads.
    mailbox_link = link & is_mailbox
    reason[rows[mailbox_link]] = bulk_reasons(p.take(best[mailbox_link]), gr, crm)
    named = mailbox_link & settled
    reason[rows[named]] = [
        f"{text}; {count} CRM contacts share this email, this one by name"
        for text, count in zip(reason[rows[named]], n_mailbox[named], strict=True)
    ]
    spelled = ~mailbox_link & (link | review | (b_score >= options.candidate_threshold))
    described = np.unique(np.concatenate([best[spelled], reviewed]))
    texts = pair_reasons(p, described, gr, crm)

    def text_of(index: np.ndarray) -> np.ndarray:
        return texts[np.searchsorted(described, index)]

    reason[rows[spelled]] = _row_reasons(
        text_of(best[spelled]),
        n_mailbox[spelled],
        p.kind[best[spelled]],
        review[spelled],
        link[spelled],
        b_score[spelled],
        second[spelled],
        ambiguous[spelled],
        shared_box[spelled],
        conflict[spelled],
        shared[p.ci[best[spelled]]],
        options,
    )
    # A broken address with no CRM contact to go with it stays what it is: unusable.
    unusable = (decision == Decision.INVALID.value) & ~gr.valid
    reason[unusable] = gr.invalid_reason[unusable]
    cand_reason = np.full(len(cand), "", dtype=object)
    cand_reason[is_review[p.gi[cand]]] = text_of(reviewed)
    same_email = np.zeros(n, dtype=np.int64)
    same_email[rows] = n_mailbox
    names_differ = np.zeros(n, dtype=bool)
    chosen_pair = best[link]
    names_differ[rows[link]] = p.has_names[chosen_pair] & ~(
        p.first_ok[chosen_pair] & p.last_ok[chosen_pair]
    )
    return Decisions(
        same_email=same_email,
        names_differ=names_differ,
        decision=decision,
        score=score,
        reason=reason,
        chosen=chosen,
        cand_row=p.gi[cand],
        cand_crm=p.ci[cand],
        cand_score=p.score[cand].astype(np.int64),
        cand_reason=cand_reason,
    )


def _conflicts(gr: Side, rows: np.ndarray, targets: np.ndarray, proposed: np.ndarray) -> np.ndarray:
    """True where a proposed fuzzy link's CRM contact is also proposed for another GR address
    (two different mailboxes cannot both be that person's)."""
    frame = pd.DataFrame({"crm": targets[proposed], "key": gr.at("key", rows[proposed])})
    distinct = frame.groupby("crm")["key"].transform("nunique").to_numpy()
    out = np.zeros(len(rows), dtype=bool)
    out[np.flatnonzero(proposed)] = distinct > 1
    return out


def _settled_mailboxes(
    p: Pairs,
    crm: Side,
    rows: np.ndarray,
    best: np.ndarray,
    n_mailbox: np.ndarray,
    named: np.ndarray,
) -> np.ndarray:
    """Rows whose mailbox several CRM contacts share, but whose name says which one it is.

    True when the best candidate is on that mailbox and either exactly one person there fits
    the GetResponse name (first and last name agree) while every other one clearly has another
    first name (Claire Martin on the Martins' family address), or every contact on it bears the
    same name (the CRM holds one person twice) and the GetResponse name, if any, is theirs.
    """
    out = np.zeros(len(rows), dtype=bool)
    many = np.flatnonzero((n_mailbox > 1) & (p.kind[best] >= KEY))
    if not len(many):
        return out
    at = np.flatnonzero(np.isin(p.gi, rows[many]) & (p.kind >= KEY))
    frame = pd.DataFrame(
        {
            "gi": p.gi[at],
            "fit": p.has_names[at] & p.first_ok[at] & p.last_ok[at],
            "other": ~p.first_ok[at],
            "name": crm.at("full", p.ci[at]),
        }
    )
    frame["fit_name"] = frame["name"].where(frame["fit"])
    stats = frame.groupby("gi").agg(
        n=("fit", "size"), fits=("fit", "sum"), others=("other", "sum"),
        names=("name", "nunique"), fit_names=("fit_name", "nunique"),
    )  # fmt: skip
    stats = stats.reindex(rows[many])  # equivalent mutant: None (groupby sorts gi like rows)
    one_fits = (stats["fits"] >= 1) & (stats["fit_names"] == 1)
    one_fits &= stats["others"] == stats["n"] - stats["fits"]
    twice = (stats["names"] == 1) & (~named[many] | (stats["fits"] == stats["n"]))
    out[many] = (one_fits | twice).to_numpy(dtype=bool) & p.linkable[best[many]]
    return out


def _row_reasons(
    texts: np.ndarray,
    n_mailbox: np.ndarray,
    kind: np.ndarray,
    review: np.ndarray,
    link: np.ndarray,
    b_score: np.ndarray,
    second: np.ndarray,
    ambiguous: np.ndarray,
    shared_box: np.ndarray,
    conflict: np.ndarray,
    shared: np.ndarray,
    options: MatchOptions,
) -> list[str]:
    out = []
    for i, text in enumerate(texts.tolist()):
        if link[i]:
            out.append(text)
        elif n_mailbox[i] > 1:
            what = "email" if kind[i] == 2 else "mailbox"
            out.append(f"{n_mailbox[i]} CRM contacts share this {what} (best: {text})")
        elif n_mailbox[i] == 1:
            out.append(f"{text}: shared mailbox?")
        elif review[i]:
            extra = []
            # Equivalent mutants: > 0, >= 1 (a runner-up at 0 is never within the margin of a
            # best scoring at least review_threshold).
            if ambiguous[i] and second[i] >= 0:
                extra.append(f"next candidate scores {second[i]}")
            if shared_box[i]:
                extra.append(f"{shared[i]} CRM contacts share that email")
            if conflict[i]:
                extra.append("another GetResponse address matches the same CRM contact")
            out.append(f"{text}; {'; '.join(extra)}" if extra else text)
        else:
            out.append(
                f"no close CRM contact (best scores {b_score[i]}, below "
                f"{options.review_threshold}: {text})"
            )
    return out
