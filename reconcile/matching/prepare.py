"""Turn the two input frames into comparable columns: emails normalized, names folded.

Everything that runs on every contact of both sides (a million each in the benchmark) stays in
Arrow arrays and Arrow kernels. Python strings are only made for the rows a later step really
looks at (``Side.at``), and values derived for fuzzy matching only (digits of the local part,
words sorted ...) are computed on those rows alone.
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
    EMAIL_NORMALIZED,
    EMAIL_VALID,
    email_key,
    normalize_emails,
    repair_email,
    split_at,
    split_email,
)
from reconcile.matching.domains import correct_domains

STRING = pa.large_string()
_SPACE = pa.scalar(" ", STRING)
_EMPTY = pa.scalar("", STRING)
_LIGATURES = (("œ", "oe"), ("æ", "ae"), ("ø", "o"), ("ł", "l"), ("đ", "d"), ("ß", "ss"))


@dataclass
class Side:
    """One side's contacts, position i of every column being contact i.

    String columns are Arrow arrays ("" rather than null); read them with ``at``.
    """

    n: int
    valid: np.ndarray  # bool: the email is usable as written
    invalid_reason: np.ndarray  # object: "" when valid
    has_name: np.ndarray  # bool
    first_len: np.ndarray  # int: characters of the folded first name
    last_len: np.ndarray  # int
    email_normalized: pa.Array
    key: pa.Array  # email_key ("" when invalid)
    local: pa.Array  # local part of the key, with the corrected domain's rules
    domain: pa.Array  # domain of the key, as written
    fixed_domain: pa.Array  # domain after typo correction
    full: pa.Array  # folded full name
    first: pa.Array  # folded first name
    last: pa.Array  # folded last name
    repaired: np.ndarray  # bool: key, local and domain come from repair_email
    guessed_repair: np.ndarray  # bool: that repair dropped a space (a guess)
    namesakes: np.ndarray | None = None  # int: contacts of this side with the same full name
    _counts: dict[str, np.ndarray] | None = None

    @property
    def usable(self) -> np.ndarray:
        """An address to compare: valid as written, or repaired (``repair_email``)."""
        return self.valid | self.repaired

    def frequency(self, field: str) -> np.ndarray:
        """Per contact, how many contacts of this side share its value of ``field`` (a column
        or a ``DERIVED`` one; empty values count 0): the term frequencies of probabilistic
        linkage, computed once per field over the whole side."""
        self._counts = self._counts or {}
        if field not in self._counts:
            if field in DERIVED:
                arr = pa.array(self.at(field, np.arange(self.n)), type=STRING)
            else:
                arr = getattr(self, field)
            encoded = pc.dictionary_encode(arr)
            codes = encoded.indices.to_numpy(zero_copy_only=False)
            counts = np.bincount(codes, minlength=len(encoded.dictionary))[codes]
            empty = pc.equal(arr, _EMPTY).to_numpy(zero_copy_only=False)
            self._counts[field] = np.where(empty, 0, counts)
        return self._counts[field]

    def at(self, field: str, index: np.ndarray) -> np.ndarray:
        """Values of a column (or of a derived one, see ``DERIVED``) at ``index``, as an
        object array of Python strings (ints for lengths)."""
        if field in DERIVED:
            uniq, inverse = np.unique(index, return_inverse=True)
            values = DERIVED[field](self, pa.array(uniq))
            return to_numpy(values)[inverse]
        return to_numpy(getattr(self, field).take(pa.array(index)))


def to_numpy(arr: pa.Array) -> np.ndarray:
    """An Arrow array as numpy: ints as they are, strings as an object array."""
    if pa.types.is_integer(arr.type):
        return arr.to_numpy(zero_copy_only=False)
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)


def _glue(arr: pa.Array) -> pa.Array:
    return pc.replace_substring(arr, " ", "")


def _join(a: pa.Array, b: pa.Array, sep: pa.Scalar = _SPACE) -> pa.Array:
    return pc.utf8_trim_whitespace(pc.binary_join_element_wise(a, b, sep))


DERIVED = {
    # Names written without spaces ("山田直樹", "DupontJean") compare glued.
    "glued": lambda s, i: _glue(s.full.take(i)),
    "glued_fl": lambda s, i: _join(_glue(s.first.take(i)), _glue(s.last.take(i)), _EMPTY),
    "glued_lf": lambda s, i: _join(_glue(s.last.take(i)), _glue(s.first.take(i)), _EMPTY),
    "initial": lambda s, i: pc.utf8_slice_codeunits(s.first.take(i), 0, 1),
    "name_key": lambda s, i: sorted_words(s.full.take(i), " "),
    # "dupont j": last name and first initial, also read the other way round ("j dupont").
    "last_initial": lambda s, i: _join(
        s.last.take(i), pc.utf8_slice_codeunits(s.first.take(i), 0, 1)
    ),
    "first_initial": lambda s, i: _join(
        s.first.take(i), pc.utf8_slice_codeunits(s.last.take(i), 0, 1)
    ),
    "digits": lambda s, i: pc.replace_substring_regex(s.local.take(i), r"\D+", ""),
    # "anne.lepage+news" -> "anne.lepage": a sub-address (RFC 5233), whatever the provider.
    "untagged": lambda s, i: pc.replace_substring_regex(s.local.take(i), r"^([^+]+)\+.*$", r"\1"),
    # The letters of the local part alone: "jean.dupont2" -> "jeandupont".
    "letters": lambda s, i: pc.replace_substring_regex(s.local.take(i), r"[^\p{L}]+", ""),
    "last_glued": lambda s, i: _glue(s.last.take(i)),
    "first_glued": lambda s, i: _glue(s.first.take(i)),
    "bare": lambda s, i: pc.replace_substring_regex(s.local.take(i), r"[._-]+", ""),
    "local_len": lambda s, i: pc.utf8_length(s.local.take(i)),
    "reordered": lambda s, i: sorted_words(s.local.take(i), r"[._+-]+"),
}


def _strings(values: pd.Series | None, n: int) -> pa.Array:
    """A column as one contiguous Arrow string array, "" for missing values."""
    if values is None:
        return pa.array([""] * n, type=STRING)
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        values = values.astype("str")
    arr = pa.array(values.array, type=STRING, from_pandas=True)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return pc.fill_null(arr, _EMPTY)


def fold_names(arr: pa.Array) -> pa.Array:
    """Lowercase, accents and punctuation removed, single spaces: 'Lœtitia  Le-Bœuf' ->
    'loetitia le boeuf'. Letters of other scripts are kept (lowercased)."""
    arr = pc.fill_null(arr, _EMPTY)
    non_ascii = pc.invert(pc.string_is_ascii(arr))
    if pc.any(non_ascii).as_py():
        sub = pc.utf8_lower(arr.filter(non_ascii))
        for old, new in _LIGATURES:
            sub = pc.replace_substring(sub, old, new)
        sub = pc.replace_substring_regex(pc.utf8_normalize(sub, "NFKD"), r"\p{Mn}+", "")
        arr = pc.replace_with_mask(arr, non_ascii, sub.cast(arr.type))
    arr = pc.ascii_lower(arr)
    arr = pc.replace_substring_regex(arr, r"[^\p{L}\p{N}]+", " ")
    return pc.utf8_trim_whitespace(arr)


def sorted_words(arr: pa.Array, separator: str) -> pa.Array:
    """Words sorted and joined by a space, "" for fewer than two words: 'jean.dupont' and
    'dupont_jean' both give 'dupont jean'. Two-word values (nearly all) stay in Arrow."""
    words = pc.split_pattern_regex(pc.fill_null(arr, _EMPTY), separator)
    count = pc.list_value_length(words).to_numpy(zero_copy_only=False)
    two = pa.array(count == 2)
    a = pc.list_element(pc.filter(words, two), 0)
    b = pc.list_element(pc.filter(words, two), 1)
    pair = pc.if_else(pc.less_equal(a, b), _join(a, b), _join(b, a))
    out = np.full(len(arr), "", dtype=object)
    out[count == 2] = to_numpy(pair)
    many = np.flatnonzero(count > 2)
    if len(many):
        lists = pc.take(words, pa.array(many)).to_pylist()
        out[many] = [" ".join(sorted(w for w in ws if w)) for ws in lists]
    return pa.array(out, type=STRING)


def _first_rest(full: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Naive split of a folded name: first word, then the rest (used without split_names)."""
    first = pc.replace_substring_regex(full, r" .*$", "")
    rest = pc.replace_substring_regex(full, r"^[^ ]* ?", "")
    return first, rest


