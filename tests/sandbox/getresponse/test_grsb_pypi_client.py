"""An independent client we did not write — the PyPI ``getresponse`` package, generated from
GetResponse's official OpenAPI description — drives every operation the sandbox emulates and
accepts its answers (its pydantic models are strict about required fields and enums)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from getresponse import GetResponseClient
from getresponse._core import GetResponseApiError
from grsb_help import DELAY
from grsb_openapi import Validator

from reconcile.sandbox.getresponse.routes import operations


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture
def sample(sandbox: Any) -> dict[str, Any]:
    return sandbox.seed_sample(3, contacts=250)


class Recording(httpx.AsyncBaseTransport):
    """Passes requests to the network and remembers (verb, path) of each."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.calls: set[tuple[str, str]] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.add((request.method, request.url.path))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def client(info: dict[str, Any], transport: Recording) -> GetResponseClient:
    return GetResponseClient(api_key=info["api_key"], base_url=info["url"], transport=transport)


def test_pypi_client_drives_every_emulated_operation(
    info: dict[str, Any], sample: dict[str, Any], sandbox: Any, openapi: Validator
) -> None:
    transport = Recording()
    reads(info, transport)
    writes(info, transport, sample, sandbox)
    newsletters(info, transport, sample)
    custom_reports(info, transport, sample, sandbox)
    used = {
        openapi.operation_id(method, path.removeprefix("/v3")) for method, path in transport.calls
    }
    wanted = {openapi.operation_id(method, path) for method, path in operations(sandbox)}
    assert wanted - used == set()


def reads(info: dict[str, Any], transport: Recording) -> None:
    async def scenario() -> None:
        async with client(info, transport) as gr:
            account = await gr.accounts.get_account()
            assert account.account_id
            assert (await gr.accounts.get_timezones())[0].timezone_id == 1
            (frame,) = await gr.accounts.get_sending_limits()
            assert frame.time_frame == 30 * 86400
            assert frame.used > 0  # the sample's newsletters were sent
            lists = await gr.campaigns_lists.get_campaign_list(query_name="clients_fr")
            assert [c.name for c in lists] == ["clients_fr"]
            campaign = await gr.campaigns_lists.get_campaign(lists[0].campaign_id)
            assert campaign.href.endswith(campaign.campaign_id)
            members = await gr.contacts.get_contacts_from_campaign(
                campaign.campaign_id, per_page=20
            )
            assert len(members) == 20
            everyone = [
                c
                async for c in gr.paginate(
                    gr.contacts.get_contact_list,
                    per_page=100,
                    query_campaign_id=campaign.campaign_id,
                )
            ]
            assert len({c.contact_id for c in everyone}) == len(everyone) > 20
            first = everyone[0]
            exact = await gr.contacts.get_contact_list(
                query_email=first.email, additional_flags="exactMatch"
            )
            assert first.contact_id in {c.contact_id for c in exact}
            since = await gr.contacts.get_contact_list(
                query_created_on_from=datetime(2000, 1, 1, tzinfo=UTC), per_page=5
            )
            assert len(since) == 5
            details = await gr.contacts.get_contact_by_id(first.contact_id)
            assert details.email == first.email
            activities = await gr.contacts.get_activities(
                first.contact_id, query_created_on_from=datetime(2000, 1, 1, tzinfo=UTC)
            )
            assert isinstance(activities, list)
            fields = await gr.custom_fields.get_custom_field_list()
            assert {f.name for f in fields} >= {"ville", "niveau_client"}
            field = await gr.custom_fields.get_custom_field_by_id(fields[0].custom_field_id)
            assert field.custom_field_id == fields[0].custom_field_id
            tags = await gr.tags.get_tags_list()
            assert (await gr.tags.get_tag_by_id(tags[0].tag_id)).name == tags[0].name
            senders = await gr.from_fields.get_from_field_list()
            assert (await gr.from_fields.get_from_field_by_id(senders[0].from_field_id)).email

    run(scenario())


