"""Email normalization, syntax validation and the comparison key used to match contacts.

Three levels, from safest to most assertive:

* ``normalize_email``: what any mail system would agree is the same address — surrounding
  whitespace, invisible characters, Unicode form, letter case, a ``mailto:``/``<...>`` wrapper,
  a trailing dot on the domain, and the domain written in IDNA (punycode). Two contacts whose
  normalized emails are equal share a mailbox.
* ``is_valid_email``: the syntax of a deliverable address: a dot-atom local part, in ASCII or
  with letters of any script (internationalized addresses, RFC 6531: ``hélène@laposte.net``,
  ``зоя@mail.ru``), and a DNS domain with an alphabetic top-level label. It does not check that
  the mailbox exists.
* ``repair_email``: the address a person reads in a broken one (``arnaud..jacobs@me.com``,
  ``x@gmail,com``, ``x@@free.fr``): matching compares it, so a typo in the syntax does not hide
  a contact the CRM holds with the good address.
* ``email_key``: provider rules that are *documented as true* for that provider only:
  Gmail ignores dots and ``+tags`` and googlemail.com is gmail.com; Proton Mail ignores ``.``,
  ``_``, ``-`` and ``+tags``; Outlook.com/Hotmail, iCloud and Fastmail deliver ``+tags`` to the
  base address but dots are significant. Every other domain (Google Workspace, French ISPs,
  company domains) keeps its local part as is: ``j.smith@company.com`` and
  ``jsmith@company.com`` may be two people. Sources: docs/matching.md.

``normalize_emails`` does the same for a whole column with Arrow compute kernels, so that two
million addresses take a couple of seconds; the scalar functions are the reference it must agree
with (a property test checks it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING

import idna

if TYPE_CHECKING:  # imported where used: the scalar functions (the sync jobs) need none of them
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "EMAIL_INVALID_REASON",
    "EMAIL_KEY",
    "EMAIL_NORMALIZED",
    "EMAIL_VALID",
    "email_key",
    "invalid_reason",
    "is_valid_email",
    "normalize_email",
    "normalize_emails",
    "repair_email",
    "split_at",
    "split_email",
]

EMAIL_NORMALIZED = "email_normalized"
EMAIL_VALID = "email_valid"
EMAIL_KEY = "email_key"
EMAIL_INVALID_REASON = "email_invalid_reason"

# Characters that are invisible and never part of an address: zero-width space/joiners, word
# joiner, BOM, soft hyphen, Mongolian vowel separator, bidirectional marks. Removed anywhere.
_ZERO_WIDTH = [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD, 0x180E, 0x200E, 0x200F]
_ZERO_WIDTH += [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
# Space-like characters (ASCII whitespace, no-break and typographic spaces): trimmed at both
# ends; one left inside makes the address invalid.
_SPACES = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B)]
_SPACES += [0x2028, 0x2029, 0x202F, 0x205F, 0x3000]


# Equivalent mutants (bench/mutation.py): every mutant of _py_class and _re2_class — they run
# once, at import, to build the patterns, before mutmut can switch a mutant on; and the
# arrow-kernel details where pyarrow's default is the same value (fill_null(…, None) on a mask
# if_else treats as false, pa.array's inferred type for a string or bool column, a None scalar
# of the same type, zero_copy_only=None, from_pandas on an Arrow-backed column), or where the
# null rows come out null whatever the mask says of them (fill_null(…, True)); in _to_arrow,
# the storage test (astype("str") of a string column changes nothing). Named by the code:
# the rest.
def _py_class(points: list[int]) -> str:
    return "[" + "".join(f"\\u{p:04x}" for p in points) + "]"


def _re2_class(points: list[int]) -> str:
    return "[" + "".join(f"\\x{{{p:04x}}}" for p in points) + "]"


_PY_ZERO_WIDTH = re.compile(_py_class(_ZERO_WIDTH))
_PY_SPACE_CHARS = "".join(chr(p) for p in _SPACES)
# Leading spaces / "mailto:" / "<" and trailing spaces / ">" / "." (a fully qualified domain's
# final dot) are dropped in one pass, so that normalizing twice changes nothing.
_PY_WRAPPER = re.compile(rf"^(?:mailto:|<|{_py_class(_SPACES)})+|(?:>|\.|{_py_class(_SPACES)})+$")
_RE2_WRAPPER = rf"^(?:mailto:|<|{_re2_class(_SPACES)})+|(?:>|\.|{_re2_class(_SPACES)})+$"

# Syntax accepted as a deliverable marketing address (lowercase already applied).
_ATEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]"
_LOCAL = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_TLD = r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
VALID_PATTERN = rf"^{_LOCAL}@(?:{_LABEL}\.)+{_TLD}$"
_PY_VALID = re.compile(VALID_PATTERN)
_MAX_LOCAL, _MAX_TOTAL = 64, 254

# Provider rules for email_key. Only what each provider documents (see docs/matching.md).
_GMAIL = frozenset({"gmail.com", "googlemail.com"})
PROTON_DOMAINS = frozenset({"protonmail.com", "protonmail.ch", "proton.me", "pm.me"})
_PLUS_ONLY = frozenset(
    {
        *(f"hotmail.{tld}" for tld in ("com", "fr", "be", "ch", "co.uk", "de", "it", "es", "ca")),
        *(f"outlook.{tld}" for tld in ("com", "fr", "be", "de", "it", "es")),
        *(f"live.{tld}" for tld in ("com", "fr", "be", "ca", "co.uk")),
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "fastmail.com",
        "fastmail.fm",
    }
)


def _idna_domain(domain: str) -> str:
    """Punycode for a non-ASCII domain; unchanged if ASCII or not a valid IDN (then invalid)."""
    if domain.isascii():
        return domain
    try:
        # Equivalent mutants: uts46 off (the text is lowercase NFC already, and idna splits at
        # ideographic full stops itself), "ASCII" (codec names ignore case).
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return domain
    except UnicodeError:
        return domain


def normalize_email(raw: object) -> str | None:
    """The address as every mail system would write it, or None when nothing is left.

    Invalid input is still normalized (so a reviewer sees a clean value) and reported by
    ``is_valid_email``.
    """
    if raw is None or (isinstance(raw, float) and raw != raw):
        return None
    s = unicodedata.normalize("NFC", _PY_ZERO_WIDTH.sub("", str(raw)).lower())
    s = _PY_WRAPPER.sub("", s)
    if not s:
        return None
    # Equivalent mutant: ASCII through _idna_address too (it leaves an ASCII domain as is).
    return s if s.isascii() else _idna_address(s)


def _idna_address(s: str) -> str:
    local, at, domain = s.rpartition("@")
    return f"{local}@{_idna_domain(domain)}" if at else s


def split_email(normalized: str) -> tuple[str, str]:
    """(local part, domain) split at the last ``@``; ("", s) when there is no ``@``."""
    local, at, domain = normalized.rpartition("@")
    # Equivalent mutant: always (local, domain) (without "@", rpartition gives "" and s too).
    return (local, domain) if at else ("", normalized)


def _international_letter(ch: str) -> bool:
    """A character outside ASCII allowed before the @ (RFC 6531 ``UTF8-non-ascii``): letters,
    marks and digits of any script; not symbols, spaces or invisible characters."""
    # Equivalent mutant: "XXLMNXX" (no Unicode category starts with X).
    return not ch.isascii() and unicodedata.category(ch)[0] in "LMN"


def _international_ok(normalized: str) -> bool:
    """RFC 6531 syntax for an address with letters outside ASCII before the @ (the domain is
    already in IDNA form): the ASCII rule with those letters counted as ``atext``."""
    local, domain = split_email(normalized)
    # Equivalent mutants: "and" for either "or", "XX@XX" (the pattern below refuses an empty
    # local part or an "@" in it too; these tests only save the work).
    if not local or "@" in local or len(local.encode()) > _MAX_LOCAL:
        return False
    ascii_local = "".join("a" if _international_letter(ch) else ch for ch in local)
    return _PY_VALID.match(f"{ascii_local}@{domain}") is not None


def is_valid_email(normalized: str | None) -> bool:
    """True when the normalized address has an acceptable syntax (ASCII or RFC 6531)."""
    if not normalized or len(normalized) > _MAX_TOTAL:
        return False
    if not normalized.isascii():
        return _international_ok(normalized)
    if _PY_VALID.match(normalized) is None:
        return False
    return len(split_email(normalized)[0]) <= _MAX_LOCAL


def invalid_reason(normalized: str | None) -> str:
    """Why an address is not usable, in words a person can act on ("" when it is valid)."""
    if not normalized:
        return "no email"
    if is_valid_email(normalized):
        return ""
    if "@" not in normalized:
        return f"not an email address (no @): {normalized!r}"
    local, domain = split_email(normalized)
    if any(ch in _PY_SPACE_CHARS for ch in normalized):
        return "the address contains a space"
    if not local:
        return "nothing before the @"
    if not domain:
        return "nothing after the @"
    if "@" in local:
        return "more than one @"
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return "misplaced dot before the @"
    bad = sorted(
        {
            ch
            for ch in local
            if re.fullmatch(_ATEXT, ch) is None and ch != "." and not _international_letter(ch)
        }
    )
    if bad:
        return f"character {bad[0]!r} is not allowed before the @"
    if len(local.encode()) > _MAX_LOCAL:
        return "more than 64 characters before the @"
    if "." not in domain:
        return f"domain {domain!r} has no dot"
    if not domain.isascii():
        return f"domain {domain!r} is not a valid internationalized domain name"
    if len(normalized) > _MAX_TOTAL:
        return "address longer than 254 characters"
    return f"domain {domain!r} is not a valid domain name"


# Domains a missing "@" or a missing dot can be put back for ("jeangmail.com", "x@gmailcom").
_REPAIR_DOMAINS = ("gmail.com", "googlemail.com", "hotmail.fr", "hotmail.com", "outlook.fr",
                   "outlook.com", "live.fr", "yahoo.fr", "yahoo.com", "orange.fr", "wanadoo.fr",
                   "free.fr", "sfr.fr", "laposte.net", "icloud.com", "me.com", "gmx.fr",
                   "aol.com", "protonmail.com", "bbox.fr", "neuf.fr")  # fmt: skip
_REPAIR_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def repair_email(normalized: str | None) -> str | None:
    """The valid address a person reads in a broken one, or None when there is no single
    reading: doubled or misplaced dots (``a..b@``, ``.a@``, ``a.@``), spaces, ``@@``, a comma or
    semicolon for a dot or left at the end, a known provider without its ``@`` or its dot.

    Only used to *compare* (the address GetResponse holds is never changed): a row whose
    repaired address is a CRM contact's is a candidate, or a link when the names agree.
    """
    if not normalized or is_valid_email(normalized):
        return None
    # Equivalent mutants here: an "X" added to a strip() set or to the "." tested in domain
    # (the text is lowercase already; glued's keys hold no dot),
    # >= for > (a bare "gmail.com" becomes "@gmail.com": invalid either way) and no default in
    # glued.get() below, or None (a domain without a dot is invalid, whatever replaces it).
    s = _REPAIR_SPACES.sub("", normalized).strip(",;:'\"")
    if "@" not in s:
        for domain in _REPAIR_DOMAINS:
            if s.endswith(domain) and len(s) > len(domain):
                s = f"{s[: -len(domain)]}@{domain}"
                break
    s = re.sub(r"@+", "@", s)
    if s.count("@") != 1:
        return None
    local, domain = s.split("@")
    local = re.sub(r"\.{2,}", ".", local).strip(".")
    domain = re.sub(r"[,;]+", ".", domain)
    domain = re.sub(r"\.{2,}", ".", domain).strip(".-")
    if "." not in domain:
        glued = {d.replace(".", ""): d for d in _REPAIR_DOMAINS}
        domain = glued.get(domain, domain)
    out = normalize_email(f"{local}@{domain}")
    return out if out and is_valid_email(out) else None


def email_key(normalized: str) -> str:
    """Comparison key: equal keys mean the same mailbox under the provider's documented rules."""
    local, domain = split_email(normalized)
    if not local:
        return normalized
    if domain in _GMAIL:
        return f"{_cut_tag(local).replace('.', '')}@gmail.com"
    if domain in PROTON_DOMAINS:
        return f"{re.sub(r'[._-]', '', _cut_tag(local))}@{domain}"
    if domain in _PLUS_ONLY:
        return f"{_cut_tag(local)}@{domain}"
    return normalized


