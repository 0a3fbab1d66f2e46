"""Seeded generator of realistic people: the raw material of every sample data set.

Benchmarks, the sandboxes' seed data and ``reconcile demo`` all start here, so that the same
seed gives the same people everywhere. Vectorized with numpy: a million people in a few
seconds. Popular names are drawn more often than rare ones (Faker's lists are ordered by
frequency for the big locales), so namesakes collide at scale as they do in real bases.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from reconcile.sample.pools import Culture, ascii_fold, cultures

# Mailbox providers of a French customer base, with their rough shares.
DOMAINS = {
    "gmail.com": 0.30, "orange.fr": 0.09, "hotmail.fr": 0.06, "hotmail.com": 0.03,
    "yahoo.fr": 0.05, "free.fr": 0.06, "wanadoo.fr": 0.03, "laposte.net": 0.04, "sfr.fr": 0.03,
    "outlook.fr": 0.03, "outlook.com": 0.03, "live.fr": 0.02, "icloud.com": 0.03,
    "protonmail.com": 0.01, "googlemail.com": 0.005, "yahoo.com": 0.01, "gmx.fr": 0.005,
}  # fmt: skip
COMPANY_SHARE = 0.15  # the rest of the addresses are at small companies' own domains

_COMPANY_WORDS = ("conseil", "immobilier", "avocats", "groupe", "sas", "industrie", "services",
                  "transports", "batiment", "assurances", "pharma", "digital")  # fmt: skip
_COMPANY_TLDS = ("fr", "fr", "fr", "com", "eu", "be", "ch")

# Local-part patterns and their shares: {f} first, {l} last, {i} first initial, {n} digits.
PATTERNS = {
    "{f}.{l}": 0.40, "{f}{l}": 0.09, "{i}{l}": 0.12, "{f}_{l}": 0.05, "{f}.{l}{n}": 0.10,
    "{l}.{f}": 0.05, "{f}{n}": 0.07, "{l}{i}": 0.04, "{f}-{l}": 0.04, "{i}.{l}": 0.04,
}  # fmt: skip

COLUMNS = ["first_name", "last_name", "gender", "culture", "email"]


def _popularity(size: int) -> np.ndarray:
    """Zipf-like weights over a list ordered from most to least common."""
    weights = 1.0 / (np.arange(size) + 8.0) ** 0.9
    return weights / weights.sum()


def _pick(rng: np.random.Generator, names: tuple[str, ...], count: int) -> np.ndarray:
    pool = np.array(names, dtype=object)
    return pool[rng.choice(len(pool), size=count, p=_popularity(len(pool)))]


@cache
def _company_domains(seed: int) -> tuple[str, ...]:
    rng = np.random.default_rng(seed + 7919)
    lasts = [ascii_fold(n).replace(" ", "") for n in cultures()["fr_FR"].last[:300]]
    words = rng.choice(_COMPANY_WORDS, size=len(lasts))
    tlds = rng.choice(_COMPANY_TLDS, size=len(lasts))
    return tuple(f"{last}-{word}.{tld}" for last, word, tld in zip(lasts, words, tlds, strict=True))


def _fold_all(values: np.ndarray) -> np.ndarray:
    """ascii_fold over an array, computed once per distinct name."""
    uniques, inverse = np.unique(values.astype(str), return_inverse=True)
    folded = np.array([ascii_fold(v).replace(" ", "") for v in uniques], dtype=object)
    return folded[inverse]


def _culture_block(
    rng: np.random.Generator, culture: Culture, male: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """First and last names for one culture's rows, plus the ASCII parts used in emails."""
    count = len(male)
    first = np.where(
        male, _pick(rng, culture.first_male, count), _pick(rng, culture.first_female, count)
    )
    last = _pick(rng, culture.last, count)
    if culture.last_female:  # e.g. Russian: Иванов / Иванова
        female_last = _pick(rng, culture.last_female, count)
        last = np.where(male, last, female_last)
    if culture.code.startswith("fr") or culture.code == "maghreb":
        compound = rng.random(count) < 0.05  # Jean-Pierre, Marie-Claire ...
        second = np.where(
            male, _pick(rng, culture.first_male, count), _pick(rng, culture.first_female, count)
        )
        first = np.where(compound & (first != second), first + "-" + second, first)
    if culture.latin or not culture.romanized_first:
        first_ascii, last_ascii = _fold_all(first), _fold_all(last)
    else:
        first_ascii = _fold_all(_pick(rng, culture.romanized_first, count))
        last_ascii = _fold_all(_pick(rng, culture.romanized_last, count))
    return first, last, first_ascii, last_ascii


