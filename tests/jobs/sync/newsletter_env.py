"""A marketing list synced to GetResponse by the lists job, an 'MS CRM' template made by the
templates job, and CRM newsletters on them — the way a CRM user sets one up (SPEC 7.1)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from reconcile.config import (
    DynamicsSettings,
    GetResponseSettings,
    NewslettersSettings,
    Settings,
    SyncSettings,
)
from reconcile.dataverse import schema
from reconcile.jobs.sync import jobs, run_job
from reconcile.model import SyncStatus
from tests.jobs.migrate_env import Env, rows
from tests.jobs.sync import lists_env as le
from tests.jobs.sync.sync_env import Contexts

STATUS = {status: schema.SYNC_STATUS_VALUES[status] for status in SyncStatus}
READY = STATUS[SyncStatus.READY_FOR_REALIZATION]


def settings(env: Env, *, send: bool = True, **newsletters: Any) -> Settings:
    return settings_for(env.dv_url if send else None, **newsletters)


def settings_for(dynamics_url: str | None, **newsletters: Any) -> Settings:
    """Settings whose [newsletters] send_environments lists ``dynamics_url`` (None: none)."""
    allowed = (dynamics_url,) if dynamics_url else ()
    return Settings(
        "test",
        None,
        DynamicsSettings(),
        GetResponseSettings(),
        SyncSettings(),
        newsletters=NewslettersSettings(send_environments=allowed, **newsletters),
    )


@dataclass
class World:
    env: Env
    contexts: Contexts
    contacts: list[str]  # CRM contact ids, members of the marketing list
    marketing: str  # the marketing list synced to GetResponse
    campaign: str  # its GetResponse list
    template: str  # the Template record of the "MS CRM Welcome" draft
    draft: str  # that draft's GetResponse id

    def ctx(self, **kwargs: Any) -> Any:
        kwargs.setdefault("settings", settings(self.env))
        return self.contexts(**kwargs)

    def newsletter(
        self,
        name: str = "June news",
        *,
        when: dt.datetime | None = None,
        marketing: str | None = "default",
        template: str | None = "default",
        status: int = READY,
    ) -> str:
        record = str(uuid.uuid4())
        body: dict[str, Any] = {
            "grc_getresponsenewsletterid": record,
            "grc_name": name,
            "grc_synchronizationstatus": status,
            "grc_scheduledon": (when or soon()).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        marketing = self.marketing if marketing == "default" else marketing
        template = self.template if template == "default" else template
        if marketing:
            body["grc_MarketingListId@odata.bind"] = f"/lists({marketing})"
        if template:
            body["grc_TemplateId@odata.bind"] = f"/grc_getresponsetemplates({template})"
        self.env.dataverse().create("grc_getresponsenewsletters", body)
        return record

    def record(self, record: str) -> dict[str, Any]:
        return self.env.dataverse().retrieve("grc_getresponsenewsletters", record)

    def broadcasts(self) -> list[dict[str, Any]]:
        gr = self.env.getresponse()
        return gr.get("newsletters", {"query": {"type": "broadcast"}, "perPage": 1000})

    def sends(self, newsletter_id: str) -> list[str]:
        """The emails GetResponse sent ``newsletter_id`` to (once it went out)."""
        gr = self.env.getresponse()
        found = gr.get(
            f"newsletters/{newsletter_id}/activities",
            {"query": {"activity": "send"}, "perPage": 1000},
        )
        return sorted(a["contact"]["email"] for a in found)


def soon(hours: float = 1) -> dt.datetime:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).replace(microsecond=0)


def world(env: Env, contexts: Contexts, n: int = 5) -> World:
    """``n`` CRM contacts on the marketing list "Clients FR", pushed to the GetResponse list
    clients_fr by the lists job; an "MS CRM Welcome" draft made a template."""
    contacts = le.add_contacts(env, le.people(n))
    marketing = le.static_list(env, "Clients FR", contacts)
    le.list_record(env, "clients_fr", marketing)
    pushed = run_job(jobs()["lists"], contexts())
    assert pushed.exit_code == 0, pushed.lines()
    campaign = le.campaign_of(le.lists(env)["clients_fr"])
    made = env.gr.seed(
        {
            "fromFields": [{"email": "news@shop.example", "name": "Shop"}],
            "newsletters": [
                {"name": "MS CRM Welcome", "type": "draft", "campaign": "clients_fr",
                 "subject": "Welcome!", "html": "<p>Hello</p>"},
            ],
        }
    )  # fmt: skip
    draft = made["newsletters"]["MS CRM Welcome"]
    templated = run_job(jobs()["templates"], contexts())
    assert templated.exit_code == 0, templated.lines()
    (template,) = rows(env.dataverse(), "grc_getresponsetemplates")
    return World(
        env, contexts, contacts, marketing, campaign, template["grc_getresponsetemplateid"], draft
    )


def opt_out(env: Env, contact: str, column: str = "donotbulkemail") -> None:
    env.dataverse().update("contacts", contact, {column: True})
