"""Reading a list with its custom field values in one paged read (``with_custom_fields``):
one request per 1000 contacts instead of one per contact."""

from __future__ import annotations

from gr_live import SandboxHandle

from reconcile.getresponse import GetResponseClient, iter_contacts


def test_a_list_read_carries_custom_field_values(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    ids = gr.seed(
        {
            "campaigns": [{"name": "clients_fr"}],
            "customFields": [{"name": "tier", "format": "single_select", "values": ["gold"]}],
            "contacts": [
                {"email": f"c{i}@x.fr", "campaign": "clients_fr", "customFields": {"tier": "gold"}}
                for i in range(1500)
            ],
        }
    )
    before = client.stats.requests
    contacts = list(
        iter_contacts(client, campaign_id=ids["campaigns"]["clients_fr"], with_custom_fields=True)
    )
    assert client.stats.requests - before == 2
    assert len(contacts) == 1500
    assert {(v.name, v.values) for c in contacts for v in c.custom_field_values} == {
        ("tier", ("gold",))
    }
    plain = next(iter_contacts(client, campaign_id=ids["campaigns"]["clients_fr"]))
    assert plain.custom_field_values == ()
