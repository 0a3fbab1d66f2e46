"""Contact matching decisions, scores, reasons and candidates (reconcile.matching)."""

from __future__ import annotations

import pandas as pd
import pytest

from reconcile.errors import ConfigError, InputError
from reconcile.matching import CANDIDATE_IDS, OUTPUT_COLUMNS, MatchOptions, match_contacts


def gr_frame(
    *rows: tuple[str, str | None, str | None], index: list[int] | None = None
) -> pd.DataFrame:
    """GR rows as (id, email, name)."""
    frame = pd.DataFrame(rows, columns=["gr_contact_id", "email", "name"])
    if index is not None:
        frame.index = index
    return frame


def crm_frame(*rows: tuple[str, str | None, str, str]) -> pd.DataFrame:
    """CRM rows as (id, email, first, last)."""
    return pd.DataFrame(
        rows, columns=["crm_contact_id", "crm_email", "crm_first_name", "crm_last_name"]
    )


def one(gr_row: tuple[str, str | None, str | None], *crm_rows: tuple[str, str | None, str, str],
        options: MatchOptions | None = None) -> pd.Series:  # fmt: skip
    out = match_contacts(gr_frame(gr_row), crm_frame(*crm_rows), options or MatchOptions())
    return out.iloc[0]


BACKGROUND = (
    ("c-bg1", "paul.martin@orange.fr", "Paul", "Martin"),
    ("c-bg2", "claire.morel@free.fr", "Claire", "Morel"),
)


def _crowd() -> tuple[tuple[str, str, str, str], ...]:
    """300 generated CRM contacts: a base in which a name's frequency means something."""
    from reconcile.sample.people import people

    base = people(400, seed=11)
    keep = ~base["last_name"].isin(["Morel", "Lavergne", "Martin"])
    base = base[keep].head(300)
    return tuple(
        (f"c-crowd{i}", e, f, la)
        for i, (f, la, e) in enumerate(
            zip(base["first_name"], base["last_name"], base["email"], strict=True)
        )
    )


CROWD = _crowd()


def test_output_has_one_row_per_gr_contact_in_order_with_the_same_index() -> None:
    gr = gr_frame(
        ("g1", "zoe@new.fr", "Zoé Neuve"),
        ("g2", "Paul.Martin@Orange.fr", "Paul Martin"),
        ("g3", None, "Sans Email"),
        index=[30, 10, 20],
    )
    out = match_contacts(gr, crm_frame(*BACKGROUND))
    assert list(out.columns) == OUTPUT_COLUMNS
    assert list(out.index) == [30, 10, 20]
    assert out["gr_contact_id"].tolist() == ["g1", "g2", "g3"]
    assert out["decision"].tolist() == ["new", "link", "invalid"]
    assert out["score"].between(0, 100).all()


def test_exact_email_links_with_a_readable_reason() -> None:
    row = one(("g1", " PAUL.martin@orange.fr", "Paul Martin"), *BACKGROUND)
    assert row["decision"] == "link"
    assert row["crm_contact_id"] == "c-bg1"
    assert row["crm_name"] == "Paul Martin"
    assert row["crm_email"] == "paul.martin@orange.fr"
    assert row["score"] == 100
    assert row["reason"] == "exact email, same name"
    assert row[CANDIDATE_IDS] == ("c-bg1",)
    assert row["candidates"] == ""  # only review rows list candidates


def test_gmail_dots_and_tags_are_the_same_mailbox() -> None:
    row = one(("g1", "jean.dupont+news@googlemail.com", "Jean Dupont"),
              ("c1", "jeandupont@gmail.com", "Jean", "Dupont"))  # fmt: skip
    assert (row["decision"], row["crm_contact_id"]) == ("link", "c1")
    assert row["reason"].startswith("same Gmail address once dots and +tag are ignored")


def test_hotmail_dots_are_not_the_same_mailbox() -> None:
    row = one(("g1", "jean.dupont@hotmail.fr", "Jean Dupont"),
              ("c1", "jeandupont@hotmail.fr", "Jean", "Dupont"))  # fmt: skip
    assert row["decision"] != "link"


def test_email_without_name_links_on_the_address_alone() -> None:
    row = one(("g1", "paul.martin@orange.fr", None), *BACKGROUND)
    assert (row["decision"], row["crm_contact_id"]) == ("link", "c-bg1")
    assert "no name in GetResponse" in row["reason"]


