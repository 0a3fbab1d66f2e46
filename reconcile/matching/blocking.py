"""Candidate pairs for the fuzzy residue, without ever comparing all pairs.

Each pass is an equality join on a derived key, so its cost grows with the number of
contacts, not their product:

* ``fixed key``: the address once mistyped domains are corrected (``gmial.com`` -> gmail.com);
* ``one edit``: local parts one insert/delete/substitute/swap apart on the same (corrected)
  domain, found through shared one-deletion variants hashed with numpy (a SymSpell-style
  index, https://github.com/wolfgarbe/SymSpell);
* ``reordered``: the same words in the local part in another order or with other separators
  (``dupont.jean`` vs ``jean_dupont``);
* ``same local part``: the same local part at another provider (``jean.dupont@orange.fr`` vs
  ``jean.dupont@wanadoo.fr``);
* ``same name``: the same folded full name, word order ignored (this also finds CRM contacts
  without any email).

Blocks holding more than ``max_block`` CRM contacts are dropped: a name shared by a hundred
contacts says nothing about which one is meant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reconcile.matching.prepare import Side

_MIX = np.uint64(0x9E3779B97F4A7C15)
_BASE = np.uint64(1_000_003)
_WIDTH = 32  # characters of a local part taken into its deletion variants
_CHUNK = 200_000


def join_equal(
    left: np.ndarray, right: np.ndarray, max_block: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) with ``left[i] == right[j]`` (codes or hashes; negative codes never match).

    Groups where the right side holds more than ``max_block`` rows are skipped.
    """
    order = np.argsort(right, kind="stable")
    ordered = right[order]
    lo = np.searchsorted(ordered, left, side="left")
    hi = np.searchsorted(ordered, left, side="right")
    counts = hi - lo
    if left.dtype.kind == "i":
        counts[left < 0] = 0
    if max_block is not None:
        counts[counts > max_block] = 0
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    li = np.repeat(np.arange(len(left), dtype=np.int64), counts)
    starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
    ri = order[starts + np.arange(total, dtype=np.int64)]
    return li, ri.astype(np.int64)


def codes(*columns: np.ndarray) -> list[np.ndarray]:
    """Factorize several arrays of values into one shared integer code space (-1 for null
    or empty)."""
    lengths = [len(c) for c in columns]
    values = pd.Series(np.concatenate(columns)).astype("str")
    values = values.where(values != "")
    all_codes, _ = pd.factorize(values, use_na_sentinel=True)
    return np.split(all_codes.astype(np.int64), np.cumsum(lengths)[:-1])


