"""What the sync jobs read from Dynamics, on the sandbox: contacts and their changes,
marketing lists (static, dynamic, wrong target), merges, campaigns."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from reconcile.dataverse import (
    Watermark,
    active_contacts,
    add_members,
    campaigns,
    change_tracking_enabled,
    contact,
    contacts_by_ids,
    contacts_changed_since,
    dynamic_list_warnings,
    errors,
    list_members,
    marketing_list,
    marketing_lists,
    require_contact_list,
    resolve_masters,
)

Target = Any  # tests/dataverse/conftest.py::Target

PARIS = """<fetch version="1.0" mapping="logical"><entity name="contact">
<attribute name="fullname" /><filter type="and">
<condition attribute="address1_city" operator="eq" value="Paris" />
<condition attribute="statecode" operator="eq" value="0" /></filter></entity></fetch>"""
MINE = """<fetch><entity name="contact"><attribute name="fullname" />
<filter><condition attribute="ownerid" operator="eq-userid" /></filter></entity></fetch>"""


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


@pytest.fixture
def crm(dv: Target) -> dict[str, Any]:
    c = ids(6)
    contacts = [
        {
            "contactid": c[0],
            "firstname": "Siobhan",
            "lastname": "O'Brien",
            "emailaddress1": "o'brien@example.com",
            "address1_city": "Paris",
        },
        {
            "contactid": c[1],
            "firstname": "Bob",
            "lastname": "Martin",
            "emailaddress1": "bob@example.com",
            "address1_city": "Lyon",
        },
        {
            "contactid": c[2],
            "firstname": "Cara",
            "lastname": "Durand",
            "emailaddress1": "cara@example.com",
            "address1_city": "Paris",
        },
        {
            "contactid": c[3],
            "firstname": "Old",
            "lastname": "Durand",
            "emailaddress1": "old.cara@example.com",
            "address1_city": "Paris",
        },
        {
            "contactid": c[4],
            "firstname": "Older",
            "lastname": "Durand",
            "emailaddress1": "older.cara@example.com",
            "address1_city": "Nice",
        },
        {
            "contactid": c[5],
            "firstname": "Gone",
            "lastname": "Away",
            "emailaddress1": "gone@example.com",
            "statecode": 1,
        },
    ]
    lists = ids(4)
    dv.load(
        {
            "contacts": contacts,
            "lists": [
                {
                    "listid": lists[0],
                    "listname": "Newsletter",
                    "type": False,
                    "createdfromcode": 2,
                    "members": [c[0], c[1]],
                },
                {
                    "listid": lists[1],
                    "listname": "Prospects Paris",
                    "type": True,
                    "createdfromcode": 2,
                    "query": PARIS,
                },
                {
                    "listid": lists[2],
                    "listname": "Mes contacts",
                    "type": True,
                    "createdfromcode": 2,
                    "query": MINE,
                },
                {"listid": lists[3], "listname": "Comptes", "type": False, "createdfromcode": 1},
            ],
            "campaigns": [{"name": "Printemps"}, {"name": "Salon Lyon"}],
            "merges": [
                {"master": c[2], "subordinate": c[3]},
                {"master": c[3], "subordinate": c[4]},
            ],
        }
    )
    return {"contacts": c, "lists": lists}


def test_contacts_active_by_id_and_by_ids(dv: Target, crm: dict[str, Any]) -> None:
    client = dv.client()
    c = crm["contacts"]
    active = {r["contactid"] for r in active_contacts(client, page_size=2)}
    assert active == {c[0], c[1], c[2]}  # merged ones are deactivated, c[5] inactive
    assert contact(client, c[0])["fullname"] == "Siobhan O'Brien"
    found = {r["contactid"] for r in contacts_by_ids(client, [c[1], c[5], str(uuid.uuid4())])}
    assert found == {c[1], c[5]}


def test_merged_contacts_resolve_to_the_surviving_master(dv: Target, crm: dict[str, Any]) -> None:
    c = crm["contacts"]
    masters = resolve_masters(dv.client(), [c[4], c[3], c[2], c[1]])
    assert masters == {c[4]: c[2], c[3]: c[2], c[2]: c[2], c[1]: c[1]}


def test_changes_since_a_watermark_with_change_tracking(dv: Target, crm: dict[str, Any]) -> None:
    client = dv.client()
    c = crm["contacts"]
    assert change_tracking_enabled(client)
    first = contacts_changed_since(client, None)
    assert first.watermark.kind == "delta"
    assert {r["contactid"] for r in first.changed} == set(c)
    client.update("contacts", c[1], {"jobtitle": "Buyer"})
    client.delete("contacts", c[0])
    text = first.watermark.to_text()
    second = contacts_changed_since(client, Watermark.from_text(text))
    assert [r["contactid"] for r in second.changed] == [c[1]]
    assert second.deleted == [c[0]]
    third = contacts_changed_since(client, second.watermark)
    assert third.changed == []
    assert third.deleted == []


def test_an_expired_change_tracking_token_says_to_read_everything_again(
    dv: Target, crm: dict[str, Any]
) -> None:
    from urllib.parse import parse_qsl, quote, urlsplit

    from reconcile.dataverse import NotSupported

    client = dv.client()
    first = contacts_changed_since(client, None)
    link = urlsplit(first.watermark.value)
    params = parse_qsl(link.query, keep_blank_values=True)
    version = dict(params)["$deltatoken"].split("!")[0]
    stale = {"$deltatoken": f"{version}!01/02/2020 03:04:05"}  # older than the 7 days kept
    query = "&".join(f"{k}={quote(stale.get(k, v), safe='')}" for k, v in params)
    expired = Watermark("delta", link._replace(query=query).geturl())
    with pytest.raises(NotSupported) as caught:
        contacts_changed_since(client, expired)
    assert "expired" in caught.value.message
    assert "reset the contacts watermark" in str(caught.value.hint)


def test_changes_since_a_watermark_by_modifiedon(dv: Target, crm: dict[str, Any]) -> None:
    client = dv.client()
    c = crm["contacts"]
    first = contacts_changed_since(client, None, use_change_tracking=False)
    assert first.watermark.kind == "modifiedon"
    assert {r["contactid"] for r in first.changed} == set(c)
    client.update("contacts", c[1], {"jobtitle": "Buyer"})
    second = contacts_changed_since(client, first.watermark)
    assert c[1] in {r["contactid"] for r in second.changed}
    assert second.watermark.value >= first.watermark.value
    assert second.deleted == []  # modifiedon cannot see deletions


def test_static_and_dynamic_list_members(dv: Target, crm: dict[str, Any]) -> None:
    client = dv.client()
    c, lists = crm["contacts"], crm["lists"]
    by_name = {m.name: m for m in marketing_lists(client, contacts_only=True)}
    assert set(by_name) == {"Newsletter", "Prospects Paris", "Mes contacts"}
    static = by_name["Newsletter"]
    assert not static.dynamic
    rows = list(list_members(client, static))
    assert {r["contactid"] for r in rows} == {c[0], c[1]}
    assert {r["emailaddress1"] for r in rows} == {"o'brien@example.com", "bob@example.com"}
    dynamic = marketing_list(client, lists[1])
    assert dynamic.dynamic
    members = list(list_members(client, dynamic, page_size=1))
    assert {r["contactid"] for r in members} == {c[0], c[2]}  # active Paris contacts
    assert all("emailaddress1" in r for r in members)  # added to the list's own attributes
    added = add_members(client, static, [c[2], c[0]])
    assert added == 2
    assert {r["contactid"] for r in list_members(client, static)} == {c[0], c[1], c[2]}
    with pytest.raises(errors.ValidationFailed, match="is dynamic"):
        add_members(client, dynamic, [c[1]])


def test_lists_that_cannot_be_synced_are_explained(dv: Target, crm: dict[str, Any]) -> None:
    client = dv.client()
    accounts = marketing_list(client, crm["lists"][3])
    with pytest.raises(errors.ValidationFailed) as info:
        require_contact_list(accounts)
    assert "targets Accounts, not Contacts" in str(info.value)
    with pytest.raises(errors.ValidationFailed):
        list(list_members(client, accounts))
    warnings = dynamic_list_warnings(marketing_list(client, crm["lists"][2]))
    assert len(warnings) == 1
    assert "contact.ownerid eq-userid" in warnings[0]
    assert "service user" in warnings[0]
    assert dynamic_list_warnings(marketing_list(client, crm["lists"][1])) == []


def test_campaigns(dv: Target, crm: dict[str, Any]) -> None:
    assert [c.name for c in campaigns(dv.client())] == ["Printemps", "Salon Lyon"]
