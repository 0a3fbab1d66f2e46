"""``GET /contacts?additionalFlags=customFieldValues``: custom field values in the list itself.

The flag is documented in GetResponse's own API guide (GetResponse/public-api-agent-skills,
getresponse-newsletter-skill/references/api-guide.md), not in the OpenAPI description, which
lists only ``exactMatch``. The list elements stay valid against the description (checked by
the ``api`` fixture) and carry the values exactly as ``GET /contacts/{id}`` shows them.
"""

from __future__ import annotations

from typing import Any

import httpx

from reconcile.sandbox.getresponse import GetResponseSandbox


def _seed(sandbox: GetResponseSandbox) -> dict[str, Any]:
    return sandbox.seed(
        {
            "campaigns": [{"name": "clients_fr"}, {"name": "other_list"}],
            "customFields": [
                {"name": "tier", "format": "single_select", "values": ["gold", "silver"]},
                {"name": "city", "format": "text"},
            ],
            "contacts": [
                {
                    "email": "anna@x.fr",
                    "campaign": "clients_fr",
                    "customFields": {"tier": ["gold"], "city": "Lyon"},
                },
                {"email": "bob@x.fr", "campaign": "clients_fr"},
                {"email": "carl@x.fr", "campaign": "other_list", "customFields": {"city": "Nice"}},
            ],
        }
    )


def test_the_flag_adds_each_contacts_values_as_details_show_them(
    api: httpx.Client, sandbox: GetResponseSandbox
) -> None:
    ids = _seed(sandbox)
    campaign = ids["campaigns"]["clients_fr"]
    params = {"query[campaignId]": campaign, "additionalFlags": "customFieldValues"}
    listed = {c["email"]: c for c in api.get("/contacts", params=params).json()}
    assert set(listed) == {"anna@x.fr", "bob@x.fr"}
    details = api.get(f"/contacts/{ids['contacts']['anna@x.fr']}").json()
    assert listed["anna@x.fr"]["customFieldValues"] == details["customFieldValues"]
    assert [(v["name"], v["value"]) for v in listed["anna@x.fr"]["customFieldValues"]] == [
        ("city", ["Lyon"]),
        ("tier", ["gold"]),
    ]
    assert listed["bob@x.fr"]["customFieldValues"] == []


def test_without_the_flag_the_list_has_no_values(
    api: httpx.Client, sandbox: GetResponseSandbox
) -> None:
    _seed(sandbox)
    plain = api.get("/contacts").json()
    assert len(plain) == 3
    assert all("customFieldValues" not in c for c in plain)
    both = api.get("/contacts", params={"additionalFlags": "exactMatch,customFieldValues"})
    assert all("customFieldValues" in c for c in both.json())
