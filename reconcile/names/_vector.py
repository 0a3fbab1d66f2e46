"""The commonest names, split for a whole column at once with Arrow compute kernels.

Most names in a base are two words in Latin letters, at least one of them in the lexicon
("Jean Dupont", "DUPONT Jean-Pierre", "marie curie", "Nadia Bouzid"). For those the splitter's
decision (``Splitter._two_words`` and ``Orderer.two``) reduces to set lookups, a few suffix
patterns and a case test, which Arrow runs in C over the whole column; every other name
(titles, particles, initials, other scripts, punctuation...) is left to the Python splitter.
The two paths agree name for name: ``tests/core/test_names_frame.py`` checks it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reconcile.names._lexicon import Lexicon
from reconcile.names._vocab import PATRONYMIC_ENDINGS, SLAVIC_FAMILY_ENDINGS

# Two words of Latin-1 letters (hyphens inside), one space: nothing else to clean or read.
_PART = "[A-Za-zÀ-ÖØ-Þà-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ]*"  # not opening on ß: "ßa".title() differs
_WORD = f"{_PART}(?:-{_PART})*"
_SHAPES = (
    f"^{_WORD} {_WORD}$",  # Jean Dupont
    rf"^[^\s,]+ {_WORD} {_WORD}$",  # Mme Marie Dupont (the first word must be a title)
    f"^{_WORD} ?, ?{_WORD}$",  # Dupont, Jean
)
_VOWEL = "[aeiouyàâäéèêëîïôöùûüÿ]"
_PATRONYMIC = "(?:" + "|".join(e for e in PATRONYMIC_ENDINGS if e.isascii()) + ")$"
_SLAVIC_ASCII = "(?:" + "|".join(e for e in SLAVIC_FAMILY_ENDINGS if e.isascii() and len(e) >= 3)
_SLAVIC_ASCII += ")$"  # as Orderer.word_class: short endings only count outside ASCII
_SLAVIC_OTHER = "(?:" + "|".join(e for e in SLAVIC_FAMILY_ENDINGS if e.isascii()) + ")$"


class VectorSplitter:
    """Splits the plain two-word names of a list; the Python splitter does the rest.

    Three shapes: "Jean Dupont" (either order, capitals or not), the same after one title
    ("Mme DUPONT Marie") and "Dupont, Jean". ``roles`` are the words that send a name to the
    Python path: ``first`` and ``second`` (by position), ``titles``, ``after_title``.
    """

    def __init__(self, lexicon: Lexicon, roles: dict[str, frozenset[str]], max_length: int) -> None:
        def strings(words: frozenset[str]) -> pa.Array:
            return pa.array(sorted(words), pa.string())

        self.given = strings(lexicon.given)
        self.family = strings(lexicon.family)
        self.phrases = strings(lexicon.family_phrases)
        self.respell = strings(frozenset(lexicon.respell))
        self.roles = {name: strings(words) for name, words in roles.items()}
        self.max_length = max_length  # longer texts are cut and flagged by the Python path

    def split(self, texts: list[str]) -> tuple[np.ndarray, list[str], list[str], np.ndarray]:
        """(positions split here, first names, last names, order guessed) for ``texts``."""
        column = pa.array(texts, pa.string())
        short = pc.less_equal(pc.utf8_length(column), self.max_length).to_numpy(
            zero_copy_only=False
        )
        found = [np.flatnonzero(_matches(column, shape) & short) for shape in _SHAPES]
        positions = np.concatenate(found)
        if not len(positions):
            return positions, [], [], np.zeros(0, dtype=bool)
        plain, titled, comma = (column.take(pa.array(rows)) for rows in found)
        sizes = [len(rows) for rows in found]
        spaced = pc.split_pattern(pa.concat_arrays([plain, titled]), " ")
        plain_words, titled_words = spaced.slice(0, sizes[0]), spaced.slice(sizes[0])
        pair = pc.split_pattern_regex(comma, " ?, ?")
        one = pa.concat_arrays(
            [
                pc.list_element(plain_words, 0),
                pc.list_element(titled_words, 1),
                pc.list_element(pair, 0),
            ]
        )
        two = pa.concat_arrays(
            [
                pc.list_element(plain_words, 1),
                pc.list_element(titled_words, 2),
                pc.list_element(pair, 1),
            ]
        )
        key_1, key_2 = pc.utf8_lower(one), pc.utf8_lower(two)
        given_1, family_1, odd_1 = self._classes(one, key_1)
        given_2, family_2, odd_2 = self._classes(two, key_2)
        upper_1, upper_2 = pc.utf8_is_upper(one), pc.utf8_is_upper(two)
        known = pc.or_(
            pc.or_(pc.is_in(key_1, self.given), pc.is_in(key_1, self.family)),
            pc.or_(pc.is_in(key_2, self.given), pc.is_in(key_2, self.family)),
        )
        caps_initial = pc.and_(
            pc.xor(upper_1, upper_2), pc.or_(_initials(one, key_1), _initials(two, key_2))
        )
        roles = self.roles
        in_comma = pa.array(np.repeat([False, False, True], sizes))
        bad_title = np.zeros(len(one), dtype=bool)
        if sizes[1]:
            title = pc.utf8_rtrim(pc.utf8_lower(pc.list_element(titled_words, 0)), ".")
            after = pc.utf8_lower(pc.list_element(titled_words, 1))
            title_ok = pc.and_not(
                pc.is_in(title, roles["titles"]), pc.is_in(after, roles["after_title"])
            )
            bad_title[sizes[0] : sizes[0] + sizes[1]] = ~title_ok.to_numpy(zero_copy_only=False)
        left_out = _any(
            pc.invert(known),  # no word known: placeholder and gibberish checks, in Python
            caps_initial,  # "JP Dupont": not a family name in capitals
            odd_1,  # initials, patronymics: the Python path reads them
            odd_2,
            pa.array(bad_title),  # "X Jean Dupont" where X is no title
            pc.is_in(key_1, roles["first"]),
            pc.is_in(key_2, roles["second"]),
            pc.and_(in_comma, pc.is_in(key_2, roles["titles"])),
            pc.is_in(pc.binary_join_element_wise(key_1, key_2, " "), self.phrases),
            pc.is_in(one, self.respell),
            pc.is_in(two, self.respell),
            pc.match_substring_regex(key_1, "(?:^|-)mc"),
            pc.match_substring_regex(key_2, "(?:^|-)mc"),
        )
        keep = pc.invert(left_out)

        both_1 = pc.and_(given_1, family_1)
        only_family_1 = pc.and_not(family_1, given_1)
        unknown_1 = pc.invert(pc.or_(given_1, family_1))
        only_given_2 = pc.and_not(given_2, family_2)
        unknown_2 = pc.invert(pc.or_(given_2, family_2))
        caps_1 = pc.and_not(upper_1, upper_2)  # "DUPONT Jean"
        caps_2 = pc.and_not(upper_2, upper_1)  # "Jean DUPONT"
        sure = pc.and_(only_family_1, given_2)  # "Dupont Jean"
        guessed = _any(
            pc.and_(pc.or_(both_1, unknown_1), only_given_2),  # "Martin Sophie"
            pc.and_(only_family_1, unknown_2),  # "Dupont Maëlys"
        )
        swap = pc.and_not(pc.or_(caps_1, pc.or_(sure, guessed)), caps_2)
        guessed = pc.and_not(guessed, _any(caps_1, caps_2, in_comma))
        swap = pc.or_(swap, in_comma)  # "Dupont, Jean": the comma says it all

        given = pc.if_else(swap, two, one)
        family = pc.if_else(swap, one, two)
        selected = keep.to_numpy(zero_copy_only=False)
        return (
            positions[selected],
            _recase(given.filter(keep)).to_pylist(),
            _recase(family.filter(keep)).to_pylist(),
            guessed.filter(keep).to_numpy(zero_copy_only=False),
        )

    def _classes(self, word: pa.Array, key: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
        """Given?, family?, and words the Python path must read, as ``Orderer.word_class``."""
        in_given, in_family = pc.is_in(key, self.given), pc.is_in(key, self.family)
        known = pc.or_(in_given, in_family)
        parts = pc.split_pattern(key, "-")
        counts = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
        flat = pc.list_flatten(parts)
        owners = pc.list_parent_indices(parts).to_numpy(zero_copy_only=False)
        size = len(key)
        all_given = _per_word(pc.is_in(flat, self.given), owners, size) == counts
        all_family = _per_word(pc.is_in(flat, self.family), owners, size) == counts
        unknown_word = ~known.to_numpy(zero_copy_only=False)
        hyphen = (counts > 1) & unknown_word  # parts count only for a word not known whole
        parts_given = pa.array(hyphen & all_given)
        parts_family = pa.array(hyphen & all_family & ~all_given)
        unknown = pc.invert(_any(known, parts_given, parts_family))
        long = pc.greater_equal(pc.utf8_length(key), 5)
        ascii_ = pc.string_is_ascii(key)
        slavic = _all(
            unknown,
            long,
            pc.if_else(
                ascii_,
                pc.match_substring_regex(key, _SLAVIC_ASCII),
                pc.match_substring_regex(key, _SLAVIC_OTHER),
            ),
        )
        odd = pc.and_(
            unknown,
            pc.or_(_initials(word, key), pc.match_substring_regex(key, _PATRONYMIC)),
        )
        given = pc.or_(in_given, parts_given)
        family = _any(in_family, parts_family, slavic)
        return given, family, odd


def _matches(column: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(column, pattern).to_numpy(zero_copy_only=False)


def _per_word(flags: pa.Array, owners: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(owners, weights=flags.to_numpy(zero_copy_only=False), minlength=size)


def _any(*masks: pa.Array) -> pa.Array:
    found = masks[0]
    for mask in masks[1:]:
        found = pc.or_(found, mask)
    return found


def _all(*masks: pa.Array) -> pa.Array:
    found = masks[0]
    for mask in masks[1:]:
        found = pc.and_(found, mask)
    return found


def _letters(words: pa.Array) -> pa.Array:
    return pc.subtract(pc.utf8_length(words), pc.count_substring(words, "-"))


def _initials(word: pa.Array, lowered: pa.Array) -> pa.Array:
    """One letter, or two or three capitals with no vowel ("JP"): initials (``is_initial``)."""
    letters = _letters(word)
    short_caps = _all(
        pc.utf8_is_upper(word),
        pc.greater_equal(letters, 2),
        pc.string_is_ascii(word),
        pc.invert(pc.match_substring_regex(lowered, "[aeiouy]")),
    )
    return pc.and_(pc.less_equal(pc.utf8_length(word), 3), pc.or_(pc.equal(letters, 1), short_caps))


def _recase(words: pa.Array) -> pa.Array:
    """Re-case words typed all in capitals or all in lowercase ("DUPONT" -> "Dupont")."""
    long_or_vowel = pc.or_(
        pc.greater(_letters(words), 3), pc.match_substring_regex(words, "(?i)" + _VOWEL)
    )
    shouted = pc.and_(pc.utf8_is_upper(words), long_or_vowel)
    recase = pc.or_(pc.utf8_is_lower(words), shouted)
    return pc.if_else(recase, pc.utf8_title(words), words)