def people(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` distinct people with unique, plausible email addresses, reproducible by ``seed``."""
    rng = np.random.default_rng(seed)
    table = cultures()
    codes = np.array(list(table), dtype=object)
    culture = codes[rng.choice(len(codes), size=n, p=[c.weight for c in table.values()])]
    male = rng.random(n) < 0.5
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    first_ascii = np.empty(n, dtype=object)
    last_ascii = np.empty(n, dtype=object)
    for code in codes:
        rows = np.flatnonzero(culture == code)
        if len(rows):
            block = _culture_block(rng, table[code], male[rows])
            first[rows], last[rows], first_ascii[rows], last_ascii[rows] = block

    local = _local_parts(rng, first_ascii, last_ascii)
    domain = _domains(rng, n, seed)
    email = _unique(rng, local, domain)
    return pd.DataFrame(
        {
            "first_name": first,
            "last_name": last,
            "gender": np.where(male, "M", "F"),
            "culture": culture,
            "email": email,
        },
        columns=COLUMNS,
    )


def _unique(rng: np.random.Generator, local: np.ndarray, domain: np.ndarray) -> np.ndarray:
    """Make addresses unique the way people do: the 2nd jean.martin@ becomes jean.martin2@."""
    email = local + "@" + domain
    for attempt in range(10):
        series = pd.Series(email)
        clash = series.duplicated().to_numpy()
        if not clash.any():
            return email
        if attempt == 0:
            suffix = (series.groupby(series).cumcount().to_numpy()[clash] + 1).astype(str)
        else:
            suffix = rng.integers(100, 10_000, size=int(clash.sum())).astype(str)
        email[clash] = local[clash] + suffix + "@" + domain[clash]
    raise RuntimeError("could not make sample email addresses unique")  # pragma: no cover


def _local_parts(rng: np.random.Generator, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    n = len(first)
    patterns = list(PATTERNS)
    shares = np.array(list(PATTERNS.values()))
    choice = rng.choice(len(patterns), size=n, p=shares / shares.sum())
    digits = rng.integers(1, 99, size=n).astype(str)
    initial = np.array([f[:1] for f in first], dtype=object)
    local = np.empty(n, dtype=object)
    for index, pattern in enumerate(patterns):
        rows = choice == index
        parts = {"f": first[rows], "l": last[rows], "i": initial[rows], "n": digits[rows]}
        out = np.full(rows.sum(), "", dtype=object)
        for literal, field in _tokens(pattern):
            out = out + literal
            if field:
                out = out + parts[field]
        local[rows] = out
    empty = np.array([not v.strip(".-_") for v in local], dtype=bool)
    local[empty] = "contact" + digits[empty]
    return local


def _tokens(pattern: str) -> list[tuple[str, str]]:
    """'{f}.{l}{n}' -> [('', 'f'), ('.', 'l'), ('', 'n')]"""
    out: list[tuple[str, str]] = []
    literal = ""
    rest = pattern
    while rest:
        if rest.startswith("{"):
            field, rest = rest[1], rest[3:]
            out.append((literal, field))
            literal = ""
        else:
            literal, rest = literal + rest[0], rest[1:]
    if literal:
        out.append((literal, ""))
    return out


def _domains(rng: np.random.Generator, n: int, seed: int) -> np.ndarray:
    providers = np.array(list(DOMAINS), dtype=object)
    shares = np.array(list(DOMAINS.values()))
    domain = providers[rng.choice(len(providers), size=n, p=shares / shares.sum())]
    company = rng.random(n) < COMPANY_SHARE
    pool = np.array(_company_domains(seed), dtype=object)
    domain[company] = pool[rng.choice(len(pool), size=int(company.sum()), p=_popularity(len(pool)))]
    return domain
