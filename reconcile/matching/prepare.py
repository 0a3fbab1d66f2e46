"""Turn the two input frames into comparable arrays: emails normalized, names folded.

Everything here is vectorized with Arrow kernels because it runs on every row of both sides
(a million each in the benchmark); the per-pair work happens later on far fewer rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from reconcile import model
from reconcile.emails import (
    EMAIL_INVALID_REASON,
    EMAIL_KEY,
    EMAIL_VALID,
    email_key,
    normalize_emails,
    split_email,
)
from reconcile.matching.domains import correct_domains


@dataclass
class Side:
    """One side's contacts as positional arrays (row i of every array is contact i)."""

    n: int
    email_normalized: np.ndarray  # object: str or None
    valid: np.ndarray  # bool
    invalid_reason: np.ndarray  # object: "" when valid
    key: np.ndarray  # object: email_key, None when invalid
    local: np.ndarray  # object: local part of the key ("" when invalid)
    domain: np.ndarray  # object: domain of the key
    fixed_domain: np.ndarray  # object: domain after typo correction
    full: np.ndarray  # object: folded full name, "" when none
    first: np.ndarray  # object: folded first name
    last: np.ndarray  # object: folded last name
    has_name: np.ndarray  # bool


def _strings(values: pd.Series | None, n: int) -> pa.Array:
    if values is None:
        return pa.nulls(n, pa.large_string())
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        values = values.astype("str")
    return pa.array(values.array, type=pa.large_string(), from_pandas=True)


_SPACE = pa.scalar(" ", pa.large_string())
_LIGATURES = (("œ", "oe"), ("æ", "ae"), ("ø", "o"), ("ł", "l"), ("đ", "d"), ("ß", "ss"))


def fold_names(arr: pa.Array) -> pa.Array:
    """Lowercase, accents and punctuation removed, single spaces: 'Lœtitia  Le-Bœuf' ->
    'loetitia le boeuf'. Letters of other scripts are kept (lowercased)."""
    arr = pc.fill_null(arr, "")
    non_ascii = pc.invert(pc.string_is_ascii(arr))
    if pc.any(non_ascii).as_py():
        sub = pc.utf8_lower(arr.filter(non_ascii))
        for old, new in _LIGATURES:
            sub = pc.replace_substring(sub, old, new)
        sub = pc.replace_substring_regex(pc.utf8_normalize(sub, "NFKD"), r"\p{Mn}+", "")
        arr = pc.replace_with_mask(arr, non_ascii, sub.cast(arr.type))
    arr = pc.utf8_lower(arr)
    arr = pc.replace_substring_regex(arr, r"[^\p{L}\p{N}]+", " ")
    return pc.utf8_trim_whitespace(arr)


def _obj(arr: pa.Array) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)


def _first_rest(full: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Naive split of a folded name: first token, then the rest (used without split_names)."""
    first = pc.replace_substring_regex(full, r" .*$", "")
    rest = pc.replace_substring_regex(full, r"^[^ ]* ?", "")
    return first, rest


def _side(
    n: int,
    emails: pd.Series | None,
    full: pa.Array,
    first: pa.Array,
    last: pa.Array,
) -> Side:
    norm = normalize_emails(
        emails if emails is not None else pd.Series([None] * n, dtype="str")
    ).reset_index(drop=True)
    key = pa.array(norm[EMAIL_KEY].array, type=pa.large_string(), from_pandas=True)
    local = pc.fill_null(pc.replace_substring_regex(key, r"@[^@]*$", ""), "")
    domain = pc.fill_null(pc.replace_substring_regex(key, r"^.*@", ""), "")
    folded_full = fold_names(full)
    return Side(
        n=n,
        email_normalized=norm["email_normalized"].to_numpy(dtype=object, na_value=None),
        valid=norm[EMAIL_VALID].to_numpy(dtype=bool),
        invalid_reason=norm[EMAIL_INVALID_REASON].to_numpy(dtype=object),
        key=_obj(key),
        local=_obj(local),
        domain=_obj(domain),
        fixed_domain=_obj(domain),
        full=_obj(folded_full),
        first=_obj(fold_names(first)),
        last=_obj(fold_names(last)),
        has_name=_obj(folded_full).astype(bool),
    )


def prepare_gr(gr: pd.DataFrame) -> Side:
    """GetResponse side: ``name`` is the full name; ``first_name``/``last_name`` come from
    ``reconcile.names.split_names`` (a naive first-token split stands in when absent)."""
    n = len(gr)
    name = _strings(gr.get(model.NAME), n)
    first = _strings(gr.get(model.FIRST_NAME), n)
    last = _strings(gr.get(model.LAST_NAME), n)
    joined = pc.utf8_trim_whitespace(
        pc.binary_join_element_wise(pc.fill_null(first, ""), pc.fill_null(last, ""), _SPACE)
    )
    name = pc.fill_null(name, "")
    full = pc.if_else(pc.equal(pc.utf8_trim_whitespace(name), ""), joined, name)
    if model.FIRST_NAME not in gr.columns and model.LAST_NAME not in gr.columns:
        first, last = _first_rest(fold_names(full))
    return _side(n, gr.get(model.EMAIL), full, first, last)


def prepare_crm(crm: pd.DataFrame) -> Side:
    """CRM side: first and last name fields; ``crm_name`` only when both are empty."""
    n = len(crm)
    first = pc.fill_null(_strings(crm.get(model.CRM_FIRST_NAME), n), "")
    last = pc.fill_null(_strings(crm.get(model.CRM_LAST_NAME), n), "")
    joined = pc.utf8_trim_whitespace(pc.binary_join_element_wise(first, last, _SPACE))
    fallback = pc.fill_null(_strings(crm.get(model.CRM_NAME), n), "")
    full = pc.if_else(pc.equal(joined, ""), fallback, joined)
    return _side(n, crm.get(model.CRM_EMAIL), full, first, last)


def correct_both(gr: Side, crm: Side) -> dict[str, str]:
    """Fix mistyped domains on both sides in place (``fixed_domain``); returns the mapping."""
    counts: Counter[str] = Counter()
    for side in (gr, crm):
        counts.update(pd.Series(side.domain[side.valid]).value_counts().to_dict())
    mapping = correct_domains(counts, counts)
    if mapping:
        for side in (gr, crm):
            fixed = pd.Series(side.domain).map(mapping)
            side.fixed_domain = np.where(fixed.isna(), side.domain, fixed).astype(object)
            # The corrected domain's own rules apply: gmial.com -> gmail.com drops the dots.
            for i in np.flatnonzero(fixed.notna().to_numpy() & side.valid).tolist():
                side.local[i] = split_email(email_key(f"{side.local[i]}@{side.fixed_domain[i]}"))[0]
    return mapping
