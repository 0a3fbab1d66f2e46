"""Names in Han, kana and Hangul: family name first, often written without a space.

"王伟" is family 王 + given 伟; "欧阳娜娜" has a two-character family name; "김민준" is 김 +
민준; "田中太郎" is 田中 + 太郎, but a Japanese family name may have one to three kanji, so an
unspaced Japanese name is split only after a known family name and flagged otherwise.
"""

from __future__ import annotations

from reconcile.names._vocab import JA_KANJI_FAMILY, KO_COMPOUND_FAMILY, ZH_COMPOUND_FAMILY


def _is_han(char: str) -> bool:
    code = ord(char)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF


def _is_kana(char: str) -> bool:
    return 0x3040 <= ord(char) <= 0x30FF or 0x31F0 <= ord(char) <= 0x31FF


def _is_hangul(char: str) -> bool:
    return 0xAC00 <= ord(char) <= 0xD7A3


def is_cjk(char: str) -> bool:
    """True for a Han, kana or Hangul character."""
    return _is_han(char) or _is_kana(char) or _is_hangul(char)


def has_cjk(text: str) -> bool:
    """True when the text holds at least one Han, kana or Hangul character."""
    return any(is_cjk(char) for char in text if ord(char) >= 0x3040)


def split_unspaced(word: str) -> tuple[str, str, str]:
    """Split one unspaced CJK word into (given, family, reason); reason set when unsure."""
    if len(word) < 2:
        return "", word, "single name"
    if all(_is_hangul(char) for char in word):
        cut = 2 if word[:2] in KO_COMPOUND_FAMILY and len(word) > 2 else 1
        return word[cut:], word[:cut], ""
    japanese = any(_is_kana(char) for char in word)
    for size in (3, 2, 1):
        if len(word) > size and word[:size] in JA_KANJI_FAMILY:
            return word[size:], word[:size], ""
    if japanese:
        run = 0
        while run < len(word) and _is_han(word[run]):
            run += 1
        if 1 <= run <= 3 and run < len(word):
            return word[run:], word[:run], ""  # kanji family name, kana given name
        return "", word, "family name unclear"
    if not all(_is_han(char) for char in word):
        return "", word, "family name unclear"
    if len(word) > 2 and word[:2] in ZH_COMPOUND_FAMILY:
        return word[2:], word[:2], ""
    if len(word) <= 3:
        return word[1:], word[:1], ""
    # Four Han or more: a Japanese name (2 + 2) more often than a Chinese one.
    return word[2:], word[:2], "family name unclear"
