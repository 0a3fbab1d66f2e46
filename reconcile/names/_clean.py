"""Turn a typed name into clean words, and recognise text that is no person's name.

Everything here is about the *surface*: invisible characters, emoji, odd spaces, emails,
brackets, digits, placeholders. The order of the words is ``_order``'s job.
"""

from __future__ import annotations

import re
import unicodedata

from reconcile.names._vocab import (
    CAPS_ONLY_LEGAL_FORMS,
    COMPANY_WORDS,
    KEYBOARD_ROWS,
    LEGAL_FORMS,
    PLACEHOLDERS,
)

# Emoji, pictographs, dingbats, arrows, shapes, keycaps and the (c)/(r)/tm signs: each run
# becomes a space ("Marie🌸Dupont").
_DROP = re.compile(
    "[\u20e3\u00a9\u00ae\u2122\u2190-\u21ff\u2300-\u23ff\u25a0-\u27bf\u2900-\u297f"
    "\u2b00-\u2bff\u3030\u303d\U0001f000-\U0001faff]+"
)
# Invisible characters (zero-width, joiners, soft hyphen, bidi marks, variation selectors,
# tags): removed without a trace.
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufe00-\ufe0f"
    "\U000e0000-\U000e007f]+"
)
# Starts only where a word starts, so a long word is scanned once (no quadratic backtracking).
_EMAIL = re.compile(r"(?<![^\s<>,;])<?[^\s<>@,;]++@[^\s<>@,;]+\.[^\s<>@,;]+>?")
_BRACKETS = re.compile(r"\([^()]*\)?|\[[^\[\]]*\]?|\"[^\"]*\"?|“[^”]*”?|«[^»]*»?")
_SPLIT_USERNAME = re.compile(r"[._]+")
_DIGITS = re.compile(r"\d+")
_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüÿæœáíóúãõåøı")


def clean_text(text: str) -> tuple[str, bool]:
    """NFC, no emoji, control or invisible characters, single spaces.

    The second value says whether symbols were dropped (a text of emoji only is no name).
    """
    changed = False
    if not text.isascii():
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        text = _INVISIBLE.sub("", text)
        dropped = _DROP.sub(" ", text)
        changed = dropped != text
        text = dropped
    if not text.isprintable():  # controls, odd spaces, private use, unassigned
        text = "".join(char if char.isprintable() else " " for char in text)
    return " ".join(text.split()), changed


def remove_emails(text: str) -> tuple[str, list[str]]:
    """The text without its email addresses (and their <>), and the addresses found."""
    found = [match.strip("<>") for match in _EMAIL.findall(text)]
    return " ".join(_EMAIL.sub(" ", text).split()), found


def remove_brackets(text: str) -> tuple[str, list[str]]:
    """Drop "(…)", "[…]" and quoted parts (nicknames, notes); return what they held."""
    inner: list[str] = []

    def keep(match: re.Match[str]) -> str:
        inner.append(match.group(0).strip('()[]"“”«» '))
        return " "

    return " ".join(_BRACKETS.sub(keep, text).split()), inner


def email_guess(address: str) -> tuple[str, str]:
    """(given, family) read from a "first.last@" local part, or ("", "") when there is none."""
    local = address.split("@", 1)[0]
    parts = [part for part in re.split(r"[._\-+]+", "".join(c for c in local if not c.isdigit()))]
    words = [part for part in parts if len(part) >= 2 and part.isalpha()]
    if len(words) == 2 and len(parts) == 2:
        return words[0], words[1]
    return "", ""


def username_words(token: str) -> list[str] | None:
    """'jean.dupont' or 'jean_dupont' typed as a name -> ['jean', 'dupont'], else None."""
    if "." not in token and "_" not in token:
        return None
    parts = [part for part in _SPLIT_USERNAME.split(token) if part]
    if len(parts) >= 2 and all(len(part) >= 2 and part.isalpha() for part in parts):
        return parts
    return None


BUSINESS_WORDS = LEGAL_FORMS | COMPANY_WORDS


def is_company(tokens: list[str], keys: list[str]) -> bool:
    """A legal form or a business/role word anywhere in the name."""
    if not BUSINESS_WORDS.isdisjoint(keys):
        return True
    if len(tokens) > 1 and not CAPS_ONLY_LEGAL_FORMS.isdisjoint(keys):
        return any(
            word in CAPS_ONLY_LEGAL_FORMS and token.isupper()
            for token, word in zip(tokens, keys, strict=True)
        )
    return False


def is_gibberish(word: str) -> bool:
    """A placeholder, keyboard mash, one letter repeated, or a long word with no vowel."""
    if word in PLACEHOLDERS:
        return True
    if not word.isalpha() or not word.isascii():
        return False
    if len(word) >= 3 and len(set(word)) == 1:
        return True
    if len(word) >= 4 and any(word in row for row in KEYBOARD_ROWS):
        return True
    return len(word) >= 5 and not (_VOWELS & set(word))


def is_placeholder_text(keys: list[str]) -> bool:
    """Every word is a placeholder or gibberish: "test test", "xxx", "asdf"."""
    return all(is_gibberish(word) for word in keys)


def strip_digits(text: str) -> str:
    """Digits become spaces: number-only words go, "Jean2" keeps "Jean"."""
    return " ".join(_DIGITS.sub(" ", text).split())


def is_word(token: str) -> bool:
    """A token holding at least one letter (punctuation-only tokens are dropped)."""
    return any(char.isalpha() for char in token)
