"""The migration's plan, as pure data: what ``apply`` will write, and what it leaves out.

Two steps, both without I/O:

1. :func:`propose` matches the GetResponse contacts against the CRM contacts with the
   offline round-trip's own core (:func:`reconcile.jobs.roundtrip.review_frame`: names split,
   contacts matched, the same decisions and explanations) and, with ``accept_above``, takes
   the review rows whose best candidate is confident enough and alone at the top.
2. :func:`build_plan` turns the reviewed rows (as the admin left them in the workbook) into a
   :class:`Plan`: the CRM contacts to create, the GetResponse Contact records to write and
   what each links to, the GetResponse List records the records need, and every row left out
   with the reason.

Identifiers are decided here, deterministically, so that a re-run after a crash writes the
same records (never a second one): a new CRM contact's GUID is a UUIDv5 of the environment,
its email and its name; a GetResponse List record's GUID a UUIDv5 of the environment and the
list's id; GetResponse Contact records are written by their alternate key (the GetResponse
contact id).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from reconcile import model
from reconcile.emails import email_key, normalize_email
from reconcile.jobs.migrate.sources import GR_DATA, GR_LIST_ID, Inputs
from reconcile.matching import CANDIDATE_IDS, MatchOptions
from reconcile.model import Decision
from reconcile.progress import SILENT, Progress
from reconcile.workbooks.columns import fold

NAMESPACE = uuid.UUID("5d0c8a8e-7e7a-5b8e-9c63-2f0f6a1d7a41")  # reconcile migrate's own
WHERE = "where"


def environment_key(url: str) -> str:
    """The environment a plan belongs to, as compared between plan and apply."""
    return url.strip().rstrip("/").lower()


def contact_guid(environment: str, email: str, first: str, last: str) -> str:
    """The GUID of the CRM contact created for this person in this environment."""
    key = "|".join((environment_key(environment), "contact", email, fold(first), fold(last)))
    return str(uuid.uuid5(NAMESPACE, key))


def list_guid(environment: str, campaign_id: str) -> str:
    """The GUID of the GetResponse List record created for this list."""
    key = "|".join((environment_key(environment), "grc_getresponselist", campaign_id))
    return str(uuid.uuid5(NAMESPACE, key))


# --- 1. proposing -------------------------------------------------------------------------


def _candidate_scores(text: str) -> list[tuple[str, float, str, str]]:
    """``(id, score, name, email)`` of each line ``<id> · <name> <email> · 87 · <reason>``."""
    out = []
    for line in (text or "").splitlines():
        parts = line.split(" · ")
        if len(parts) < 4:
            continue
        try:
            score = float(parts[2])
        except ValueError:
            continue
        name, _, email = parts[1].rpartition(" ")
        out.append((parts[0].strip(), score, name.strip(), "" if email == "(no email)" else email))
    return out


def _mailbox(email: object) -> str:
    """The matcher's key of an address: equal for one mailbox written two ways."""
    normalized = normalize_email(email)
    return email_key(normalized) if normalized else ""


def accept_confident(review: pd.DataFrame, score: float, margin: float) -> int:
    """Turn ``review`` rows into ``link`` when their best candidate scores at least ``score``
    and no other candidate comes within ``margin`` of it, unless another address is accepted
    for the same CRM contact; returns how many."""
    chosen: list[Any] = []
    values: dict[str, list[Any]] = {
        model.CRM_CONTACT_ID: [],
        model.CRM_NAME: [],
        model.CRM_EMAIL: [],
        model.SCORE: [],
        model.REASON: [],
    }
    rows = review.index[review[model.DECISION] == Decision.REVIEW.value]
    texts, offered = review.loc[rows, model.CANDIDATES], review.loc[rows, CANDIDATE_IDS]
    reasons = review.loc[rows, model.REASON]
    for i, text, ids, reason in zip(rows, texts, offered, reasons, strict=True):
        candidates = sorted(_candidate_scores(text), key=lambda c: -c[1])
        if not candidates:
            continue
        best = candidates[0]
        if best[1] < score or (len(candidates) > 1 and candidates[1][1] > best[1] - margin):
            continue
        if best[0] not in ids:
            continue
        chosen.append(i)
        for column, value in zip(
            values,
            (
                best[0],
                best[2],
                best[3] or None,
                best[1],
                f"accepted (--accept-above {score:g}): {reason}",
            ),
            strict=True,
        ):
            values[column].append(value)
    # As the matcher rules: two different addresses cannot both be one CRM contact's
    # mailbox, so a contact accepted for more than one of them is accepted for none.
    mailboxes: dict[str, set[str]] = {}
    targets = values[model.CRM_CONTACT_ID]
    for i, target in zip(chosen, targets, strict=True):
        mailboxes.setdefault(target, set()).add(_mailbox(review.at[i, model.EMAIL]))
    keep = [n for n, target in enumerate(targets) if len(mailboxes[target]) == 1]
    chosen = [chosen[n] for n in keep]
    values = {column: [v[n] for n in keep] for column, v in values.items()}
    if chosen:
        review.loc[chosen, model.DECISION] = Decision.LINK.value
        review[model.SCORE] = pd.to_numeric(review[model.SCORE], errors="coerce").astype(float)
        for column, column_values in values.items():
            kind = float if column == model.SCORE else object
            review.loc[chosen, column] = pd.Series(column_values, index=chosen, dtype=kind)
    return len(chosen)


