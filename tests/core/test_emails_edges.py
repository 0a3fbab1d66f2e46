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
    split_at,
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


def test_split_at_splits_at_the_last_at_only() -> None:
    values = pa.array(["a@b@c", "plain", None, "@x", "y@"], type=pa.large_string())
    locals_, domains = split_at(values)
    assert locals_.to_pylist() == ["a@b", "", "", "", "y"]
    assert domains.to_pylist() == ["c", "", "", "x", ""]


def test_the_domain_after_the_last_at_is_the_one_written_in_idna() -> None:
    assert normalize_email("x@y@bücher.de") == "x@y@xn--bcher-kva.de"
    # an ideographic full stop is a dot in an internationalized domain name (UTS 46)
    assert normalize_email("jean@bücher。de") == "jean@xn--bcher-kva.de"


def test_a_number_is_kept_as_its_text() -> None:
    assert normalize_email(12.5) == "12.5"
    assert normalize_email(float("nan")) is None


def test_only_the_first_plus_starts_the_tag() -> None:
    assert email_key("jean+a+b@outlook.fr") == "jean@outlook.fr"
    out = normalize_emails(pd.Series(["jean+a+b@outlook.fr"], dtype=object))
    assert out[EMAIL_KEY].iloc[0] == "jean@outlook.fr"


def _long(total: int) -> str:
    """A syntactically valid address of ``total`` characters."""
    labels, left = [], total - len("a@") - len(".fr")
    while left > 0:
        size = min(63, left - 2) if left > 63 else left
        labels.append("d" * size)
        left -= size + 1
    address = "a@" + ".".join(labels) + ".fr"
    assert len(address) == total
    return address


def test_each_reason_is_the_first_thing_wrong_even_at_the_limits() -> None:
    # exactly 64 characters before the @ are allowed: the domain is what is wrong
    assert invalid_reason("a" * 64 + "@orange") == "domain 'orange' has no dot"
    # exactly 254 characters are allowed: the dash that starts the domain is what is wrong
    at_limit = _long(254).replace("@d", "@-", 1)
    assert invalid_reason(at_limit).startswith("domain '-")
    assert invalid_reason(at_limit).endswith("is not a valid domain name")
    # a dot inside the local part is allowed: the bracket is what is wrong
    assert invalid_reason("jean.du[pont@orange.fr") == "character '[' is not allowed before the @"
