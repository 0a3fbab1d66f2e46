"""Which words of a clean name are the given names and which the family name.

Input: the name's words with titles and suffixes already removed. Output: (given words,
family words, reason); a non-empty reason means a person should check the split. Evidence is
weighed in this order, strongest first:

1. script: Han, kana and Hangul names are family-first;
2. capitals: the French habit of writing the family name in capitals ("DUPONT Jean",
   "Jean DUPONT") decides the order whenever the other words are not in capitals;
3. particles: "de", "van der", "da", "Ben"... start the family name, wherever they are;
4. East-Asian family names in Latin script ("Nguyen Van Anh", "Tanaka Hiroshi") and Russian
   patronymics ("Иванов Иван Иванович") put the family name first;
5. the lexicon: a known family name before a known given name ("Dupont Jean") swaps the
   usual order, and a known family name after the first word starts the family name
   ("Gabriel García Márquez");
6. otherwise the last word is the family name and the others are given names.
"""

from __future__ import annotations

import re

from reconcile.names._cjk import JA_KANJI_FAMILY, has_cjk, split_unspaced
from reconcile.names._lexicon import Lexicon
from reconcile.names._vocab import (
    BOUND_GIVEN,
    EAST_ASIAN_FAMILY,
    GIVEN_AFTER_PARTICLE,
    JA_FAMILY,
    KO_FAMILY,
    NON_GIVEN_PARTICLES,
    PARTICLES,
    PATRONYMIC_ENDINGS,
    SLAVIC_FAMILY_ENDINGS,
    VI_FAMILY,
    VI_MIDDLE,
    ZH_FAMILY,
    ZH_TOP_FAMILY,
)

# Word classes.
UNKNOWN, GIVEN, FAMILY, BOTH, INITIAL, PATRONYMIC = range(6)

_SYLLABLES = re.compile(r"^(?:[bcdfghjklmnpqrstwxz]{0,3}[aeiouy]{1,3}(?:ng|n|m|k|p|t|l|r)?)+$")
_LATIN_FAMILY_ENDINGS = tuple(e for e in SLAVIC_FAMILY_ENDINGS if e.isascii() and len(e) >= 3)

ORDER_GUESSED = "order guessed from name lists"
ORDER_UNCLEAR = "order unclear"
SINGLE = "single name"
INITIAL_ONLY = "initial only"


def is_initial(word: str) -> bool:
    """'J', 'J.', 'J.-P.', 'JP' (two or three consonant capitals): initials, not names."""
    if len(word) > 3 and "." not in word:
        return False  # the usual case, decided fast (``_vector._initials`` agrees)
    letters = [char for char in word if char.isalpha()]
    if len(letters) == 1:
        return True
    if "." in word and all(len(part) <= 1 for part in re.split(r"[.\-]+", word) if part):
        return True
    return (
        2 <= len(letters) <= 3
        and word.isupper()
        and word.isascii()
        and not (set(word.lower()) & set("aeiouy"))
    )


def _glued_particle(word: str) -> bool:
    """ "d'Arc", "D'Estaing", "dell'Orto": a family name carrying its elided particle."""
    return (len(word) > 2 and word[1] == "'" and word[0] in "dl") or word.startswith("dell'")


