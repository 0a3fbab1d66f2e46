"""A small world for ``sync contacts``: two GetResponse lists brought over to the CRM (SPEC
5.3), contacts with scores, origins, custom field values and tags — all last changed two days
ago, so that a run's overlap window holds only what a test changes — and CRM contacts, some
linked to their GetResponse Contact records as a migration leaves them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconcile.config import (
    ContactsSettings,
    DynamicsSettings,
    GetResponseSettings,
    Settings,
    SyncSettings,
)
from reconcile.dataverse import query as q
from reconcile.dataverse.schema import SYNC_STATUS_VALUES, getresponse_id, getresponse_key
from reconcile.jobs.demo_data import bring_list_over
from reconcile.jobs.sync import Report, jobs, run_job
from reconcile.model import SyncStatus
from tests.jobs.migrate_env import Env, rows
from tests.jobs.sync.sync_env import Contexts

JOB = jobs()["contacts"]
SYNCHRONIZED = SYNC_STATUS_VALUES[SyncStatus.SYNCHRONIZED]
PAST = "2026-01-05T08:00:00+0000"
CONTACTS = [
    {"email": "anna.martin@gmail.com", "name": "Anna Martin", "campaign": "clients_fr",
     "scoring": 12, "engagementScore": 4, "origin": "import",
     "createdOn": "2021-03-04T10:00:00+0000",
     "customFields": {"ville": "Lyon", "pays": "France"}, "tags": ["vip", "client"]},
    {"email": "jean.dupont@orange.fr", "name": "Jean Dupont", "campaign": "clients_fr",
     "customFields": {"ville": "Paris"}},
    {"email": "paul.nouveau@free.fr", "name": "Paul Nouveau", "campaign": "clients_fr",
     "tags": ["client"]},
    {"email": "zoe.leroy@laposte.net", "name": "Zoé Leroy", "campaign": "newsletter",
     "scoring": 3.6, "engagementScore": 2},
    {"email": "marc.petit@sfr.fr", "campaign": "newsletter"},
]  # fmt: skip
CRM = [
    {"firstname": "Anna", "lastname": "Martin", "emailaddress1": "anna.martin@gmail.com"},
    {"firstname": "Jean", "lastname": "Dupont", "emailaddress1": "jean.dupont@orange.fr"},
    {"firstname": "Léa", "lastname": "Roux", "emailaddress1": "lea.roux@wanadoo.fr"},
]


def settings(
    *, fields: bool = True, tags: bool = True, names: tuple[str, ...] = (), **contacts: Any
) -> Settings:
    return Settings(
        profile="test",
        source=None,
        dynamics=DynamicsSettings(),
        getresponse=GetResponseSettings(),
        sync=SyncSettings(send_custom_fields=fields, custom_fields=names, send_tags=tags),
        contacts=ContactsSettings(**contacts),
    )


@dataclass
class World:
    env: Env
    contexts: Contexts
    gr_ids: dict[str, str]  # email → GetResponse contact id
    campaigns: dict[str, str]  # list name → campaign id
    fields: dict[str, str]  # custom field name → id
    tags: dict[str, str]
    crm: dict[str, str]  # email → CRM contact id
    settings: Settings

    def run(self, **kwargs: Any) -> Report:
        kwargs.setdefault("settings", self.settings)
        return run_job(JOB, self.contexts(**kwargs))

    def records(self) -> dict[str, dict[str, Any]]:
        """GetResponse Contact records by GetResponse contact id."""
        found = rows(self.env.dataverse(), "grc_getresponsecontacts")
        return {getresponse_id(r["grc_getresponseid"]): r for r in found}

    def record(self, email: str) -> dict[str, Any]:
        return self.records()[self.gr_ids[email]]

    def values(self, email: str) -> dict[str, dict[str, Any]]:
        """The Custom Field records of a contact, by field name."""
        key = getresponse_key(self.gr_ids[email])
        found = rows(self.env.dataverse(), "grc_getresponsecustomfields")
        return {r["grc_name"]: r for r in found if r["grc_contactgetresponseid"] == key}

    def link(self, email: str) -> None:
        """Link a record to the CRM contact with the same email, as the migration does."""
        record = self.record(email)
        self.env.dataverse().update(
            "grc_getresponsecontacts",
            record["grc_getresponsecontactid"],
            {
                "grc_ContactId@odata.bind": f"/contacts({self.crm[email]})",
                "grc_synchronizationstatus": SYNCHRONIZED,
            },
        )
        for value in self.values(email).values():
            self.env.dataverse().update(
                "grc_getresponsecustomfields",
                value["grc_getresponsecustomfieldid"],
                {"grc_ContactId@odata.bind": f"/contacts({self.crm[email]})"},
            )

    def gr_post(self, path: str, body: Any) -> Any:
        return self.env.getresponse().post(path, body, idempotent=True)

    def crm_contact(self, email: str) -> dict[str, Any]:
        return self.env.dataverse().retrieve("contacts", self.crm[email])


def seed(env: Env, contexts: Contexts, world_settings: Settings | None = None) -> World:
    ids = env.gr.seed(
        {
            "campaigns": [{"name": "clients_fr"}, {"name": "newsletter"}, {"name": "other"}],
            "customFields": [
                {"name": "ville", "type": "string", "format": "text"},
                {"name": "pays", "type": "string", "format": "text"},
            ],
            "tags": ["vip", "client"],
        }
    )
    gr_ids: dict[str, str] = {}
    for name in ("clients_fr", "newsletter"):
        mine = [
            {**c, "createdOn": c.get("createdOn", PAST), "changedOn": PAST}
            for c in CONTACTS
            if c["campaign"] == name
        ]
        gr_ids.update(env.gr.seed({"contacts": mine})["contacts"])
    crm_ids = env.dv.bulk_contacts([dict(c) for c in CRM])
    admin = env.dataverse()
    for name in ("clients_fr", "newsletter"):
        bring_list_over(admin, ids["campaigns"][name], name, f"{name} (marketing list)")
    return World(
        env,
        contexts,
        gr_ids,
        ids["campaigns"],
        ids["customFields"],
        ids["tags"],
        {c["emailaddress1"]: i for c, i in zip(CRM, crm_ids, strict=True)},
        world_settings or settings(),
    )


def linked_to(env: Env, contact_id: str) -> list[str]:
    """GetResponse ids of the records linked to a CRM contact."""
    found = rows(
        env.dataverse(), "grc_getresponsecontacts", _grc_contactid_value=q.as_guid(contact_id)
    )
    return sorted(getresponse_id(r["grc_getresponseid"]) for r in found)