def writes(
    info: dict[str, Any], transport: Recording, sample: dict[str, Any], sandbox: Any
) -> None:
    vip = sample["tags"]["vip"]
    ville = sample["customFields"]["ville"]

    async def scenario() -> None:
        async with client(info, transport) as gr:
            created = await gr.campaigns_lists.create_campaign({"name": "pypi_list"})
            assert created.name == "pypi_list"
            with pytest.raises(GetResponseApiError) as taken:
                await gr.campaigns_lists.create_campaign({"name": "pypi_list"})
            assert (taken.value.status_code, taken.value.code) == (409, 1008)
            updated = await gr.campaigns_lists.update_campaign(
                created.campaign_id, {"name": "pypi_list_renamed"}
            )
            assert updated.name == "pypi_list_renamed"
            assert (
                await gr.contacts.create_contact(
                    {
                        "email": "pypi.person@gmail.com",
                        "name": "Pypi Person",
                        "campaign": {"campaignId": created.campaign_id},
                    }
                )
                is None
            )
            await gr.contacts.create_batch_contacts(
                {"campaignId": created.campaign_id, "contacts": [{"email": "b1@gmail.com"}]}
            )
            with pytest.raises(GetResponseApiError) as queued:
                await gr.contacts.create_contact(
                    {
                        "email": "pypi.person@gmail.com",
                        "campaign": {"campaignId": created.campaign_id},
                    }
                )
            assert queued.value.code == 1008
            sandbox.advance(DELAY)
            person = (
                await gr.contacts.get_contact_list(
                    query_email="pypi.person@gmail.com", additional_flags="exactMatch"
                )
            )[0]
            changed = await gr.contacts.update_contact(
                person.contact_id, {"name": "Pypi Renamed", "tags": [{"tagId": vip}]}
            )
            assert changed.name == "Pypi Renamed"
            tags = await gr.contacts.upsert_tags(person.contact_id, {"tags": [{"tagId": vip}]})
            assert tags[0]["tagId"] == vip
            values = await gr.contacts.upsert_contact_customs(
                person.contact_id,
                {"customFieldValues": [{"customFieldId": ville, "value": ["Lille"]}]},
            )
            assert values[0].values == ["Lille"]
            tagged = await gr.search_contacts.get_contacts_from_search_contacts_conditions(
                {
                    "subscribersType": ["subscribed"],
                    "sectionLogicOperator": "or",
                    "section": [
                        {
                            "campaignIdsList": [created.campaign_id],
                            "logicOperator": "and",
                            "subscriberCycle": ["receiving_autoresponder"],
                            "subscriptionDate": "all_time",
                            "conditions": [
                                {
                                    "conditionType": "tag",
                                    "operatorType": "exists",
                                    "operator": "exists",
                                    "value": vip,
                                }
                            ],
                        }
                    ],
                },
                per_page=100,
            )
            assert [c.contact_id for c in tagged] == [person.contact_id]
            await gr.contacts.delete_contact(person.contact_id)
            with pytest.raises(GetResponseApiError) as gone:
                await gr.contacts.get_contact_by_id(person.contact_id)
            assert (gone.value.status_code, gone.value.code) == (404, 1013)

            field = await gr.custom_fields.create_custom_field(
                {
                    "name": "pypi_field",
                    "type": "string",
                    "format": "text",
                    "hidden": "false",
                    "values": [],
                }
            )
            field = await gr.custom_fields.update_custom_field(
                field.custom_field_id, {"hidden": "true", "values": []}
            )
            assert field.hidden == "true"  # allOf in the description: typed Any here
            await gr.custom_fields.delete_custom_field(field.custom_field_id)
            tag = await gr.tags.create_tag({"name": "pypi_tag"})
            assert (await gr.tags.update_tag(tag.tag_id, {"name": "pypi_tag"})).name == "pypi_tag"
            await gr.tags.delete_tag(tag.tag_id)
            masks = await gr.accounts.update_account_blocklist({"masks": ["x@blocked.example"]})
            assert masks.masks == ["x@blocked.example"]
            assert (await gr.accounts.get_account_blocklist()).masks == ["x@blocked.example"]

            job = await gr.imports.create_import(
                {
                    "campaignId": created.campaign_id,
                    "fieldMapping": ["email", "name"],
                    "contacts": [["imp@gmail.com", "Imp"]],
                }
            )
            sandbox.advance(DELAY)
            assert (await gr.imports.get_import_by_id(job.import_id)).statistics.added_to_list == 1
            assert [i.import_id for i in await gr.imports.get_import_list()] == [job.import_id]

    run(scenario())