def _side(
    n: int, emails: pd.Series | None, full: pa.Array, first: pa.Array, last: pa.Array
) -> Side:
    norm = normalize_emails(emails if emails is not None else pd.Series([None] * n, dtype="str"))
    key = _strings(norm[EMAIL_KEY], n)
    valid = norm[EMAIL_VALID].to_numpy(dtype=bool)
    # A broken address (a..b@, x@gmail,com) is compared as a person would read it.
    normalized = norm[EMAIL_NORMALIZED]
    broken = np.flatnonzero(~valid & normalized.notna().to_numpy(dtype=bool))
    repaired = np.zeros(n, dtype=bool)
    guessed = np.zeros(n, dtype=bool)
    if len(broken):
        fixed = [repair_email(v) for v in normalized.iloc[broken].tolist()]
        ok = np.array([f is not None for f in fixed], dtype=bool)
        if ok.any():
            rows = broken[ok]
            repaired[rows] = True
            texts = normalized.iloc[rows].tolist()
            guessed[rows] = [any(ch.isspace() for ch in t.rpartition("@")[0]) for t in texts]
            mask = np.zeros(n, dtype=bool)
            mask[rows] = True
            keys = [email_key(f) for f in fixed if f is not None]
            key = pc.replace_with_mask(key, pa.array(mask), pa.array(keys, type=STRING))
    local, domain = split_at(key)
    return Side(
        n=n,
        valid=valid,
        repaired=repaired,
        guessed_repair=guessed,
        invalid_reason=norm[EMAIL_INVALID_REASON].to_numpy(dtype=object),
        has_name=pc.not_equal(full, _EMPTY).to_numpy(zero_copy_only=False),
        first_len=pc.utf8_length(first).to_numpy(zero_copy_only=False),
        last_len=pc.utf8_length(last).to_numpy(zero_copy_only=False),
        email_normalized=_strings(norm[EMAIL_NORMALIZED], n),
        key=key,
        local=local,
        domain=domain,
        fixed_domain=domain,
        full=full,
        first=first,
        last=last,
    )


