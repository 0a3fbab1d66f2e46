"""The chaos scenario: one step per sync job, each doing in the sandboxes what an admin, a CRM
user or a GetResponse user does over a few cycles — so that every job has work in every cycle.

A step is ``seed(world)`` (before the first round) and ``change(world, cycle)`` (before the
clock moves on, cycles 1, 2, 3 …), and optionally ``check(world)`` — invariants that hold
whatever happened (no newsletter sent twice). Steps use deterministic ids (``world.guid``)
so that a chaotic trial and the clean one hold the same records.

**For the job engineers:** when your job joins ``reconcile.jobs.sync.jobs()``, the chaos test
runs it — with or without a step here. Add (or refine) your job's step in :data:`STEPS`: what
the job should find to do in each cycle, in the sandboxes only (never call the job itself).
The end state is compared with a clean run's as a whole, so a step needs no expected values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from reconcile.dataverse import query as q
from reconcile.dataverse import schema
from reconcile.jobs.demo_data import bring_list_over
from reconcile.model import SyncStatus
from tests.chaos.world import World, guid

NEW = schema.SYNC_STATUS_VALUES[SyncStatus.NEW]
READY = schema.SYNC_STATUS_VALUES[SyncStatus.READY_FOR_REALIZATION]
PEOPLE = 14


def person(i: int) -> dict[str, Any]:
    return {
        "contactid": guid(f"crm:{i}"),
        "firstname": f"First{i}",
        "lastname": f"Last{i}",
        "emailaddress1": f"person{i}@example.com",
    }


def control(world: World, path: str, body: Any) -> Any:
    answer = httpx.post(f"{world.gr_url.removesuffix('/v3')}/__sandbox__/{path}", json=body)
    answer.raise_for_status()
    return answer.json() if answer.content else None


def marketing_list(world: World, name: str, members: list[int]) -> None:
    world.dv.load(
        {
            "lists": [
                {
                    "listid": guid(f"list:{name}"),
                    "listname": name,
                    "type": False,
                    "createdfromcode": 2,
                    "members": [guid(f"crm:{i}") for i in members],
                }
            ]
        }
    )


def list_record(world: World, name: str, marketing: str) -> None:
    world.dataverse().create(
        "grc_getresponselists",
        {
            "grc_getresponselistid": guid(f"record:{name}"),
            "grc_name": name,
            "grc_synchronizationstatus": NEW,
            "grc_MarketingListId@odata.bind": f"/lists({guid(f'list:{marketing}')})",
        },
    )


def sandbox_time(world: World, later: timedelta) -> str:
    """``later`` after the scenario's time (not the clock's, which ticks may have moved)."""
    moment = datetime.fromtimestamp(world.scenario_time(), UTC) + later
    return moment.replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the steps ------------------------------------------------------------------------------
def lists_seed(world: World) -> None:
    world.dv.bulk_contacts([person(i) for i in range(PEOPLE)])
    marketing_list(world, "Clients FR", list(range(8)))
    list_record(world, "clients_fr", "Clients FR")


def lists_change(world: World, cycle: int) -> None:
    admin = world.dataverse()
    if cycle == 1:  # members added; a second list set New
        for i in (8, 9):
            admin.associate(
                "lists",
                guid("list:Clients FR"),
                "listcontact_association",
                "contacts",
                guid(f"crm:{i}"),
            )
        marketing_list(world, "Prospects", [10, 11, 12])
        list_record(world, "prospects", "Prospects")
    elif cycle == 2:  # a member removed, another stops allowing bulk email
        admin.disassociate(
            "lists", guid("list:Clients FR"), "listcontact_association", guid(f"crm:{1}")
        )
        admin.update("contacts", guid("crm:2"), {"donotbulkemail": True})


def templates_seed(world: World) -> None:
    world.gr.seed(
        {
            "campaigns": [{"name": "drafts_home"}],
            "fromFields": [{"email": "news@shop.example", "name": "Shop"}],
            "newsletters": [
                {
                    "name": name,
                    "type": "draft",
                    "campaign": "drafts_home",
                    "subject": subject,
                    "html": "<p>Hello</p>",
                }
                for name, subject in (
                    ("MS CRM Welcome", "Welcome!"),
                    ("MS CRM Promo", "Sale"),
                    ("Internal memo", "Memo"),
                )
            ],
        }
    )


def _draft(world: World, name: str) -> str:
    row = world.gr.conn.execute("SELECT cid FROM newsletters WHERE name = ?", (name,)).fetchone()
    return str(row[0])


def templates_change(world: World, cycle: int) -> None:
    if cycle == 1:
        world.gr.seed(
            {
                "newsletters": [
                    {
                        "name": "MS CRM Cycle one",
                        "type": "draft",
                        "campaign": "drafts_home",
                        "subject": "One",
                    }
                ]
            }
        )
    elif cycle == 2:
        control(world, "rename", {"newsletters": {_draft(world, "MS CRM Promo"): "Promo (old)"}})
    elif cycle == 3:
        world.getresponse().delete(f"newsletters/{_draft(world, 'MS CRM Cycle one')}")


def contacts_seed(world: World) -> None:
    made = world.gr.seed({"campaigns": [{"name": "newsletter"}]})
    world.gr.seed(
        {
            "contacts": [
                {
                    "email": f"reader{i}@example.org",
                    "name": f"Reader {i}",
                    "campaign": "newsletter",
                    "changedOn": "2031-01-05T08:00:00+0000",
                }
                for i in range(4)
            ]
        }
    )
    bring_list_over(
        world.dataverse(),
        made["campaigns"]["newsletter"],
        "newsletter",
        "Newsletter readers",
        ids=(guid("list:Newsletter readers"), guid("record:newsletter")),
    )


def _gr_contact(world: World, email: str) -> str:
    row = world.gr.conn.execute("SELECT cid FROM contacts WHERE email = ?", (email,)).fetchone()
    return str(row[0])


def contacts_change(world: World, cycle: int) -> None:
    gr = world.getresponse()
    if cycle == 1:  # renamed in GetResponse; a new subscriber
        gr.post(
            f"contacts/{_gr_contact(world, 'reader0@example.org')}",
            {"name": "Reader Zero"},
            idempotent=True,
        )
        world.gr.seed(
            {
                "contacts": [
                    {"email": "reader9@example.org", "name": "Reader 9", "campaign": "newsletter"}
                ]
            }
        )
    elif cycle == 2:  # deleted in GetResponse (SPEC 8.3)
        gr.delete(f"contacts/{_gr_contact(world, 'reader1@example.org')}")


def _newsletter(world: World, name: str) -> None:
    templates = world.dataverse().query("grc_getresponsetemplates", q.Query())
    welcome = next(t for t in templates if t.get("grc_name") == "MS CRM Welcome")
    template_id = welcome["grc_getresponsetemplateid"]
    world.dataverse().create(
        "grc_getresponsenewsletters",
        {
            "grc_getresponsenewsletterid": guid(f"newsletter:{name}"),
            "grc_name": name,
            "grc_synchronizationstatus": READY,
            "grc_scheduledon": sandbox_time(world, timedelta(minutes=150)),
            "grc_MarketingListId@odata.bind": f"/lists({guid('list:Clients FR')})",
            "grc_TemplateId@odata.bind": f"/grc_getresponsetemplates({template_id})",
        },
    )


def newsletters_change(world: World, cycle: int) -> None:
    """Scheduled 150 minutes ahead: the next round schedules it, the one two hours later
    sends it (ticks within a round stay well under the 30 minutes to spare)."""
    if cycle == 2:
        _newsletter(world, "March news")
    elif cycle == 3:
        _newsletter(world, "April news")


def newsletters_check(world: World) -> list[str]:
    problems = []
    sent = world.gr.conn.execute(
        "SELECT n.name, a.email, COUNT(*) FROM activities a JOIN newsletters n"
        " ON n.id = a.newsletter WHERE a.activity = 'send' GROUP BY n.name, a.email"
    ).fetchall()
    problems += [f"{name} sent {n} times to {email}" for name, email, n in sent if n > 1]
    broadcasts = world.gr.conn.execute(
        "SELECT name FROM newsletters WHERE type = 'broadcast'"
    ).fetchall()
    for crm in ("March news", "April news"):
        copies = [n for (n,) in broadcasts if n and n.startswith(crm)]
        if len(copies) > 1:
            problems.append(f"{crm}: {len(copies)} GetResponse newsletters")
    return problems


@dataclass(frozen=True)
class Step:
    job: str
    seed: Callable[[World], None] = lambda world: None
    change: Callable[[World, int], None] = lambda world, cycle: None
    check: Callable[[World], list[str]] = field(default=lambda world: [])


STEPS = {
    "lists": Step("lists", lists_seed, lists_change),
    "contacts": Step("contacts", contacts_seed, contacts_change),
    "templates": Step("templates", templates_seed, templates_change),
    "newsletters": Step("newsletters", change=newsletters_change, check=newsletters_check),
}


def steps_for(jobs: list[str]) -> tuple[list[Step], list[str]]:
    """The steps of the registered jobs, and the jobs that have none yet (they run anyway)."""
    return [STEPS[j] for j in jobs if j in STEPS], [j for j in jobs if j not in STEPS]
