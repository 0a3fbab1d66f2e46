"""Properties of email normalization that must hold for any input (hypothesis)."""

from __future__ import annotations

import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reconcile.emails import email_key, is_valid_email, normalize_email, normalize_emails

# Characters people and spreadsheets put in email cells: letters of both cases, accents,
# digits, separators, @, spaces of every kind, invisible characters, a mailto: wrapper.
ALPHABET = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    + list(".+-_@@@<> ")
    + ["é", "É", "ü", "e\u0301", "ß", "İ", "\u00a0", "\u200b", "\ufeff", "\t", "mailto:"]
)
RAW = st.lists(ALPHABET, max_size=30).map("".join)
LOCAL = st.text("abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=20)
DOMAIN = st.sampled_from(
    ["gmail.com", "googlemail.com", "hotmail.fr", "outlook.com", "proton.me", "orange.fr",
     "acme-conseil.fr", "Bücher.de", "GMAIL.COM"]
)  # fmt: skip
ADDRESS = st.builds(lambda lo, d, pad: f"{pad}{lo}@{d}{pad}", LOCAL, DOMAIN,
                    st.sampled_from(["", " ", "\u00a0", "\u200b"]))  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(RAW | ADDRESS)
@example("<<a@b.fr>>")
@example("a@b.fr.>")
@example("mailto:mailto:x@y.fr")
def test_normalization_is_idempotent(raw: str) -> None:
    once = normalize_email(raw)
    assert normalize_email(once) == once


@settings(max_examples=300, deadline=None)
@given(ADDRESS)
def test_key_is_stable_under_normalization(raw: str) -> None:
    normalized = normalize_email(raw)
    assert normalized is not None
    key = email_key(normalized)
    assert email_key(normalize_email(normalized)) == key
    if is_valid_email(normalized):
        assert email_key(key) == key  # the key of a key is itself


@settings(max_examples=200, deadline=None)
@given(ADDRESS)
def test_addresses_equal_once_normalized_share_a_key(raw: str) -> None:
    normalized = normalize_email(raw)
    assert normalized is not None
    shouted = normalize_email(f"  {raw.upper()}\u00a0")
    assert shouted == normalized or not normalized.isascii()
    if shouted == normalized:
        assert email_key(shouted) == email_key(normalized)


@settings(max_examples=60, deadline=None)
@given(st.lists(RAW | ADDRESS | st.none(), max_size=25))
def test_vectorized_agrees_with_scalar(values: list[str | None]) -> None:
    out = normalize_emails(pd.Series(values, dtype=object))
    for raw, normalized, valid, key in zip(
        values, out["email_normalized"], out["email_valid"], out["email_key"], strict=True
    ):
        expected = normalize_email(raw)
        assert (normalized if isinstance(normalized, str) else None) == expected
        assert bool(valid) == is_valid_email(expected)
        if valid:
            assert key == email_key(expected)
        else:
            assert pd.isna(key)