def prepare_gr(gr: pd.DataFrame) -> Side:
    """GetResponse side: first and last name from ``reconcile.names.split_names`` when the
    frame has them (titles and suffixes then drop out), else the ``name`` column split naively
    at its first space (the comparisons also try the swapped order)."""
    n = len(gr)
    if model.FIRST_NAME in gr.columns or model.LAST_NAME in gr.columns:
        first = fold_names(_strings(gr.get(model.FIRST_NAME), n))
        last = fold_names(_strings(gr.get(model.LAST_NAME), n))
        full = _join(first, last)
        empty = pc.equal(full, _EMPTY)
        if model.NAME in gr.columns and pc.any(empty).as_py():  # e.g. a company name
            typed = fold_names(_strings(gr[model.NAME], n).filter(empty))
            full = pc.replace_with_mask(full, empty, typed)
    else:
        full = fold_names(_strings(gr.get(model.NAME), n))
        first, last = _first_rest(full)
    return _side(n, gr.get(model.EMAIL), full, first, last)


def prepare_crm(crm: pd.DataFrame) -> Side:
    """CRM side: first and last name fields; ``crm_name`` only when both are empty."""
    n = len(crm)
    first = fold_names(_strings(crm.get(model.CRM_FIRST_NAME), n))
    last = fold_names(_strings(crm.get(model.CRM_LAST_NAME), n))
    full = _join(first, last)
    if model.CRM_NAME in crm.columns:
        full = pc.if_else(
            pc.equal(full, _EMPTY), fold_names(_strings(crm[model.CRM_NAME], n)), full
        )
    side = _side(n, crm.get(model.CRM_EMAIL), full, first, last)
    encoded = pc.dictionary_encode(full).indices.to_numpy(zero_copy_only=False)
    side.namesakes = np.bincount(encoded)[encoded]
    return side


def correct_both(gr: Side, crm: Side) -> dict[str, str]:
    """Fix mistyped domains on both sides in place (``fixed_domain``, and ``local`` where the
    corrected domain has its own rules); returns the mapping used."""
    counts: Counter[str] = Counter()
    encodings = []
    for side in (gr, crm):
        encoded = pc.dictionary_encode(side.domain)
        encodings.append(encoded)
        codes = encoded.indices.to_numpy(zero_copy_only=False)[side.usable]
        found = np.bincount(codes, minlength=len(encoded.dictionary))
        counts.update(
            {
                d: int(c)
                for d, c in zip(encoded.dictionary.to_pylist(), found.tolist(), strict=True)
                if c
            }
        )
    mapping = correct_domains(counts, counts)
    if not mapping:
        return mapping
    for side, encoded in zip((gr, crm), encodings, strict=True):
        uniq = encoded.dictionary.to_pylist()
        fixed_uniq = pa.array([mapping.get(d, d) for d in uniq], type=STRING)
        side.fixed_domain = fixed_uniq.take(encoded.indices)
        changed = np.flatnonzero(
            pc.not_equal(side.fixed_domain, side.domain).to_numpy(zero_copy_only=False)
            & side.usable
        )
        if len(changed):
            # The corrected domain's own rules apply: gmial.com -> gmail.com drops the dots,
            # googlemail.con -> googlemail.com is gmail.com.
            locals_ = side.at("local", changed)
            domains = side.at("fixed_domain", changed)
            keys = [
                split_email(email_key(f"{lo}@{d}")) for lo, d in zip(locals_, domains, strict=True)
            ]
            mask = np.zeros(side.n, dtype=bool)
            mask[changed] = True
            mask = pa.array(mask)
            side.local = pc.replace_with_mask(
                side.local, mask, pa.array([k[0] for k in keys], type=STRING)
            )
            side.fixed_domain = pc.replace_with_mask(
                side.fixed_domain, mask, pa.array([k[1] for k in keys], type=STRING)
            )
    return mapping