def propose(
    inputs: Inputs,
    options: MatchOptions,
    *,
    accept_above: float | None = None,
    progress: Progress = SILENT,
) -> tuple[pd.DataFrame, int]:
    """The review rows for ``inputs`` (one per GetResponse contact, in input order) and how
    many review rows ``accept_above`` turned into links."""
    from reconcile.jobs.roundtrip import review_frame
    from reconcile.workbooks.read import Contacts, SourceInfo

    gr = inputs.gr
    frame = pd.DataFrame(
        {
            model.GR_CONTACT_ID: gr[model.GR_CONTACT_ID].astype(str),
            model.NAME: gr[model.NAME].astype(str),
            model.FIRST_NAME: "",
            model.LAST_NAME: "",
            model.EMAIL: gr[model.EMAIL].astype(str),
            model.ROW_CHECKSUM: "",
            model.MODIFIED_ON: None,
        }
    )

    def info(side: Any) -> SourceInfo:
        return SourceInfo(side, (), (), {}, "en", None, "column")

    review = review_frame(
        Contacts(frame, info("gr")), Contacts(inputs.crm, info("crm")), options, progress
    )
    accepted = 0
    if accept_above is not None:
        accepted = accept_confident(review, accept_above, options.margin)
    return review, accepted


# --- 2. the plan --------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanList:
    campaign_id: str
    name: str
    record_id: str  # existing record, or the one apply creates (deterministic)
    exists: bool  # a GetResponse List record was found when the plan was made
    marketing_list_id: str | None = None


@dataclass(frozen=True)
class NewContact:
    contact_id: str
    first_name: str
    last_name: str
    email: str
    gr_ids: tuple[str, ...]
    where: str


@dataclass(frozen=True)
class RecordWrite:
    """One GetResponse Contact record, written by its GetResponse id."""

    gr_id: str
    campaign_id: str
    name: str
    email: str
    data: str  # JSON from the source ("" when the record already holds its data)
    decision: str
    link: str | None = None  # the CRM contact (existing, or created by this run)
    new: bool = False  # ``link`` is a contact this run creates
    problem: str | None = None  # why it stays unlinked with status Error
    where: str = ""


@dataclass(frozen=True)
class Skip:
    gr_id: str
    email: str
    decision: str
    reason: str
    where: str


@dataclass
class Plan:
    environment: str
    source: str
    allow_duplicates: bool
    lists: list[PlanList]
    rows: int = 0  # GetResponse contacts in the workbook
    contacts: list[NewContact] = field(default_factory=list)
    records: list[RecordWrite] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    sync: dict[str, Any] = field(default_factory=dict)
    field_values: int = 0  # custom field values the records carry
    read_at: str | None = None  # when GetResponse was read (UTC, "YYYY-MM-DDTHH:MM:SSZ")

    def counts(self) -> dict[str, int]:
        linked_existing = sum(1 for r in self.records if r.link and not r.new)
        linked_new = sum(1 for r in self.records if r.link and r.new)
        flagged = sum(1 for r in self.records if r.problem)
        reasons: dict[str, int] = {}
        for s in self.skipped:
            reasons[s.decision] = reasons.get(s.decision, 0) + 1
        return {
            "gr_contacts": self.rows,
            "link_existing": linked_existing,
            "contacts_to_create": len(self.contacts),
            "link_new": linked_new,
            "flagged_duplicates": flagged,
            "records_to_write": len(self.records),
            "lists_to_create": sum(1 for x in self.lists if not x.exists),
            "custom_field_values": self.field_values,
            **{f"left_{k}": v for k, v in sorted(reasons.items())},
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "source": self.source,
            "allow_duplicates": self.allow_duplicates,
            "sync": self.sync,
            "counts": self.counts(),
            "lists": [asdict(x) for x in self.lists],
            "contacts": [asdict(c) for c in self.contacts],
            "records": [{k: v for k, v in asdict(r).items() if k != "data"} for r in self.records],
            "skipped": [asdict(s) for s in self.skipped],
        }


