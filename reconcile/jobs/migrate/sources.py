"""What ``reconcile migrate plan`` reads: the GetResponse contacts of the chosen lists, the
CRM's GetResponse List and GetResponse Contact records, and the active CRM contacts.

Two sources of GetResponse contacts (SPEC 5.1, 5.3):

* ``getresponse``: the lists read from GetResponse itself, a page of 1000 contacts per
  request, custom field values in the same pages (``additionalFlags=customFieldValues``) and
  tags with one search per tag (:mod:`reconcile.getresponse.tagged`) — only what the SPEC 1.3
  settings send. Contacts whose GetResponse Contact record in the CRM is already linked are
  left out (counted as "already linked").
* ``crm``: the CRM's GetResponse Contact records without a CRM contact ("GetResponse contact
  without CRM contact"), as the connector's hourly run leaves them after a list is brought
  over; their data is already in the CRM, the migration only links them.

Everything comes out as plain DataFrames; the matching and the plan never see a client.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from reconcile import model
from reconcile.config import SyncSettings
from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.dataverse.errors import RecordNotFound
from reconcile.dataverse.resources import active_contacts
from reconcile.errors import ConfigError, InputError, Problem
from reconcile.progress import SILENT, Progress

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient
    from reconcile.getresponse.client import GetResponseClient

SOURCES = ("getresponse", "crm")
GR_LIST_ID = "gr_list_id"
GR_LIST_NAME = "gr_list_name"
GR_DATA = "gr_data"  # JSON text: what the GetResponse Contact record shows (SPEC 5.2)
GR_COLUMNS = (model.GR_CONTACT_ID, model.EMAIL, model.NAME, GR_LIST_ID, GR_LIST_NAME, GR_DATA)
CRM_COLUMNS = (
    model.CRM_CONTACT_ID,
    model.CRM_FIRST_NAME,
    model.CRM_LAST_NAME,
    model.CRM_NAME,
    model.CRM_EMAIL,
)
CONTACT_SELECT = ("contactid", "firstname", "lastname", "fullname", "emailaddress1")
PAGE = 5000  # Dataverse rows per page (the maximum of odata.maxpagesize)

LISTS = s.LISTS
RECORDS = s.CONTACTS
STATUS = "grc_synchronizationstatus"
DELETED = s.SYNC_STATUS_VALUES[model.SyncStatus.DELETED_IN_GETRESPONSE]


@dataclass(frozen=True)
class ListRecord:
    """A GetResponse List record in the CRM (SPEC 3, 4.1)."""

    record_id: str
    campaign_id: str
    name: str
    marketing_list_id: str | None


@dataclass
class GrList:
    """One GetResponse list of the migration, and its record in the CRM if there is one."""

    campaign_id: str
    name: str
    record: ListRecord | None = None
    contacts: int = 0
    already_linked: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "name": self.name,
            "record_id": self.record.record_id if self.record else None,
            "marketing_list_id": self.record.marketing_list_id if self.record else None,
            "contacts": self.contacts,
            "already_linked": self.already_linked,
        }


@dataclass
class Inputs:
    """Everything a plan is made of."""

    source: str
    lists: list[GrList]
    gr: pd.DataFrame  # GR_COLUMNS, one row per GetResponse contact (one per list membership)
    crm: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(CRM_COLUMNS)))
    sync: dict[str, Any] = field(default_factory=dict)  # the SPEC 1.3 settings used


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def list_records(client: DataverseClient) -> dict[str, ListRecord]:
    """GetResponse List records by GetResponse list (campaign) id."""
    select = (
        "grc_getresponselistid",
        "grc_name",
        "grc_getresponseid",
        "_grc_marketinglistid_value",
    )
    found: dict[str, ListRecord] = {}
    try:
        rows = list(client.query(LISTS.entity_set, q.Query(select=select), page_size=PAGE))
    except RecordNotFound as exc:
        raise ConfigError(
            f"The connector's tables are not installed in {client.environment_url} "
            f"({LISTS.entity_set} does not exist).",
            hint="Run `reconcile schema install` as an administrator (`reconcile schema check` "
            "lists what is missing), then plan again. Nothing was written.",
        ) from exc
    for row in rows:
        campaign = s.getresponse_id(_text(row.get("grc_getresponseid")))
        if campaign:
            found[campaign] = ListRecord(
                str(row["grc_getresponselistid"]).lower(),
                campaign,
                _text(row.get("grc_name")),
                (_text(row.get("_grc_marketinglistid_value")).lower() or None),
            )
    return found


def _chosen(
    available: Sequence[tuple[str, str]], names: Sequence[str], where: str
) -> list[tuple[str, str]]:
    """(id, name) of the lists called ``names`` (case-blind); all of them without names."""
    if not names:
        return list(available)
    by_name: dict[str, list[tuple[str, str]]] = {}
    for item in available:
        by_name.setdefault(item[1].casefold(), []).append(item)
    picked, problems = [], []
    for name in names:
        hits = by_name.get(name.strip().casefold(), [])
        if len(hits) == 1:
            picked.append(hits[0])
        else:
            known = ", ".join(sorted(n for _, n in available)) or "none"
            what = "no list" if not hits else f"{len(hits)} lists"
            problems.append(Problem(f"{what} called {name!r} in {where} (lists: {known})"))
    if problems:
        raise InputError(problems, hint="Give list names exactly as they are (--list NAME).")
    return list(dict.fromkeys(picked))


def _records_of_lists(
    client: DataverseClient, records: Iterable[ListRecord], *, linked: bool
) -> list[dict[str, Any]]:
    """The GetResponse Contact records of these lists (not deleted in GetResponse) that are
    linked to a CRM contact, or those that are not."""
    select = (
        "grc_getresponseid",
        "grc_name",
        "grc_email",
        "_grc_contactid_value",
        "_grc_getresponselistid_value",
    )
    rows: list[dict[str, Any]] = []
    for record in records:
        condition = q.eq("_grc_getresponselistid_value", q.as_guid(record.record_id)) & q.ne(
            STATUS, DELETED
        )
        link = q.ne("_grc_contactid_value", None) if linked else q.eq("_grc_contactid_value", None)
        condition = condition & link
        query = q.Query(select=select, filter=condition)
        for row in client.query(RECORDS.entity_set, query, page_size=PAGE):
            row["_list"] = record
            rows.append(row)
    return rows


def contact_data(contact: Any, sync: SyncSettings, tags: Sequence[str]) -> str:
    """The JSON a GetResponse Contact record is written from (SPEC 5.2): engagement score,
    scoring points, origin, creation date, and — as SPEC 1.3 says — custom fields and tags."""
    data: dict[str, Any] = {
        "score": contact.engagement_score,
        "points": contact.scoring,
        "origin": contact.origin,
        "created": contact.created_on.isoformat() if contact.created_on else None,
    }
    if sync.send_custom_fields:
        wanted = {n.casefold() for n in sync.custom_fields}
        data["fields"] = [
            [v.custom_field_id, v.name or "", v.type or "", list(v.values)]
            for v in contact.custom_field_values
            if not wanted or (v.name or "").casefold() in wanted
        ]
    if sync.send_tags:
        data["tags"] = sorted(tags)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def read_getresponse(
    gr: GetResponseClient,
    dv: DataverseClient,
    names: Sequence[str],
    sync: SyncSettings,
    progress: Progress = SILENT,
) -> Inputs:
    """GetResponse contacts of the chosen lists, minus those already linked in the CRM."""
    from reconcile.getresponse import iter_campaigns, iter_contacts
    from reconcile.getresponse.tagged import tags_by_contact

    campaigns = [(c.campaign_id, c.name) for c in iter_campaigns(gr)]
    chosen = _chosen(campaigns, names, "GetResponse")
    records = list_records(dv)
    lists = [GrList(cid, name, records.get(cid)) for cid, name in chosen]
    linked = {
        s.getresponse_id(str(r["grc_getresponseid"]))
        for r in _records_of_lists(dv, [x.record for x in lists if x.record], linked=True)
    }
    tags = tags_by_contact(gr, [x.campaign_id for x in lists], progress) if sync.send_tags else {}
    columns: dict[str, list[Any]] = {c: [] for c in GR_COLUMNS}
    for item in lists:
        contacts = iter_contacts(
            gr,
            campaign_id=item.campaign_id,
            with_custom_fields=sync.send_custom_fields,
            progress=progress,
        )
        for contact in contacts:
            item.contacts += 1
            if contact.contact_id in linked:
                item.already_linked += 1
                continue
            columns[model.GR_CONTACT_ID].append(contact.contact_id)
            columns[model.EMAIL].append(contact.email or "")
            columns[model.NAME].append(contact.name or "")
            columns[GR_LIST_ID].append(item.campaign_id)
            columns[GR_LIST_NAME].append(item.name)
            columns[GR_DATA].append(contact_data(contact, sync, tags.get(contact.contact_id, ())))
    return Inputs("getresponse", lists, pd.DataFrame(columns, dtype=object), sync=_sync(sync))


def read_crm_records(
    dv: DataverseClient, names: Sequence[str], progress: Progress = SILENT
) -> Inputs:
    """The CRM's GetResponse Contact records that have no CRM contact yet (SPEC 5.1, 5.3)."""
    records = list_records(dv)
    chosen = _chosen([(r.campaign_id, r.name) for r in records.values()], names, "the CRM")
    lists = [GrList(cid, name, records[cid]) for cid, name in chosen]
    by_record = {x.record.record_id: x for x in lists if x.record}
    with progress.task("Reading unlinked GetResponse Contact records", total=None):
        rows = _records_of_lists(dv, [x.record for x in lists if x.record], linked=False)
    columns: dict[str, list[Any]] = {c: [] for c in GR_COLUMNS}
    for row in rows:
        item = by_record[row["_list"].record_id]
        item.contacts += 1
        columns[model.GR_CONTACT_ID].append(s.getresponse_id(_text(row.get("grc_getresponseid"))))
        columns[model.EMAIL].append(_text(row.get("grc_email")))
        columns[model.NAME].append(_text(row.get("grc_name")))
        columns[GR_LIST_ID].append(item.campaign_id)
        columns[GR_LIST_NAME].append(item.name)
        columns[GR_DATA].append("")
    frame = pd.DataFrame(columns, dtype=object)
    blank = frame[model.GR_CONTACT_ID] == ""
    if blank.any():
        raise InputError(
            Problem(
                f"{int(blank.sum())} GetResponse Contact records have no GetResponse contact ID "
                "(grc_getresponseid)"
            ),
            hint="Those records cannot be linked by key: fill the ID or delete them in Dynamics.",
        )
    return Inputs("crm", lists, frame)


def _sync(sync: SyncSettings) -> dict[str, Any]:
    return {
        "send_custom_fields": sync.send_custom_fields,
        "custom_fields": list(sync.custom_fields),
        "send_tags": sync.send_tags,
    }


def read_crm_contacts(dv: DataverseClient, progress: Progress = SILENT) -> pd.DataFrame:
    """Every active CRM contact, in the matcher's columns."""
    columns: dict[str, list[str]] = {c: [] for c in CRM_COLUMNS}
    with progress.task("Reading active CRM contacts", total=None):
        for row in active_contacts(dv, select=CONTACT_SELECT, page_size=PAGE):
            columns[model.CRM_CONTACT_ID].append(str(row["contactid"]).lower())
            columns[model.CRM_FIRST_NAME].append(_text(row.get("firstname")))
            columns[model.CRM_LAST_NAME].append(_text(row.get("lastname")))
            columns[model.CRM_NAME].append(_text(row.get("fullname")))
            columns[model.CRM_EMAIL].append(_text(row.get("emailaddress1")))
    return pd.DataFrame(columns, dtype=object)
