from __future__ import annotations

from reconcile.sample.people import COLUMNS, people
from reconcile.sample.pools import ascii_fold, cultures


def test_same_seed_same_people_other_seed_other_people() -> None:
    assert people(500, seed=4).equals(people(500, seed=4))
    assert not people(500, seed=4).equals(people(500, seed=5))


def test_emails_are_unique_and_plausible() -> None:
    df = people(20_000, seed=1)
    assert list(df.columns) == COLUMNS
    assert df["email"].is_unique
    assert df["email"].str.fullmatch(r"[a-z0-9._-]+@[a-z0-9.-]+\.[a-z]{2,}").all()
    assert df["first_name"].str.len().gt(0).all()
    assert df["last_name"].str.len().gt(0).all()


def test_base_is_french_heavy_with_namesakes() -> None:
    df = people(20_000, seed=2)
    assert 0.5 < (df["culture"] == "fr_FR").mean() < 0.62
    full = df["first_name"] + " " + df["last_name"]
    assert full.duplicated().sum() > 200  # common French names collide, as in real bases
    assert df["culture"].nunique() >= 12


def test_weights_sum_to_one() -> None:
    assert abs(sum(c.weight for c in cultures().values()) - 1) < 1e-9


def test_ascii_fold() -> None:
    assert ascii_fold("Hélène-Françoise") == "helene-francoise"
    assert ascii_fold("Смирнов") == "smirnov"
    assert ascii_fold("Αβραμίδης") == "avramidis"
    assert ascii_fold("O'Brien") == "obrien"
