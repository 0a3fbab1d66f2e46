"""Lists (campaigns), tags and custom fields through the client, against the sandbox."""

from __future__ import annotations

import pytest
from gr_live import SandboxHandle

from reconcile.getresponse import (
    AlreadyExists,
    GetResponseClient,
    NotFound,
    ValidationError,
    campaign_exists,
    create_campaign,
    create_custom_field,
    create_tag,
    delete_tag,
    ensure_tag,
    find_campaign,
    find_custom_field,
    find_tag,
    get_campaign,
    get_custom_field,
    iter_campaigns,
    iter_custom_fields,
    iter_tags,
)


def test_create_find_and_list_campaigns(gr: SandboxHandle, client: GetResponseClient) -> None:
    created = create_campaign(client, "crm_clients-2024")
    assert created.campaign_id
    assert created.name == "crm_clients-2024"
    assert created.created_on is not None
    assert created.created_on.tzinfo is not None
    shorter = create_campaign(client, "crm_clients")  # a name the first one contains
    assert find_campaign(client, "crm_clients") == shorter
    assert get_campaign(client, created.campaign_id) == created
    assert find_campaign(client, "crm_clients-2024").campaign_id == created.campaign_id
    assert find_campaign(client, "nobody") is None
    names = {c.name for c in iter_campaigns(client)}
    assert {"crm_clients", "crm_clients-2024"} <= names


def test_a_taken_list_name_is_a_conflict_with_the_apis_details(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    create_campaign(client, "newsletter_fr")
    with pytest.raises(AlreadyExists) as caught:
        create_campaign(client, "newsletter_fr")
    assert caught.value.http_status == 409
    assert caught.value.code == 1008
    assert "already exists" in str(caught.value.hint)


def test_an_invalid_list_name_is_a_validation_error(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    with pytest.raises(ValidationError) as caught:
        create_campaign(client, "a/b")
    assert caught.value.context


def test_a_list_deleted_in_the_web_app_is_detected(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    campaign = create_campaign(client, "to_be_deleted")
    assert campaign_exists(client, campaign.campaign_id)
    gr.delete(campaigns=[campaign.campaign_id])
    assert not campaign_exists(client, campaign.campaign_id)
    with pytest.raises(NotFound):
        get_campaign(client, campaign.campaign_id)


def test_a_dropped_create_is_retried_without_duplicating(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    gr.fault(kind="drop", count=1, path="/v3/campaigns", method="POST")
    campaign = create_campaign(client, "dropped_once")
    assert [c.campaign_id for c in iter_campaigns(client, name="dropped_once")] == [
        campaign.campaign_id
    ]
    assert client.stats.retries == 1


def test_a_create_whose_answer_is_lost_finds_the_list_it_made(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    gr.fault(kind="drop", after=True, count=1, path="/v3/campaigns", method="POST")
    campaign = create_campaign(client, "answer_lost")
    assert campaign.name == "answer_lost"
    assert [c.campaign_id for c in iter_campaigns(client, name="answer_lost")] == [
        campaign.campaign_id
    ]
    assert client.stats.retries == 1


def test_tags(gr: SandboxHandle, client: GetResponseClient) -> None:
    vip = create_tag(client, "vip_customer")
    assert vip.created_at is not None
    assert ensure_tag(client, "vip_customer") == vip
    other = ensure_tag(client, "newsletter_optin")
    assert other.tag_id != vip.tag_id
    assert find_tag(client, "vip_customer") == vip
    assert {t.name for t in iter_tags(client)} == {"vip_customer", "newsletter_optin"}
    delete_tag(client, other.tag_id)
    assert find_tag(client, "newsletter_optin") is None


def test_custom_fields(gr: SandboxHandle, client: GetResponseClient) -> None:
    tier = create_custom_field(
        client, "customer_tier", format="single_select", values=["gold", "silver"]
    )
    assert tier.values == ("gold", "silver")
    assert tier.hidden is False
    assert get_custom_field(client, tier.custom_field_id).name == "customer_tier"
    assert find_custom_field(client, "customer_tier") == tier
    assert [f.name for f in iter_custom_fields(client)] == ["customer_tier"]
