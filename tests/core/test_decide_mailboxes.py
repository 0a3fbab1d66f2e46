"""``decide()`` on mailboxes the CRM holds for several contacts (a family's, or one person
twice), the words of its reasons, and what each row tells besides its decision: the CRM
contacts on its mailbox (``same_email``) and a link whose names differ (``risk``)."""

from __future__ import annotations

from reconcile.matching import MatchOptions, match_contacts
from tests.core.test_matching import BACKGROUND, crm_frame, gr_frame, one

FAMILY = "famille.martin@orange.fr"


def test_a_link_whose_last_names_differ_says_so_and_one_whose_names_agree_does_not() -> None:
    differ = one(("g1", "paul.martin@orange.fr", "Paul Marton"), *BACKGROUND)
    assert differ["decision"] == "link"
    assert differ["risk"] == "names differ: Paul Marton vs Paul Martin"
    agree = one(("g1", "paul.martin@orange.fr", "Paul Martin"), *BACKGROUND)
    assert agree["decision"] == "link"
    assert agree["risk"] == ""
    assert agree["same_email"] == 1


def test_a_mailbox_shared_by_provider_rules_is_called_a_mailbox_an_identical_one_an_email() -> None:
    by_rule = one(
        ("g1", "jean.dupont@gmail.com", "Jean Dupont"),
        ("c1", "jeandupont@gmail.com", "Paul", "Dupont"),
        ("c2", "j.eandupont@gmail.com", "Marie", "Dupont"),
        *BACKGROUND,
    )
    assert by_rule["decision"] == "review"
    assert by_rule["reason"].startswith("2 CRM contacts share this mailbox (best: ")
    assert by_rule["same_email"] == 2
    identical = one(
        ("g1", FAMILY, "Jean Martin"),
        ("c1", FAMILY, "Paul", "Martin"),
        ("c2", FAMILY, "Marie", "Martin"),
        *BACKGROUND,
    )
    assert identical["decision"] == "review"
    assert identical["reason"].startswith("2 CRM contacts share this email (best: ")


def test_a_family_mailbox_links_the_one_person_the_name_fits() -> None:
    claire = one(
        ("g1", FAMILY, "Claire Martin"),
        ("c1", FAMILY, "Claire", "Martin"),
        ("c2", FAMILY, "Paul", "Martin"),
        *BACKGROUND,
    )
    assert claire["decision"] == "link"
    assert claire["crm_contact_id"] == "c1"
    assert claire["reason"].endswith("2 CRM contacts share this email, this one by name")
    # another Claire on that mailbox (Claire Dupuis): the first name no longer settles it
    two_claires = one(
        ("g1", FAMILY, "Claire Martin"),
        ("c1", FAMILY, "Claire", "Martin"),
        ("c2", FAMILY, "Paul", "Martin"),
        ("c3", FAMILY, "Claire", "Dupuis"),
        *BACKGROUND,
    )
    assert two_claires["decision"] == "review"
    assert two_claires["same_email"] == 3


def test_a_mailbox_the_crm_holds_for_one_person_twice_links_unless_the_name_is_another() -> None:
    twice = (("c1", FAMILY, "Jean", "Dupont"), ("c2", FAMILY, "Jean", "Dupont"), *BACKGROUND)
    for name in (None, "Jean Dupont"):
        row = one(("g1", FAMILY, name), *twice)
        assert row["decision"] == "link", name
        assert row["crm_contact_id"] == "c1", name
    assert one(("g1", FAMILY, "Paul Dupont"), *twice)["decision"] == "review"


def test_a_broken_address_near_a_crm_contact_but_not_close_enough_stays_unusable() -> None:
    row = one(
        ("g1", "jean.dupont@free,fr", "Jean Dupont"),
        ("c1", "jean.dupont@orange.fr", "Jean", "Dupont"),
        *BACKGROUND,
    )
    assert row["decision"] == "invalid"
    assert row["score"] >= MatchOptions().candidate_threshold  # a candidate there was
    assert row["reason"] == "domain 'free,fr' has no dot"


def test_a_review_reason_without_anything_to_add_is_the_pair_s_reason_alone() -> None:
    row = one(
        ("g1", "jean.dupond@orange.fr", "Jean Dupont"),
        ("c1", "jean.dupont@orange.fr", "Jean", "Dupont"),
        *BACKGROUND,
        options=MatchOptions(link_threshold=100),
    )
    assert row["decision"] == "review"
    assert row["reason"] == "email typo jean.dupond→jean.dupont, same name"


def test_a_review_row_spells_its_reason_even_under_the_candidate_threshold() -> None:
    options = MatchOptions(link_threshold=100, review_threshold=90, candidate_threshold=96)
    row = one(
        ("g1", "jean.dupond@orange.fr", "Jean Dupont"),
        ("c1", "jean.dupont@orange.fr", "Jean", "Dupont"),
        *BACKGROUND,
        options=options,
    )
    assert row["decision"] == "review"
    assert row["score"] < options.candidate_threshold
    assert row["reason"] == "email typo jean.dupond→jean.dupont, same name"


def test_two_addresses_claiming_one_crm_contact_are_both_reviewed_and_say_why() -> None:
    gr = gr_frame(
        ("g1", "jean.dupond@orange.fr", "Jean Dupont"),
        ("g2", "jean.dupons@orange.fr", "Jean Dupont"),
    )
    out = match_contacts(
        gr, crm_frame(("c1", "jean.dupont@orange.fr", "Jean", "Dupont"), *BACKGROUND)
    )
    assert out["decision"].tolist() == ["review", "review"]
    for reason in out["reason"]:
        assert reason.endswith("; another GetResponse address matches the same CRM contact")