def test_names_in_another_order_and_without_accents_still_agree() -> None:
    row = one(("g1", "h.lefevre@free.fr", "LEFEVRE Hélène"),
              ("c1", "h.lefevre@free.fr", "Hélène", "Lefèvre"))  # fmt: skip
    assert row["decision"] == "link"
    assert "swapped" in row["reason"] or "same name" in row["reason"]


FAMILY = (("c1", "famille.martin@orange.fr", "Louis", "Martin"),
          ("c2", "Famille.Martin@orange.fr", "Claire", "Martin"))  # fmt: skip


def test_a_shared_family_address_links_the_one_whose_name_fits() -> None:
    row = one(("g1", "famille.martin@orange.fr", "Claire Martin"), *FAMILY)
    assert (row["decision"], row["crm_contact_id"]) == ("link", "c2")
    assert row[CANDIDATE_IDS] == ("c2", "c1")
    assert "2 CRM contacts share this email, this one by name" in row["reason"]


@pytest.mark.parametrize("name", [None, "J. Martin", "Marie Martin"])
def test_a_shared_address_whose_name_settles_nothing_is_reviewed(name: str | None) -> None:
    crm = (("c1", "famille.martin@orange.fr", "Jean", "Martin"),
           ("c3", "famille.martin@orange.fr", "Julie", "Martin"))  # fmt: skip
    row = one(("g1", "famille.martin@orange.fr", name), *(crm if name == "J. Martin" else FAMILY))
    assert row["decision"] == "review"
    assert row["crm_contact_id"] is None
    assert "CRM contacts share this email" in row["reason"]
    lines = row["candidates"].split("\n")
    assert len(lines) == len(row[CANDIDATE_IDS]) >= 2


def test_the_same_person_twice_in_the_crm_links_to_one_of_the_two() -> None:
    row = one(("g1", "paul.durand@free.fr", "Paul Durand"),
              ("c1", "paul.durand@free.fr", "Paul", "Durand"),
              ("c2", "Paul.Durand@free.fr", "Paul", "Durand"))  # fmt: skip
    assert row["decision"] == "link"
    assert row["crm_contact_id"] in ("c1", "c2")


def test_exact_email_with_another_first_name_is_reviewed_as_a_shared_mailbox() -> None:
    row = one(("g1", "dupont.famille@free.fr", "Marie Dupont"),
              ("c1", "dupont.famille@free.fr", "Jean", "Dupont"))  # fmt: skip
    assert row["decision"] == "review"
    assert row["score"] < 90
    assert "different first name (marie vs jean)" in row["reason"]
    assert row["reason"].endswith("shared mailbox?")
    assert row[CANDIDATE_IDS] == ("c1",)


def test_a_typo_in_the_first_name_does_not_hide_an_exact_email() -> None:
    row = one(("g1", "jean.bertrand@free.fr", "Jeqn Bertrand"),
              ("c1", "jean.bertrand@free.fr", "Jean", "Bertrand"))  # fmt: skip
    assert row["decision"] == "link"


def test_masculine_and_feminine_first_names_are_two_people() -> None:
    for gr_first, crm_first in (("Louise", "Louis"), ("Jeanne", "Jean"), ("Michel", "Michele")):
        row = one(("g1", "famille.martin@orange.fr", f"{gr_first} Martin"),
                  ("c1", "famille.martin@orange.fr", crm_first, "Martin"))  # fmt: skip
        assert row["decision"] == "review", (gr_first, crm_first)
        assert "different first name" in row["reason"]


def test_domain_typo_links_and_says_which_typo() -> None:
    row = one(("g1", "marie.curie@gmial.com", "Marie Curie"),
              ("c1", "mariecurie@gmail.com", "Marie", "Curie"), *BACKGROUND)  # fmt: skip
    assert (row["decision"], row["crm_contact_id"]) == ("link", "c1")
    assert row["reason"] == "email typo gmial.com→gmail.com, same name"


def test_company_domain_typo_one_key_off_links() -> None:
    row = one(("g1", "a.weber@bonnet-assjrances.ch", "Aurélie Weber"),
              ("c1", "a.weber@bonnet-assurances.ch", "Aurélie", "Weber"))  # fmt: skip
    assert row["decision"] == "link"
    assert "bonnet-assjrances.ch→bonnet-assurances.ch" in row["reason"]


