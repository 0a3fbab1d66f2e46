"""Every operation the sandbox emulates, driven once and checked against the full official
OpenAPI description (request and response, through the ``api`` fixture's hook)."""

from __future__ import annotations

from typing import Any

import httpx
from grsb_help import DELAY, advance
from grsb_openapi import Validator

from reconcile.sandbox.getresponse.routes import operations


def test_every_emulated_operation_conforms(
    api: httpx.Client, control: httpx.Client, sandbox: Any, openapi: Validator
) -> None:
    openapi.seen.clear()
    sample = sandbox.seed_sample(7, contacts=300)
    lists = sample["campaigns"]
    clients = lists["clients_fr"]
    field = sample["customFields"]["ville"]
    tag = sample["tags"]["vip"]
    sender = next(iter(sample["fromFields"].values()))
    draft = sample["newsletters"]["MS CRM Bienvenue"]
    sent = sample["newsletters"]["Lettre hebdo"]

    api.get("/accounts")
    api.get("/accounts/timezones")
    api.get("/accounts/sending-limits")
    api.post(
        "/accounts/blocklists",
        params={"additionalFlags": "add"},
        json={"masks": ["@blocked.example"]},
    )
    api.get("/accounts/blocklists")
    assert api.get("/accounts/callbacks").status_code == 404  # disabled
    api.post(
        "/accounts/callbacks",
        json={"url": "https://hooks.example.com/cb", "actions": {"open": True, "click": True}},
    )
    api.get("/accounts/callbacks")
    api.delete("/accounts/callbacks")

    api.get("/campaigns", params={"query[name]": "fr", "sort[createdOn]": "DESC"})
    created = api.post("/campaigns", json={"name": "openapi_list", "languageCode": "FR"}).json()
    api.get(f"/campaigns/{created['campaignId']}")
    api.post(f"/campaigns/{created['campaignId']}", json={"name": "openapi_list_2"})
    api.get(f"/campaigns/{clients}/contacts", params={"perPage": 50, "sort[email]": "ASC"})

    contacts = api.get("/contacts", params={"query[campaignId]": clients, "perPage": 5}).json()
    contact = contacts[0]["contactId"]
    api.get(
        "/contacts",
        params={
            "query[email]": contacts[0]["email"],
            "additionalFlags": "exactMatch",
            "query[createdOn][from]": "2020-01-01",
        },
    )
    api.post(
        "/contacts",
        json={
            "email": "new.one@gmail.com",
            "name": "New One",
            "campaign": {"campaignId": clients},
            "tags": [{"tagId": tag}],
            "customFieldValues": [{"customFieldId": field, "value": ["Lyon"]}],
        },
    )
    api.post(
        "/contacts/batch",
        json={
            "campaignId": clients,
            "contacts": [
                {"email": "batch.one@gmail.com", "tags": {"ids": [tag]}},
                {
                    "email": "batch.two@gmail.com",
                    "customFieldValues": [{"customFieldId": field, "value": ["Nice"]}],
                },
            ],
        },
    )
    api.get(f"/contacts/{contact}")
    api.post(f"/contacts/{contact}", json={"name": "Renamed Person", "note": "checked"})
    api.post(f"/contacts/{contact}/tags", json={"tags": [{"tagId": tag}]})
    api.post(
        f"/contacts/{contact}/custom-fields",
        json={"customFieldValues": [{"customFieldId": field, "value": ["Paris"]}]},
    )
    api.get(f"/contacts/{contact}/activities", params={"query[createdOn][from]": "2020-01-01"})

    api.get("/custom-fields", params={"sort[name]": "ASC"})
    new_field = api.post(
        "/custom-fields",
        json={
            "name": "openapi_field",
            "type": "string",
            "format": "text",
            "hidden": "false",
            "values": [],
        },
    ).json()
    api.get(f"/custom-fields/{new_field['customFieldId']}")
    api.post(f"/custom-fields/{new_field['customFieldId']}", json={"hidden": "true", "values": []})
    api.delete(f"/custom-fields/{new_field['customFieldId']}")

    api.get("/tags", params={"query[name]": "v"})
    new_tag = api.post("/tags", json={"name": "openapi_tag"}).json()
    api.get(f"/tags/{new_tag['tagId']}")
    api.post(f"/tags/{new_tag['tagId']}", json={"name": "ignored_rename"})
    api.delete(f"/tags/{new_tag['tagId']}")

    api.get("/from-fields")
    api.get(f"/from-fields/{sender}")

    api.get("/newsletters", params={"query[type]": "draft", "sort[createdOn]": "ASC"})
    api.get(f"/newsletters/{draft}")
    scheduled = api.post(
        "/newsletters/send-draft",
        json={
            "messageId": draft,
            "sendSettings": {
                "selectedCampaigns": [clients],
                "sendOn": {"date": "2099-01-01T08:00:00", "timeZone": {"timeZoneId": 2}},
            },
        },
    ).json()
    api.post(f"/newsletters/{scheduled['newsletterId']}/cancel")
    own = api.post(
        "/newsletters",
        json={
            "name": "OpenAPI check",
            "type": "broadcast",
            "subject": "Checking",
            "content": {"html": "<p><a href='https://x.example/'>x</a></p>", "plain": "x"},
            "campaign": {"campaignId": clients},
            "fromField": {"fromFieldId": sender},
            "flags": ["clicktrack"],
            "sendSettings": {"selectedCampaigns": [clients], "timeTravel": "false"},
        },
    ).json()
    api.get(f"/newsletters/{sent}/activities", params={"query[activity]": "open"})
    api.get(f"/newsletters/{sent}/statistics", params={"query[groupBy]": "day"})
    api.get("/newsletters/statistics", params={"query[newsletterId]": sent})
    api.delete(f"/newsletters/{own['newsletterId']}")

    report = api.post(
        "/custom-reports",
        json={
            "name": "OpenAPI activity report",
            "type": "message_activity_report",
            "filters": {"activityType": ["send", "open", "click"], "messageId": [sent]},
            "scheduling": {"frequency": "one_time", "startDate": "2020-01-01",
                           "endDate": "2099-12-31"},
        },
    ).json()  # fmt: skip
    api.get(f"/custom-reports/{report['customReportId']}")  # pending
    advance(control, 3600)
    ready = api.get(f"/custom-reports/{report['customReportId']}").json()
    assert ready["files"][0]["status"] == "ready"
    assert httpx.get(ready["files"][0]["downloadUrl"]).status_code == 200
    api.get("/custom-reports", params={"query[name]": "OpenAPI", "sort[name]": "ASC"})

    job = api.post(
        "/imports",
        json={
            "campaignId": clients,
            "fieldMapping": ["email", "ville"],
            "contacts": [["imported@gmail.com", "Brest"]],
        },
    ).json()
    advance(control, DELAY)
    api.get(f"/imports/{job['importId']}")
    api.get("/imports", params={"sort[createdOn]": "DESC"})
    search = {
        "subscribersType": ["subscribed"],
        "sectionLogicOperator": "or",
        "section": [
            {
                "campaignIdsList": [clients],
                "logicOperator": "or",
                "subscriberCycle": ["receiving_autoresponder", "not_receiving_autoresponder"],
                "subscriptionDate": "all_time",
                "conditions": [
                    {"conditionType": "tag", "operatorType": "exists", "operator": "exists",
                     "value": tag},
                    {"conditionType": "email", "operatorType": "string_operator",
                     "operator": "contains", "value": "gmail"},
                ],
            }
        ],
    }  # fmt: skip
    found = api.post("/search-contacts/contacts", params={"perPage": 50}, json=search)
    assert found.status_code == 200
    assert found.json()
    api.delete(f"/contacts/{contact}")

    wanted = {openapi.operation_id(method, path) for method, path in operations(sandbox)}
    assert None not in wanted, "every emulated path is in the description"
    assert wanted - openapi.seen == set()