class Orderer:
    """Splits clean name words into given and family parts using a ``Lexicon``."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.western_given = lexicon.given - lexicon.east_asian_given
        self.western_family = lexicon.family - EAST_ASIAN_FAMILY

    # --- word classes -------------------------------------------------------------------------
    def word_class(self, word: str, token: str) -> int:
        given, family = self.lexicon.given, self.lexicon.family
        in_given, in_family = word in given, word in family
        if not (in_given or in_family):
            if "-" in word:
                parts = [part for part in word.split("-") if part]
                if parts and all(part in given for part in parts):
                    return GIVEN
                if parts and all(part in family for part in parts):
                    return FAMILY
            if is_initial(token):
                return INITIAL
            if _glued_particle(word):
                return FAMILY
            if word.endswith(PATRONYMIC_ENDINGS):
                return PATRONYMIC
            if len(word) >= 5 and word.endswith(
                SLAVIC_FAMILY_ENDINGS if not word.isascii() else _LATIN_FAMILY_ENDINGS
            ):
                return FAMILY
            return UNKNOWN
        if in_given and in_family:
            return BOTH
        return GIVEN if in_given else FAMILY

    # --- entry point --------------------------------------------------------------------------
    def order(self, tokens: list[str], keys: list[str], titled: bool) -> tuple[list, list, str]:
        count = len(tokens)
        if not tokens[0].isascii() and has_cjk("".join(tokens)):
            return self._cjk(tokens)
        if count == 1:
            return self._single(tokens[0], keys[0], titled)
        caps = self._caps(tokens, keys)
        if caps is not None:
            return caps
        lead = self._leading_family(tokens, keys, titled)
        if lead:
            if lead >= count:
                return [], tokens, SINGLE
            return tokens[lead:], tokens[:lead], ""
        if keys[0] in EAST_ASIAN_FAMILY and count <= 3:
            east = self._east_asian(tokens, keys)
            if east is not None:
                return east
        classes = [self.word_class(word, token) for word, token in zip(keys, tokens, strict=True)]
        if count == 2:
            return self.two(tokens, classes)
        return self._many(tokens, keys, classes)

    # --- the cases ------------------------------------------------------------------------------
    def _cjk(self, tokens: list[str]) -> tuple[list, list, str]:
        if len(tokens) == 1:
            given, family, reason = split_unspaced(tokens[0])
            return ([given] if given else []), [family], reason
        if (
            len(tokens[-1]) > 1
            and tokens[-1] in JA_KANJI_FAMILY
            and tokens[0] not in JA_KANJI_FAMILY
        ):
            return tokens[:-1], tokens[-1:], ""  # "太郎 田中", written given-first
        return tokens[1:], tokens[:1], ""

    def _single(self, token: str, word: str, titled: bool) -> tuple[list, list, str]:
        if titled or _glued_particle(word):
            return [], [token], SINGLE  # "Mme Dupont"
        kind = self.word_class(word, token)
        if kind == GIVEN or (kind in (BOTH, UNKNOWN, INITIAL) and not token.isupper()):
            return [token], [], SINGLE
        return [], [token], SINGLE

    def _caps(self, tokens: list[str], keys: list[str]) -> tuple[list, list, str] | None:
        """ "DUPONT Jean", "Jean de LA FONTAINE": the words in capitals are the family name."""
        uppers = [token.isupper() for token in tokens]
        if not any(uppers):
            return None  # no word in capitals: no cue (the usual case, decided fast)
        marks: list[bool | None] = []
        for token, word, upper in zip(tokens, keys, uppers, strict=True):
            if not upper:
                marks.append(None if word in PARTICLES else False)  # "de" may sit in either part
            elif word in PARTICLES:
                marks.append(True)  # "'S GRAVENSANDE", "DE LA FONTAINE"
            else:
                marks.append(not is_initial(token))  # "JP", "J." are initials, not a family name
        flags = [mark for mark in marks if mark is not None]
        if not any(flags) or all(flags):
            return None
        positions = [index for index, mark in enumerate(marks) if mark]
        low, high = positions[0], positions[-1]
        if any(marks[index] is False for index in range(low, high + 1)):
            family = [tokens[index] for index in positions]
            given = [token for index, token in enumerate(tokens) if index not in positions]
            return given, family, ORDER_UNCLEAR
        while low > 0 and marks[low - 1] is None:
            low -= 1  # "Jean de LA FONTAINE": the particle joins the family name
        if low == 0:
            return tokens[high + 1 :], tokens[: high + 1], ""
        if high == len(tokens) - 1:
            return tokens[:low], tokens[low:], ""
        return tokens[:low] + tokens[high + 1 :], tokens[low : high + 1], ORDER_UNCLEAR

    def _leading_family(self, tokens: list[str], keys: list[str], titled: bool) -> int:
        """Length of a family name that opens the name ("de Gaulle Charles"), else 0.

        "Van Nguyen" and "Ben Smith" open with a given name, but "M. El Idrissi" does not.
        """
        first = keys[0]
        phrases = self.lexicon.family_phrases
        for size in (3, 2):
            if len(keys) >= size and " ".join(keys[:size]) in phrases:
                return size
        if _glued_particle(first):
            return 1 if len(keys) > 1 else 0
        if first not in PARTICLES:
            return 0
        leading = first in NON_GIVEN_PARTICLES or tokens[0].islower() or (titled and len(keys) == 2)
        index = 1
        while index < len(keys) and keys[index] in PARTICLES:
            index += 1
        if not leading and (index == 1 or tokens[1].islower()):
            return 0  # "Van Nguyen", "Ben Smith", "Ben van de Ven": a given name
        return min(index + 1, len(keys))

    def _east_asian(self, tokens: list[str], keys: list[str]) -> tuple[list, list, str] | None:
        """ "Nguyen Van Anh", "Wang Wei", "Kim Min-jun", "Tanaka Hiroshi": family first."""
        first, rest = keys[0], keys[1:]
        lexicon = self.lexicon
        if any(
            (
                word not in lexicon.east_asian_given
                and (word in self.western_given or word in self.western_family)
            )
            or (word in PARTICLES and word not in VI_MIDDLE)
            for word in rest
        ):
            return None  # "Lee Payne", "Kim Smith": not a romanized Asian given name
        two_given = len(rest) == 2 and rest[0] in VI_MIDDLE
        if first in VI_FAMILY and (two_given or (len(rest) == 1 and rest[0] not in VI_FAMILY)):
            return tokens[1:], tokens[:1], ""
        syllabic = all(_SYLLABLES.match(word.replace("-", "")) for word in rest)
        if first in JA_FAMILY and rest[-1] not in JA_FAMILY and syllabic:
            return tokens[1:], tokens[:1], ""
        if first in KO_FAMILY and syllabic and rest[-1] not in KO_FAMILY:
            return tokens[1:], tokens[:1], ""  # "Kim Min-jun"
        if first in ZH_FAMILY and syllabic:
            # Most one-syllable given names are also family names somewhere down the list:
            # only a top family name against a rarer one tells the order.
            first_top, last_top = first in ZH_TOP_FAMILY, rest[-1] in ZH_TOP_FAMILY
            if first_top and not last_top:
                return tokens[1:], tokens[:1], ""  # "Wang Wei"
            if last_top and not first_top:
                return tokens[:-1], tokens[-1:], ""  # "Wei Wang"
            if rest[-1] in ZH_FAMILY:
                return tokens[:-1], tokens[-1:], ORDER_UNCLEAR  # "Tao Qiu"
            return tokens[1:], tokens[:1], ""
        return None

    def two(self, tokens: list[str], classes: list[int]) -> tuple[list, list, str]:
        """Two plain words: the lexicon tells "Dupont Jean" from "Jean Dupont"."""
        first, second = classes
        if second == INITIAL:
            if first == FAMILY:
                return tokens[1:], tokens[:1], INITIAL_ONLY  # "Dupont J."
            return tokens[:1], tokens[1:], INITIAL_ONLY  # "Marie L."
        if first == FAMILY and second in (GIVEN, BOTH):
            return tokens[1:], tokens[:1], ""  # "Dupont Jean"
        if (first == BOTH and second == GIVEN) or (first == UNKNOWN and second == GIVEN):
            return tokens[1:], tokens[:1], ORDER_GUESSED  # "Martin Sophie"
        if first == FAMILY and second == UNKNOWN:
            return tokens[1:], tokens[:1], ORDER_GUESSED
        return tokens[:1], tokens[1:], ""

    def _many(self, tokens: list[str], keys: list[str], classes: list[int]) -> tuple:
        count = len(tokens)
        if count == 3 and classes[2] == PATRONYMIC and classes[1] != PATRONYMIC:
            return tokens[1:], tokens[:1], ""  # "Иванов Иван Иванович"
        if classes[1] == PATRONYMIC:
            return tokens[:2], tokens[2:], ""  # "Иван Иванович Иванов"
        if classes[0] == FAMILY and all(kind in (GIVEN, BOTH, INITIAL) for kind in classes[1:]):
            return tokens[1:], tokens[:1], ""  # "Dupont Jean Pierre"
        phrases = self.lexicon.family_phrases
        for index in range(1, count - 1):
            if " ".join(keys[index:]) in phrases:
                return tokens[:index], tokens[index:], ""  # a known multi-word family name
        start = 1
        if keys[0] in BOUND_GIVEN:
            start = 2  # "Abdel Kader Benali"
        for size in (3, 2):
            if size < count and " ".join(keys[:size]) in self.lexicon.given_phrases:
                start = max(start, size)  # "José Luis ...", "María del Carmen ..."
                break
        iberian = keys[0] in self.lexicon.iberian_given
        index = start
        while index < count - 1:
            word = keys[index]
            if word in PARTICLES:
                if keys[index + 1] in GIVEN_AFTER_PARTICLE and index + 2 < count:
                    index += 2  # "María del Carmen López"
                    continue
                if word in VI_MIDDLE and keys[-1] in VI_FAMILY and index == count - 2:
                    break  # "Anh Van Nguyen": Van is a middle name
                return tokens[:index], tokens[index:], ""
            if classes[index] == FAMILY or (classes[index] in (UNKNOWN, BOTH) and iberian):
                # "Gabriel García Márquez"; after an Iberian given name, an unknown word or
                # one that is both a given and a family name ("Leandra Alba Moll") is more
                # likely the first of two family names than a middle name.
                return tokens[:index], tokens[index:], ""
            index += 1
        return tokens[: count - 1], tokens[count - 1 :], ""
