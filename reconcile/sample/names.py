"""Seeded, labelled full-name strings: the test and benchmark set of the name splitter.

Each row is a name as a person typed it in a GetResponse form or an Excel sheet, with the
split a careful administrator would make of it. People come from ``people()`` (Faker-derived
names, French-heavy, with namesakes); the *way of writing* comes from ``FORMS``, whose shares
are our estimate of a French customer base: mostly "First Last", a solid share of "NOM Prénom"
and "Prénom NOM", then "Last, First", titles, compound and multiple given names, particles,
Spanish and Portuguese double family names, family-first Asian names (native script and
romanized), Cyrillic and Greek, single names, initials, apostrophes, stray spaces, emoji — and
text that is no person at all (emails, companies, couples, placeholders), labelled
``person=False``: the splitter must flag those.

The vocabularies below (titles, particle family names, companies, placeholders, emoji) are
hand-written word lists; every row is generated. The set is not tuned to the splitter: it
holds cases any splitter gets right and cases ours is known to miss (docs/names.md).
"""

from __future__ import annotations

import random
from functools import cache
from importlib import import_module
from typing import Any

import pandas as pd

from reconcile.sample.people import people
from reconcile.sample.pools import cultures

COLUMNS = ["text", "first", "last", "title", "suffix", "tag", "culture", "person"]

# How names are written, for Latin-script people (share of rows).
FORMS = {
    "first_last": 0.50, "lower": 0.04, "upper": 0.03, "LAST_first": 0.09, "first_LAST": 0.05,
    "last_first": 0.02, "UPPER_last_first": 0.01, "comma": 0.03, "title": 0.05,
    "suffix": 0.005, "middle": 0.03, "particle": 0.025, "single": 0.03, "initials": 0.01,
    "apostrophe": 0.01, "spaces": 0.02, "emoji": 0.01, "email": 0.02, "company": 0.01,
    "garbage": 0.01, "couple": 0.005,
}  # fmt: skip

TITLES = {
    "fr": (("M.", "M", "Monsieur", "Dr", "Me", "Pr"), ("Mme", "Madame", "Mlle", "Dr", "Me")),
    "en": (("Mr", "Mr.", "Dr.", "Prof.", "Sir"), ("Mrs", "Ms", "Miss", "Dr", "Mrs.")),
    "es": (("Sr.", "Dr."), ("Sra.", "Srta.", "Dra.")),
    "pt": (("Sr.", "Dr."), ("Sra.", "Dra.")),
    "de": (("Herr", "Dr.", "Prof. Dr."), ("Frau", "Dr.")),
    "it": (("Sig.", "Dott.", "Ing."), ("Sig.ra", "Dott.ssa")),
    "nl": (("Dhr.", "Dr."), ("Mevr.", "Dr.")),
}
SUFFIXES = ("Jr.", "Jr", "Sr.", "III", "II", "PhD")

