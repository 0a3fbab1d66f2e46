"""Properties of reconcile.names that hold for every input (hypothesis)."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.names import default_splitter, split_name, split_names
from reconcile.names._vocab import SUFFIXES, TITLES

# Names people type: words from real given/family names, in any case, with noise around.
GIVEN = ["Jean", "Marie", "Anne-Sophie", "José", "Zoë", "Mohamed", "Ingrid", "Jean-Luc", "Léa"]
FAMILY = ["Dupont", "Martin", "García Márquez", "de la Fontaine", "O'Brien", "Nguyen", "Müller"]
CLEAN_TITLES = ["M.", "Mme", "Dr", "Mr", "Mrs", "Prof.", "Mlle"]
CLEAN_SUFFIXES = ["Jr.", "III", "PhD"]

any_text = st.text(max_size=60)
noise = st.sampled_from(["", " ", "  ", "\t", "\u00a0", "\u200b", "😀", ".", "-", ",", "'"])


@st.composite
def typed_names(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from([*GIVEN, *FAMILY]), min_size=1, max_size=4))
    cased = [draw(st.sampled_from([w, w.upper(), w.lower()])) for w in words]
    glue = draw(st.lists(noise, min_size=len(cased) + 1, max_size=len(cased) + 1))
    return glue[0] + "".join(w + " " + g for w, g in zip(cased, glue[1:], strict=True))


def _spaces_ok(value: str) -> bool:
    return value == " ".join(value.split()) and not any(
        unicodedata.category(char) in ("Cc", "Cf") for char in value
    )


def _fold(text: str) -> str:
    """Casefolded, without invisible format characters (which the splitter removes)."""
    visible = "".join(char for char in text if unicodedata.category(char) != "Cf")
    folded = unicodedata.normalize("NFC", visible).casefold().replace("\u0307", "")
    return folded.replace("ı", "i")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(any_text, typed_names()))
def test_never_raises_and_output_is_clean(text: str) -> None:
    result = split_name(text)
    for value in (result.first, result.last, result.title, result.suffix):
        assert isinstance(value, str)
        assert _spaces_ok(value), repr(value)
    assert result.needs_review == bool(result.reason)


@settings(max_examples=400, deadline=None)
@given(st.one_of(any_text, typed_names()))
def test_no_word_is_invented(text: str) -> None:
    """Every word of the output comes from the input (re-cased, at most)."""
    result = split_name(text)
    source = _fold(text)
    for value in (result.first, result.last, result.title, result.suffix):
        for word in re.findall(r"\w+", _fold(value)):
            assert word in source, (word, text)


@given(
    st.sampled_from([*CLEAN_TITLES, ""]),
    st.sampled_from(GIVEN),
    st.sampled_from(FAMILY),
    st.sampled_from([*CLEAN_SUFFIXES, ""]),
)
def test_titles_and_suffixes_never_leak_into_first_or_last(
    title: str, first: str, last: str, suffix: str
) -> None:
    text = " ".join(part for part in (title, first, last, suffix) if part)
    result = split_name(text)
    assert (result.title, result.suffix) == (title, suffix)
    words = {w.lower().rstrip(".") for w in f"{result.first} {result.last}".split()}
    assert not words & (TITLES | SUFFIXES)
    assert (result.first, result.last) == (first, last)


@given(typed_names())
def test_last_comma_first_round_trip(text: str) -> None:
    """Writing a split back as "Last, First" splits the same way."""
    result = split_name(text)
    if result.first and result.last and not result.needs_review:
        again = split_name(f"{result.last}, {result.first}")
        assert (again.first, again.last) == (result.first, result.last)


@given(typed_names())
def test_family_in_capitals_round_trip(text: str) -> None:
    """Writing a split back as "First LAST" splits the same way (up to case)."""
    result = split_name(text)
    if result.first and result.last and not result.needs_review:
        again = split_name(f"{result.first} {result.last.upper()}")
        assert (_fold(again.first), _fold(again.last)) == (_fold(result.first), _fold(result.last))


@given(typed_names(), st.data())
def test_spaces_and_emoji_between_words_change_nothing(text: str, data: st.DataObject) -> None:
    gaps = st.sampled_from([" ", "  ", "\u00a0", " 😀 ", "\t", "\u202f", " ✨"])
    noisy = "".join(data.draw(gaps) if char == " " else char for char in text)
    assert split_name(f" {noisy}\n") == split_name(text)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), any_text, typed_names()), max_size=30))
def test_split_names_equals_split_name_row_by_row(values: list[str | None]) -> None:
    column = pd.Series(values + values[:5], dtype=object)  # repeats, as real bases have
    column.index = range(100, 100 + len(column))
    frame = split_names(column)
    assert list(frame.index) == list(column.index)
    for index, value in column.items():
        one = split_name(value)
        row = frame.loc[index]
        assert (row.first_name, row.last_name) == (one.first, one.last)
        assert bool(row.name_needs_review) == one.needs_review
        assert row.name_review_reason == one.reason


LATIN_1_LETTERS = "".join(chr(c) for c in range(0x41, 0x100) if chr(c).isalpha() and c != 0xAA)
KNOWN = [
    "jean",
    "DUPONT",
    "Marie",
    "martin",
    "Ayşe",
    "Sophie",
    "Thomas",
    "Nguyen",
    "de",
    "M.",
    "Mme",
]


@st.composite
def latin_words(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        word = draw(st.sampled_from(KNOWN))
    else:
        word = draw(st.text(alphabet=LATIN_1_LETTERS, min_size=1, max_size=7))
    if draw(st.integers(0, 4)) == 0:
        word += "-" + draw(st.sampled_from([*KNOWN, "pierre", "X"]))
    return draw(st.sampled_from([word, word.upper(), word.lower(), word.title()]))


@st.composite
def two_word_shapes(draw: st.DrawFn) -> str:
    one, two = draw(latin_words()), draw(latin_words())
    title = draw(st.sampled_from(["M.", "Mme", "DR", "Don", "Xy"]))
    return draw(st.sampled_from([f"{one} {two}", f"{title} {one} {two}", f"{one}, {two}"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(two_word_shapes(), min_size=1, max_size=40))
def test_the_arrow_path_agrees_with_split_name_on_any_latin_words(texts: list[str]) -> None:
    splitter = default_splitter()
    positions, first, last, guessed = splitter.vector.split(texts)
    for position, given_name, family, order_guessed in zip(
        positions, first, last, guessed, strict=True
    ):
        expected = splitter.split(texts[position])
        assert (given_name, family, bool(order_guessed)) == expected[:3], texts[position]
