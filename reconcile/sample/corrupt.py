"""The ways real contact data goes wrong, as seeded functions over arrays.

Used by ``reconcile.sample.contacts`` to derive a GetResponse row from a CRM person. Each
function takes a numpy ``Generator`` and object arrays, and returns new arrays; only the rows
that change go through Python.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from reconcile.sample.people import DOMAINS
from reconcile.sample.pools import ascii_fold

# Keys next to each other on AZERTY and QWERTY keyboards (a typo hits a neighbour).
_NEIGHBOURS = {
    "a": "zqsw", "b": "vgn", "c": "xdv", "d": "sefc", "e": "zrd", "f": "dgrv", "g": "fhtb",
    "h": "gjyn", "i": "uok", "j": "hkun", "k": "jlio", "l": "kmop", "m": "lkn", "n": "bhjm",
    "o": "iplk", "p": "olm", "q": "aws", "r": "etf", "s": "qdza", "t": "ryg", "u": "yij",
    "v": "cfb", "w": "xsq", "x": "wcs", "y": "tuh", "z": "aes",
}  # fmt: skip
_TLD_TYPOS = {"fr": ("fe", "ft", "rf", "frr"), "com": ("con", "cm", "co", "comm"),
              "net": ("ne", "nte", "nett")}  # fmt: skip
_PLUS_PROVIDERS = ("hotmail.fr", "hotmail.com", "outlook.fr", "outlook.com", "live.fr",
                   "icloud.com")  # fmt: skip
# Independent variants of the GetResponse name column, with their shares.
NAME_VARIANTS = {
    "plain": 0.70, "no_name": 0.08, "last_first_caps": 0.06, "no_accents": 0.05,
    "lowercase": 0.04, "uppercase": 0.02, "first_typo": 0.03, "first_only": 0.02,
}  # fmt: skip
_TAGS = ("news", "promo", "gr", "shop", "2024", "lettre", "info")
_PROVIDERS = np.array(list(DOMAINS), dtype=object)
_PROVIDER_SHARES = np.array(list(DOMAINS.values())) / sum(DOMAINS.values())


def _split(emails: np.ndarray) -> tuple[list[str], list[str]]:
    parts = [e.rpartition("@") for e in emails.tolist()]
    return [p[0] for p in parts], [p[2] for p in parts]


def _fold(values: np.ndarray) -> list[str]:
    return [ascii_fold(str(v)).replace(" ", "").replace("-", "") for v in values.tolist()]


def crm_case(rng: np.random.Generator, emails: np.ndarray, missing: float = 0.0) -> np.ndarray:
    """CRM addresses as typed by staff: 5% Capitalized, ``missing`` share left empty."""
    out = emails.copy()
    cap = np.flatnonzero(rng.random(len(out)) < 0.05)
    out[cap] = [e[:1].upper() + e[1:] for e in out[cap].tolist()]
    out[rng.random(len(out)) < missing] = None
    return out


def formatting(rng: np.random.Generator, emails: np.ndarray) -> np.ndarray:
    """Same address, differently written: capitals, spaces, NBSP, zero-width, mailto:."""
    kinds = rng.integers(0, 6, size=len(emails))
    out = []
    for email, kind in zip(emails.tolist(), kinds.tolist(), strict=True):
        if kind == 0:
            out.append(email.upper())
        elif kind == 1:
            local, _, domain = email.rpartition("@")
            out.append(f"{local.title()}@{domain.capitalize()}")
        elif kind == 2:
            out.append(f"  {email} ")
        elif kind == 3:
            out.append(f"{email}\u00a0")
        elif kind == 4:
            cut = int(rng.integers(1, len(email)))
            out.append(email[:cut] + "\u200b" + email[cut:])
        else:
            out.append(f"mailto:{email}")
    return np.array(out, dtype=object)


def alias(rng: np.random.Generator, emails: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(GR address, CRM address) for the same mailbox under its provider's rules. People not
    on such a provider are moved to gmail.com on both sides first."""
    locals_, domains = _split(emails)
    gr, crm = [], []
    for local, domain in zip(locals_, domains, strict=True):
        if domain not in ("gmail.com", "googlemail.com", "protonmail.com", *_PLUS_PROVIDERS):
            local = f"{local}.{int(rng.integers(10, 10_000))}"
            domain = "gmail.com" if rng.random() < 0.8 else str(rng.choice(_PLUS_PROVIDERS))
        crm.append(f"{local}@{domain}")
        tag = f"+{rng.choice(_TAGS)}"
        if domain in ("gmail.com", "googlemail.com"):
            style = int(rng.integers(0, 4))
            bare = local.replace(".", "")
            if style == 0 or "." not in local:
                cut = int(rng.integers(1, len(bare))) if len(bare) > 1 else 1
                gr_local = bare[:cut] + "." + bare[cut:] if "." not in local else bare
            elif style == 1:
                gr_local = bare
            else:
                gr_local = local + tag
            other = "googlemail.com" if domain == "gmail.com" else "gmail.com"
            gr.append(f"{gr_local}@{other if style == 3 else domain}")
        elif domain == "protonmail.com":
            gr.append(f"{local.replace('.', '').replace('-', '_')}{tag}@{domain}")
        else:
            gr.append(f"{local}{tag}@{domain}")
    return np.array(gr, dtype=object), np.array(crm, dtype=object)


