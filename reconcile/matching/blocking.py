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
* ``sub-address``: the same local part once a ``+tag`` is dropped, on the same (corrected)
  domain, whatever the provider (``anne.lepage+news@laposte.net``);
* ``same name``: the same folded full name, word order ignored; CRM contacts without any email
  get a block of their own, so that a common name does not hide them;
* ``last name and initial``: a GR name given with an initial ("J. Dupont") meets "Jean Dupont".

Blocks holding more than ``max_block`` CRM contacts are dropped: a name shared by a hundred
contacts says nothing about which one is meant.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from reconcile.matching.prepare import Side

_MIX = np.uint64(0x9E3779B97F4A7C15)
_BASE = np.uint64(1_000_003)
_WIDTH = 32  # characters of a local part taken into its deletion variants
_CHUNK = 200_000
_MIN_SHARED_LOCAL = 3  # local parts this long are looked up at other domains (capped blocks)


def join_equal(
    left: np.ndarray, right: np.ndarray, max_block: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) with ``left[i] == right[j]``: dense codes from ``codes`` (negative codes
    never match) or any hashable values (factorized first).

    Groups where the right side holds more than ``max_block`` rows are skipped.
    """
    if left.dtype != np.int64 or right.dtype != np.int64:
        left, right = codes(left, right)
    size = int(max(left.max(initial=-1), right.max(initial=-1))) + 1
    counts = np.bincount(right[right >= 0], minlength=size)
    order = np.argsort(right, kind="stable")  # the -1 codes come first
    starts = np.cumsum(counts) - counts + int((right < 0).sum())
    known = left >= 0
    safe = np.where(known, left, 0)
    take = np.where(known, counts[safe] if size else 0, 0)
    if max_block is not None:
        take[take > max_block] = 0
    total = int(take.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    li = np.repeat(np.arange(len(left), dtype=np.int64), take)
    first = np.repeat(starts[safe] - np.cumsum(take) + take, take)
    ri = order[first + np.arange(total, dtype=np.int64)]
    return li, ri.astype(np.int64)


def codes(*columns: np.ndarray | pa.Array) -> list[np.ndarray]:
    """Factorize several arrays of values into one shared dense code space (-1 for null or
    empty strings). Arrow string arrays are encoded in Arrow, the rest with pandas."""
    lengths = [len(c) for c in columns]
    if all(isinstance(c, pa.Array) for c in columns):
        encoded = pc.dictionary_encode(pa.concat_arrays(list(columns)))
        all_codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        all_codes = all_codes.astype(np.int64)
        dictionary = encoded.dictionary
        if pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type):
            # Found in Arrow: the dictionary (a million keys) is never made Python strings.
            empty = pc.index(dictionary, pa.scalar("", dictionary.type)).as_py()
            if empty >= 0:
                all_codes[all_codes == empty] = -1
        return np.split(all_codes, np.cumsum(lengths)[:-1])
    else:
        all_codes, uniques = pd.factorize(np.concatenate([np.asarray(c) for c in columns]))
    all_codes = all_codes.astype(np.int64)
    if uniques.dtype == object or uniques.dtype.kind == "U":
        empty = np.flatnonzero(np.asarray(uniques, dtype=object) == "")
        if len(empty):
            all_codes[all_codes == empty[0]] = -1
    return np.split(all_codes, np.cumsum(lengths)[:-1])


def _byte_matrix(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes of each string in a zero-padded (n, _WIDTH) uint64 matrix, and lengths,
    read straight from the Arrow buffers."""
    values = pc.fill_null(values, "").cast(pa.large_string())
    _, offsets_buf, data_buf = values.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[
        values.offset : values.offset + len(values) + 1
    ]
    blob = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(1, np.uint8)
    )
    starts, lengths = offsets[:-1], np.minimum(np.diff(offsets), _WIDTH)
    cols = np.arange(_WIDTH)
    inside = cols[None, :] < lengths[:, None]
    matrix = np.zeros((len(values), _WIDTH), dtype=np.uint64)
    matrix[inside] = blob[(starts[:, None] + cols[None, :])[inside]]
    return matrix, lengths


