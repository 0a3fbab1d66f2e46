"""A small world for ``sync activities``: a GetResponse list of four contacts, a newsletter
sent two days ago (its sends) with opens and clicks after it; in the CRM two contacts, the
list brought over, GetResponse Contact records for three of the four GetResponse contacts
(the fourth is not synchronized) and a GetResponse Newsletter record for the newsletter.

Contexts get a GetResponse client whose sleep moves the sandbox clock (a custom report
becomes ready while the job polls it, without a test waiting)."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from reconcile.config import (
    ActivitiesSettings,
    DynamicsSettings,
    GetResponseSettings,
    Settings,
    SyncSettings,
)
from reconcile.dataverse import schema as s
from reconcile.getresponse import ApiKeyAuth, GetResponseClient
from reconcile.jobs.demo_data import bring_list_over
from reconcile.jobs.sync import Report, SyncContext, environment_key, jobs, run_job
from reconcile.model import SyncStatus
from reconcile.state import StateStore
from tests.jobs.migrate_env import Env, rows

JOB = jobs()["activities"]
LIST = "clients_fr"
SYNCHRONIZED = s.SYNC_STATUS_VALUES[SyncStatus.SYNCHRONIZED]
PEOPLE = ["anna@example.fr", "jean@example.fr", "paul@example.fr", "zoe@example.fr"]
SYNCED = PEOPLE[:3]
LINKED = PEOPLE[:2]  # with a CRM contact
SHOP, BLOG = "https://shop.example/?utm=june", "https://blog.example/june"


def settings(**activities: Any) -> Settings:
    return Settings(
        profile="test",
        source=None,
        dynamics=DynamicsSettings(),
        getresponse=GetResponseSettings(),
        sync=SyncSettings(),
        activities=ActivitiesSettings(**activities),
    )


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


class Clock:
    """The client's clock: moves when the client sleeps (and moves the sandbox's too)."""

    def __init__(self, env: Env) -> None:
        self.env, self.now, self.lock = env, 1000.0, threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += max(seconds, 0.0)
        self.env.gr.advance(max(seconds, 0.0))


@dataclass
class World:
    env: Env
    state_path: Any
    gr_ids: dict[str, str]  # email → GetResponse contact id
    campaign: str
    newsletter: str  # GetResponse id of "June news"
    newsletter_record: str
    crm: dict[str, str]  # email → CRM contact id
    records: dict[str, str]  # email → GetResponse Contact record id
    sent_at: dt.datetime
    settings: Settings = field(default_factory=settings)

    def context(self, **kwargs: Any) -> SyncContext:
        state = StateStore(self.state_path)
        self.env.clients.append(state)
        clock = Clock(self.env)
        info = self.env.gr_info
        gr = GetResponseClient(
            ApiKeyAuth(info["api_key"]), base_url=info["url"], sleep=clock.sleep, clock=clock
        )
        self.env.clients.append(gr)
        kwargs.setdefault("settings", self.settings)
        # the job's clock is the sandbox's, as GetResponse's and ours agree in production
        kwargs.setdefault("now", lambda: dt.datetime.fromtimestamp(self.env.gr.clock(), dt.UTC))
        return SyncContext(
            dv=self.env.dataverse("service"),
            gr=gr,
            state=state,
            environment=environment_key(self.env.dv_url, info["url"]),
            **kwargs,
        )

    def run(self, **kwargs: Any) -> Report:
        return run_job(JOB, self.context(**kwargs))

    def activities(self) -> list[dict[str, Any]]:
        return rows(self.env.dataverse(), s.ACTIVITIES.entity_set)

    def seed_activities(self, items: list[tuple[str, str, dt.datetime, str | None]]) -> None:
        """(email, kind, when, link) of "June news"."""
        self.env.gr.seed(
            {
                "activities": [
                    {"email": email, "campaign": LIST, "newsletter": "June news", "activity": kind,
                     "createdOn": stamp(when), **({"clickTrack": link} if link else {})}
                    for email, kind, when, link in items
                ]
            }
        )  # fmt: skip


def seed(env: Env, state_path: Any, *, now: dt.datetime | None = None) -> World:
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    sent = now - dt.timedelta(days=2)
    env.gr.reports.rules.update({"pending_seconds": 5, "generation_seconds": 30})
    ids = env.gr.seed(
        {
            "campaigns": [{"name": LIST}],
            "contacts": [
                {"email": e, "campaign": LIST, "createdOn": stamp(now - dt.timedelta(days=30))}
                for e in PEOPLE
            ],
        }
    )
    made = env.gr.seed(
        {
            "newsletters": [
                {
                    "name": "June news",
                    "type": "broadcast",
                    "campaign": LIST,
                    "subject": "June",
                    "sendOn": stamp(sent),
                    "clickTracks": [{"name": "Shop", "url": SHOP}, {"name": "Blog", "url": BLOG}],
                }
            ]
        }
    )  # fmt: skip — sending it records a send for each of the four
    admin = env.dataverse()
    crm = dict(zip(LINKED, env.dv.bulk_contacts(
        [{"firstname": e.split("@")[0].title(), "lastname": "Test", "emailaddress1": e}
         for e in LINKED]
    ), strict=True))  # fmt: skip
    bring_list_over(admin, ids["campaigns"][LIST], LIST, f"{LIST} (marketing list)")
    list_record = rows(admin, s.LISTS.entity_set)[0][s.LISTS.primary_id]
    records = {}
    for email in SYNCED:
        body = {
            "grc_getresponseid": s.getresponse_key(ids["contacts"][email]),
            "grc_name": email,
            "grc_email": email,
            "grc_synchronizationstatus": SYNCHRONIZED,
            "grc_GetResponseListId@odata.bind": f"/{s.LISTS.entity_set}({list_record})",
        }
        if email in crm:
            body["grc_ContactId@odata.bind"] = f"/contacts({crm[email]})"
        records[email] = admin.create(s.CONTACTS.entity_set, body, id_column=s.CONTACTS.primary_id)
    newsletter = made["newsletters"]["June news"]
    newsletter_record = admin.create(
        s.NEWSLETTERS.entity_set,
        {"grc_getresponseid": s.getresponse_key(newsletter), "grc_name": "June news",
         "grc_synchronizationstatus": s.SYNC_STATUS_VALUES[SyncStatus.SENT]},
        id_column=s.NEWSLETTERS.primary_id,
    )  # fmt: skip
    world = World(
        env, state_path, dict(ids["contacts"]), ids["campaigns"][LIST], newsletter,
        newsletter_record, crm, records, sent,
    )  # fmt: skip
    world.seed_activities(
        [
            ("anna@example.fr", "open", sent + dt.timedelta(hours=1), None),
            ("anna@example.fr", "click", sent + dt.timedelta(hours=1, minutes=2), "Shop"),
            ("anna@example.fr", "open", sent + dt.timedelta(hours=5), None),
            ("jean@example.fr", "open", sent + dt.timedelta(hours=3), None),
            ("jean@example.fr", "click", sent + dt.timedelta(hours=3, minutes=1), "Blog"),
            ("zoe@example.fr", "open", sent + dt.timedelta(hours=2), None),  # not synced
        ]
    )
    return world


def bulk_records(env: Env, logical: str, records: list[dict[str, Any]]) -> list[str]:
    """Insert connector records straight into the Dataverse sandbox (no HTTP: fast)."""
    from reconcile.sandbox.dataverse import seed as dv_seed

    with env.dv.store.lock, env.dv.store.transaction():
        return dv_seed.bulk_insert(env.dv, logical, records)


@dataclass
class Volume:
    campaign: str
    newsletters: dict[str, str]  # name → GetResponse id
    synced: int
    activities: int  # of the synchronized contacts


def seed_volume(
    env: Env,
    *,
    contacts: int,
    newsletters: int,
    engagement: float = 1.0,
    synced_every: int = 1,
    days_ago: float = 3.0,
    now: dt.datetime | None = None,
) -> Volume:
    """A list of ``contacts`` contacts, ``newsletters`` newsletters sent to it ``days_ago``
    (sends, and opens and clicks over the next two days, as the sandbox simulates them), and a
    GetResponse Contact record for every ``synced_every``-th contact. The same ``now``, the
    same activities."""
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    ids = env.gr.seed({"campaigns": [{"name": LIST}]})
    campaign = ids["campaigns"][LIST]
    created = stamp(now - dt.timedelta(days=60))
    env.gr.bulk_add_contacts(
        campaign, ({"email": f"c{n:07d}@example.fr", "createdOn": created} for n in range(contacts))
    )
    made: dict[str, str] = {}
    for n in range(newsletters):
        sent = now - dt.timedelta(days=days_ago, hours=n)
        name = f"Newsletter {n + 1}"
        out = env.gr.seed({"newsletters": [{
            "name": name, "type": "broadcast", "campaign": LIST, "subject": name,
            "sendOn": stamp(sent), "engagement": engagement,
            "clickTracks": [{"name": "Shop", "url": SHOP}, {"name": "Blog", "url": BLOG}],
        }]})  # fmt: skip
        made[name] = out["newsletters"][name]
    admin = env.dataverse()
    bring_list_over(admin, campaign, LIST, f"{LIST} (marketing list)")
    list_record = rows(admin, s.LISTS.entity_set)[0][s.LISTS.primary_id]
    cids = [c for (c,) in env.gr.conn.execute("SELECT cid FROM contacts ORDER BY id")]
    synced = cids[::synced_every]
    for start in range(0, len(synced), 50_000):
        bulk_records(env, s.CONTACTS.logical_name, [
            {"grc_getresponseid": s.getresponse_key(c), "grc_name": c,
             "grc_synchronizationstatus": SYNCHRONIZED,
             "grc_GetResponseListId@odata.bind": f"/{s.LISTS.entity_set}({list_record})"}
            for c in synced[start : start + 50_000]
        ])  # fmt: skip
    bulk_records(env, s.NEWSLETTERS.logical_name, [
        {"grc_getresponseid": s.getresponse_key(m), "grc_name": name}
        for name, m in made.items()
    ])  # fmt: skip
    wanted = set(synced)
    count = sum(
        1
        for (cid,) in env.gr.conn.execute(
            "SELECT contact_cid FROM activities WHERE created_on <= ?", (stamp(now),)
        )
        if cid in wanted
    )
    return Volume(campaign, made, len(synced), count)