def test_local_part_typo_links_when_the_names_are_the_same() -> None:
    row = one(("g1", "jean.dupnot@laposte.net", "Jean Dupont"),
              ("c1", "jean.dupont@laposte.net", "Jean", "Dupont"), *BACKGROUND)  # fmt: skip
    assert (row["decision"], row["crm_contact_id"]) == ("link", "c1")
    assert row["reason"] == "email typo jean.dupnot→jean.dupont, same name"
    assert row["score"] >= MatchOptions().link_threshold


def test_local_part_typo_without_a_name_is_reviewed() -> None:
    row = one(("g1", "jean.dupnot@laposte.net", None),
              ("c1", "jean.dupont@laposte.net", "Jean", "Dupont"))  # fmt: skip
    assert row["decision"] == "review"
    assert row[CANDIDATE_IDS] == ("c1",)
    assert "c1 · Jean Dupont jean.dupont@laposte.net" in row["candidates"]


def test_siblings_with_numbered_addresses_are_never_linked() -> None:
    row = one(("g1", "jean.dupont2@gmail.com", "Jean Dupont"),
              ("c1", "jean.dupont1@gmail.com", "Jean", "Dupont"))  # fmt: skip
    assert row["decision"] != "link"
    if row["decision"] == "review":
        assert "differ in their digits" in row["reason"]


def test_sibling_whose_first_name_differs_in_one_letter_is_not_linked() -> None:
    row = one(("g1", "louise.martin@gmail.com", "Louise Martin"),
              ("c1", "louis.martin@gmail.com", "Louis", "Martin"))  # fmt: skip
    assert row["decision"] != "link"


def test_separator_only_differences_are_namesakes_not_typos() -> None:
    row = one(("g1", "fatimabenali@orange.fr", "Fatima Benali"),
              ("c1", "fatima.benali@orange.fr", "Fatima", "Benali"))  # fmt: skip
    assert row["decision"] != "link"


def test_same_rare_name_with_another_address_is_reviewed_never_linked() -> None:
    row = one(("g1", "adele.morel1984@laposte.net", "Adèle Morel"),
              ("c1", "amorel@acme-conseil.fr", "Adèle", "Morel"), *CROWD)  # fmt: skip
    assert row["decision"] == "review"
    assert row[CANDIDATE_IDS] == ("c1",)
    assert "same name (the only CRM contact bearing it)" in row["reason"]


def test_name_agreement_is_weighed_by_how_common_the_name_is_in_this_crm() -> None:
    """Term frequencies: one "Adèle Morel" is a lead; the same name in a CRM full of
    Morels (and of Adèles) is weaker, and a common name alone is not worth a review."""
    gr = ("g1", "adele.morel1984@laposte.net", "Adèle Morel")
    rare = one(gr, ("c1", "amorel@acme-conseil.fr", "Adèle", "Morel"), *CROWD)
    morels = [(f"m{i}", f"m{i}@x{i}.fr", first, "Morel") for i, first in
              enumerate(["Paul", "Anne", "Luc", "Rose", "Adèle", "Jean"] * 8)]  # fmt: skip
    common = one(gr, ("c1", "amorel@acme-conseil.fr", "Adèle", "Morel"), *CROWD, *morels)
    assert rare["score"] > common["score"]
    assert common["decision"] == "new"


def test_common_names_alone_are_not_worth_a_review() -> None:
    crm = [(f"c{i}", f"jean.martin{i}@acme{i}.fr", "Jean", "Martin") for i in range(30)]
    row = one(("g1", "jm.perso@laposte.net", "Jean Martin"), *crm)
    assert row["decision"] == "new"


def test_crm_contact_taken_by_an_exact_match_is_not_offered_to_a_look_alike() -> None:
    gr = gr_frame(("g1", "jean.dupont1@gmail.com", "Jean Dupont"),
                  ("g2", "jean.dupont2@gmail.com", "Jean Dupont"))  # fmt: skip
    out = match_contacts(gr, crm_frame(("c1", "jean.dupont1@gmail.com", "Jean", "Dupont")))
    assert out["decision"].tolist() == ["link", "new"]


