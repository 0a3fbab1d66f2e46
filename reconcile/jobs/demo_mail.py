"""``reconcile demo``'s templates and newsletters steps (SPEC 6, 7): what a GetResponse user
and a CRM user do first, before ``reconcile sync templates`` and ``reconcile sync
newsletters`` run — an "MS CRM" draft, then a CRM newsletter on the demo's marketing list,
then GetResponse's clock moved past its send time so that the last step shows it Sent."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.jobs.demo_lists import LIST_NAME
from reconcile.model import SyncStatus

DRAFT = "MS CRM Welcome message"
# Links, so that the recipients' clicks (and the dashboards' top clicked URLs) have something
HTML = (
    "<p>Welcome!</p><p><a href='https://shop.demo.example/new'>What is new</a> · "
    "<a href='https://shop.demo.example/sale'>This week's sale</a></p>"
)
SEND_IN = dt.timedelta(minutes=30)


def allow_sending(world: Any) -> None:
    """The demo's Dynamics is a sandbox: list it in [newsletters] send_environments."""
    from reconcile.config import (
        DynamicsSettings,
        GetResponseSettings,
        NewslettersSettings,
        Settings,
        SyncSettings,
    )

    world.settings = Settings(
        "demo", None, DynamicsSettings(), GetResponseSettings(), SyncSettings(),
        newsletters=NewslettersSettings(send_environments=(world.dv_info["url"],)),
    )  # fmt: skip


def prepare_template(world: Any) -> list[str]:
    world.gr_sandbox.seed(
        {"fromFields": [{"email": "news@demo.example", "name": "Demo shop"}],
         "newsletters": [{"name": DRAFT, "type": "draft", "campaign": LIST_NAME,
                          "subject": "Welcome to our shop", "html": HTML}]}
    )  # fmt: skip
    return [f"GetResponse draft {DRAFT!r} written in the {LIST_NAME} list."]


def prepare_newsletter(world: Any) -> list[str]:
    allow_sending(world)
    facts = world.facts.get("lists") or {}
    when = (dt.datetime.now(dt.UTC) + SEND_IN).replace(microsecond=0)
    with world.dataverse("admin") as admin:
        (template,) = admin.query(
            s.TEMPLATES.entity_set,
            q.Query(select=(s.TEMPLATES.primary_id,), filter=q.eq("grc_name", DRAFT)),
        )
        record = str(uuid.uuid4())
        admin.create(s.NEWSLETTERS.entity_set, {
            s.NEWSLETTERS.primary_id: record,
            "grc_name": "Demo newsletter",
            "grc_TemplateId@odata.bind":
                f"/{s.TEMPLATES.entity_set}({template[s.TEMPLATES.primary_id]})",
            "grc_MarketingListId@odata.bind": f"/lists({facts['marketing']})",
            "grc_scheduledon": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "grc_synchronizationstatus": s.SYNC_STATUS_VALUES[SyncStatus.READY_FOR_REALIZATION],
        })  # fmt: skip
    world.facts["newsletter"] = {"record": record, "when": when}
    return [
        f"CRM newsletter 'Demo newsletter' on marketing list 'Demo clients', template "
        f"{DRAFT!r}, to be sent at {when:%H:%M} UTC, set Ready for realization; this sandbox "
        "environment is listed in [newsletters] send_environments."
    ]


def prepare_sent(world: Any) -> list[str]:
    allow_sending(world)
    world.gr_sandbox.advance(SEND_IN.total_seconds() + 60)
    with world.dataverse("admin") as admin:
        record = admin.retrieve(s.NEWSLETTERS.entity_set, world.facts["newsletter"]["record"])
    status = s.SYNC_STATUS_BY_VALUE.get(record.get("grc_synchronizationstatus"))
    return [
        f"The newsletter record says {status.value if status else '?'} "
        f"({record.get('grc_recipients')} recipients, {record.get('grc_leftout')} left out: "
        f"{record.get('grc_leftoutreasons') or 'nobody'}); GetResponse's clock is moved past "
        "its send time."
    ]
