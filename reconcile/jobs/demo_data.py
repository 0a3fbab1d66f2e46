"""A realistic migration on the two sandboxes: GetResponse lists of a few thousand contacts
(scores, origins, custom fields, tags, people on two lists) and an overlapping CRM (the same
people with typos, shared mailboxes, duplicates, namesakes, people GetResponse does not
have), from the labelled generator :func:`reconcile.sample.contacts.pairs`.

Used by ``reconcile demo``, the migrate tests (the crash test included) and
``bench/bench_migrate.py``. Seeds through the sandboxes' Python side (fast, no HTTP); what
the migration then does goes through both APIs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from reconcile import model
from reconcile.emails import is_valid_email, normalize_email
from reconcile.sample.contacts import BENCH_MIX, HARD_MIX, pairs

# Half a real migration (mostly identical mailboxes), half the traps: every hard case shows up
# a few dozen times in a few thousand rows.
DEMO_MIX = {k: (BENCH_MIX[k] + HARD_MIX[k]) / 2 for k in BENCH_MIX}
LISTS = ("clients_fr", "newsletter")
ORIGINS = ("import", "api", "landing_page", "www", "panel")
CITIES = ("Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Lille", "Bordeaux", "Genève")
TIERS = ("gold", "silver", "bronze")
TAGS = (("vip", 0.1), ("webinar_2024", 0.2), ("client", 0.3))


@dataclass
class Seeded:
    """What was put in the sandboxes, and the generator's truth per GetResponse contact."""

    lists: dict[str, str]  # list name -> GetResponse campaign id
    truth: pd.DataFrame  # gr id (sandbox), list, email, scenario, crm_contact_ids ("|"-joined)
    crm_contacts: int
    gr_contacts: int
    extra: dict[str, Any] = field(default_factory=dict)


def _accepted(email: str | None) -> str | None:
    """The address if GetResponse would hold it (its own validation, as the sandbox has it)."""
    from reconcile.sandbox.getresponse import validate
    from reconcile.sandbox.getresponse.errors import GetResponseError

    if not email or not is_valid_email(email):
        return None
    try:
        return validate.email(email)
    except GetResponseError:
        return None


def gr_rows(gr: pd.DataFrame, seed: int, *, details: bool = True) -> pd.DataFrame:
    """GetResponse contacts as the sandbox seeds them: emails GetResponse would hold
    (normalized; unusable ones left out), a list each (some people on both), and the data
    a GetResponse contact carries."""
    rng = np.random.default_rng(seed)
    emails = [_accepted(normalize_email(e)) for e in gr[model.EMAIL].tolist()]
    frame = gr.assign(email_gr=emails, **{model.NAME: gr[model.NAME].fillna("").astype(str)})
    frame = frame[frame["email_gr"].notna()].reset_index(drop=True)
    n = len(frame)
    frame["list"] = np.where(rng.random(n) < 0.6, LISTS[0], LISTS[1])
    both = frame[(frame["list"] == LISTS[0]) & (rng.random(n) < 0.05)].assign(list=LISTS[1])
    frame = pd.concat([frame, both], ignore_index=True)
    frame = frame.drop_duplicates(["list", "email_gr"]).reset_index(drop=True)
    n = len(frame)
    frame["engagementScore"] = rng.integers(1, 6, n)
    frame["scoring"] = rng.integers(0, 500, n)
    frame["origin"] = rng.choice(ORIGINS, n)
    days = rng.integers(0, 5 * 365, n)
    start = pd.Timestamp("2019-01-01T08:00:00Z")
    frame["createdOn"] = [
        (start + pd.Timedelta(days=int(d), minutes=int(m))).strftime("%Y-%m-%dT%H:%M:%S+0000")
        for d, m in zip(days, rng.integers(0, 1440, n), strict=True)
    ]
    if details:
        frame["ville"] = np.where(rng.random(n) < 0.7, rng.choice(CITIES, n), "")
        frame["niveau_client"] = np.where(rng.random(n) < 0.4, rng.choice(TIERS, n), "")
        for name, share in TAGS:
            frame[f"tag_{name}"] = rng.random(n) < share
    return frame


def _contact(row: dict[str, Any], details: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "email": row["email_gr"],
        "campaign": row["list"],
        "origin": row["origin"],
        "scoring": int(row["scoring"]),
        "engagementScore": int(row["engagementScore"]),
        "createdOn": row["createdOn"],
    }
    if row[model.NAME]:
        item["name"] = row[model.NAME][:128]
    if details:
        fields = {k: [row[k]] for k in ("ville", "niveau_client") if row[k]}
        if fields:
            item["customFields"] = fields
        item["tags"] = [name for name, _ in TAGS if row[f"tag_{name}"]]
    return item