def test_two_typos_of_one_address_do_not_both_link() -> None:
    gr = gr_frame(("g1", "jean.dupnot@laposte.net", "Jean Dupont"),
                  ("g2", "jean.dupomt@laposte.net", "Jean Dupont"))  # fmt: skip
    out = match_contacts(gr, crm_frame(("c1", "jean.dupont@laposte.net", "Jean", "Dupont")))
    assert out["decision"].tolist() == ["review", "review"]
    assert "another GetResponse address matches the same CRM contact" in out["reason"].iloc[0]


def test_the_same_gr_address_twice_links_twice() -> None:
    gr = gr_frame(("g1", "paul.martin@orange.fr", "Paul Martin"),
                  ("g2", "Paul.Martin@orange.fr", "Paul Martin"))  # fmt: skip
    out = match_contacts(gr, crm_frame(*BACKGROUND))
    assert out["decision"].tolist() == ["link", "link"]
    assert out["crm_contact_id"].tolist() == ["c-bg1", "c-bg1"]


def test_invalid_and_missing_emails_are_invalid_with_the_reason() -> None:
    gr = gr_frame(("g1", "jean dupont@gmail.com", "Jean Dupont"), ("g2", None, "Jean Dupont"),
                  ("g3", "jean@gmail", "Jean"))  # fmt: skip
    out = match_contacts(gr, crm_frame(*BACKGROUND))
    assert out["decision"].tolist() == ["invalid"] * 3
    assert out["reason"].tolist() == ["the address contains a space", "no email",
                                      "domain 'gmail' has no dot"]  # fmt: skip
    assert out["score"].tolist() == [0, 0, 0]
    assert all(ids == () for ids in out[CANDIDATE_IDS])


def test_no_candidate_means_new() -> None:
    row = one(("g1", "zoe.neuve@example.org", "Zoé Neuve"), *BACKGROUND)
    assert row["decision"] == "new"
    assert row["reason"] == "no CRM contact with this email or a similar one"
    assert row["crm_contact_id"] is None
    assert row[CANDIDATE_IDS] == ()


def test_crm_contact_without_email_is_found_by_name() -> None:
    row = one(("g1", "b.lavergne@wanadoo.fr", "Bérénice Lavergne"),
              ("c1", None, "Bérénice", "Lavergne"), *CROWD)  # fmt: skip
    assert row["decision"] == "review"
    assert row[CANDIDATE_IDS] == ("c1",)
    assert "the CRM contact has no email" in row["reason"]
    assert "(no email)" in row["candidates"]


def test_link_fuzzy_off_sends_typos_to_review() -> None:
    row = one(("g1", "marie.curie@gmial.com", "Marie Curie"),
              ("c1", "mariecurie@gmail.com", "Marie", "Curie"),
              options=MatchOptions(link_fuzzy=False))  # fmt: skip
    assert row["decision"] == "review"
    assert row[CANDIDATE_IDS] == ("c1",)


def test_review_threshold_decides_between_review_and_new() -> None:
    gr = ("g1", "adele.morel1984@laposte.net", "Adèle Morel")
    crm = ("c1", "amorel@acme-conseil.fr", "Adèle", "Morel")
    loose = one(gr, crm, *CROWD, options=MatchOptions(review_threshold=20))
    strict = one(gr, crm, *CROWD, options=MatchOptions(review_threshold=89))
    assert loose["decision"] == "review"
    assert strict["decision"] == "new"
    assert strict["reason"].startswith("no close CRM contact (best scores")


def test_split_names_columns_are_used_when_present() -> None:
    gr = pd.DataFrame({"gr_contact_id": ["g1"], "email": ["h.dupont@free.fr"],
                       "name": ["Mme DUPONT Hélène"], "first_name": ["Hélène"],
                       "last_name": ["Dupont"]})  # fmt: skip
    out = match_contacts(gr, crm_frame(("c1", "h.dupont@free.fr", "Hélène", "Dupont")))
    assert out["reason"].iloc[0] == "exact email, same name"
    assert out["first_name"].iloc[0] == "Hélène"


