"""Email normalization, validation and the comparison key (reconcile.emails)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reconcile.emails import (
    EMAIL_INVALID_REASON,
    EMAIL_KEY,
    EMAIL_NORMALIZED,
    EMAIL_VALID,
    email_key,
    invalid_reason,
    is_valid_email,
    normalize_email,
    normalize_emails,
    repair_email,
    split_email,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jean.Dupont@GMAIL.com ", "jean.dupont@gmail.com"),
        ("jean\u200b.dupont@gmail.com", "jean.dupont@gmail.com"),  # zero-width space
        ("\ufeffjean@orange.fr", "jean@orange.fr"),  # byte-order mark from a CSV
        ("\u00a0jean@orange.fr\u202f", "jean@orange.fr"),  # no-break spaces around
        ("\tjean@orange.fr\r\n", "jean@orange.fr"),
        ("mailto:Jean@Orange.fr", "jean@orange.fr"),
        ("<jean@orange.fr>", "jean@orange.fr"),
        ("mailto:<jean@orange.fr>", "jean@orange.fr"),
        ("jean@orange.fr.", "jean@orange.fr"),  # fully qualified domain
        ("jean@Bücher.de", "jean@xn--bcher-kva.de"),  # IDNA (punycode)
        ("jean@bu\u0308cher.de", "jean@xn--bcher-kva.de"),  # decomposed ü, NFC first
        ("JEAN@ÉCOLE.FR", "jean@xn--cole-9oa.fr"),
        ("e\u0301lodie@free.fr", "\u00e9lodie@free.fr"),  # NFC in the local part
    ],
)
def test_normalize_email_cleans_what_mail_systems_ignore(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   ", "\u200b", "\u00a0", float("nan"), "<>"])
def test_normalize_email_returns_none_when_nothing_is_left(raw: object) -> None:
    assert normalize_email(raw) is None


def test_normalize_email_keeps_invalid_text_readable() -> None:
    assert normalize_email(" Jean Dupont@Gmail.com ") == "jean dupont@gmail.com"
    assert normalize_email("no-at-sign") == "no-at-sign"


@pytest.mark.parametrize(
    "address",
    [
        "jean.dupont@gmail.com",
        "j@x.fr",
        "o'brien@example.ie",
        "a+tag@sub.example.co.uk",
        "x_y-z@xn--bcher-kva.de",
        "first.last@company.travel",
        # RFC 6531: letters of any script before the @ (GetResponse and the CRM hold them).
        "élodie.lefèvre@laposte.net",
        "зоя.соколова@mail.ru",
        "山田@xn--bcher-kva.de",
    ],
)
def test_valid_addresses(address: str) -> None:
    assert is_valid_email(address)
    assert invalid_reason(address) == ""


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        (None, "no email"),
        ("jeangmail.com", "no @"),
        ("jean dupont@gmail.com", "space"),
        ("@gmail.com", "nothing before the @"),
        ("jean@", "nothing after the @"),
        ("a@b@gmail.com", "more than one @"),
        ("😀x@free.fr", "'😀' is not allowed"),
        (".jean@free.fr", "misplaced dot"),
        ("jean..dupont@free.fr", "misplaced dot"),
        ("jean.@free.fr", "misplaced dot"),
        ("jean(x)@free.fr", "'('"),
        ("jean@gmail", "has no dot"),
        ("jean@-gmail.com", "not a valid domain"),
        ("jean@1.2.3.4", "not a valid domain"),
        ("jean@gmail.c", "not a valid domain"),
        ("a" * 65 + "@free.fr", "64 characters"),
    ],
)
def test_invalid_addresses_say_why(address: str | None, reason: str) -> None:
    normalized = normalize_email(address)
    assert not is_valid_email(normalized)
    assert reason in invalid_reason(normalized)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        # Gmail: dots and +tags ignored, googlemail.com is gmail.com.
        ("jean.dupont@gmail.com", "jeandupont@gmail.com"),
        ("j.e.a.n.dupont+news@gmail.com", "jeandupont@gmail.com"),
        ("jean.dupont@googlemail.com", "jeandupont@gmail.com"),
        # Outlook.com / Hotmail / iCloud: +tags delivered to the base box, dots significant.
        ("jean.dupont+promo@hotmail.fr", "jean.dupont@hotmail.fr"),
        ("jean.dupont@outlook.com", "jean.dupont@outlook.com"),
        ("jean+x@icloud.com", "jean@icloud.com"),
        # Proton: dots, dashes, underscores and +tags ignored.
        ("jean.du-pont_x+a@proton.me", "jeandupontx@proton.me"),
        # Everyone else (Google Workspace, ISPs, companies): nothing is assumed.
        ("jean.dupont+news@orange.fr", "jean.dupont+news@orange.fr"),
        ("j.smith@company.com", "j.smith@company.com"),
        # A +tag with nothing before it is not a tag.
        ("+tag@gmail.com", "+tag@gmail.com"),
    ],
)
def test_email_key_applies_only_documented_provider_rules(address: str, key: str) -> None:
    assert email_key(address) == key


def test_hotmail_dots_are_not_ignored() -> None:
    assert email_key("dan.dascal2@hotmail.com") != email_key("dandascal2@hotmail.com")


def test_split_email_uses_the_last_at() -> None:
    assert split_email("a@b@c.fr") == ("a@b", "c.fr")
    assert split_email("nothing") == ("", "nothing")


def test_normalize_emails_returns_the_four_columns_on_the_same_index() -> None:
    raw = pd.Series(
        [" Jean.Dupont@GMAIL.com", None, "bad@", "x+1@hotmail.fr", "jean@Bücher.de"],
        index=[10, 11, 12, 13, 14],
    )
    out = normalize_emails(raw)
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert list(out.columns) == [EMAIL_NORMALIZED, EMAIL_VALID, EMAIL_KEY, EMAIL_INVALID_REASON]
    assert out.loc[10, EMAIL_NORMALIZED] == "jean.dupont@gmail.com"
    assert out.loc[10, EMAIL_KEY] == "jeandupont@gmail.com"
    assert bool(out.loc[10, EMAIL_VALID]) is True
    assert out.loc[10, EMAIL_INVALID_REASON] == ""
    assert pd.isna(out.loc[11, EMAIL_NORMALIZED])
    assert out.loc[11, EMAIL_INVALID_REASON] == "no email"
    assert pd.isna(out.loc[12, EMAIL_KEY])
    assert bool(out.loc[12, EMAIL_VALID]) is False
    assert out.loc[12, EMAIL_INVALID_REASON] == "nothing after the @"
    assert out.loc[13, EMAIL_KEY] == "x@hotmail.fr"
    assert out.loc[14, EMAIL_NORMALIZED] == "jean@xn--bcher-kva.de"


def test_normalize_emails_accepts_object_and_numeric_columns() -> None:
    out = normalize_emails(pd.Series([12, None, "A@B.FR"], dtype=object))
    assert out[EMAIL_NORMALIZED].tolist()[2] == "a@b.fr"
    assert out[EMAIL_INVALID_REASON].tolist()[0].startswith("not an email address")


def test_normalize_emails_handles_an_empty_column() -> None:
    out = normalize_emails(pd.Series([], dtype="str"))
    assert len(out) == 0
    assert list(out.columns) == [EMAIL_NORMALIZED, EMAIL_VALID, EMAIL_KEY, EMAIL_INVALID_REASON]


TRICKY = [
    " A.B+c@GoogleMail.com ",
    "mailto:<X@Y.FR>",
    "\u200bjean@free.fr\u00a0",
    "jean@bu\u0308cher.de",
    "Élodie@free.fr",
    "a@b@c",
    "a..b@free.fr",
    "plain",
    "p.r.o-t_o+n@protonmail.com",
    "x+y@outlook.fr",
    "<<a@b.fr>>",
    "a@b.fr..",
    "",
    None,
]


def test_vectorized_and_scalar_agree_on_tricky_values() -> None:
    out = normalize_emails(pd.Series(TRICKY, dtype=object))
    for raw, row in zip(TRICKY, out.itertuples(index=False), strict=True):
        expected = normalize_email(raw)
        got = row[0] if isinstance(row[0], str) else None
        assert got == expected, raw
        valid = is_valid_email(expected)
        assert bool(row[1]) is valid, raw
        key = row[2] if isinstance(row[2], str) else None
        assert key == (email_key(expected) if valid else None), raw
        assert row[3] == invalid_reason(expected), raw


def test_nan_is_missing() -> None:
    assert normalize_email(math.nan) is None


def _address(local: int, total: int) -> str:
    """An otherwise valid address with ``local`` characters before the @, ``total`` in all."""
    domain_len = total - local - 1
    labels, left = [], domain_len - 3  # ".fr"
    while left > 0:
        size = min(63, left)
        if left - size == 1:  # never leave a one-character tail that needs its own dot
            size -= 1
        labels.append("d" * size)
        left -= size + 1
    domain = ".".join(labels) + ".fr"
    address = "a" * local + "@" + domain
    assert (len(address), len(address.split("@")[0])) == (total, local)
    return address


def test_the_64_and_254_character_limits_are_exact() -> None:
    assert is_valid_email(_address(64, 100))
    assert not is_valid_email(_address(65, 100))
    assert invalid_reason(_address(65, 100)) == "more than 64 characters before the @"
    assert is_valid_email(_address(10, 254))
    assert not is_valid_email(_address(10, 255))
    assert invalid_reason(_address(10, 255)) == "address longer than 254 characters"
    for address in (_address(64, 100), _address(65, 100), _address(10, 254), _address(10, 255)):
        out = normalize_emails(pd.Series([address], dtype=object))  # the vectorized path too
        assert bool(out[EMAIL_VALID].iloc[0]) is is_valid_email(address), len(address)


def test_a_non_ascii_value_without_an_at_is_kept_and_explained() -> None:
    assert normalize_email("Zoë Lefèvre") == "zoë lefèvre"  # lowercased, not punycoded
    assert invalid_reason("zoë lefèvre") == "not an email address (no @): 'zoë lefèvre'"
    out = normalize_emails(pd.Series(["Zoë Lefèvre"], dtype=object))
    assert out[EMAIL_NORMALIZED].iloc[0] == "zoë lefèvre"
    assert not out[EMAIL_VALID].iloc[0]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("@orange.fr", "nothing before the @"),
        ("jean@", "nothing after the @"),
        ("jean@@orange.fr", "more than one @"),
        ("j😀@orange.fr", "character '😀' is not allowed before the @"),  # RFC 6531: letters only
        (".jean@orange.fr", "misplaced dot before the @"),
        ("jean.@orange.fr", "misplaced dot before the @"),
        ("je..an@orange.fr", "misplaced dot before the @"),
        ("je(an@orange.fr", "character '(' is not allowed before the @"),
        ("jean@orange", "domain 'orange' has no dot"),
        ("jean@-orange.fr", "domain '-orange.fr' is not a valid domain name"),
        ("jean dupont@orange.fr", "the address contains a space"),
        ("", "no email"),
    ],
)
def test_every_reason_word_for_word(address: str, reason: str) -> None:
    assert invalid_reason(address or None) == reason


def test_provider_keys_cut_tags_and_dots_only_where_documented() -> None:
    assert email_key("j.e.a.n+news@googlemail.com") == "jean@gmail.com"
    assert email_key("j.e_a-n+x@proton.me") == "jean@proton.me"
    assert email_key("j.ean+x@outlook.fr") == "j.ean@outlook.fr"
    assert email_key("j.ean+x@orange.fr") == "j.ean+x@orange.fr"
    assert email_key("no-at-sign") == "no-at-sign"


MORE = [
    "mailto:Jean@Orange.fr",
    "MAILTO:jean@orange.fr",
    "<jean@orange.fr>",
    "jean@orange.fr.",
    "JEAN@ÉCOLE.FR",
    "Zoë Lefèvre",
    "\ufeffjean@orange.fr",
    "\tjean@orange.fr\r\n",
    "jean dupont@orange.fr",
    "jé@orange.fr",
    "@orange.fr",
    "jean@",
    "j.e.a.n+news@googlemail.com",
    "j.ean+x@orange.fr",
    "   ",
    "<>",
    "mailto:",
    12345,
    _address(64, 100),
    _address(65, 100),
    _address(10, 254),
    _address(10, 255),
]


@pytest.mark.parametrize("storage", ["object", "pyarrow"])
def test_vectorized_and_scalar_agree_on_every_documented_case(storage: str) -> None:
    values = [*TRICKY, *MORE]
    if storage == "pyarrow":
        series = pd.Series([None if v is None else str(v) for v in values], dtype="string[pyarrow]")
        values = [None if v is None else str(v) for v in values]
    else:
        series = pd.Series(values, dtype=object)
    out = normalize_emails(series)
    for raw, row in zip(values, out.itertuples(index=False), strict=True):
        expected = normalize_email(raw)
        assert (row[0] if isinstance(row[0], str) else None) == expected, raw
        valid = is_valid_email(expected)
        assert bool(row[1]) is valid, raw
        assert (row[2] if isinstance(row[2], str) else None) == (
            email_key(expected) if valid else None
        ), raw
        assert row[3] == invalid_reason(expected), raw


@pytest.mark.parametrize(
    ("broken", "repaired"),
    [
        ("arnaud..jacobs@me.com", "arnaud.jacobs@me.com"),
        (".arnaud@me.com", "arnaud@me.com"),
        ("arnaud.@me.com", "arnaud@me.com"),
        ("arnaud jacobs@me.com", "arnaudjacobs@me.com"),
        ("arnaud@@me.com", "arnaud@me.com"),
        ("arnaud@gmail,com", "arnaud@gmail.com"),
        ("arnaud@orange.fr;", "arnaud@orange.fr"),
        ("arnaud.jacobsgmail.com", "arnaud.jacobs@gmail.com"),
        ("arnaud@gmailcom", "arnaud@gmail.com"),
    ],
)
def test_repair_email_reads_a_broken_address_as_a_person_would(broken: str, repaired: str) -> None:
    normalized = normalize_email(broken)
    assert not is_valid_email(normalized)
    assert repair_email(normalized) == repaired


@pytest.mark.parametrize("address", ["jean.dupont@gmail.com", None, "", "nothing", "a@b@c@d.fr",
                                     "😀@x.fr", "jean@company"])  # fmt: skip
def test_repair_email_gives_nothing_for_valid_or_unreadable_addresses(address: str | None) -> None:
    assert repair_email(normalize_email(address)) is None