def seed_getresponse(sandbox: Any, rows: pd.DataFrame, *, details: bool = True) -> dict[str, Any]:
    """Lists, custom fields, tags and contacts; returns the ids per list and email."""
    base: dict[str, Any] = {"campaigns": [{"name": name} for name in LISTS]}
    if details:
        base["customFields"] = [
            {"name": "ville", "type": "string", "format": "text"},
            {"name": "niveau_client", "type": "string", "format": "single_select",
             "values": list(TIERS)},
        ]  # fmt: skip
        base["tags"] = [{"name": name} for name, _ in TAGS]
    ids = sandbox.seed(base)
    by_list: dict[str, dict[str, str]] = {}
    for name in LISTS:
        mine = rows[rows["list"] == name]
        if details:
            found = sandbox.seed({"contacts": [_contact(r, True) for r in mine.to_dict("records")]})
            by_list[name] = found.get("contacts", {})
        else:
            sandbox.bulk_add_contacts(
                ids["campaigns"][name],
                (_contact(r, False) for r in mine.to_dict("records")),
            )
            by_list[name] = {}
    return {"campaigns": ids["campaigns"], "contacts": by_list}


def crm_rows(crm: pd.DataFrame) -> list[dict[str, Any]]:
    """The CRM side as Dataverse contact rows (the generator's ids as contact ids)."""
    out = []
    text = crm.fillna("").astype(str)
    for row in text.to_dict("records"):
        item = {"contactid": row[model.CRM_CONTACT_ID], "lastname": row[model.CRM_LAST_NAME] or "-"}
        if row[model.CRM_FIRST_NAME]:
            item["firstname"] = row[model.CRM_FIRST_NAME]
        if row[model.CRM_EMAIL]:
            item["emailaddress1"] = row[model.CRM_EMAIL]
        out.append(item)
    return out


def sample(
    rows: int, seed: int, *, crm_ratio: float = 1.4, details: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(GetResponse rows as :func:`gr_rows` makes them, with the truth; CRM contacts)."""
    gr, crm, truth = pairs(rows, int(rows * crm_ratio) + 50, seed=seed, mix=DEMO_MIX)
    return gr_rows(gr.merge(truth, on=model.GR_CONTACT_ID), seed, details=details), crm


def seed_crm(dataverse: Any, crm: pd.DataFrame) -> None:
    for start in range(0, len(crm), 20_000):
        dataverse.bulk_contacts(crm_rows(crm.iloc[start : start + 20_000]))


def seed_both(
    getresponse: Any,
    dataverse: Any,
    *,
    rows: int,
    seed: int,
    crm_ratio: float = 1.4,
    details: bool = True,
) -> Seeded:
    """Seed both sandboxes with one labelled migration (see the module docstring)."""
    frame, crm = sample(rows, seed, crm_ratio=crm_ratio, details=details)
    ids = seed_getresponse(getresponse, frame, details=details)
    seed_crm(dataverse, crm)
    frame["gr_id"] = [
        ids["contacts"].get(lst, {}).get(email, "")
        for lst, email in zip(frame["list"], frame["email_gr"], strict=True)
    ]
    return Seeded(
        lists=ids["campaigns"],
        truth=frame[["gr_id", "list", "email_gr", "scenario", "crm_contact_ids"]],
        crm_contacts=len(crm),
        gr_contacts=len(frame),
    )


def bring_list_over(
    client: Any,
    campaign_id: str,
    name: str,
    marketing_list: str,
    *,
    ids: tuple[str, str] | None = None,
) -> str:
    """What an admin does in Dynamics before migrating a list (SPEC 5.3): a static marketing
    list of contacts, and a GetResponse List record for the GetResponse list, linked to it.
    ``ids``: (marketing list id, record id) to use. Returns the marketing list's id."""
    from reconcile.dataverse.schema import LISTS as RECORDS
    from reconcile.dataverse.schema import SYNC_STATUS_VALUES, getresponse_key
    from reconcile.model import SyncStatus

    chosen = dict(zip(("listid", RECORDS.primary_id), ids, strict=True)) if ids else {}
    list_id = client.create(
        "lists",
        {
            "listname": marketing_list,
            "type": False,
            "createdfromcode": 2,
            **{k: v for k, v in chosen.items() if k == "listid"},
        },
        id_column="listid",
    )
    client.create(
        RECORDS.entity_set,
        {
            **{k: v for k, v in chosen.items() if k != "listid"},
            "grc_name": name,
            "grc_getresponseid": getresponse_key(campaign_id),
            "grc_iscreatedingetresponse": True,
            "grc_synchronizationstatus": SYNC_STATUS_VALUES[SyncStatus.CREATED_IN_GETRESPONSE],
            "grc_MarketingListId@odata.bind": f"/lists({list_id})",
        },
        id_column=RECORDS.primary_id,
    )
    return list_id