def _byte_matrix(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes of each string in a zero-padded (n, _WIDTH) uint64 matrix, and lengths."""
    encoded = pd.Series(values).astype("str").str.encode("utf-8")
    lengths = encoded.str.len().fillna(0).to_numpy(dtype=np.int64)
    blob = np.frombuffer(b"".join(encoded.fillna(b"").tolist()), dtype=np.uint8)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    lengths = np.minimum(lengths, _WIDTH)
    cols = np.arange(_WIDTH)
    inside = cols[None, :] < lengths[:, None]
    matrix = np.zeros((len(values), _WIDTH), dtype=np.uint64)
    matrix[inside] = blob[(starts[:, None] + cols[None, :])[inside]]
    return matrix, lengths


def deletion_hashes(
    local: np.ndarray, domain_codes: np.ndarray, min_length: int
) -> tuple[np.ndarray, np.ndarray]:
    """(row, hash) for each local part and each of its one-deletion variants, salted with
    the domain, for local parts of at least ``min_length`` characters.

    A string t hashes to sum(t[k] * B**(k+1)); deleting position i of s gives
    prefix(s, i) + suffix(s, i+1) in that same scheme, so equal variants hash equal.
    """
    rows_out, hashes_out = [], []
    powers = _BASE ** np.arange(_WIDTH + 1, dtype=np.uint64)
    for start in range(0, len(local), _CHUNK):
        part = local[start : start + _CHUNK]
        matrix, lengths = _byte_matrix(part)
        keep = lengths >= min_length
        if not keep.any():
            continue
        matrix, lengths = matrix[keep], lengths[keep]
        rows = np.flatnonzero(keep) + start
        salt = domain_codes[rows].astype(np.uint64) * _MIX
        with np.errstate(over="ignore"):
            prefix = np.zeros((len(rows), _WIDTH + 1), dtype=np.uint64)
            np.cumsum(matrix * powers[1:], axis=1, out=prefix[:, 1:])
            suffix = np.zeros((len(rows), _WIDTH + 1), dtype=np.uint64)
            suffix[:, :_WIDTH] = np.cumsum((matrix * powers[:-1])[:, ::-1], axis=1)[:, ::-1]
            deleted = prefix[:, :_WIDTH] + suffix[:, 1:]
            full = prefix[np.arange(len(rows)), lengths]
            variants = np.concatenate([full[:, None], deleted], axis=1) ^ salt[:, None]
        valid = np.concatenate(
            [np.ones((len(rows), 1), bool), np.arange(_WIDTH)[None, :] < lengths[:, None]],
            axis=1,
        )
        rows_out.append(np.broadcast_to(rows[:, None], valid.shape)[valid])
        hashes_out.append(variants[valid])
    if not rows_out:
        return np.empty(0, np.int64), np.empty(0, np.uint64)
    return np.concatenate(rows_out), np.concatenate(hashes_out)


def _reordered(local: np.ndarray) -> np.ndarray:
    """'dupont_jean' and 'jean.dupont' -> 'dupont jean' (words sorted, separators ignored)."""
    words = pd.Series(local).astype("str").str.split(r"[._\-+]+", regex=True)
    return np.asarray(
        [" ".join(sorted(w)) if isinstance(w, list) and len(w) > 1 else "" for w in words],
        dtype=object,
    )


def _name_key(full: np.ndarray) -> np.ndarray:
    words = pd.Series(full).astype("str").str.split(" ")
    return np.asarray(
        [" ".join(sorted(w)) if isinstance(w, list) and len(w) > 1 else "" for w in words],
        dtype=object,
    )


def candidate_pairs(
    gr: Side, crm: Side, rows: np.ndarray, eligible: np.ndarray, *, max_block: int, min_typo: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (gr position, crm position) pairs worth scoring for the GR ``rows``.

    ``eligible`` marks the CRM contacts that may be proposed (those not already matched by
    an exact email). CRM contacts without a valid email are found by name only.
    """
    crm_all = np.flatnonzero(eligible)
    crm_mail = crm_all[crm.valid[crm_all]]
    found: list[tuple[np.ndarray, np.ndarray]] = []

    def add(left: np.ndarray, right: np.ndarray, lrows: np.ndarray, rrows: np.ndarray) -> None:
        li, ri = join_equal(left, right, max_block)
        found.append((lrows[li], rrows[ri]))

    g_fixed = gr.local[rows] + "@" + gr.fixed_domain[rows]
    c_fixed = crm.local[crm_mail] + "@" + crm.fixed_domain[crm_mail]
    add(*codes(g_fixed, c_fixed), rows, crm_mail)

    g_dom, c_dom = codes(gr.fixed_domain[rows], crm.fixed_domain[crm_mail])
    g_rows, g_hash = deletion_hashes(gr.local[rows], g_dom, min_typo)
    c_rows, c_hash = deletion_hashes(crm.local[crm_mail], c_dom, min_typo)
    if len(g_hash) and len(c_hash):
        add(g_hash, c_hash, rows[g_rows], crm_mail[c_rows])

    g_re, c_re = _reordered(gr.local[rows]), _reordered(crm.local[crm_mail])
    add(*codes(g_re + "@" + gr.fixed_domain[rows], c_re + "@" + crm.fixed_domain[crm_mail]),
        rows, crm_mail)  # fmt: skip

    long_g = np.where(pd.Series(gr.local[rows]).str.len().to_numpy() >= min_typo,
                      gr.local[rows], "")  # fmt: skip
    add(*codes(long_g, crm.local[crm_mail]), rows, crm_mail)

    add(*codes(_name_key(gr.full[rows]), _name_key(crm.full[crm_all])), rows, crm_all)

    gi = np.concatenate([f[0] for f in found])
    ci = np.concatenate([f[1] for f in found])
    pair = np.unique(gi * np.int64(crm.n) + ci)
    return pair // crm.n, pair % crm.n
