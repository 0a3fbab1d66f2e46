"""A ``$filter`` with hundreds of alternatives (``a or b or c …``, what a client sends to
check many emails at once) is one flat SQL condition, not hundreds of nested ones."""

from __future__ import annotations

import httpx

from reconcile.sandbox.dataverse import DataverseSandbox


def test_a_long_or_chain_answers(api: httpx.Client, sandbox: DataverseSandbox) -> None:
    sandbox.bulk_contacts(
        [{"lastname": f"L{i}", "emailaddress1": f"p{i}@example.com"} for i in range(600)]
    )
    chain = " or ".join(f"(emailaddress1 eq 'P{i}@example.com')" for i in range(0, 1000, 2))
    response = api.get(
        "contacts",
        params={"$select": "emailaddress1", "$filter": f"(statecode eq 0) and ({chain})"},
    )
    assert response.status_code == 200, response.text
    found = {row["emailaddress1"] for row in response.json()["value"]}
    assert found == {f"p{i}@example.com" for i in range(0, 600, 2)}
    mixed = api.get(
        "contacts",
        params={"$filter": "(lastname eq 'L1' and emailaddress1 eq 'p1@example.com') or "
                "lastname eq 'L2' or (lastname eq 'L3' and statecode eq 1)"},
    )  # fmt: skip
    assert sorted(r["lastname"] for r in mixed.json()["value"]) == ["L1", "L2"]
