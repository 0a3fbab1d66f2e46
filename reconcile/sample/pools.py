"""Name vocabularies per culture for generated sample data.

Why Faker's lists: they are large, curated per locale and MIT-licensed, so sample data looks
like a real French-heavy customer base without anyone typing names in bulk. We read the
provider lists directly (no Faker instance): sampling them with numpy is ~100× faster than
calling Faker per row, which matters for million-row benchmarks.

The one hand-written vocabulary is ``MAGHREB`` (Latin-script North-African names, very
common in French bases and absent from Faker's French lists): a few dozen entries.
"""

from __future__ import annotations

import importlib
import unicodedata
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Culture:
    """Names of one culture, and how they are usually written."""

    code: str
    weight: float  # share of a French customer base
    first_male: tuple[str, ...]
    first_female: tuple[str, ...]
    last: tuple[str, ...]
    family_first: bool = False  # names written family name first (zh, ja, vi, hu)
    latin: bool = True  # written in Latin script (else emails use a romanized pool)
    last_female: tuple[str, ...] = ()  # where the family name changes with gender (ru)
    romanized_first: tuple[str, ...] = ()
    romanized_last: tuple[str, ...] = ()


# Latin-script North-African given and family names (vocabulary, not data).
MAGHREB_MALE = (
    "Mohamed", "Ahmed", "Karim", "Mehdi", "Youssef", "Rachid", "Samir", "Nabil", "Hicham",
    "Sofiane", "Bilal", "Walid", "Farid", "Khaled", "Amine", "Omar", "Nordine", "Abdelkader",
)  # fmt: skip
MAGHREB_FEMALE = (
    "Fatima", "Leila", "Nadia", "Samira", "Yasmina", "Amel", "Meriem", "Soraya", "Karima",
    "Nora", "Djamila", "Salima", "Zohra", "Inès", "Sarah", "Lina", "Imane", "Houria",
)  # fmt: skip
MAGHREB_LAST = (
    "Benali", "Belkacem", "Bouzid", "Haddad", "Mansouri", "Cherif", "Brahimi", "Saidi",
    "Amrani", "El Idrissi", "Benyahia", "Hamidi", "Ait Ahmed", "Boukhari", "Ziani", "Bensaïd",
    "Ben Youssef", "Kaci", "Meziane", "Lahlou", "Chaoui", "Belhadj", "Taleb", "El Amrani",
)  # fmt: skip

# Share of each culture in the generated base (French-heavy, as our users' bases are).
WEIGHTS = {
    "fr_FR": 0.55, "maghreb": 0.07, "en_GB": 0.04, "en_US": 0.03, "es_ES": 0.05, "pt_PT": 0.05,
    "it_IT": 0.04, "de_DE": 0.03, "nl_NL": 0.02, "fr_BE": 0.03, "vi_VN": 0.02, "zh_CN": 0.02,
    "ru_RU": 0.01, "tr_TR": 0.01, "el_GR": 0.005, "ja_JP": 0.005,
}  # fmt: skip

_FAMILY_FIRST = {"zh_CN", "ja_JP", "vi_VN"}
_NON_LATIN = {"zh_CN", "ja_JP", "ru_RU", "el_GR"}


def _names(provider: type, attribute: str) -> tuple[str, ...]:
    value = getattr(provider, attribute, ())
    return tuple(dict.fromkeys(value))  # ordered dicts (weighted lists) and tuples alike


def _faker_culture(code: str, weight: float) -> Culture:
    provider = importlib.import_module(f"faker.providers.person.{code}").Provider
    last = _names(provider, "last_names_male") or _names(provider, "last_names")
    return Culture(
        code=code,
        weight=weight,
        first_male=_names(provider, "first_names_male") or _names(provider, "first_names"),
        first_female=_names(provider, "first_names_female") or _names(provider, "first_names"),
        last=last,
        family_first=code in _FAMILY_FIRST,
        latin=code not in _NON_LATIN,
        last_female=_names(provider, "last_names_female"),
        romanized_first=_names(provider, "first_romanized_names"),
        romanized_last=_names(provider, "last_romanized_names"),
    )


@cache
def cultures() -> dict[str, Culture]:
    """Every culture sample data draws from, by code, weights summing to 1."""
    total = sum(WEIGHTS.values())
    found: dict[str, Culture] = {}
    for code, weight in WEIGHTS.items():
        if code == "maghreb":
            found[code] = Culture(code, weight / total, MAGHREB_MALE, MAGHREB_FEMALE, MAGHREB_LAST)
        else:
            found[code] = _faker_culture(code, weight / total)
    return found


_GREEK = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i",
    "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r", "σ": "s",
    "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o",
}  # fmt: skip
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
_TRANSLIT = str.maketrans({**_GREEK, **_CYRILLIC})


def ascii_fold(text: str) -> str:
    """Lowercase ASCII for email local parts: accents dropped, Greek/Cyrillic transliterated."""
    folded = unicodedata.normalize("NFKD", text.lower()).translate(_TRANSLIT)
    return "".join(c for c in folded if c.isascii() and (c.isalnum() or c in ".-_"))
