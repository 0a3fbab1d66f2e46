"""GetResponse ids are case-sensitive, Dataverse keys are not: the stored key keeps two ids
that differ only in case apart, and reads back to the id."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconcile.dataverse.schema import getresponse_id, getresponse_key

BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_examples() -> None:
    assert getresponse_key("pv3r") == "pv3r"
    assert getresponse_key("pV3r") == "pV3r~2"
    assert getresponse_key("RrrA") == "RrrA~9"
    assert getresponse_id("RrrA~9") == "RrrA"
    assert getresponse_id("pv3r") == "pv3r"


@given(st.text(BASE62, min_size=1, max_size=12), st.text(BASE62, min_size=1, max_size=12))
def test_keys_differ_under_case_folding_when_ids_differ(a: str, b: str) -> None:
    assert getresponse_id(getresponse_key(a)) == a
    if a != b:
        assert getresponse_key(a).casefold() != getresponse_key(b).casefold()
