"""How split names are cased: what a Dynamics administrator expects to see in the CRM.

The rule (docs/names.md): a word typed in mixed case is kept exactly as typed ("McDonald",
"DeSantis", "d’Arc", "van der Berg"); a word typed all in capitals or all in lowercase is
re-cased, because capitals only marked the family name ("DUPONT Jean") or the whole form was
typed with caps lock or none ("jean dupont"):

- each part between hyphens and apostrophes gets one capital: "JEAN-PIERRE" -> "Jean-Pierre",
  "O'BRIEN" -> "O'Brien", "MCDONALD" -> "McDonald" (Mac is left alone: Macon, Mack);
- French, Dutch and German particles inside a family name go lowercase: "DE LA FONTAINE" ->
  "de La Fontaine" keeps La (Le Goff, La Fontaine are capitalised in French), "VAN DER BERG" ->
  "van der Berg", "D'ARC" -> "d'Arc"; Iberian, Italian and Arabic ones keep their capital
  ("Da Silva", "Di Maria", "El Amrani", "Ben Ali"), as French bases write them;
- scripts without case (Han, Arabic, ...) are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconcile.names._vocab import FAMILY_JOINERS, PARTICLES, key

_KEEP_LOWER = PARTICLES | FAMILY_JOINERS
_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüÿ")

# Particles written lowercase inside a family name when re-casing from capitals.
LOWER_PARTICLES = frozenset(
    {
        "de",
        "du",
        "des",
        "d'",
        "van",
        "von",
        "der",
        "den",
        "ter",
        "ten",
        "zu",
        "vom",
        "zum",
        "zur",
        "'s",
        "'t",
    }
)


def _capitalise_part(part: str) -> str:
    if not part:
        return part
    lowered = part.lower().replace("i\u0307", "i")  # Turkish İ lowers to i + combining dot
    if lowered.startswith("mc") and len(lowered) > 3:
        return "Mc" + lowered[2].upper() + lowered[3:]
    return lowered[0].upper() + lowered[1:]


def _capitalise(word: str) -> str:
    """One capital per hyphen/apostrophe-separated part; 'd'' and 'l'' elisions handled."""
    out: list[str] = []
    start = 0
    for index, char in enumerate(word):
        if char == "-" or char in "'’ʼ":
            out.append(_capitalise_part(word[start:index]))
            out.append(char)
            start = index + 1
    out.append(_capitalise_part(word[start:]))
    if len(out) >= 3 and out[0] == "D" and out[1] in "'’ʼ":
        out[0] = "d"  # d'Arc, d'Estaing: the elided particle stays lowercase (L'Hermite keeps L)
    return "".join(out)


def needs_recasing(word: str) -> bool:
    """True for a word typed all in capitals (two letters or more) or all in lowercase."""
    if word.islower():
        return True
    if not word.isupper():
        return False  # mixed case, or no cased letter at all
    letters = [char for char in word if char.isalpha()]
    # One letter, or initials such as "JP", "JPB", stay as typed.
    return len(letters) > 3 or bool(_VOWELS.intersection(word.lower()))


_NO_RESPELL: Mapping[str, str] = {}


def recase_word(
    word: str, *, particle: bool = False, respell: Mapping[str, str] = _NO_RESPELL
) -> str:
    """Case one word as described in the module docstring; mixed-case words are unchanged.

    ``respell`` maps capitals to a known spelling that re-casing cannot rebuild
    ("ALTINKAYA" -> "Altınkaya", "İNÖNÜ" -> "İnönü"): see ``Lexicon.respell``.
    """
    if particle and word.isupper() and key(word) in LOWER_PARTICLES:
        return word.lower()  # "DE GAULLE" -> "de Gaulle", "'S GRAVENSANDE" -> "'s Gravensande"
    if not needs_recasing(word):
        return word
    if respell and word.isupper():
        known = respell.get(word)
        if known is not None:
            return known
    return _capitalise(word)


def _keeps_particle(word: str, index: int, last: int) -> bool:
    """A particle typed lowercase before another word stays so ("de la Fontaine")."""
    return index < last and word.islower() and key(word) in _KEEP_LOWER


def _as_typed(words: list[str]) -> bool:
    """Every word in mixed case ("Jean", "McDonald"): nothing to re-case (the usual case)."""
    if len(words) == 1:
        return not (words[0].islower() or words[0].isupper())
    return not any(word.islower() or word.isupper() for word in words)


def recase_family(words: list[str], respell: Mapping[str, str] = _NO_RESPELL) -> str:
    """Join family-name words; a particle goes lowercase only when a name follows it."""
    if _as_typed(words):
        return " ".join(words)
    last = len(words) - 1
    return " ".join(
        word
        if _keeps_particle(word, index, last)
        else recase_word(word, particle=index < last, respell=respell)
        for index, word in enumerate(words)
    )


def recase_given(words: list[str], respell: Mapping[str, str] = _NO_RESPELL) -> str:
    """Join given-name words: a capital on each, but "María del Carmen" keeps its "del"."""
    if _as_typed(words):
        return " ".join(words)
    last = len(words) - 1
    return " ".join(
        word if _keeps_particle(word, index, last) else recase_word(word, respell=respell)
        for index, word in enumerate(words)
    )
