"""Edges of the email rules that the main tests pass by: quotes and dashes around a broken
address, a known provider's name at the end of another domain, the 64-byte limit of an
internationalized local part, wrappers on one side only, chunked Arrow columns and the
column types ``normalize_emails`` returns."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from reconcile.emails import (
    EMAIL_INVALID_REASON,
    EMAIL_KEY,
    EMAIL_NORMALIZED,
    email_key,
    invalid_reason,
    is_valid_email,
    normalize_email,
    normalize_emails,
    repair_email,
)


@pytest.mark.parametrize(
    ("broken", "repaired"),
    [
        ('"arnaud@me.com"', "arnaud@me.com"),  # pasted with its quotes
        ("'arnaud@me.com'", "arnaud@me.com"),
        ("arnaud@me.com:", "arnaud@me.com"),
        ("arnaud@orange.fr-", "arnaud@orange.fr"),  # a dash left at the end of the domain
        ("arnaud@.orange.fr", "arnaud@orange.fr"),
        ("arnaud@orange..fr", "arnaud@orange.fr"),  # a doubled dot in the domain
        # acme.com ends like me.com: its "@" is not put back a second time
        ("jean..dupont@acme.com", "jean.dupont@acme.com"),
    ],
)
def test_repair_email_reads_more_broken_addresses(broken: str, repaired: str) -> None:
    normalized = normalize_email(broken)
    assert not is_valid_email(normalized)
    assert repair_email(normalized) == repaired


def test_an_internationalized_local_part_may_be_64_bytes_not_65() -> None:
    local = "é" * 32  # 64 bytes in UTF-8, 32 characters
    assert is_valid_email(f"{local}@orange.fr")
    assert not is_valid_email(f"{local}a@orange.fr")
    assert invalid_reason(f"{local}a@orange.fr") == "more than 64 characters before the @"


WRAPPED_ON_ONE_SIDE = ["jean@orange.fr>", "<jean@orange.fr", "jean@orange.fr.", "mailto:j@x.fr"]


def test_a_wrapper_on_one_side_only_is_dropped_by_both_paths() -> None:
    out = normalize_emails(pd.Series(WRAPPED_ON_ONE_SIDE, dtype=object))
    assert out[EMAIL_NORMALIZED].tolist() == [normalize_email(v) for v in WRAPPED_ON_ONE_SIDE]
    assert out[EMAIL_NORMALIZED].tolist() == [
        "jean@orange.fr",
        "jean@orange.fr",
        "jean@orange.fr",
        "j@x.fr",
    ]


def test_a_column_read_in_chunks_is_normalized_like_one_in_a_piece() -> None:
    chunks = [["<A@B.FR>", "jean@orange.fr>"], ["Élodie@free.fr", None, "J.E.AN+x@gmail.com"]]
    values = [v for chunk in chunks for v in chunk]
    series = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array(chunks)))
    out = normalize_emails(series)
    expected = [normalize_email(v) for v in values]
    assert [v if isinstance(v, str) else None for v in out[EMAIL_NORMALIZED]] == expected
    assert [v if isinstance(v, str) else None for v in out[EMAIL_KEY]] == [
        email_key(v) if v else None for v in expected
    ]


def test_the_text_columns_are_pandas_strings_with_nan_for_missing() -> None:
    out = normalize_emails(pd.Series(["a@b.fr", None, "x"], dtype=object))
    for column in (EMAIL_NORMALIZED, EMAIL_KEY, EMAIL_INVALID_REASON):
        assert out[column].dtype == pd.StringDtype(na_value=float("nan")), column
    assert out[EMAIL_NORMALIZED].isna().tolist() == [False, True, False]
    assert out[EMAIL_KEY].isna().tolist() == [False, True, True]
