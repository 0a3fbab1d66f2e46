"""Properties of contact matching that must hold for any input (hypothesis)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.emails import email_key, normalize_email
from reconcile.matching import CANDIDATE_IDS, MatchOptions, match_contacts

FIRST = st.sampled_from(["Jean", "Jeanne", "Marie", "Hélène", "Louis", "Louise", "Zoé", "J."])
LAST = st.sampled_from(["Dupont", "Dupond", "Martin", "Lefèvre", "Le Gall", "Nguyen"])
LOCAL = st.sampled_from(["jean.dupont", "jeandupont", "jean.dupont2", "j.dupont", "marie",
                         "jdupnot", "lefevre.h", "famille.martin", "jean.dupont+x"])  # fmt: skip
DOMAIN = st.sampled_from(["gmail.com", "gmial.com", "googlemail.com", "hotmail.fr", "orange.fr",
                          "ornage.fr", "acme-conseil.fr"])  # fmt: skip
EMAIL = st.one_of(st.builds(lambda lo, d: f"{lo}@{d}", LOCAL, DOMAIN), st.none(),
                  st.just("not an email"))  # fmt: skip
PERSON = st.tuples(FIRST, LAST, EMAIL)


def frames(gr_people: list[tuple], crm_people: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    gr = pd.DataFrame(
        {
            "gr_contact_id": [f"g{i}" for i in range(len(gr_people))],
            "email": [p[2] for p in gr_people],
            "name": [f"{p[0]} {p[1]}" for p in gr_people],
            "first_name": [p[0] for p in gr_people],
            "last_name": [p[1] for p in gr_people],
        }
    )
    crm = pd.DataFrame(
        {
            "crm_contact_id": [f"c{i}" for i in range(len(crm_people))],
            "crm_email": [p[2] for p in crm_people],
            "crm_first_name": [p[0] for p in crm_people],
            "crm_last_name": [p[1] for p in crm_people],
        }
    )
    return gr, crm


@settings(max_examples=60, deadline=None)
@given(st.lists(PERSON, max_size=8), st.lists(PERSON, max_size=8))
def test_every_row_gets_a_bounded_score_and_a_consistent_decision(gr_people, crm_people) -> None:
    gr, crm = frames(gr_people, crm_people)
    out = match_contacts(gr, crm)
    assert len(out) == len(gr)
    assert out["gr_contact_id"].tolist() == gr["gr_contact_id"].tolist()
    assert out["score"].between(0, 100).all()
    crm_keys = [email_key(n) if (n := normalize_email(e)) else None for e in crm["crm_email"]]
    for _, row in out.iterrows():
        ids = row[CANDIDATE_IDS]
        assert isinstance(ids, tuple)
        assert len(ids) <= MatchOptions().max_candidates or row["decision"] == "review"
        if row["decision"] == "link":
            linked = row["crm_contact_id"]
            assert ids[0] == linked
            key = crm_keys[int(linked[1:])]
            # Two CRM contacts on one address link only when the name settles which one
            # (GetResponse names it) or when both are one person (the same name twice).
            if crm_keys.count(key) > 1:
                gr_name = gr["name"].iloc[int(row["gr_contact_id"][1:])]
                names = {
                    (crm["crm_first_name"].iloc[i], crm["crm_last_name"].iloc[i])
                    for i, k in enumerate(crm_keys)
                    if k == key
                }
                assert gr_name or len(names) == 1
        else:
            assert row["crm_contact_id"] is None
        if row["decision"] == "review":
            assert ids
            assert row["candidates"].count("\n") == len(ids) - 1
        else:
            assert row["candidates"] == ""
        if row["decision"] == "invalid":
            assert row["reason"]
            assert row["score"] == 0


@settings(max_examples=60, deadline=None)
@given(PERSON, PERSON)
def test_pair_scores_are_symmetric(a: tuple, b: tuple) -> None:
    ab = match_contacts(*frames([a], [b]))
    ba = match_contacts(*frames([b], [a]))
    if {ab["decision"].iloc[0], ba["decision"].iloc[0]} & {"invalid"}:
        return
    assert ab["score"].iloc[0] == ba["score"].iloc[0]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(PERSON, min_size=1, max_size=6),
    st.lists(PERSON, max_size=6),
    st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8),
    FIRST,
)
def test_an_unrelated_crm_contact_never_changes_an_exact_match(
    gr_people, crm_people, local, first
) -> None:
    gr, crm = frames(gr_people, crm_people)
    before = match_contacts(gr, crm)
    stranger = pd.DataFrame({"crm_contact_id": ["c-new"], "crm_email": [f"zz{local}@elsewhere.org"],
                             "crm_first_name": [first], "crm_last_name": ["Inconnu"]})  # fmt: skip
    after = match_contacts(gr, pd.concat([crm, stranger], ignore_index=True))
    exact = before["reason"].str.startswith("exact email") & (before["decision"] == "link")
    for column in ("decision", "crm_contact_id", "score", "reason"):
        assert after.loc[exact, column].tolist() == before.loc[exact, column].tolist()
