"""The rules of ``decide()`` one at a time, each shown to be the cause: the same input without
the thing that triggers it decides otherwise. Scores at the thresholds themselves are tested
by setting the threshold to the pair's own score (≥ links, one point more does not)."""

from __future__ import annotations

from reconcile.matching import MatchOptions
from tests.core.test_matching import BACKGROUND, one

JEAN = ("c1", "jean.dupont@orange.fr", "Jean", "Dupont")
TYPO = ("g1", "jean.dupond@orange.fr", "Jean Dupont")  # a one-letter typo of Jean's address


def test_a_typo_of_an_address_shared_in_the_crm_goes_to_review() -> None:
    gr = ("g1", "famille.dupond@orange.fr", "Jean Dupont")
    alone = one(gr, ("c1", "famille.dupont@orange.fr", "Jean", "Dupont"), *BACKGROUND)
    assert alone["decision"] == "link"
    shared = one(
        gr,
        ("c1", "famille.dupont@orange.fr", "Jean", "Dupont"),
        ("c2", "famille.dupont@orange.fr", "Marie", "Dupont"),
        *BACKGROUND,
    )
    assert shared["decision"] == "review"
    assert shared["reason"].endswith("2 CRM contacts share that email")


def test_a_runner_up_within_the_margin_makes_the_row_ambiguous() -> None:
    twin = ("c2", "jean.dupons@orange.fr", "Jean", "Dupont")  # another typo away: same score
    assert one(TYPO, JEAN, *BACKGROUND)["decision"] == "link"
    close = one(TYPO, JEAN, twin, *BACKGROUND)
    assert close["decision"] == "review"
    assert "next candidate scores 95" in close["reason"]
    # equal scores: ambiguous while the margin is 1 point or more, not at a margin of 0
    assert one(TYPO, JEAN, twin, *BACKGROUND, options=MatchOptions(margin=1))["decision"] == (
        "review"
    )
    assert one(TYPO, JEAN, twin, *BACKGROUND, options=MatchOptions(margin=0))["decision"] == "link"


def test_a_score_at_the_link_threshold_links_and_one_point_below_it_does_not() -> None:
    score = int(one(TYPO, JEAN, *BACKGROUND)["score"])
    at = one(TYPO, JEAN, *BACKGROUND, options=MatchOptions(link_threshold=score))
    assert at["decision"] == "link"
    above = one(TYPO, JEAN, *BACKGROUND, options=MatchOptions(link_threshold=score + 1))
    assert above["decision"] == "review"


def test_a_score_at_the_review_threshold_is_reviewed_and_one_point_below_it_is_new() -> None:
    score = int(one(TYPO, JEAN, *BACKGROUND)["score"])
    strict = {"link_threshold": 100}
    at = one(TYPO, JEAN, *BACKGROUND, options=MatchOptions(review_threshold=score, **strict))
    assert at["decision"] == "review"
    below = one(TYPO, JEAN, *BACKGROUND, options=MatchOptions(review_threshold=score + 1, **strict))
    assert below["decision"] == "new"