def _cut_tag(local: str) -> str:
    head, plus, _ = local.partition("+")
    return head if plus and head else local


# --- vectorized ----------------------------------------------------------------------------


def _apply_where(arr: pa.Array, mask: pa.Array, fn: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """Apply ``fn`` only to the masked rows, leaving the rest as is."""
    import pyarrow.compute as pc

    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return arr
    sub = fn(arr.filter(mask))
    return pc.replace_with_mask(arr, mask, sub.cast(arr.type))


def _normalize_arrow(arr: pa.Array) -> pa.Array:
    """ASCII values (nearly all) through Arrow kernels; the rare others (accents, invisible
    characters, IDN domains) through ``normalize_email`` itself, so both paths agree."""
    import pyarrow as pa
    import pyarrow.compute as pc

    non_ascii = pc.fill_null(pc.invert(pc.string_is_ascii(arr)), False)
    ascii_ = pc.ascii_trim_whitespace(pc.ascii_lower(arr))
    # Only values that start or end like a wrapper go through the (slower) regex.
    wrapped = pc.invert(non_ascii)
    ends = pc.or_(pc.ends_with(ascii_, ">"), pc.ends_with(ascii_, "."))
    starts = pc.or_(pc.starts_with(ascii_, "mailto:"), pc.starts_with(ascii_, "<"))
    wrapped = pc.and_(wrapped, pc.or_(starts, ends))
    out = _apply_where(ascii_, wrapped, lambda a: pc.replace_substring_regex(a, _RE2_WRAPPER, ""))
    if pc.any(non_ascii).as_py():
        out = pc.replace_with_mask(out, non_ascii, _python_rows(arr.filter(non_ascii)))
    return pc.if_else(pc.equal(out, ""), pa.scalar(None, out.type), out)


def _python_rows(arr: pa.Array) -> pa.Array:
    import pyarrow as pa

    return pa.array([normalize_email(v) for v in arr.to_pylist()], type=arr.type)


def normalize_emails(s: pd.Series) -> pd.DataFrame:
    """Normalize a column of raw emails at once.

    Returns a DataFrame on ``s.index`` with ``email_normalized`` (NaN when empty),
    ``email_valid`` (bool), ``email_key`` (NaN when invalid) and ``email_invalid_reason``
    ("" when valid). Agrees row by row with the scalar functions.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _normalize_arrow(_to_arrow(s))
    locals_, domains = split_at(arr)
    local_len = pc.utf8_length(locals_)
    valid = pc.and_(
        pc.match_substring_regex(arr, VALID_PATTERN),
        pc.and_(
            pc.less_equal(pc.utf8_length(arr), _MAX_TOTAL), pc.less_equal(local_len, _MAX_LOCAL)
        ),
    )
    valid = pc.fill_null(valid, False)
    # Addresses with letters outside ASCII (RFC 6531) are rare: checked one by one.
    wide = pc.fill_null(pc.invert(pc.string_is_ascii(arr)), False)
    if pc.any(wide).as_py():
        checked = [is_valid_email(v) for v in arr.filter(wide).to_pylist()]
        valid = pc.replace_with_mask(valid, wide, pa.array(checked, type=pa.bool_()))
    keys = _keys(pc.if_else(valid, arr, pa.scalar(None, arr.type)), domains)
    valid_np = valid.to_numpy(zero_copy_only=False)
    reasons = np.full(len(arr), "", dtype=object)
    bad = np.flatnonzero(~valid_np)
    if len(bad):
        reasons[bad] = [invalid_reason(v) for v in arr.take(pa.array(bad)).to_pylist()]
    return pd.DataFrame(
        {
            EMAIL_NORMALIZED: pd.array(arr, dtype="str"),
            EMAIL_VALID: valid_np,
            EMAIL_KEY: pd.array(keys, dtype="str"),
            EMAIL_INVALID_REASON: pd.array(reasons, dtype="str"),
        },
        index=s.index,
    )


def _to_arrow(s: pd.Series) -> pa.Array:
    import pandas as pd
    import pyarrow as pa

    if not (isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"):
        s = s.astype("str")
    arr = pa.array(s.array, type=pa.large_string(), from_pandas=True)
    # Columns read from files come in chunks; kernels with masks want one array.
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def split_at(arr: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(local parts, domains) of an Arrow string array, split at the last ``@``; a value
    without ``@``, or a null, gives two empty strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # Equivalent mutants: the type of the "@" scalar left to pyarrow (if_else casts it).
    has = pc.fill_null(pc.match_substring(arr, "@"), False)
    safe = pc.if_else(has, arr, pa.scalar("@", arr.type))
    parts = pc.split_pattern(safe, "@", max_splits=1, reverse=True)
    return pc.list_element(parts, 0), pc.list_element(parts, 1)


def _domains(arr: pa.Array) -> pa.Array:
    return split_at(arr)[1]


def _keys(keys: pa.Array, domains: pa.Array) -> pa.Array:
    """email_key for every non-null row, applying each provider's rule to its rows only."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(domains)
    uniq = enc.dictionary.to_pylist()
    if not uniq:
        return keys
    kind = np.array(
        [
            2 if d in _GMAIL else 3 if d in PROTON_DOMAINS else 1 if d in _PLUS_ONLY else 0
            for d in uniq
        ],
        dtype=np.int8,
    )
    # Equivalent mutants: kind's dtype, zero_copy_only, the fill_null value (split_at gives
    # no null domain), the kind set on null keys (a null key stays null whatever is applied).
    row_kind = kind[pc.fill_null(enc.indices, 0).to_numpy(zero_copy_only=False)]
    row_kind[pc.is_null(keys).to_numpy(zero_copy_only=False)] = 0
    # +tag: drop from the first '+' to the '@' when something stands before the '+'.
    keys = _apply_where(
        keys,
        pa.array(row_kind > 0),
        lambda a: pc.replace_substring_regex(a, r"^([^+@]+)\+[^@]*@", r"\1@"),
    )
    keys = _apply_where(keys, pa.array(row_kind == 2), _gmail_key)
    return _apply_where(keys, pa.array(row_kind == 3), _proton_key)


def _gmail_key(a: pa.Array) -> pa.Array:
    import pyarrow.compute as pc

    local = pc.replace_substring_regex(a, r"@.*$", "")
    return pc.binary_join_element_wise(
        pc.replace_substring(local, ".", ""), _lit("gmail.com"), _lit("@")
    )


def _proton_key(a: pa.Array) -> pa.Array:
    import pyarrow.compute as pc

    local = pc.replace_substring_regex(a, r"@.*$", "")
    return pc.binary_join_element_wise(
        pc.replace_substring_regex(local, r"[._-]", ""), _domains(a), _lit("@")
    )


def _lit(text: str) -> pa.Scalar:
    import pyarrow as pa

    return pa.scalar(text, pa.large_string())
