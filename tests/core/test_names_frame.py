"""reconcile.names.split_names (the column path) and the labelled sample generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reconcile import model
from reconcile.names import Lexicon, Splitter, split_name, split_names
from reconcile.sample.names import COLUMNS, FORMS, labelled_names


def test_split_names_columns_index_and_values() -> None:
    column = pd.Series(["DUPONT Jean", None, "ACME SARL", "DUPONT Jean"], index=[7, 3, 9, 1])
    frame = split_names(column)
    assert list(frame.columns) == [
        model.FIRST_NAME,
        model.LAST_NAME,
        model.NAME_NEEDS_REVIEW,
        "name_review_reason",
    ]
    assert list(frame.index) == [7, 3, 9, 1]
    assert frame[model.FIRST_NAME].tolist() == ["Jean", "", "", "Jean"]
    assert frame[model.LAST_NAME].tolist() == ["Dupont", "", "", "Dupont"]
    assert frame[model.NAME_NEEDS_REVIEW].tolist() == [False, True, True, False]
    assert frame["name_review_reason"].tolist() == ["", "no name", "looks like a company", ""]
    assert frame[model.NAME_NEEDS_REVIEW].dtype == np.bool_


@pytest.mark.parametrize("dtype", [object, "string", "str"])
def test_split_names_accepts_string_dtypes_and_missing_values(dtype: object) -> None:
    column = pd.Series(["Jean Dupont", None, "Marie Curie"], dtype=dtype)
    frame = split_names(column)
    assert frame[model.LAST_NAME].tolist() == ["Dupont", "", "Curie"]
    assert frame[model.NAME_NEEDS_REVIEW].tolist() == [False, True, False]


def test_split_names_on_an_empty_column() -> None:
    frame = split_names(pd.Series([], dtype=object))
    assert frame.empty
    assert list(frame.columns)[:2] == [model.FIRST_NAME, model.LAST_NAME]


def test_split_names_reads_numbers_and_nan_like_split_name() -> None:
    column = pd.Series([12.0, np.nan, "Jean Dupont"], dtype=object)
    frame = split_names(column)
    for (_, row), value in zip(frame.iterrows(), column, strict=True):
        assert row[model.LAST_NAME] == split_name(value).last


def test_a_custom_lexicon_changes_the_order_read_from_it() -> None:
    knows = Splitter(Lexicon.from_names(given=["Zorglub"], family=["Bidule"]))
    assert knows.split("Bidule Zorglub")[:2] == ("Zorglub", "Bidule")
    blank = Splitter(Lexicon())
    assert blank.split("Bidule Zorglub")[:2] == ("Bidule", "Zorglub")


def test_the_lexicon_folds_accents_and_keeps_phrases() -> None:
    lexicon = Lexicon.from_names(given=["José Luis", "Hélène"], family=["da Silva", "Yıldırım"])
    assert {"hélène", "helene"} <= lexicon.given
    assert "jose luis" in lexicon.given_phrases
    assert "da silva" in lexicon.family_phrases
    assert lexicon.respell["YILDIRIM"] == "Yıldırım"


# --- the labelled generator ---------------------------------------------------------------
def test_labelled_names_are_reproducible_and_cover_every_form() -> None:
    first = labelled_names(3000, seed=5)
    assert first.equals(labelled_names(3000, seed=5))
    assert not first.equals(labelled_names(3000, seed=6))
    assert list(first.columns) == COLUMNS
    tags = set(first["tag"])
    expected = set(FORMS) | {"double_family", "asian_latin", "asian_native", "cyrillic_greek"}
    assert expected - tags <= {"suffix", "couple"}  # the rarest forms may miss 3,000 rows


def test_labels_are_consistent() -> None:
    rows = labelled_names(3000, seed=8)
    persons = rows[rows["person"]]
    assert ((persons["first"] != "") | (persons["last"] != "")).all()
    others = rows[~rows["person"]]
    assert ((others["first"] == "") & (others["last"] == "")).all()
    assert set(others["tag"]) <= {"email", "company", "garbage", "couple"}
    assert (rows[rows["tag"] == "first_last"]["text"].str.count(" ") >= 1).all()


def test_accuracy_bar_on_a_fresh_labelled_set() -> None:
    """The issue's bar (95% of splits right) with margin, on a seed the bench does not use."""
    rows = labelled_names(4000, seed=11)
    frame = split_names(rows["text"])

    def fold(series: pd.Series) -> pd.Series:
        return series.str.split().str.join(" ").str.casefold()

    same = (fold(frame[model.FIRST_NAME]) == fold(rows["first"])) & (
        fold(frame[model.LAST_NAME]) == fold(rows["last"])
    )
    right = same.where(rows["person"], frame[model.NAME_NEEDS_REVIEW])
    assert right.mean() >= 0.97
    assert frame[model.NAME_NEEDS_REVIEW][~rows["person"]].mean() >= 0.85  # non-persons flagged
    assert frame[model.NAME_NEEDS_REVIEW][rows["person"]].mean() <= 0.10  # few false alarms