def _fields(data: str) -> list[Any]:
    if not data:
        return []
    return list(json.loads(data).get("fields") or [])


SKIP_REASONS = {
    Decision.REVIEW.value: "waits for a decision: choose link (a CRM Contact from Candidates), "
    "new or skip in the workbook, then apply it again",
    Decision.SKIP.value: "the reviewer chose skip",
    Decision.INVALID.value: "no usable email",
}


def _texts(frame: pd.DataFrame, column: str) -> list[str]:
    """A column as plain strings ('' for blanks), for a fast row loop."""
    if column not in frame.columns:
        return [""] * len(frame)
    return frame[column].astype(object).where(frame[column].notna(), "").astype(str).tolist()


def build_plan(
    rows: pd.DataFrame,
    payload: pd.DataFrame,
    meta: dict[str, Any],
    *,
    allow_duplicates: bool = False,
) -> Plan:
    """The plan for reviewed ``rows`` (workbook order) and their ``payload`` (same order:
    GetResponse list and data), for the environment and lists in ``meta``."""
    environment = str(meta["environment"])
    source = str(meta["source"])
    lists = [
        PlanList(
            x["campaign_id"],
            x["name"],
            x.get("record_id") or list_guid(environment, x["campaign_id"]),
            bool(x.get("record_id")),
            x.get("marketing_list_id"),
        )
        for x in meta["lists"]
    ]
    plan = Plan(
        environment,
        source,
        allow_duplicates,
        lists,
        sync=dict(meta.get("sync") or {}),
        read_at=meta.get("read_at"),
    )
    mirror = source == "getresponse"  # every contact of the lists gets its record
    contacts: dict[str, NewContact] = {}
    members: dict[str, list[str]] = {}  # GUID -> the GetResponse contacts it stands for
    creator_of_email: dict[str, str] = {}  # normalized email -> GUID of the first new contact
    plan.rows = len(rows)
    sheets, numbers = _texts(rows, "sheet"), _texts(rows, "row")
    columns = zip(
        _texts(rows, model.GR_CONTACT_ID),
        _texts(rows, model.EMAIL),
        _texts(rows, model.NAME),
        _texts(rows, model.FIRST_NAME),
        _texts(rows, model.LAST_NAME),
        _texts(rows, model.DECISION),
        _texts(rows, model.CRM_CONTACT_ID),
        _texts(payload, GR_LIST_ID),
        _texts(payload, GR_DATA),
        sheets,
        numbers,
        strict=True,
    )
    records, skipped = plan.records, plan.skipped
    for gr_id, email, name, first, last, decision, crm, campaign, data, sheet, n in columns:
        email = email.strip()
        where = f"{sheet} row {n}" if sheet and n else ""
        if decision == Decision.LINK.value:
            link = crm.strip().lower()
            records.append(
                RecordWrite(gr_id, campaign, name, email, data, decision, link, where=where)
            )
            continue
        if decision != Decision.NEW.value:
            reason = SKIP_REASONS.get(decision, f"decision {decision!r}")
            skipped.append(Skip(gr_id, email, decision, reason, where))
            if mirror:
                records.append(
                    RecordWrite(gr_id, campaign, name, email, data, decision, where=where)
                )
            continue
        normalized = normalize_email(email) or email.lower()
        guid = contact_guid(environment, normalized, first, last)
        creator = creator_of_email.setdefault(normalized, guid)
        if creator != guid and not allow_duplicates:
            other = contacts[creator]
            problem = (
                f"not created: this run creates another CRM contact with the email {email} "
                f"({other.first_name} {other.last_name}, {other.where}); link this "
                "GetResponse contact to it or use --allow-duplicates"
            )
            records.append(
                RecordWrite(
                    gr_id, campaign, name, email, data, decision, problem=problem, where=where
                )
            )
            continue
        if guid not in contacts:
            contacts[guid] = NewContact(guid, first, last, email, (), where)
        members.setdefault(guid, []).append(gr_id)
        records.append(
            RecordWrite(gr_id, campaign, name, email, data, decision, guid, True, where=where)
        )
    plan.contacts = [
        NewContact(c.contact_id, c.first_name, c.last_name, c.email, tuple(members[g]), c.where)
        for g, c in contacts.items()
    ]
    plan.field_values = sum(len(_fields(r.data)) for r in records if '"fields"' in r.data)
    return plan
