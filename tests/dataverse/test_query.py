from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.dataverse import query as q

QUOTED = "o'brien@example.com"


def test_a_quote_in_a_value_is_doubled_never_injected() -> None:
    assert q.literal(QUOTED) == "'o''brien@example.com'"
    assert str(q.eq("emailaddress1", QUOTED)) == "emailaddress1 eq 'o''brien@example.com'"
    attack = "x' or statecode eq 1 or emailaddress1 eq 'y"
    text = str(q.eq("emailaddress1", attack))
    assert text == "emailaddress1 eq 'x'' or statecode eq 1 or emailaddress1 eq ''y'"


@given(st.text())
def test_every_string_literal_reads_back_as_the_same_value(value: str) -> None:
    text = q.literal(value)
    assert text.startswith("'")
    assert text.endswith("'")
    inner = text[1:-1]
    # no lone quote can end the string early: quotes come in pairs
    assert inner.replace("''", "").count("'") == 0
    assert inner.replace("''", "'") == value


def test_literals_of_other_types() -> None:
    guid = uuid.UUID("6f1c3d4e-0000-4000-8000-000000000001")
    assert q.literal(None) == "null"
    assert q.literal(True) == "true"
    assert q.literal(0) == "0"
    assert q.literal(2.5) == "2.5"
    assert q.literal(guid) == "6f1c3d4e-0000-4000-8000-000000000001"
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert q.literal(moment) == "2024-05-01T10:00:00Z"
    assert q.literal(date(2024, 5, 1)) == "2024-05-01"
    with pytest.raises(ValueError, match="time zone"):
        q.literal(datetime(2024, 5, 1))
    with pytest.raises(TypeError):
        q.literal(object())  # type: ignore[arg-type]


def test_column_names_must_be_identifiers() -> None:
    with pytest.raises(ValueError, match="column name"):
        q.eq("emailaddress1 eq 'x' or name", "y")
    assert str(q.eq("parentcustomerid_account/name", "A")) == "parentcustomerid_account/name eq 'A'"


def test_filters_combine_with_operators_and_functions() -> None:
    f = (q.eq("statecode", 0) & q.startswith("lastname", "O'")) | ~q.contains("fullname", "x")
    assert str(f) == (
        "((statecode eq 0) and (startswith(lastname,'O'''))) or (not (contains(fullname,'x')))"
    )
    assert str(q.in_("name", ["a", "b'"])) == "(name eq 'a') or (name eq 'b''')"
    with pytest.raises(ValueError, match="at least one"):
        q.in_("name", [])


def test_key_segments_and_record_paths_escape_and_encode() -> None:
    guid = "6F1C3D4E-0000-4000-8000-000000000001"
    assert q.key_segment(guid) == "(6f1c3d4e-0000-4000-8000-000000000001)"
    assert q.key_segment("{" + guid + "}") == "(6f1c3d4e-0000-4000-8000-000000000001)"
    assert q.key_segment({"emailaddress1": QUOTED}) == "(emailaddress1='o''brien@example.com')"
    assert q.key_segment({"a": "x", "b": 2}) == "(a='x',b=2)"
    path = q.record_path("contacts", {"emailaddress1": "o'brien+tag#1/a?b%c@example.com"})
    assert path == "contacts(emailaddress1='o''brien%2Btag%231%2Fa%3Fb%25c@example.com')"
    assert unquote(path) == "contacts(emailaddress1='o''brien+tag#1/a?b%c@example.com')"
    with pytest.raises(ValueError, match="GUID"):
        q.key_segment("1 or 1=1")


def test_query_params_and_encoding() -> None:
    query = q.Query(
        select=("contactid", "emailaddress1"),
        filter=q.eq("emailaddress1", "o'brien+x y@example.com"),
        orderby=("modifiedon asc", "contactid"),
        top=5,
        expand=("parentcustomerid_account($select=name)",),
        count=True,
    )
    params = query.params()
    assert params["$orderby"] == "modifiedon asc,contactid"
    encoded = q.encode_query(params)
    assert encoded.startswith("$select=contactid,emailaddress1&$filter=emailaddress1%20eq%20")
    assert "'o''brien%2Bx%20y@example.com'" in encoded
    assert "&$top=5&" in encoded
    assert encoded.endswith("$count=true")
    with pytest.raises(ValueError, match="orderby"):
        q.Query(orderby=("name; drop",)).params()
    with pytest.raises(ValueError, match="option name"):
        q.encode_query({"$filter&x": "1"})


def test_describe_key_names_the_record() -> None:
    assert q.describe_key("contacts", {"emailaddress1": QUOTED}) == (
        "contacts(emailaddress1='o''brien@example.com')"
    )
    assert q.describe_key("contacts", "nonsense") == "contacts('nonsense')"
