"""The demo's lists step: what an admin does before ``reconcile sync lists`` (SPEC 4.1-4.2).

A static marketing list of some migrated CRM contacts — two of whom do not allow bulk
email, so that the run shows who is not sent and why — and a GetResponse List record
``demo_clients`` linked to it, set New.
"""

from __future__ import annotations

import uuid
from typing import Any

from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.model import SyncStatus

LIST_NAME = "demo_clients"
MEMBERS = 200
OPTED_OUT = 2


def prepare(world: Any) -> list[str]:

    with world.dataverse("admin") as admin:
        query = q.Query(select=("contactid",), filter=q.ne("emailaddress1", None) & q.eq(
            "statecode", 0), orderby=("contactid asc",), top=MEMBERS)  # fmt: skip
        ids = [str(r["contactid"]) for r in admin.query("contacts", query)][:MEMBERS]
        for contact_id in ids[:OPTED_OUT]:
            admin.update("contacts", contact_id, {"donotbulkemail": True})
        made = world.dv_sandbox.load(
            {"lists": [{"listname": "Demo clients", "type": False, "createdfromcode": 2,
                        "members": ids}]}
        )  # fmt: skip
        marketing = str(made["lists"][0])
        record = str(uuid.uuid4())
        admin.create(s.LISTS.entity_set, {
            s.LISTS.primary_id: record, "grc_name": LIST_NAME,
            "grc_MarketingListId@odata.bind": f"/lists({marketing})",
            "grc_synchronizationstatus": s.SYNC_STATUS_VALUES[SyncStatus.NEW],
        })  # fmt: skip
    world.facts["lists"] = {"record": record, "marketing": marketing, "members": len(ids)}
    return [
        f"Marketing list 'Demo clients' with {len(ids):,} migrated contacts "
        f"({OPTED_OUT} of them do not allow bulk email), and GetResponse List "
        f"'{LIST_NAME}' linked to it, set New."
    ]
