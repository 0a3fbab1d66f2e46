"""The generated sample CRM (``DataverseSandbox(seed=...)``), read over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from reconcile.sandbox.dataverse import DataverseSandbox
from reconcile.sandbox.dataverse.models import Key
from reconcile.sandbox.dataverse.seed import SALESPERSON_ID


def values(client: httpx.Client, path: str, **params: str) -> list[dict[str, Any]]:
    response = client.get(path, params=params, headers={"Prefer": "odata.maxpagesize=5000"})
    assert response.status_code == 200, response.text
    return response.json()["value"]


def test_contacts_some_inactive_some_merged(seeded: httpx.Client) -> None:
    contacts = values(
        seeded, "/contacts", **{"$select": "statecode,merged,_masterid_value,emailaddress1"}
    )
    assert len(contacts) == 300 + 1 + 3  # people, o'brien, merged duplicates
    inactive = [c for c in contacts if c["statecode"] == 1]
    merged = [c for c in contacts if c["merged"]]
    assert 5 <= len(inactive) <= 40
    assert len(merged) == 3
    ids = {c["contactid"] for c in contacts}
    assert all(c["_masterid_value"] in ids and c["statecode"] == 1 for c in merged)
    quoted = values(seeded, "/contacts", **{"$filter": "emailaddress1 eq 'o''brien@example.com'"})
    assert len(quoted) == 1


def test_lists_and_members(seeded: httpx.Client) -> None:
    lists = {
        r["listname"]: r
        for r in values(
            seeded,
            "/lists",
            **{"$select": "listname,type,createdfromcode,membercount,statecode,query"},
        )
    }
    assert set(lists) == {
        "Newsletter",
        "Clients VIP",
        "Prospects Paris",
        "Mes contacts",
        "Comptes partenaires",
        "Tous les comptes",
        "Ancienne liste",
    }
    assert lists["Newsletter"]["type"] is False
    assert lists["Newsletter"]["createdfromcode"] == 2
    assert lists["Newsletter"]["membercount"] > 50
    assert lists["Comptes partenaires"]["createdfromcode"] == 1
    assert lists["Ancienne liste"]["statecode"] == 1
    assert lists["Prospects Paris"]["type"] is True
    assert lists["Prospects Paris"]["membercount"] is None
    assert 'operator="eq-userid"' in lists["Mes contacts"]["query"]
    newsletter = lists["Newsletter"]["listid"]
    members = values(seeded, "/listmembers", **{"$filter": f"_listid_value eq {newsletter}"})
    assert len(members) == lists["Newsletter"]["membercount"]
    obrien = values(
        seeded,
        f"/lists({newsletter})/listcontact_association",
        **{"$filter": "emailaddress1 eq 'o''brien@example.com'"},
    )
    assert len(obrien) == 1
    paris = values(seeded, "/contacts", fetchXml=lists["Prospects Paris"]["query"])
    assert paris
    assert all(
        r["address1_city"] == "Paris"
        for r in values(
            seeded,
            "/contacts",
            **{
                "$select": "address1_city",
                "$filter": " or ".join(f"contactid eq {r['contactid']}" for r in paris[:20]),
            },
        )
    )


def test_owner_equals_current_user_list_depends_on_who_runs_it(seeded: httpx.Client) -> None:
    mine = values(
        seeded, "/lists", **{"$filter": "listname eq 'Mes contacts'", "$select": "query"}
    )[0]
    found = {r["contactid"] for r in values(seeded, "/contacts", fetchXml=mine["query"])}
    owned_by_me = {
        r["contactid"]
        for r in values(
            seeded,
            "/contacts",
            **{
                "$filter": f"_ownerid_value eq {seeded.get('/WhoAmI').json()['UserId']}",
                "$select": "contactid",
            },
        )
    }
    assert found == owned_by_me
    salesperson = values(seeded, "/contacts", **{"$filter": f"_ownerid_value eq {SALESPERSON_ID}"})
    assert salesperson
    assert not found & {r["contactid"] for r in salesperson}


def test_campaigns_have_lists(seeded: httpx.Client) -> None:
    campaigns = values(
        seeded,
        "/campaigns",
        **{"$select": "name", "$expand": "campaignlist_association($select=listname)"},
    )
    by_name = {
        c["name"]: [item["listname"] for item in c["campaignlist_association"]] for c in campaigns
    }
    assert by_name == {"Printemps": ["Newsletter"], "Salon Lyon": ["Prospects Paris"]}


def test_same_seed_same_data(seeded: httpx.Client) -> None:
    first = [
        r["contactid"]
        for r in values(
            seeded, "/contacts", **{"$select": "contactid", "$orderby": "emailaddress1"}
        )
    ]
    again = DataverseSandbox(seed=7, sample_size=300)
    try:
        rows = again.store.rows(
            "SELECT contactid FROM t_contact ORDER BY emailaddress1 COLLATE NOCASE, contactid"
        )
    finally:
        again.close()
    assert sorted(first) == sorted(r[0] for r in rows)


def test_a_file_backed_sandbox_keeps_its_tables_rows_and_secrets(tmp_path: Any) -> None:
    database = str(tmp_path / "dataverse.sqlite3")
    first = DataverseSandbox(database=database, seed=3, sample_size=20)
    secret = first.clients["admin"].client_secret
    contacts = first.state()["rows"]["contacts"]
    first.bulk_contacts([{"lastname": "Kept"}])
    catalog = first.service.store.catalog
    catalog.add_key(catalog.entities["contact"], Key("new_k", ["emailaddress1"]))
    first.close()
    again = DataverseSandbox(database=database, seed=3, sample_size=20)
    try:
        assert again.clients["admin"].client_secret == secret
        assert again.state()["rows"]["contacts"] == contacts + 1  # not seeded twice
        assert [k.logical_name for k in again.service.store.catalog.entities["contact"].keys] == [
            "new_k"
        ]
        again.bulk_contacts([{"lastname": "Next"}])
        versions = again.service.store.rows(
            "SELECT versionnumber FROM t_contact ORDER BY versionnumber DESC LIMIT 2"
        )
        assert versions[0][0] > versions[1][0]
    finally:
        again.close()


def test_loaded_list_members_are_added_in_one_pass(
    sandbox: DataverseSandbox, monkeypatch: Any
) -> None:
    """A list loaded with its members is checked and recounted once, not once per member:
    seeding 20,000 members took 78 s that way (a count of a growing list per member)."""
    ids = sandbox.bulk_contacts([{"lastname": f"M{i}"} for i in range(30)])
    recounts: list[str] = []
    refresh = sandbox.service.rows.refresh_member_count
    monkeypatch.setattr(
        sandbox.service.rows,
        "refresh_member_count",
        lambda list_id: (recounts.append(list_id), refresh(list_id))[1],
    )
    made = sandbox.load(
        {"lists": [{"listname": "Big", "type": False, "createdfromcode": 2,
                    "members": [str(i) for i in ids] + [str(ids[0])]}]}
    )  # fmt: skip
    list_id = str(made["lists"][0])
    assert recounts == [list_id]
    lists = sandbox.store.catalog.entities["list"]
    assert sandbox.store.get(lists, list_id)["membercount"] == 30  # the repeat is a no-op
