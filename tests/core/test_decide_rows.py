"""``decide()`` over several GetResponse rows at once: each row's runner-up is its own (never
the next row's), each review row lists its own best candidates (at most ``max_candidates``,
those under ``candidate_threshold`` left out but the best), a ``new`` row lists none, and the
candidates a reviewer reads carry their reasons."""

from __future__ import annotations

import pandas as pd

from reconcile.matching import CANDIDATE_IDS, MatchOptions, match_contacts
from tests.core.test_matching import BACKGROUND, crm_frame, gr_frame

GR = gr_frame(
    ("g1", "jean.dupond@orange.fr", "Jean Dupont"),  # two typos away from two Jean Duponts
    ("g2", "marie.curie@free.fr", "Marie Curie"),  # four Marie Curies, three of them typos
    ("g3", "jean.dupont@free.fr", "Jean Dupont"),  # the same name at another domain only
    ("g4", "paul.martim@orange.fr", "Paul Martin"),  # a typo, and a far weaker runner-up
)
CRM = crm_frame(
    ("c1", "jean.dupont@orange.fr", "Jean", "Dupont"),
    ("c2", "jean.dupons@orange.fr", "Jean", "Dupont"),
    ("c3", "marie.curiel@free.fr", "Marie", "Curie"),
    ("c4", "marie.curies@free.fr", "Marie", "Curie"),
    ("c5", "marie.curie@orange.fr", "Marie", "Curie"),
    ("c6", "marie.curiex@free.fr", "Marie", "Curie"),
    ("c7", "paul.martin@free.fr", "Paul", "Martin"),
    *BACKGROUND,
)


def decide_all(**options: int) -> pd.DataFrame:
    return match_contacts(GR, CRM, MatchOptions(**options)).set_index("gr_contact_id")


def test_each_row_is_weighed_against_its_own_runner_up() -> None:
    out = decide_all()
    assert out.loc["g1", "decision"] == "review"
    assert out.loc["g1", "reason"].endswith("next candidate scores 95")
    assert out.loc["g2", "decision"] == "review"
    assert out.loc["g2", "reason"].endswith("next candidate scores 97")
    # the last row: its runner-up (the same name at free.fr) is far below, so it links
    assert out.loc["g4", "decision"] == "link"
    assert out.loc["g4", "crm_contact_id"] == "c-bg1"


def test_each_review_row_lists_its_own_best_candidates() -> None:
    out = decide_all()
    assert out.loc["g1", CANDIDATE_IDS] == ("c1", "c2")
    assert out.loc["g2", CANDIDATE_IDS] == ("c3", "c4", "c6")  # max_candidates = 3
    assert out.loc["g2", "score"] == 97
    # what a reviewer reads: one line per candidate, with why it is one
    lines = out.loc["g1", "candidates"].split("\n")
    assert len(lines) == 2
    assert all(" · 95 · email typo jean.dupond→" in line for line in lines)


def test_a_new_row_lists_no_candidate_even_one_above_the_candidate_threshold() -> None:
    out = decide_all(candidate_threshold=5)
    assert out.loc["g3", "decision"] == "new"
    assert out.loc["g3", "score"] >= 5
    assert out.loc["g3", CANDIDATE_IDS] == ()
    assert out.loc["g3", "candidates"] == ""


def test_candidates_under_the_candidate_threshold_are_left_out_but_the_best() -> None:
    assert decide_all(candidate_threshold=95).loc["g1", CANDIDATE_IDS] == ("c1", "c2")
    assert decide_all(candidate_threshold=96).loc["g1", CANDIDATE_IDS] == ("c1",)
    assert decide_all(max_candidates=1).loc["g2", CANDIDATE_IDS] == ("c3",)


def test_a_new_row_whose_best_scores_the_candidate_threshold_says_how_close_it_came() -> None:
    score = int(decide_all().loc["g3", "score"])
    at = decide_all(candidate_threshold=score).loc["g3", "reason"]
    assert at.startswith(f"no close CRM contact (best scores {score}, below 33: ")
    above = decide_all(candidate_threshold=score + 1).loc["g3", "reason"]
    assert above == "no CRM contact with this email or a similar one"
