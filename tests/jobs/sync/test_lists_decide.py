"""The lists job's pure checks: what a New list record is told when it cannot go over."""

from __future__ import annotations

from reconcile.jobs.sync.lists_decide import list_problem, suggest_name

CONTACTS = {"listname": "Clients", "createdfromcode": 2}


def test_a_name_against_the_rule_is_told_a_name_that_follows_it() -> None:
    problem = list_problem({"grc_name": "Clients VIP Été"}, CONTACTS)
    assert problem is not None
    assert "Rename the list (for example to 'clients_vip_ete'), then Set as New again." in problem


def test_suggestions_follow_the_rule_or_are_left_out() -> None:
    assert suggest_name("Prospects Paris") == "prospects_paris"
    assert suggest_name("  --Déjà vu!! ") == "deja_vu"
    assert suggest_name("x" * 80) == "x" * 64
    assert suggest_name("Ω") is None  # nothing left: no example rather than a bad one
    assert list_problem({"grc_name": "Ω"}, CONTACTS) == (
        "The name 'Ω' does not follow the connector's rule: 3 to 64 lowercase letters, "
        "digits, '-' or '_'. Rename the list, then Set as New again."
    )


def test_a_good_name_and_a_list_of_contacts_pass() -> None:
    assert list_problem({"grc_name": "clients_vip"}, CONTACTS) is None
