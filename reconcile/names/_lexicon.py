"""Which words are given names and which are family names, per Faker's per-locale lists.

Why a lexicon at all: word order alone cannot tell "Dupont Jean" from "Jean Dupont" once the
capitals are gone, nor "Gabriel García Márquez" (two family names) from "Marie Claire Dubois"
(two given names). Knowing that "Jean" is a given name and "García" a family name settles most
of these; the splitter uses the lexicon only to break such ties and falls back to the usual
"given names first" order for words it does not know.

Why Faker: its person providers are curated per locale, MIT-licensed and already a dependency,
so the lexicon costs no data file. The locales are those of a French customer base and its
neighbours (see ``LOCALES``). Keys are lowercase, and each accented key is also stored without
its accents, so "Jose" and "JOSÉ" are found as "José" is.
"""

from __future__ import annotations

import importlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache

from reconcile.names._casing import recase_word
from reconcile.names._vocab import key

LOCALES = (
    "fr_FR", "fr_BE", "fr_CH", "fr_CA", "en_US", "en_GB", "en_IE", "es_ES", "es_MX", "es_AR",
    "es_CO", "es_CL", "pt_PT", "pt_BR", "de_DE", "de_AT", "de_CH", "nl_NL", "nl_BE", "it_IT",
    "ro_RO", "pl_PL", "cs_CZ", "sk_SK", "hu_HU", "hr_HR", "sl_SI", "sv_SE", "no_NO", "da_DK",
    "fi_FI", "et_EE", "lt_LT", "lv_LV", "el_GR", "ru_RU", "uk_UA", "bg_BG", "tr_TR", "ar_AA",
    "fa_IR", "he_IL", "zh_CN", "zh_TW", "ja_JP", "ko_KR", "vi_VN",
)  # fmt: skip
_GIVEN_ATTRIBUTES = (
    "first_names", "first_names_male", "first_names_female", "first_names_unisex",
    "first_names_nonbinary", "first_romanized_names", "first_kana_names", "middle_names",
    "middle_names_male", "middle_names_female",
)  # fmt: skip
_FAMILY_ATTRIBUTES = (
    "last_names", "last_names_male", "last_names_female", "last_romanized_names",
    "last_kana_names", "unisex_last_names", "male_last_names",
)  # fmt: skip
# Romanized given names of family-first cultures: used to recognise "Wang Wei" as family-first.
_EAST_ASIAN_LOCALES = ("zh_CN", "zh_TW", "ja_JP", "vi_VN")


def strip_accents(text: str) -> str:
    """'josé' -> 'jose'; letters without a decomposition are kept as they are."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Lowercase keys of known given and family names (single words) and multi-word ones."""

    given: frozenset[str] = frozenset()
    family: frozenset[str] = frozenset()
    given_phrases: frozenset[str] = frozenset()  # "jose luis", "maría del carmen"
    family_phrases: frozenset[str] = frozenset()  # "da silva", "van der wal"
    east_asian_given: frozenset[str] = frozenset()
    iberian_given: frozenset[str] = frozenset()  # Spanish/Portuguese-only given names
    # Capitalised spellings lowercasing cannot rebuild: "ALTINKAYA" -> "Altınkaya".
    respell: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @classmethod
    def from_names(
        cls,
        given: Iterable[str],
        family: Iterable[str],
        east_asian_given: Iterable[str] = (),
        iberian_given: Iterable[str] = (),
    ) -> Lexicon:
        """Build from raw names as written ("José Luis", "van der Wal"), keys derived here."""
        given, family = list(given), list(family)
        given_words, given_phrases = _keys(given)
        family_words, family_phrases = _keys(family)
        east_asian, _ = _keys(east_asian_given)
        iberian, _ = _keys(iberian_given)
        return cls(
            given=frozenset(given_words),
            family=frozenset(family_words),
            given_phrases=frozenset(given_phrases),
            family_phrases=frozenset(family_phrases),
            east_asian_given=frozenset(east_asian),
            iberian_given=frozenset(iberian),
            respell=_respellings(given + family),
        )


def _respellings(names: Iterable[str]) -> dict[str, str]:
    """Upper-case spelling -> written spelling, where re-casing would not give it back.

    Only when every name written that way in capitals is the same name: "ARIEL" stays
    "Ariel" (English) rather than "Arıel" (Turkish); "ALTINKAYA" becomes "Altınkaya".
    """
    spellings: dict[str, dict[str, str]] = {}
    for name in names:
        if " " in name or not name.replace("-", "").isalpha():
            continue
        spellings.setdefault(name.upper(), {}).setdefault(name.casefold(), name)
    found = {}
    for upper, written in spellings.items():
        if len(written) == 1:
            ((folded, name),) = written.items()
            if recase_word(upper).casefold() != folded:
                found[upper] = name
    return found


def _keys(names: Iterable[str]) -> tuple[set[str], set[str]]:
    words: set[str] = set()
    phrases: set[str] = set()
    for name in names:
        parts = [key(part) for part in name.split() if part.strip(".")]
        if not parts or any(len(part) < 2 and part.isascii() for part in parts):
            continue  # "Hans D.": an initial is not a name
        target = words if len(parts) == 1 else phrases
        joined = " ".join(parts)
        target.add(joined)
        target.add(strip_accents(joined))
    return words, phrases


def _provider_names(locale: str, attributes: tuple[str, ...]) -> list[str]:
    try:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    except ModuleNotFoundError:  # an older Faker without this locale: the others still count
        return []
    names: list[str] = []
    for attribute in attributes:
        value = getattr(provider, attribute, ())
        if isinstance(value, (tuple, list, dict, set, frozenset)):  # es_CL: a property
            names.extend(str(name) for name in value)
    return names


@cache
def default_lexicon() -> Lexicon:
    """The lexicon ``split_name`` uses: Faker's given and family names over ``LOCALES``."""
    given: list[str] = []
    family: list[str] = []
    east_asian: list[str] = []
    iberian: set[str] = set()
    others: set[str] = set()
    for locale in LOCALES:
        names = _provider_names(locale, _GIVEN_ATTRIBUTES)
        given.extend(names)
        family.extend(_provider_names(locale, _FAMILY_ATTRIBUTES))
        if locale in _EAST_ASIAN_LOCALES:
            east_asian.extend(names)
        (iberian if locale[:2] in ("es", "pt") else others).update(names)
    lexicon = Lexicon.from_names(given, family, east_asian)
    iberian_keys, _ = _keys(iberian)
    other_keys, _ = _keys(others)  # by key: "Thomás" (pt_BR) is Thomas, not Iberian-only
    return replace(lexicon, iberian_given=frozenset(iberian_keys - other_keys))
