"""The name rules of ``score_pairs`` one pair at a time: a swapped first and last name, an
initial, a one-word name, names written glued, a typo in a first name and a masculine /
feminine pair — each shown by the flags a decision is made of (``first_ok``, ``last_ok``,
``swapped``), next to the same pair without the thing the rule is about."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from reconcile.matching import MatchOptions
from reconcile.matching.prepare import correct_both, prepare_crm, prepare_gr
from reconcile.matching.scoring import EXACT, FUZZY, KEY, _gendered_pair, score_pairs
from tests.core.test_matching import crm_frame, gr_frame

EMAIL = "jean.dupont@orange.fr"


def pair(gr_name: str, first: str, last: str, **options: Any) -> dict[str, Any]:
    """The features of one fuzzy pair: a GR contact named ``gr_name`` and a CRM contact
    ``first`` ``last``, both on the same address (so only the names differ)."""
    gr = prepare_gr(gr_frame(("g1", EMAIL, gr_name)))
    crm = prepare_crm(crm_frame(("c1", EMAIL, first, last)))
    correct_both(gr, crm)
    one = np.array([0])
    p = score_pairs(gr, crm, one, one, np.array([FUZZY], np.int8), MatchOptions(**options))
    return {name: values[0] for name, values in vars(p).items()}


def flags(p: dict[str, Any]) -> tuple[bool, bool, bool]:
    """(swapped, first names agree, last names agree)."""
    return bool(p["swapped"]), bool(p["first_ok"]), bool(p["last_ok"])


@pytest.mark.parametrize(
    ("a", "b"),
    [("louis", "louise"), ("louise", "louis"), ("jean", "jeanne"), ("paul", "pauline"),
     ("antoine", "antoinette"), ("honore", "honorine")],  # honoré / honorine: the "e" dropped
)  # fmt: skip
def test_a_masculine_and_a_feminine_first_name_are_a_gendered_pair(a: str, b: str) -> None:
    assert _gendered_pair(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("louise", "louise"), ("", ""), ("", "louise"), ("jean", "marie"), ("paul", "jeanne")],
)
def test_the_same_name_or_two_unrelated_names_are_no_gendered_pair(a: str, b: str) -> None:
    assert not _gendered_pair(a, b)


def test_a_swapped_name_with_a_typo_in_the_last_name_agrees_on_both_names() -> None:
    swapped = pair("Dupontt Jean", "Jean", "Dupont")
    assert flags(swapped) == (True, True, True)
    # the same words in the right order are no swap
    straight = pair("Jean Dupontt", "Jean", "Dupont")
    assert flags(straight) == (False, True, True)


def test_names_that_fit_both_ways_are_not_taken_as_swapped() -> None:
    # "jean" fits the CRM first name as well as its last name: nothing says they are swapped
    assert not pair("Jean Jeans", "Jean", "Jean")["swapped"]


def test_a_typo_in_a_swapped_first_name_counts_as_a_typo() -> None:
    # Jaen for Jean, written last: one slip of a key counts 90 (token_set alone gives 75)
    assert pair("Dupont Jaen", "Jean", "Dupont", first_name_agreement=90)["first_ok"]
    assert not pair("Dupont Jaen", "Jean", "Dupont", first_name_agreement=91)["first_ok"]


def test_an_initial_fits_a_first_name_that_starts_with_it() -> None:
    assert pair("J. Dupont", "Jean", "Dupont", first_name_agreement=90)["first_ok"]
    assert not pair("J. Dupont", "Jean", "Dupont", first_name_agreement=91)["first_ok"]
    assert pair("J. Dupont", "Jo", "Dupont")["first_ok"]  # a two-letter first name too
    assert not pair("P. Dupont", "Jean", "Dupont")["first_ok"]  # another initial
    assert not pair("Jo Dupont", "Jean", "Dupont")["first_ok"]  # two letters are no initial


def test_a_one_word_name_fits_the_crm_last_name() -> None:
    one_word = pair("Dupont", "Jean", "Dupont")
    assert flags(one_word) == (False, True, False)
    assert not pair("Durand", "Jean", "Dupont")["first_ok"]


def test_a_name_written_glued_is_the_same_name_in_either_order() -> None:
    for glued in ("DupontJean", "JeanDupont"):
        p = pair(glued, "Jean", "Dupont")
        assert flags(p) == (False, True, True), glued
        assert p["name_sim"] == 100, glued


def test_a_gendered_pair_counts_60_as_first_names() -> None:
    assert pair("Louis Dupont", "Louise", "Dupont", first_name_agreement=60)["first_ok"]
    assert not pair("Louis Dupont", "Louise", "Dupont", first_name_agreement=61)["first_ok"]
    assert not pair("Louis Dupont", "Louise", "Dupont")["first_ok"]
    # one slip of a key in a first name of 4+ letters is the same name
    assert pair("Jeqn Dupont", "Jean", "Dupont")["first_ok"]


def features(
    gr_email: str, gr_name: str | None, crm: tuple[str, str, str], kind: int = FUZZY
) -> dict[str, Any]:
    """Score and flags of one pair: a GR contact (email, name) and a CRM one (email, first,
    last), compared as ``kind`` (FUZZY: found by similarity; KEY / EXACT: the same mailbox)."""
    g = prepare_gr(gr_frame(("g1", gr_email, gr_name)))
    c = prepare_crm(crm_frame(("c1", *crm)))
    correct_both(g, c)
    one = np.array([0])
    p = score_pairs(g, c, one, one, np.array([kind], np.int8), MatchOptions())
    return {name: values[0] for name, values in vars(p).items()}


JEAN = (EMAIL, "Jean", "Dupont")


def test_identical_names_are_100_similar_and_no_name_is_0() -> None:
    named = features(EMAIL, "Jean Dupont", JEAN)
    assert named["name_sim"] == 100
    assert flags(named) == (False, True, True)
    nameless = features(EMAIL, None, JEAN)
    assert nameless["name_sim"] == 0
    assert nameless["first_ok"]  # no name cannot disagree...
    assert not nameless["last_ok"]  # ...nor confirm


def test_a_crm_contact_without_a_first_name_never_disagrees_on_it() -> None:
    assert features(EMAIL, "Jean Dupont", (EMAIL, "", "Dupont"))["first_ok"]
    assert not features(EMAIL, "Paul Dupont", (EMAIL, "J", "Dupont"))["first_ok"]  # an initial


def test_last_names_one_letter_apart_in_ten_agree() -> None:
    # token_set_ratio("vandenberg", "vandenberk") is 90: the last-name agreement, exactly
    assert features(EMAIL, "Jean Vandenberg", (EMAIL, "Jean", "Vandenberk"))["last_ok"]


def test_email_similarity_by_kind_of_evidence() -> None:
    assert features(EMAIL, "Jean Dupont", JEAN, EXACT)["email_sim"] == 100
    # the same Gmail mailbox, dots aside
    key = ("jeandupont@gmail.com", "Jean", "Dupont")
    assert features("j.e.andupont@gmail.com", "Jean Dupont", key, KEY)["email_sim"] == 98
    assert features("j.e.andupont@gmail.com", "Jean Dupont", key, KEY)["score"] == 98
    # the same local part once a typo in the domain is fixed
    assert features("jean.dupont@ornage.fr", "Jean Dupont", JEAN)["email_sim"] == 97
    # the same local part at another domain counts for 0.8
    assert features("jean.dupont@free.fr", "Jean Dupont", JEAN)["email_sim"] == 80


@pytest.mark.parametrize(
    ("gr_email", "crm_email"),
    [("jean.dupont1@orange.fr", "jean.dupont2@orange.fr"),  # digits: siblings, namesakes
     ("jeandupont@orange.fr", "jean.dupont@orange.fr")],  # a separator: two ways of writing
)  # fmt: skip
def test_namesake_like_addresses_count_for_less_than_their_letters(
    gr_email: str, crm_email: str
) -> None:
    from rapidfuzz import fuzz

    p = features(gr_email, "Jean Dupont", (crm_email, "Jean", "Dupont"))
    letters = fuzz.ratio(gr_email.split("@")[0], crm_email.split("@")[0])
    assert p["email_sim"] == pytest.approx(0.8 * letters, abs=0.01)
    assert not p["linkable"]
    assert p["score"] < MatchOptions().review_threshold  # the same name, elsewhere: weak


def test_only_a_typo_like_difference_scores_on_similarity() -> None:
    typo = features("jean.dupond@orange.fr", "Jean Dupont", JEAN)
    assert typo["score"] >= MatchOptions().link_threshold
    # the same name at another address of the same domain, at another domain, or a relative
    # one letter away (aleroy@ for Antoine, eleroy@ for Eléonore): weak evidence, low score
    for gr_email, name, crm in [
        ("jean.durand@orange.fr", "Jean Dupont", JEAN),
        ("jean.dupont@free.fr", "Jean Dupont", JEAN),
        ("aleroy@orange.fr", "Antoine Leroy", ("eleroy@orange.fr", "Eléonore", "Leroy")),
    ]:
        assert features(gr_email, name, crm)["score"] < MatchOptions().review_threshold, gr_email


def test_a_typo_with_a_name_that_agrees_scores_more_than_without_a_name() -> None:
    named = features("jean.dupond@orange.fr", "Jean Dupont", JEAN)["score"]
    nameless = features("jean.dupond@orange.fr", None, JEAN)["score"]
    assert nameless < named


LEPAGE = ("anne.lepage@laposte.net", "Anne", "Lepage")


@pytest.mark.parametrize(
    ("gr_email", "gr_name", "crm", "linkable"),
    [
        # a one-letter typo links only when both names are exactly the same
        ("jean.dupond@orange.fr", "Jean Dupont", JEAN, True),
        ("jean.dupond@orange.fr", "Jeqn Dupont", JEAN, False),
        # another address of the same domain, the same name: no typo
        ("jean.durand@orange.fr", "Jean Dupont", JEAN, False),
        # a relative's address one letter away
        ("aleroy@orange.fr", "Antoine Leroy", ("eleroy@orange.fr", "Eléonore", "Leroy"), False),
        # a three-letter first name is long enough, a local part of six letters too
        ("luc.dupond@orange.fr", "Luc Dupont", ("luc.dupont@orange.fr", "Luc", "Dupont"), True),
        ("dupond@orange.fr", "Jean Dupont", ("dupont@orange.fr", "Jean", "Dupont"), True),
        # Vu Nguyen: vnguyen@ and vunguyen@ are two namesakes' patterns, not a typo
        ("vnguyen@orange.fr", "Vu Nguyen", ("vunguyen@orange.fr", "Vu", "Nguyen"), False),
        # a +tag: the same mailbox unless a last name says another person
        ("anne.lepage+news@laposte.net", "Anne Lepage", LEPAGE, True),
        ("anne.lepage+news@laposte.net", "Anne", LEPAGE, True),
        ("anne.lepage+news@laposte.net", None, LEPAGE, True),
        ("anne.lepage+news@laposte.net", "Anne Durand", LEPAGE, False),
    ],
)
def test_which_fuzzy_evidence_may_link(
    gr_email: str, gr_name: str | None, crm: tuple[str, str, str], linkable: bool
) -> None:
    assert bool(features(gr_email, gr_name, crm)["linkable"]) is linkable


def test_an_identical_mailbox_with_another_first_name_is_reviewed_above_name_matches() -> None:
    same_last = features(EMAIL, "Marie Dupont", JEAN, EXACT)
    other_last = features(EMAIL, "Marie Durand", JEAN, EXACT)
    assert not same_last["linkable"]
    assert not other_last["linkable"]
    assert same_last["score"] > other_last["score"] >= MatchOptions().review_threshold


def test_scores_stay_within_0_and_100() -> None:
    # a relative's address one letter away: nothing says it is this person
    relative = features(
        "aleroy@orange.fr", "Antoine Leroy", ("eleroy@orange.fr", "Eléonore", "Leroy")
    )
    assert relative["score"] == 0
    assert features(EMAIL, "Jean Dupont", JEAN, EXACT)["score"] == 100
