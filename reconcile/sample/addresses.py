"""Address corruptions of the hard cases a matcher used to miss, as seeded array functions.

Each one is a class of real data, not an example (issue 13):

* ``international``: letters outside ASCII before the @ (RFC 6531 addresses such as
  ``hélène.lefèvre@laposte.net``), written identically in both systems up to case and
  Unicode form;
* ``sub_address``: a ``+tag`` at a provider that documents no rule for it (``laposte.net``,
  ``orange.fr``, a company), on either side;
* ``broken``: an address GetResponse holds with a syntax error (``arnaud..jacobs@me.com``,
  ``x@gmail,com``, ``x@@free.fr``) while the CRM holds the good one.

Used by ``reconcile.sample.contacts``; like ``corrupt``, only the affected rows go through
Python.
"""

from __future__ import annotations

import unicodedata

import numpy as np

from reconcile.sample.pools import ascii_fold

# Providers that document nothing about "+tags": the sub-address class lives there.
UNDOCUMENTED = ("laposte.net", "orange.fr", "free.fr", "sfr.fr", "wanadoo.fr", "yahoo.fr",
                "gmx.fr", "bbox.fr")  # fmt: skip
_DOCUMENTED = ("gmail.com", "googlemail.com", "protonmail.com", "proton.me", "hotmail.fr",
               "hotmail.com", "outlook.fr", "outlook.com", "live.fr", "icloud.com",
               "me.com")  # fmt: skip
_TAGS = ("news", "promo", "newsletter", "shop", "gr", "2023", "pro", "asso", "info", "perso")


def _split(emails: np.ndarray) -> tuple[list[str], list[str]]:
    parts = [str(e).rpartition("@") for e in emails.tolist()]
    return [p[0] for p in parts], [p[2] for p in parts]


def _native_tokens(first: str, last: str) -> dict[str, str]:
    """Each word of the name as an email would fold it -> as the person writes it."""
    out = {}
    for word in f"{first} {last}".replace("-", " ").split():
        folded = ascii_fold(word).replace(".", "")
        native = word.lower()
        if folded and native != folded and not native.isascii():
            out[folded] = native
    return out


def international(
    rng: np.random.Generator, first: np.ndarray, last: np.ndarray, emails: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(GR address, CRM address): the person's address with the name written natively before
    the @ (``theodore-laurent@`` -> ``théodore-laurent@``, ``zoya.sokolova@`` -> ``зоя.соколова@``).

    Rows whose name has no letter outside ASCII should not be given (the caller picks people
    with such names). The GR side is sometimes upper-case or decomposed (NFD): the same
    address to every mail system.
    """
    locals_, domains = _split(emails)
    crm, gr = [], []
    for i, (local, domain) in enumerate(zip(locals_, domains, strict=True)):
        tokens = _native_tokens(str(first[i]), str(last[i]))
        native = local
        for folded in sorted(tokens, key=len, reverse=True):
            native = native.replace(folded, tokens[folded])
        if native.isascii():  # a romanized address: write the name itself
            digits = "".join(ch for ch in local if ch.isdigit())
            words = [w.lower() for w in f"{first[i]} {last[i]}".split()]
            native = ".".join(words) + digits
        address = f"{native}@{domain}"
        crm.append(address)
        style = rng.random()
        if style < 0.15:
            gr.append(address.upper())
        elif style < 0.3:
            gr.append(unicodedata.normalize("NFD", address))
        else:
            gr.append(address)
    return np.array(gr, dtype=object), np.array(crm, dtype=object)


def sub_address(rng: np.random.Generator, emails: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(GR address, CRM address) of one mailbox, one side with a ``+tag`` (GR in 85% of rows).
    People at providers with a documented rule are moved to an undocumented one first."""
    locals_, domains = _split(emails)
    gr, crm = [], []
    for local, domain in zip(locals_, domains, strict=True):
        if domain in _DOCUMENTED:  # moved: numbered, so as not to land on someone's address
            domain = str(rng.choice(UNDOCUMENTED))
            local = f"{local}.{int(rng.integers(100, 10_000))}"
        tagged = f"{local}+{rng.choice(_TAGS)}@{domain}"
        plain = f"{local}@{domain}"
        if rng.random() < 0.85:
            gr.append(tagged)
            crm.append(plain)
        else:
            gr.append(plain)
            crm.append(tagged)
    return np.array(gr, dtype=object), np.array(crm, dtype=object)


def _broken_one(rng: np.random.Generator, local: str, domain: str) -> str:
    name, _, tld = domain.rpartition(".")
    kinds = ["double_dot", "dot_end", "dot_start", "space", "comma", "double_at", "no_at",
             "semicolon"]  # fmt: skip
    kind = kinds[int(rng.integers(0, len(kinds)))]
    if kind == "double_dot":
        if "." in local:
            at = local.index(".")
            return f"{local[:at]}..{local[at + 1 :]}@{domain}"
        cut = max(1, len(local) // 2)
        return f"{local[:cut]}..{local[cut:]}@{domain}"
    if kind == "dot_end":
        return f"{local}.@{domain}"
    if kind == "dot_start":
        return f".{local}@{domain}"
    if kind == "space":
        for sep in ".-_":
            if sep in local:
                return f"{local.replace(sep, ' ', 1)}@{domain}"
        cut = max(1, len(local) // 2)
        return f"{local[:cut]} {local[cut:]}@{domain}"
    if kind == "comma" and name:
        return f"{local}@{name},{tld}"
    if kind == "double_at":
        return f"{local}@@{domain}"
    if kind == "no_at":
        return f"{local}{domain}"
    return f"{local}@{domain};"


def broken(rng: np.random.Generator, emails: np.ndarray) -> np.ndarray:
    """A syntax error in each address that a person would still read as that address."""
    locals_, domains = _split(emails)
    return np.array(
        [_broken_one(rng, lo, d) for lo, d in zip(locals_, domains, strict=True)], dtype=object
    )


__all__ = ["UNDOCUMENTED", "broken", "international", "sub_address"]
