"""Contact imports: a tracked job that adds and updates contacts."""

from __future__ import annotations

from typing import Any

import httpx
from grsb_help import DELAY, advance, error_of


def test_import_adds_updates_and_counts_invalid_rows(
    api: httpx.Client, control: httpx.Client, sandbox: Any
) -> None:
    ids = sandbox.seed(
        {
            "campaigns": [{"name": "clients_fr"}, {"name": "other"}],
            "customFields": [{"name": "tier"}],
            "contacts": [{"email": "old@x.fr", "name": "Old", "campaign": "clients_fr"}],
            "blacklist": ["@spam.example"],
        }
    )
    body = {
        "campaignId": ids["campaigns"]["clients_fr"],
        "fieldMapping": ["email", "name", "tier", "tag:vip"],
        "contacts": [
            ["new@x.fr", "New", "gold", "1"],
            ["old@x.fr", "Old Name", "silver", "0"],
            ["bad-address", "", "", "0"],
            ["x@spam.example", "", "", "0"],
        ],
    }
    created = api.post("/imports", json=body)
    assert created.status_code == 201
    job = created.json()
    assert job["status"] == "uploaded"
    assert job["campaign"]["campaignId"] == ids["campaigns"]["clients_fr"]
    assert error_of(api.post("/imports", json=body)) == (409, 1008)  # one active per list
    advance(control, DELAY)
    done = api.get(f"/imports/{job['importId']}").json()
    assert done["status"] == "finished"
    assert done["statistics"] == {"uploaded": 4, "invalid": 2, "updated": 1, "addedToList": 1}
    assert done["errorStatistics"]["syntaxErrors"] == 1
    assert done["errorStatistics"]["blacklist"] == 1
    new = api.get("/contacts", params={"query[email]": "new@x.fr"}).json()[0]
    assert new["origin"] == "import"
    details = api.get(f"/contacts/{new['contactId']}").json()
    assert [t["name"] for t in details["tags"]] == ["vip"]
    assert details["customFieldValues"][0]["value"] == ["gold"]
    old = api.get(f"/contacts/{ids['contacts']['old@x.fr']}").json()
    assert old["name"] == "Old Name"
    listed = api.get("/imports", params={"query[campaignId]": ids["campaigns"]["clients_fr"]})
    assert [i["importId"] for i in listed.json()] == [job["importId"]]
    assert api.get("/imports", params={"query[campaignId]": ids["campaigns"]["other"]}).json() == []


def test_import_refuses_bad_mappings(api: httpx.Client, sandbox: Any) -> None:
    ids = sandbox.seed({"campaigns": [{"name": "clients_fr"}]})
    campaign = ids["campaigns"]["clients_fr"]
    no_email = {"campaignId": campaign, "fieldMapping": ["name"], "contacts": [["A"]]}
    assert error_of(api.post("/imports", json=no_email)) == (400, 1000)
    unknown = {
        "campaignId": campaign,
        "fieldMapping": ["email", "nope"],
        "contacts": [["a@b.fr", "x"]],
    }
    assert error_of(api.post("/imports", json=unknown)) == (400, 1001)
    ragged = {"campaignId": campaign, "fieldMapping": ["email", "name"], "contacts": [["a@b.fr"]]}
    assert error_of(api.post("/imports", json=ragged)) == (400, 1000)
    assert error_of(api.get("/imports/nope")) == (404, 1013)