def _edit(rng: np.random.Generator, text: str, letters_only: bool = True) -> str:
    """One keyboard typo at a letter: neighbour key, dropped, doubled or swapped letter."""
    spots = [i for i, ch in enumerate(text) if ch.isalpha() or not letters_only]
    if not spots:
        return text + "x"
    for _ in range(10):
        i = int(rng.choice(spots))
        kind = int(rng.integers(0, 4))
        ch = text[i]
        if kind == 0 and ch in _NEIGHBOURS:
            out = text[:i] + str(rng.choice(list(_NEIGHBOURS[ch]))) + text[i + 1 :]
        elif kind == 1 and len(text) > 3:
            out = text[:i] + text[i + 1 :]
        elif kind == 2:
            out = text[:i] + ch + text[i:]
        elif i + 1 < len(text) and text[i + 1].isalpha() and text[i + 1] != ch:
            out = text[:i] + text[i + 1] + ch + text[i + 2 :]
        else:
            continue
        if out != text and ".." not in out and not out.startswith(".") and not out.endswith("."):
            return out
    return text[: spots[0]] + text[spots[0]] + text[spots[0] :]


def local_typo(rng: np.random.Generator, emails: np.ndarray) -> np.ndarray:
    locals_, domains = _split(emails)
    return np.array(
        [f"{_edit(rng, lo)}@{d}" for lo, d in zip(locals_, domains, strict=True)], dtype=object
    )


def domain_typo(rng: np.random.Generator, emails: np.ndarray) -> np.ndarray:
    """A typo in the domain: half in the top-level domain, half in the name."""
    locals_, domains = _split(emails)
    out = []
    for local, domain in zip(locals_, domains, strict=True):
        name, _, tld = domain.rpartition(".")
        if rng.random() < 0.3 and tld in _TLD_TYPOS:
            typo = f"{name}.{rng.choice(_TLD_TYPOS[tld])}"
        else:
            typo = f"{_edit(rng, name)}.{tld}"
        out.append(f"{local}@{typo}")
    return np.array(out, dtype=object)


def _providers(rng: np.random.Generator, n: int) -> np.ndarray:
    return _PROVIDERS[rng.choice(len(_PROVIDERS), size=n, p=_PROVIDER_SHARES)]


def new_address(
    rng: np.random.Generator, first: np.ndarray, last: np.ndarray, old: np.ndarray
) -> np.ndarray:
    """Another plausible address for the same name, at another provider."""
    f, la = _fold(first), _fold(last)
    domains = _providers(rng, len(f))
    old_domains = _split(old)[1]
    styles = rng.integers(0, 4, size=len(f))
    numbers = rng.integers(1, 9999, size=len(f))
    out = []
    for i in range(len(f)):
        fi, li = f[i] or "x", la[i] or "contact"
        local = (f"{li}.{fi}{numbers[i]}", f"{fi[0]}.{li}{numbers[i]}", f"{fi}{li}{numbers[i]}",
                 f"{fi}_{li}.{numbers[i]}")[styles[i]]  # fmt: skip
        domain = domains[i] if domains[i] != old_domains[i] else "laposte.net"
        out.append(f"{local}@{domain}")
    return np.array(out, dtype=object)


def relative_first_names(rng: np.random.Generator, first: np.ndarray) -> np.ndarray:
    """A clearly different first name for each row (a spouse, child or sibling): not the same
    name once accents are dropped, nor one part of a compound name (Alain / Arthur-Alain)."""
    if len(first) < 2:
        return np.array(["Camille"] * len(first), dtype=object)
    other = first[rng.permutation(len(first))]
    for _ in range(5):
        close = _too_close(first, other)
        if not close.any():
            break
        other[close] = first[rng.integers(0, len(first), size=int(close.sum()))]
    close = _too_close(first, other)
    other[close] = np.where(_too_close(first[close], np.full(close.sum(), "Camille")),
                            "Dominique", "Camille")  # fmt: skip
    return other


def _too_close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    fa, fb = _fold_words(a), _fold_words(b)
    return np.array(
        [fuzz.token_set_ratio(x, y) >= 70 for x, y in zip(fa, fb, strict=True)], dtype=bool
    )


def _fold_words(values: np.ndarray) -> list[str]:
    return [_unaccent(str(v)).lower().replace("-", " ") for v in values.tolist()]