# Real family names with particles, by origin.
PARTICLE_NAMES = (
    "de la Fontaine", "de Gaulle", "de Villiers", "du Bellay", "du Pont", "des Essarts",
    "de La Tour", "d'Arc", "d’Estaing", "d'Alembert", "de Saint-Exupéry", "de Lattre",
    "van der Berg", "van Dijk", "van den Broek", "de Vries", "van der Meer", "Van Damme",
    "De Smet", "von Braun", "von der Leyen", "zu Guttenberg", "di Stefano", "Di Maria",
    "De Luca", "Del Piero", "della Rovere", "Lo Russo", "da Silva", "dos Santos",
    "de Oliveira", "de la Cruz", "del Río", "de los Santos", "Ben Ali", "El Amrani",
    "Ait Ahmed", "Ben Youssef", "al-Farsi", "Le Goff", "Le Gall", "La Rochelle",
)  # fmt: skip
APOSTROPHE_NAMES = (
    "O'Brien", "O’Connor", "O'Neill", "N'Diaye", "N’Guessan", "D'Angelo", "L'Hôte",
    "d'Arc", "D'Amico", "L'Herbier", "M'Bami", "O'Sullivan",
)  # fmt: skip
EMOJI = ("🌸", "😊", "✨", "❤️", "👍", "🎉", "☀️", "🌹", "💙", "⭐", "👩‍💻", "🇫🇷")
COMPANY_WORDS = (
    "Immobilier", "Conseil", "Consulting", "Services", "Transports", "Assurances", "Avocats",
    "Boulangerie", "Pharmacie", "Garage", "Cabinet", "Agence", "Studio", "Group", "Groupe",
)  # fmt: skip
LEGAL_FORMS = ("SARL", "SAS", "SA", "EURL", "SCI", "GmbH", "Ltd", "Inc.", "S.A.", "BV", "LLC")
BRANDS = (
    "Air France", "La Poste", "Crédit Agricole", "BNP Paribas", "SNCF", "Leroy Merlin",
    "Carrefour Market", "Orange Business", "Renault Trucks", "Hôtel du Parc", "Mairie de Lyon",
    "Service Client", "Contact", "Info", "Comptabilité", "Accueil", "Google", "Amazon",
)  # fmt: skip
GARBAGE = (
    "test", "Test Test", "xxx", "XXX", "asdf", "azerty", "qsdfgh", "aaaa", "N/A", "-", ".",
    "?", "...", "123", "0612345678", "Client", "Inconnu", "nom prénom", "no name", "a", "zz",
    "😀", "null", "undefined", "???", "lol", "toto", "jjjj", "sdfsdf", "Votre nom", "moi",
    "essai", "hgfhgf", "Mr X", "ok",
)  # fmt: skip
SPACES = (" ", "  ", "\u00a0", "\t", "\u202f", " \u200b")


def _lang(culture: str) -> str:
    if culture in ("fr_FR", "fr_BE", "maghreb"):
        return "fr"
    return {
        "en_GB": "en",
        "en_US": "en",
        "es_ES": "es",
        "pt_PT": "pt",
        "de_DE": "de",
        "it_IT": "it",
        "nl_NL": "nl",
    }.get(culture, "fr")