def newsletters(info: dict[str, Any], transport: Recording, sample: dict[str, Any]) -> None:
    clients = sample["campaigns"]["clients_fr"]
    sender = next(iter(sample["fromFields"].values()))
    draft_id = sample["newsletters"]["MS CRM Bienvenue"]
    sent_id = sample["newsletters"]["Lettre hebdo"]

    async def scenario() -> None:
        async with client(info, transport) as gr:
            drafts = await gr.newsletters.get_newsletter_list(query_type="draft")
            assert {d.name for d in drafts} >= {"MS CRM Bienvenue", "MS CRM Offre du mois"}
            draft = await gr.newsletters.get_newsletter(draft_id)
            assert draft.newsletter_id == draft_id
            later = {"date": "2099-06-01T09:00:00", "timeZone": {"timeZoneId": 2}}
            scheduled = await gr.newsletters.send_draft(
                {
                    "messageId": draft_id,
                    "sendSettings": {"selectedCampaigns": [clients], "sendOn": later},
                }
            )
            cancelled = await gr.newsletters.cancel_message_send(scheduled.newsletter_id)
            assert cancelled.newsletter_id == scheduled.newsletter_id
            own = await gr.newsletters.create_newsletter(
                {
                    "subject": "From pypi",
                    "content": {"plain": "Hello"},
                    "type": "draft",
                    "campaign": {"campaignId": clients},
                    "fromField": {"fromFieldId": sender},
                    "sendSettings": {},
                }
            )
            await gr.newsletters.delete_newsletter(own.newsletter_id)
            opens = await gr.newsletters.get_newsletter_activities(sent_id, query_activity="open")
            assert opens
            assert all(a.contact["contactId"] for a in opens)  # allOf: typed Any
            stats = await gr.newsletters.get_single_newsletter_statistics(sent_id)
            assert stats[0].sent > 0
            collection = await gr.newsletters.get_newsletter_statistics_collection(
                query_newsletter_id=sent_id, query_group_by="day"
            )
            assert sum(s.sent for s in collection) == stats[0].sent

    run(scenario())


def custom_reports(
    info: dict[str, Any], transport: Recording, sample: dict[str, Any], sandbox: Any
) -> None:
    sent_id = sample["newsletters"]["Lettre hebdo"]

    async def scenario() -> None:
        async with client(info, transport) as gr:
            made = await gr.custom_reports.create_custom_report(
                {
                    "name": "pypi activity report",
                    "type": "message_activity_report",
                    "filters": {"activityType": ["open"], "messageId": [sent_id]},
                    "scheduling": {"frequency": "one_time", "startDate": "2020-01-01",
                                   "endDate": "2099-01-01"},
                }
            )  # fmt: skip
            sandbox.advance(3600)
            hooks = await gr.accounts.update_callbacks(
                {"url": "https://hooks.example.com/cb", "actions": {"open": True}}
            )
            assert hooks.url == "https://hooks.example.com/cb"
            assert (await gr.accounts.get_callbacks()).actions.open is True
            await gr.accounts.disable_callbacks()
            details = await gr.custom_reports.get_custom_report_details(made.custom_report_id)
            assert [f["status"] for f in details.files] == ["ready"]
            listed = await gr.custom_reports.get_custom_report_list(query_name="pypi")
            assert [r.custom_report_id for r in listed] == [made.custom_report_id]

    run(scenario())