def deletion_hashes(
    local: pa.Array, domain_codes: np.ndarray, min_length: int
) -> tuple[np.ndarray, np.ndarray]:
    """(row, hash) for each local part and each of its one-deletion variants, salted with
    the domain, for local parts of at least ``min_length`` characters.

    A string t hashes to sum(t[k] * B**(k+1)); deleting position i of s gives
    prefix(s, i) + suffix(s, i+1) in that same scheme, so equal variants hash equal.
    """
    rows_out, hashes_out = [], []
    powers = _BASE ** np.arange(_WIDTH + 1, dtype=np.uint64)
    for start in range(0, len(local), _CHUNK):
        matrix, lengths = _byte_matrix(local.slice(start, _CHUNK))
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


def _has_both(keys: np.ndarray) -> np.ndarray:
    """A "last initial" key made of two words (a lone word would block on nothing useful)."""
    return pd.Series(keys, dtype=object).str.contains(" ", regex=False).to_numpy(dtype=bool)


def candidate_pairs(
    gr: Side, crm: Side, rows: np.ndarray, eligible: np.ndarray, *, max_block: int, min_typo: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (gr position, crm position) pairs worth scoring for the GR ``rows``.

    ``eligible`` marks the CRM contacts that may be proposed (those not already matched by
    an exact email). CRM contacts without a valid email are found by name only.
    """
    crm_all = np.flatnonzero(eligible)
    crm_mail = crm_all[crm.usable[crm_all]]
    crm_none = crm_all[~crm.usable[crm_all]]
    found: list[tuple[np.ndarray, np.ndarray]] = []

    def add(keys: Sequence[np.ndarray], lrows: np.ndarray, rrows: np.ndarray) -> None:
        """Pairs of ``lrows`` x ``rrows`` whose keys (left, right) are equal."""
        li, ri = join_equal(keys[0], keys[1], max_block)
        found.append((lrows[li], rrows[ri]))

    g_local, c_local = gr.at("local", rows), crm.at("local", crm_mail)
    g_dom, c_dom = gr.at("fixed_domain", rows), crm.at("fixed_domain", crm_mail)
    add(codes(g_local + "@" + g_dom, c_local + "@" + c_dom), rows, crm_mail)

    g_code, c_code = codes(g_dom, c_dom)
    g_rows, g_hash = deletion_hashes(gr.local.take(pa.array(rows)), g_code, min_typo)
    c_rows, c_hash = deletion_hashes(crm.local.take(pa.array(crm_mail)), c_code, min_typo)
    if len(g_hash) and len(c_hash):
        add((g_hash, c_hash), rows[g_rows], crm_mail[c_rows])

    g_un, c_un = gr.at("untagged", rows), crm.at("untagged", crm_mail)
    tagged_g, tagged_c = g_un != g_local, c_un != c_local
    if tagged_g.any() or tagged_c.any():
        add(codes(g_un + "@" + g_dom, c_un + "@" + c_dom), rows, crm_mail)

    g_re, c_re = gr.at("reordered", rows), crm.at("reordered", crm_mail)
    add(codes(np.where(g_re != "", g_re + "@" + g_dom, ""), c_re + "@" + c_dom), rows, crm_mail)

    long_g = np.where(gr.at("local_len", rows) >= _MIN_SHARED_LOCAL, g_local, "")
    add(codes(long_g, c_local), rows, crm_mail)

    g_names = gr.at("name_key", rows)
    add(codes(g_names, crm.at("name_key", crm_all)), rows, crm_all)
    if len(crm_none):
        add(codes(g_names, crm.at("name_key", crm_none)), rows, crm_none)

    # A GR name given with an initial ("J. Dupont", "Dupont J.") meets "Jean Dupont".
    initials = rows[(gr.first_len[rows] == 1) | (gr.last_len[rows] == 1)]
    if len(initials):
        c_initial = crm.at("last_initial", crm_all)
        for field in ("last_initial", "first_initial"):
            g_initial = gr.at(field, initials)
            g_initial = np.where(_has_both(g_initial), g_initial, "")
            add(codes(g_initial, c_initial), initials, crm_all)

    gi = np.concatenate([f[0] for f in found])
    ci = np.concatenate([f[1] for f in found])
    pair = np.unique(gi * np.int64(crm.n) + ci)
    return pair // crm.n, pair % crm.n
