"""One typed name in, (first, last, needs_review, title, suffix, reason) out.

The steps, in order: clean the surface (``_clean``); set aside what is not one person (an
email, a company, a couple, a family, placeholders); read "LAST, First" when there is a comma;
take titles off the front and suffixes off the end; let ``_order`` decide which words are the
family name; re-case (``_casing``). A non-empty reason is exactly ``needs_review``.

Results are plain tuples here (building a frozen dataclass costs more than splitting a simple
name); ``reconcile.names`` wraps them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cached_property

from reconcile.names import _clean
from reconcile.names._casing import recase_family, recase_given
from reconcile.names._lexicon import Lexicon
from reconcile.names._order import UNKNOWN, Orderer, is_initial
from reconcile.names._vector import VectorSplitter
from reconcile.names._vocab import (
    AMBIGUOUS_TITLES,
    BOUND_GIVEN,
    CAPS_ONLY_LEGAL_FORMS,
    COMPANY_AFTER_AMPERSAND,
    COMPANY_WORDS,
    COUPLE_WORDS,
    EAST_ASIAN_FAMILY,
    FAMILY_WORDS,
    LEGAL_FORMS,
    MAIDEN_MARKERS,
    NON_GIVEN_PARTICLES,
    PARTICLES,
    PLACEHOLDERS,
    SUFFIXES,
    TITLES,
    WEAK_SUFFIXES,
    key,
)

Result = tuple[str, str, bool, str, str, str]

NO_NAME = "no name"
EMAIL = "looks like an email"
COMPANY = "looks like a company"
NOT_A_NAME = "not a name (placeholder or gibberish)"
SEVERAL = "several people"
FAMILY = "a family, not one person"
DIGITS = "contains digits"
USERNAME = "looks like a user name"
PLACEHOLDER_WORD = "contains a placeholder word"
MARRIED = "birth and married names"
COMMAS = "several commas"
TOO_LONG = "too long to be a name"
MAX_LENGTH = 300  # Dynamics keeps 50 characters of a first or last name; past this, only noise

_SPECIAL = re.compile(r"[@(\[\"“«,\d._&+/]")
_DIGIT = re.compile(r"\d")
_ENDS_WITH_INITIAL = re.compile(r"(?:^|[-.])\w\.$")
_STRIP_LEAD = "-'’.;:!?*/\\|~^_=#<>"
_STRIP_TRAIL = "-;:!?*/\\|~^_=#<>,"
_ROMAN = frozenset({"ii", "iii", "iv", "vii", "viii"})
_STRONG_SUFFIXES = frozenset({"jr", "jnr", "sr", "snr"})
_BIRTH_MARKERS = frozenset({"née", "nee", "né", "geb", "geborene", "born"})
# Words that send a two-word name down the general path (see ``Splitter._two_words``).
_FIRST_WORD_ROLES = (
    TITLES | PARTICLES | FAMILY_WORDS | EAST_ASIAN_FAMILY | BOUND_GIVEN | COMPANY_WORDS
    | LEGAL_FORMS | CAPS_ONLY_LEGAL_FORMS | PLACEHOLDERS
)  # fmt: skip
_SECOND_WORD_ROLES = (
    SUFFIXES | PARTICLES | COMPANY_WORDS | LEGAL_FORMS | CAPS_ONLY_LEGAL_FORMS | PLACEHOLDERS
)


def _words(text: str) -> list[str]:
    """Tokens of one comma-free part: stray punctuation dropped, "Jean - Pierre" joined."""
    out: list[str] = []
    glue = False
    for raw in text.split():
        if raw in ("-", "–", "—"):
            glue = bool(out)
            continue
        if raw in ("&", "+"):
            out.append(raw)  # "Jean & Marie", "Dupont & Fils": read by the couple check
            continue
        if raw.isalpha():
            token = raw  # the usual case: nothing to strip
        elif key(raw) in ("'s", "'t"):
            token = raw  # Dutch "'s Gravensande", "'t Hooft": the apostrophe is the word
        else:
            token = raw.lstrip(_STRIP_LEAD).rstrip(_STRIP_TRAIL)
            if (
                token.endswith(".")
                and sum(c.isalpha() for c in token) > 4
                and not _ENDS_WITH_INITIAL.search(token)  # "Hans-H." keeps its period
            ):
                token = token.rstrip(".")
            if not _clean.is_word(token):
                continue
        if out and (glue or raw[0] == "-"):
            out[-1] = out[-1] + "-" + token
        else:
            out.append(token)
        glue = raw[-1] == "-"
    return out


class Splitter:
    """The name splitter; ``split`` is pure and thread-safe."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.orderer = Orderer(lexicon)
        self.lexicon = lexicon
        self.respell = lexicon.respell

    @cached_property
    def vector(self) -> VectorSplitter:
        """The column-at-once path for plain two-word names (``split_names`` uses it)."""
        roles = {
            "first": _FIRST_WORD_ROLES,
            "second": _SECOND_WORD_ROLES,
            "titles": TITLES | AMBIGUOUS_TITLES,
            "after_title": COUPLE_WORDS | MAIDEN_MARKERS,
        }
        return VectorSplitter(self.lexicon, roles, MAX_LENGTH)

    def _result(self, given: list[str], family: list[str], reasons: list[str], title: str = "",
                suffix: str = "") -> Result:  # fmt: skip
        if any(reasons):
            reason = "; ".join(dict.fromkeys(reason for reason in reasons if reason))
        else:
            reason = ""
        first = recase_given(given, self.respell)
        return first, recase_family(family, self.respell), bool(reason), title, suffix, reason

    def split(self, text: str) -> Result:
        """Split one name (see the module docstring); never raises on any text."""
        words = text.split(" ")
        if len(words) == 2 and len(text) <= MAX_LENGTH:
            first, second = words
            if (
                first.isalpha()
                and second.isalpha()
                and (
                    text.isascii()
                    or (max(text) < "\u3040" and unicodedata.is_normalized("NFC", text))
                )
            ):
                result = self._two_words(first, second)
                if result is not None:
                    return result
        return self.split_general(text)

    def _two_words(self, first: str, second: str) -> Result | None:
        """The usual "Jean Dupont" / "DUPONT Jean", decided without the general machinery.

        Returns None whenever a word has a role (title, particle, suffix, company word,
        East-Asian family name...) or is unknown gibberish: the general path decides those.
        ``split_general`` gives the same result for every name this accepts (tested).
        """
        key_1, key_2 = first.lower(), second.lower()
        if key_1 in _FIRST_WORD_ROLES or key_2 in _SECOND_WORD_ROLES:
            return None
        lexicon = self.lexicon
        if f"{key_1} {key_2}" in lexicon.family_phrases:
            return None
        if first.isupper() != second.isupper():  # "DUPONT Jean", "Jean DUPONT"
            if first.isupper() and not is_initial(first):
                return self._result([second], [first], [])
            if second.isupper() and not is_initial(second):
                return self._result([first], [second], [])
        orderer = self.orderer
        class_1, class_2 = orderer.word_class(key_1, first), orderer.word_class(key_2, second)
        if (
            class_1 == UNKNOWN
            and class_2 == UNKNOWN
            and (_clean.is_gibberish(key_1) or _clean.is_gibberish(key_2))
        ):
            return None
        given, family, reason = orderer.two([first, second], [class_1, class_2])
        return self._result(given, family, [reason])

    def split_general(self, text: str) -> Result:
        """The full path: every shape of name (``split`` takes a shortcut for most names)."""
        reasons: list[str] = []
        if len(text) > MAX_LENGTH:
            text = text[:MAX_LENGTH]
            reasons.append(TOO_LONG)
        text, dropped = _clean.clean_text(text)
        if not text:
            return "", "", True, "", "", NOT_A_NAME if dropped else NO_NAME
        title_hint = ""
        if _SPECIAL.search(text):
            if "@" in text:
                rest, emails = _clean.remove_emails(text)
                if emails and not any(char.isalpha() for char in rest):
                    given, family = _clean.email_guess(emails[0])
                    return self._result(
                        [given] if given else [], [family] if family else [], [EMAIL]
                    )
                text = rest
            if any(mark in text for mark in '(["“«'):
                text, inner = _clean.remove_brackets(text)
                titles = [word for word in inner if key(word) in TITLES]
                title_hint = " ".join(titles)
            if _DIGIT.search(text):
                text = _clean.strip_digits(text)
                reasons.append(DIGITS)
            if "," in text:
                parts = [_words(part) for part in text.split(",")]
                parts = [part for part in parts if part]
                if len(parts) >= 2:
                    return self._comma(parts, reasons, title_hint)
                text = " ".join(parts[0]) if parts else ""
        tokens = _words(text)
        if len(tokens) == 1 and (words := _clean.username_words(tokens[0])) is not None:
            tokens = words
            reasons.append(USERNAME)
        if not tokens:
            return "", "", True, title_hint, "", NOT_A_NAME if reasons else NO_NAME
        return self._tokens(tokens, reasons, title_hint)

    # --- the person, or not ---------------------------------------------------------------------
    def _named_person(self, tokens: list[str], keys: list[str]) -> bool:
        """ "Jordi Sales", "Claudio Company": the business words are family names here.

        Only where every business word is also a known family name and another word is a
        known given name; "Dupont Immobilier", "ACME SARL" and "Google France SAS" (a legal
        form in capitals) stay companies.
        """
        business = [
            (token, word)
            for token, word in zip(tokens, keys, strict=True)
            if word in _clean.BUSINESS_WORDS
        ]
        if not business or any(
            word not in self.lexicon.family or (word in LEGAL_FORMS and token.isupper())
            for token, word in business
        ):
            return False
        named = {word for _, word in business}
        return any(word in self.lexicon.given for word in keys if word not in named)

    def _known(self, keys: list[str]) -> bool:
        """At least one word is a known given or family name."""
        given, family = self.lexicon.given, self.lexicon.family
        return any(word in given or word in family for word in keys)

    def _not_a_person(self, tokens: list[str], keys: list[str], known: bool) -> str:
        if _clean.is_company(tokens, keys) and not self._named_person(tokens, keys):
            return COMPANY
        if not known and _clean.is_placeholder_text(keys):
            return NOT_A_NAME
        return ""

    def _tokens(self, tokens: list[str], reasons: list[str], title_hint: str) -> Result:
        while tokens and tokens[-1] in ("&", "+"):
            tokens = tokens[:-1]
        while tokens and tokens[0] in ("&", "+"):
            tokens = tokens[1:]
        if not tokens:
            return "", "", True, title_hint, "", NOT_A_NAME
        keys = [key(token) for token in tokens]
        known = self._known(keys)
        problem = self._not_a_person(tokens, keys, known)
        if problem:
            return "", "", True, "", "", problem
        if len(keys) > 2 and not COUPLE_WORDS.isdisjoint(keys[1:-1]):
            for index in range(1, len(keys) - 1):
                if keys[index] in NON_GIVEN_PARTICLES:
                    break  # "Coreth von und zu Coredo und Starkenberg" is one family name
                if keys[index] in COUPLE_WORDS:
                    return self._couple(tokens, keys, index, reasons)
        if keys[0] in FAMILY_WORDS and len(keys) > 1:
            person = self._person(tokens[1:], keys[1:], reasons)
            family = [person[1]] if person[1] else []
            return self._result([], family, [*reasons, FAMILY], person[3], person[4])
        if len(keys) > 2 and not MAIDEN_MARKERS.isdisjoint(keys[1:-1]):
            tokens, keys = self._married(tokens, keys, reasons)
        return self._person(tokens, keys, reasons, title_hint, known)

    def _person(self, tokens: list[str], keys: list[str], reasons: list[str],
                title_hint: str = "", known: bool | None = None) -> Result:  # fmt: skip
        if keys[0] in TITLES or keys[0] in AMBIGUOUS_TITLES:
            titles, tokens, keys = self._titles(tokens, keys)
            title = " ".join([*titles, title_hint]).strip()
        else:
            title = title_hint
        if len(keys) > 1 and keys[-1] in SUFFIXES:
            suffixes, tokens, keys = self._suffixes(tokens, keys, plain=True)
            suffix = " ".join(suffixes)
        else:
            suffix = ""
        if not tokens:
            return "", "", True, title, suffix, NO_NAME
        if known is None:
            known = self._known(keys)
        if not known and any(_clean.is_gibberish(word) for word in keys):
            reasons = [*reasons, PLACEHOLDER_WORD]
        given, family, reason = self.orderer.order(tokens, keys, bool(title))
        return self._result(given, family, [*reasons, reason], title, suffix)

    def _titles(self, tokens: list[str], keys: list[str]) -> tuple[list[str], list[str], list]:
        """Leading titles ("M.", "Mme", "Dr", "Prof. Dr."); "Don" only before two more words."""
        count = 0
        while count < len(keys):
            word = keys[count]
            if word in TITLES or (word in AMBIGUOUS_TITLES and len(keys) - count >= 3):
                count += 1
            else:
                break
        return tokens[:count], tokens[count:], keys[count:]

    def _suffixes(self, tokens: list[str], keys: list[str], *, plain: bool) -> tuple:
        """Trailing suffixes ("Jr.", "III", "PhD", lowercase "fils"); never the only name."""
        end = len(keys)
        while end > 1:
            word, token = keys[end - 1], tokens[end - 1]
            if word not in SUFFIXES:
                break
            if word in _ROMAN and not token.isupper():
                break
            if word in WEAK_SUFFIXES and not token.islower():
                break
            if plain and end <= 2 and word not in _STRONG_SUFFIXES | _ROMAN:
                break  # "Marie Senior": two words are a name (but "Louis III" is one + III)
            end -= 1
        return tokens[end:], tokens[:end], keys[:end]

    # --- special shapes -------------------------------------------------------------------------
    def _comma(self, parts: list[list[str]], reasons: list[str], title_hint: str) -> Result:
        """ "Dupont, Jean", "Smith, John, Jr.", "DUPONT, M. Jean"."""
        tail: list[str] = []
        while len(parts) > 2 or (len(parts) == 2 and self._all_suffixes(parts[-1])):
            last = parts.pop()
            if self._all_suffixes(last):
                tail = last + tail
            else:
                reasons = [*reasons, COMMAS]
                break
        if len(parts) == 1:  # "John Smith, Jr."
            result = self._tokens(parts[0], reasons, title_hint)
            suffix = " ".join([result[4], *tail]).strip()
            return result[0], result[1], result[2], result[3], suffix, result[5]
        family, given = parts[0], parts[1]
        keys = [key(token) for token in family + given]
        problem = self._not_a_person(family + given, keys, self._known(keys))
        if problem:
            return "", "", True, "", "", problem
        family_titles, family, _ = self._titles(family, [key(token) for token in family])
        given_titles, given, given_keys = self._titles(given, [key(token) for token in given])
        suffixes, given, _ = self._suffixes(given, given_keys, plain=False)
        title = " ".join([*family_titles, *given_titles, title_hint]).strip()
        suffix = " ".join([*suffixes, *tail])
        if not family or not given:
            return self._person(family + given, [key(t) for t in family + given], reasons, title)
        if all(is_initial(token) for token in family) and not all(is_initial(t) for t in given):
            family, given = given, family  # "J., Dupont"? a misplaced comma
            reasons = [*reasons, COMMAS]
        return self._result(given, family, reasons, title, suffix)

    def _all_suffixes(self, tokens: list[str]) -> bool:
        return bool(tokens) and all(key(token) in SUFFIXES for token in tokens)

    def _couple(self, tokens: list[str], keys: list[str], index: int, reasons: list) -> Result:
        """ "Jean et Marie Dupont", "M. et Mme Dupont": the first person, flagged."""
        if keys[index] == "&" and keys[index + 1] in COMPANY_AFTER_AMPERSAND:
            return "", "", True, "", "", COMPANY
        reasons = [*reasons, SEVERAL]
        left, left_keys = tokens[:index], keys[:index]
        right = self._person(tokens[index + 1 :], keys[index + 1 :], [])
        family = [right[1]] if right[1] else []
        if all(word in TITLES for word in left_keys):  # "M. et Mme Dupont"
            title = " ".join([*left, tokens[index], right[3]]).strip()
            return self._result([], family, reasons, title)
        titles, names, _ = self._titles(left, left_keys)
        if len(names) >= 2:  # "Jean Dupont et Marie Martin"
            first = self._person(left, left_keys, [])
            return self._result([first[0]], [first[1]], reasons, first[3], first[4])
        return self._result(names, family, reasons, " ".join(titles))

    def _married(self, tokens: list[str], keys: list[str], reasons: list[str]) -> tuple:
        """ "Marie Dupont née Martin" keeps Dupont; "Marie Martin épouse Dupont" takes Dupont."""
        index = next(i for i in range(1, len(keys) - 1) if keys[i] in MAIDEN_MARKERS)
        if keys[index] in _BIRTH_MARKERS:
            return tokens[:index], keys[:index]
        reasons.append(MARRIED)
        before, after = tokens[:index], tokens[index + 1 :]
        if not after:
            return before, keys[:index]
        given = [token for token in before[:-1]] or before
        merged = given + after
        return merged, [key(token) for token in merged]