def family_address(rng: np.random.Generator, last: np.ndarray, emails: np.ndarray) -> np.ndarray:
    """A family mailbox: 'famille.dupont42@orange.fr' half of the time, else the person's own."""
    la = _fold(last)
    own = rng.random(len(la)) < 0.5
    domains = _providers(rng, len(la))
    numbers = rng.integers(1, 999, size=len(la))
    return np.array(
        [
            emails[i] if own[i] else f"famille.{la[i] or 'x'}{numbers[i]}@{domains[i]}"
            for i in range(len(la))
        ],
        dtype=object,
    )


def _unaccent(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def drop_accents(names: np.ndarray) -> np.ndarray:
    """'Élodie Lefèvre' -> 'Elodie Lefevre' (case, spaces and other scripts kept)."""
    return np.array(
        [_unaccent(n) if isinstance(n, str) else n for n in names.tolist()], dtype=object
    )


def sibling(
    rng: np.random.Generator, first: np.ndarray, last: np.ndarray, emails: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(first name, address) of a relative whose address is one digit or one first name away
    from ``emails``: jean.dupont1@ vs jean.dupont2@, louis.martin@ vs louise.martin@."""
    locals_, domains = _split(emails)
    folded = _fold(first)
    others = relative_first_names(rng, first)
    out_first, out_email = [], []
    for i, (local, domain) in enumerate(zip(locals_, domains, strict=True)):
        digits = local.rstrip("0123456789")
        if rng.random() < 0.5 or not folded[i] or folded[i] not in local:
            # A namesake relative (father and son): same name, the number differs.
            number = local[len(digits) :]
            new = str(int(number) + int(rng.integers(1, 9))) if number else str(rng.integers(2, 9))
            out_first.append(first[i])
            out_email.append(f"{digits}{new}@{domain}")
        else:
            sib = _fold(np.array([others[i]]))[0] or "x"
            out_first.append(others[i])
            out_email.append(f"{local.replace(folded[i], sib, 1)}@{domain}")
    return np.array(out_first, dtype=object), np.array(out_email, dtype=object)


def invalid(rng: np.random.Generator, emails: np.ndarray) -> np.ndarray:
    """Unusable addresses: no @, a space, two @, no top-level domain, two dots, nothing."""
    kinds = rng.integers(0, 6, size=len(emails))
    out: list[str | None] = []
    for email, kind in zip(emails.tolist(), kinds.tolist(), strict=True):
        local, _, domain = email.rpartition("@")
        out.append(
            (
                f"{local}{domain}",
                f"{local[:2]} {local[2:]}@{domain}",
                f"{local}@@{domain}",
                f"{local}@{domain.rpartition('.')[0]}",
                f"{local}..x@{domain}",
                None,
            )[kind]
        )
    return np.array(out, dtype=object)


def crm_names(rng: np.random.Generator, first: np.ndarray) -> np.ndarray:
    """CRM first names: 5% typed without accents."""
    out = first.copy()
    rows = np.flatnonzero(rng.random(len(out)) < 0.05)
    out[rows] = drop_accents(out[rows])
    return out


def gr_names(
    rng: np.random.Generator,
    first: np.ndarray,
    last: np.ndarray,
    culture: np.ndarray,
    named: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(variant, free-text name) as GetResponse holds it, drawn from NAME_VARIANTS; rows
    marked ``named`` keep a full name (no "no_name" or "first_only" variant)."""
    names = list(NAME_VARIANTS)
    shares = np.array(list(NAME_VARIANTS.values()))
    variant = np.array(names, dtype=object)[
        rng.choice(len(names), size=len(first), p=shares / shares.sum())
    ]
    if named is not None:
        variant[named & np.isin(variant, ["no_name", "first_only"])] = "plain"
    family_first = np.isin(culture, ["zh_CN", "ja_JP", "vi_VN"])
    glue = np.where(np.isin(culture, ["zh_CN", "ja_JP"]), "", " ")
    plain = np.where(family_first, last + glue + first, first + " " + last)
    out = plain.copy()
    pick = {v: np.flatnonzero(variant == v) for v in names}
    out[pick["no_name"]] = None
    r = pick["last_first_caps"]
    out[r] = pd.Series(last[r]).str.upper().to_numpy(dtype=object) + " " + first[r]
    r = pick["no_accents"]
    out[r] = drop_accents(plain[r])
    r = pick["lowercase"]
    out[r] = pd.Series(plain[r]).str.lower().to_numpy(dtype=object)
    r = pick["uppercase"]
    out[r] = pd.Series(plain[r]).str.upper().to_numpy(dtype=object)
    r = pick["first_typo"]
    out[r] = np.array([_edit(rng, f) for f in first[r].tolist()], dtype=object) + " " + last[r]
    r = pick["first_only"]
    out[r] = first[r]
    return variant, out