def test_crm_name_column_is_used_when_first_and_last_are_empty() -> None:
    crm = pd.DataFrame({"crm_contact_id": ["c1"], "crm_email": ["x@free.fr"],
                        "crm_first_name": [None], "crm_last_name": [None],
                        "crm_name": ["Xavier Niel"]})  # fmt: skip
    out = match_contacts(gr_frame(("g1", "x@free.fr", "Xavier Niel")), crm)
    assert out["crm_name"].iloc[0] == "Xavier Niel"
    assert out["reason"].iloc[0] == "exact email, same name"


def test_empty_inputs() -> None:
    out = match_contacts(gr_frame(), crm_frame())
    assert list(out.columns) == OUTPUT_COLUMNS
    assert len(out) == 0
    out = match_contacts(gr_frame(("g1", "a@b.fr", "A B")), crm_frame())
    assert out["decision"].tolist() == ["new"]


def test_missing_columns_are_reported_as_input_errors() -> None:
    with pytest.raises(InputError) as err:
        match_contacts(pd.DataFrame({"email": []}), pd.DataFrame({"crm_email": []}))
    text = str(err.value)
    assert "'gr_contact_id'" in text
    assert "'crm_contact_id'" in text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"link_threshold": 101},
        {"review_threshold": 95, "link_threshold": 90},
        {"max_candidates": 0},
        {"margin": -1},
        {"first_name_agreement": 120},
    ],
)
def test_bad_options_are_config_errors(kwargs: dict[str, int]) -> None:
    with pytest.raises(ConfigError):
        MatchOptions(**kwargs)


def test_internationalized_address_identical_on_both_sides_links() -> None:
    row = one(("g1", "HÉLÈNE.Lefèvre@laposte.net", "Hélène Lefèvre"),
              ("c1", "hélène.lefèvre@laposte.net", "Hélène", "Lefèvre"), *BACKGROUND)  # fmt: skip
    assert (row["decision"], row["crm_contact_id"]) == ("link", "c1")
    assert row["reason"] == "exact email, same name"


@pytest.mark.parametrize(
    ("gr_email", "crm_email"),
    [("anne.lepage+news@laposte.net", "anne.lepage@laposte.net"),
     ("a.lepage@acme-conseil.fr", "a.lepage+crm@acme-conseil.fr")],
)  # fmt: skip
def test_a_tag_at_any_provider_links_when_the_names_agree(gr_email: str, crm_email: str) -> None:
    row = one(("g1", gr_email, "Anne Lepage"), ("c1", crm_email, "Anne", "Lepage"), *BACKGROUND)
    assert (row["decision"], row["crm_contact_id"]) == ("link", "c1")
    assert row["reason"].startswith("same address once the +tag is ignored")


def test_a_tag_with_another_person_s_name_is_only_a_candidate() -> None:
    row = one(("g1", "anne.lepage+news@laposte.net", "Marc Lepage"),
              ("c1", "anne.lepage@laposte.net", "Anne", "Lepage"), *BACKGROUND)  # fmt: skip
    assert row["decision"] == "review"
    assert row[CANDIDATE_IDS] == ("c1",)


@pytest.mark.parametrize("broken", ["arnaud..jacobs@me.com", "arnaud.jacobs@me,com",
                                    "arnaud.jacobs@@me.com", ".arnaud.jacobs@me.com"])  # fmt: skip
def test_a_broken_address_is_compared_as_repaired(broken: str) -> None:
    row = one(("g1", broken, "Arnaud Jacobs"),
              ("c1", "arnaud.jacobs@me.com", "Arnaud", "Jacobs"), *BACKGROUND)  # fmt: skip
    assert (row["decision"], row["crm_contact_id"]) == ("link", "c1")
    assert "read as arnaud.jacobs@me.com" in row["reason"]


def test_a_broken_address_whose_repair_is_a_guess_is_never_linked() -> None:
    row = one(("g1", "arnaud jacobs@gmail.com", "Arnaud Jacobs"),
              ("c1", "arnaud.jacobs@gmail.com", "Arnaud", "Jacobs"), *BACKGROUND)  # fmt: skip
    assert row["decision"] == "review"


def test_a_broken_address_without_any_candidate_stays_invalid() -> None:
    row = one(("g1", "zoe..neuve@example.org", "Zoé Neuve"), *BACKGROUND)
    assert row["decision"] == "invalid"
    assert row["reason"] == "misplaced dot before the @"