class _Writer:
    """Renders one person in one form; returns (text, first, last, title, suffix, tag, person)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        table = cultures()
        self.pools = table
        self.family_pool = {code: tuple(filter(_sound, table[code].last)) for code in table}

    def pick(self, values: tuple | list) -> str:
        return values[self.rng.randrange(len(values))]

    def row(self, person: Any, form: str) -> tuple:
        culture = person.culture
        first, last = person.first_name, person.last_name
        if culture in ("zh_CN", "ja_JP"):
            return self._east_asian_native(culture, first, last)
        if culture == "vi_VN":
            return self._vietnamese(first, last)
        if culture in ("ru_RU", "el_GR"):
            return self._cyrillic_greek(culture, first, last, person.gender)
        if not _sound(last):
            last = self.pick(self.family_pool[culture])
        if culture in ("es_ES", "pt_PT") and form in ("first_last", "LAST_first", "comma"):
            second = self.pick(self.family_pool[culture])
            if self.rng.random() < (0.5 if culture == "es_ES" else 0.3) and second != last:
                family = f"{last} {second}"  # Spanish and Portuguese double family names
                return (
                    self._plain(first, family, form),
                    first,
                    family,
                    "",
                    "",
                    "double_family",
                    True,
                )
        return self._latin(person, form, first, last)

    # --- Latin script ---------------------------------------------------------------------------
    def _plain(self, first: str, last: str, form: str) -> str:
        if form == "LAST_first":
            return f"{last.upper()} {first}"
        if form == "comma":
            return self.pick((f"{last}, {first}", f"{last.upper()}, {first}", f"{last},{first}"))
        return f"{first} {last}"

    def _latin(self, person: Any, form: str, first: str, last: str) -> tuple:
        lang = _lang(person.culture)
        male = person.gender == "M"
        simple = {
            "first_last": f"{first} {last}",
            "lower": f"{first} {last}".lower(),
            "upper": f"{first} {last}".upper(),
            "LAST_first": f"{last.upper()} {first}",
            "first_LAST": f"{first} {last.upper()}",
            "last_first": f"{last} {first}",
            "UPPER_last_first": f"{last} {first}".upper(),
        }
        if form in simple:
            return simple[form], first, last, "", "", form, True
        if form == "comma":
            return self._plain(first, last, "comma"), first, last, "", "", form, True
        if form == "title":
            title = self.pick(TITLES[lang][0 if male else 1])
            shape = self.pick(
                (
                    f"{title} {first} {last}",
                    f"{title} {last.upper()} {first}",
                    f"{title} {first} {last.upper()}",
                )
            )
            return shape, first, last, title, "", form, True
        if form == "suffix":
            suffix = self.pick(SUFFIXES)
            shape = self.pick((f"{first} {last} {suffix}", f"{first} {last}, {suffix}"))
            return shape, first, last, "", suffix, form, True
        if form == "middle":
            pool = self.pools[person.culture]
            second = self.pick(pool.first_male if male else pool.first_female)
            if second == first or "-" in first:
                return f"{first} {last}", first, last, "", "", "first_last", True
            given = f"{first} {second}"
            shape = self.pick((f"{given} {last}", f"{given} {last}", f"{last.upper()} {given}"))
            return shape, given, last, "", "", form, True
        if form == "particle":
            family = self.pick(PARTICLE_NAMES)
            shape = self.pick(
                (
                    f"{first} {family}",
                    f"{first} {family}",
                    f"{first} {family}",
                    f"{family.upper()} {first}",
                    f"{first} {family.upper()}",
                    f"{family}, {first}",
                )
            )
            return shape, first, family, "", "", form, True
        if form == "apostrophe":
            family = self.pick(APOSTROPHE_NAMES)
            shape = self.pick(
                (f"{first} {family}", f"{first} {family}", f"{family.upper()} {first}")
            )
            return shape, first, family, "", "", form, True
        if form == "single":
            return self._single(lang, male, first, last)
        if form == "initials":
            return self._initials(first, last)
        if form == "spaces":
            gap = self.pick(SPACES)
            shape = self.pick(
                (
                    f"  {first}{gap}{last} ",
                    f"{first}{gap}{last}",
                    f"{first} {last}  ",
                    f" {last.upper()}{gap}{first}",
                )
            )
            return shape, first, last, "", "", form, True
        if form == "emoji":
            mark = self.pick(EMOJI)
            shape = self.pick(
                (
                    f"{first} {last} {mark}",
                    f"{mark} {first} {last}",
                    f"{first} {mark} {last}",
                    f"{first} {last}{mark}{mark}",
                )
            )
            return shape, first, last, "", "", form, True
        return self._not_a_person(form, person, first, last, male)

    def _single(self, lang: str, male: bool, first: str, last: str) -> tuple:
        roll = self.rng.random()
        if roll < 0.65:
            return first, first, "", "", "", "single", True
        if roll < 0.8:
            return last.upper(), "", last, "", "", "single", True
        title = self.pick(TITLES[lang][0 if male else 1])
        return f"{title} {last}", "", last, title, "", "single", True

    def _initials(self, first: str, last: str) -> tuple:
        initial = first[0] + "."
        if "-" in first:
            initial = "-".join(part[0] + "." for part in first.split("-"))
        roll = self.rng.random()
        if initial == "M." and roll < 0.5:
            roll = 0.6  # "M. Dupont" reads "Monsieur Dupont": write "Michel D." instead
        if roll < 0.5:
            return f"{initial} {last}", initial, last, "", "", "initials", True
        if roll < 0.75:
            return f"{first} {last[0]}.", first, f"{last[0]}.", "", "", "initials", True
        return f"{last.upper()} {initial}", initial, last, "", "", "initials", True

    def _not_a_person(self, form: str, person: Any, first: str, last: str, male: bool) -> tuple:
        if form == "email":
            return person.email, "", "", "", "", form, False
        if form == "company":
            roll = self.rng.random()
            if roll < 0.3:
                text = f"{last} {self.pick(COMPANY_WORDS)}"
            elif roll < 0.5:
                text = f"{self.pick(COMPANY_WORDS)} {last}"
            elif roll < 0.75:
                text = f"{last.upper()} {self.pick(LEGAL_FORMS)}"
            else:
                text = self.pick(BRANDS)
            return text, "", "", "", "", form, False
        if form == "garbage":
            return self.pick(GARBAGE), "", "", "", "", form, False
        other = self.pick(
            self.pools["fr_FR"].first_female if male else self.pools["fr_FR"].first_male
        )
        text = self.pick(
            (
                f"{first} et {other} {last}",
                f"{first} & {other} {last}",
                f"M. et Mme {last}",
                f"Famille {last}",
                f"Mr and Mrs {last}",
            )
        )
        return text, "", "", "", "", "couple", False

    # --- other scripts and orders ---------------------------------------------------------------
    def _east_asian_native(self, culture: str, first: str, last: str) -> tuple:
        pool = self.pools[culture]
        if self.rng.random() < 0.5 and pool.romanized_first:
            given, family = self.pick(pool.romanized_first), self.pick(pool.romanized_last)
            roll = self.rng.random()
            if roll < 0.4:
                return f"{family} {given}", given, family, "", "", "asian_latin", True
            if roll < 0.8:
                return f"{given} {family}", given, family, "", "", "asian_latin", True
            return f"{family.upper()} {given}", given, family, "", "", "asian_latin", True
        spaced = self.rng.random() < (0.6 if culture == "ja_JP" else 0.2)
        text = f"{last} {first}" if spaced else f"{last}{first}"
        return text, first, last, "", "", "asian_native", True

    def _vietnamese(self, first: str, last: str) -> tuple:
        middle = self.pick(("Văn", "Thị", "Đức", "Minh", "Ngọc", "Thanh"))
        roll = self.rng.random()
        if roll < 0.5:
            return (
                f"{last} {middle} {first}",
                f"{middle} {first}",
                last,
                "",
                "",
                "asian_latin",
                True,
            )
        if roll < 0.8:
            return f"{first} {last}", first, last, "", "", "asian_latin", True
        return (
            f"{last.upper()} {middle} {first}",
            f"{middle} {first}",
            last,
            "",
            "",
            "asian_latin",
            True,
        )

    def _cyrillic_greek(self, culture: str, first: str, last: str, gender: str) -> tuple:
        roll = self.rng.random()
        if roll < 0.5:
            return f"{first} {last}", first, last, "", "", "cyrillic_greek", True
        if roll < 0.7:
            return f"{last} {first}", first, last, "", "", "cyrillic_greek", True
        if roll < 0.9 and culture == "ru_RU":
            pool = _patronymics(gender)
            given = f"{first} {self.pick(pool)}"
            return f"{last} {given}", given, last, "", "", "cyrillic_greek", True
        return f"{last.upper()} {first}", first, last, "", "", "cyrillic_greek", True


def _sound(family: str) -> bool:
    """Leave out the few broken entries of Faker's lists ("Koch II", "Bourgondië, van")."""
    words = family.split()
    return "," not in family and words[-1] not in ("I", "II", "III") and words[0] != "auch"


@cache
def _patronymics(gender: str) -> tuple[str, ...]:
    provider = import_module("faker.providers.person.ru_RU").Provider
    return tuple(provider.middle_names_male if gender == "M" else provider.middle_names_female)


def labelled_names(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` typed names with their expected split, reproducible by ``seed`` (see COLUMNS)."""
    rng = random.Random(seed)
    base = people(n, seed=seed)
    writer = _Writer(rng)
    forms = rng.choices(list(FORMS), weights=list(FORMS.values()), k=n)
    rows = []
    for person, form in zip(base.itertuples(index=False), forms, strict=True):
        text, first, last, title, suffix, tag, is_person = writer.row(person, form)
        rows.append((text, first, last, title, suffix, tag, person.culture, is_person))
    return pd.DataFrame(rows, columns=COLUMNS)
