"""``reconcile migrate plan``: read both sides, match, and write the review workbook with its
``Plan`` sheet. The CLI calls :func:`make_plan`; ``apply`` lives in ``apply.py``."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconcile import model
from reconcile.config import SyncSettings
from reconcile.errors import InputError, Problem
from reconcile.jobs.migrate import sources
from reconcile.jobs.migrate.plan import Plan, build_plan, environment_key, propose
from reconcile.jobs.roundtrip import risk_counts
from reconcile.matching import MatchOptions
from reconcile.progress import SILENT, Progress
from reconcile.workbooks.review import NAME_REVIEW_REASON

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient
    from reconcile.getresponse.client import GetResponseClient

DECISIONS = ("link", "new", "review", "skip", "invalid")


@dataclass
class PlanSummary:
    """What ``migrate plan`` read and proposes, and where the workbook is."""

    review: str
    source: str
    environment: str
    lists: list[dict[str, Any]]
    gr_contacts: int
    already_linked: int
    crm_contacts: int
    decisions: dict[str, int]
    accepted_above: int
    plan: dict[str, int]
    names_to_check: int
    requests: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    kept_copy: str | None = None
    risks: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sync_text(sync: dict[str, Any]) -> tuple[str, str]:
    if sync.get("send_custom_fields"):
        which = ", ".join(sync.get("custom_fields") or []) or "all"
        fields = f"sent (SPEC 1.3 setting sync.send_custom_fields): {which}"
    else:
        fields = "not sent (sync.send_custom_fields = false)"
    tags = "sent (sync.send_tags)" if sync.get("send_tags") else "not sent (sync.send_tags = false)"
    return fields, tags


PLAN_TEXT_LIMIT = 2_000  # an Excel cell holds 32,767 characters; a person reads far fewer


def _joined(names: list[str], separator: str = ", ", limit: int = PLAN_TEXT_LIMIT) -> str:
    """Names for one Plan cell: all of them while they fit, then "… and N more"."""
    shown: list[str] = []
    used = 0
    for name in names:
        if used + len(name) + len(separator) > limit:
            return f"{separator.join(shown)}{separator}… and {len(names) - len(shown):,} more"
        shown.append(name)
        used += len(name) + len(separator)
    return separator.join(shown)


def plan_rows(
    plan: Plan, inputs: sources.Inputs, accepted: int, review: Any = None
) -> list[tuple[str, Any, str]]:
    """The ``Plan`` sheet: one line per kind of write or non-write, with what happens."""
    counts = plan.counts()
    where = (
        "from GetResponse"
        if inputs.source == "getresponse"
        else "from the CRM's GetResponse Contact records without a CRM contact"
    )
    mirror = inputs.source == "getresponse"
    unlinked = "written without a CRM contact (status New)" if mirror else "left unchanged"
    fields, tags = _sync_text(plan.sync)
    listed = _joined([f"{x.name} ({x.contacts:,} contacts)" for x in inputs.lists], "; ") or "none"
    already = sum(x.already_linked for x in inputs.lists)
    to_create = [x.name for x in plan.lists if not x.exists]
    with_marketing = [x.name for x in plan.lists if x.marketing_list_id]
    rows: list[tuple[str, Any, str]] = [
        ("GetResponse lists", len(inputs.lists), listed),
        ("GetResponse contacts read", sum(x.contacts for x in inputs.lists), where),
        ("Already linked in the CRM", already, "left as they are (not in the Review sheet)"),
        ("In the Review sheet", plan.rows, "one row per GetResponse contact still to migrate"),
        (
            "Link to an existing CRM contact",
            counts["link_existing"],
            "decision link: the GetResponse Contact record is linked to 'CRM Contact', status "
            "Synchronized (a merged contact: its master)",
        ),
        (
            "CRM contacts to create",
            counts["contacts_to_create"],
            f"decision new ({counts['link_new']:,} GetResponse contacts: one contact per email "
            "and name): created with Dynamics' duplicate detection on and after checking that "
            "no active CRM contact has the email (unless --allow-duplicates), then linked",
        ),
        (
            "Not created: email shared with another new contact",
            counts["flagged_duplicates"],
            "two GetResponse contacts with one email and different names: the first is "
            "created; this one stays unlinked (status Error) unless --allow-duplicates",
        ),
        (
            "Left for review",
            counts.get("left_review", 0),
            f"decision review: nothing is created or linked; {unlinked}",
        ),
        ("Skipped by the reviewer", counts.get("left_skip", 0), f"decision skip: {unlinked}"),
        (
            "Invalid email",
            counts.get("left_invalid", 0),
            f"no usable email: no CRM contact; {unlinked}",
        ),
        (
            "GetResponse List records to create",
            counts["lists_to_create"],
            _joined(to_create) or "every list already has its record",
        ),
        (
            "GetResponse Contact records to write",
            counts["records_to_write"],
            "upserted by GetResponse contact ID: engagement score, scoring points, origin, "
            "creation date, list"
            if mirror
            else "linked by GetResponse contact ID",
        ),
        ("Custom field values to write", counts["custom_field_values"], fields),
        ("Tags", "", tags),
        (
            "Marketing lists",
            len(with_marketing),
            "linked contacts are added to the static marketing list of their GetResponse List "
            f"record: {_joined(with_marketing)}"
            if with_marketing
            else "no GetResponse List record has a marketing list: none changed",
        ),
    ]
    if accepted:
        rows.append(
            (
                "Accepted above the score",
                accepted,
                "review rows turned into links by --accept-above (best candidate alone at the top)",
            )
        )
    risks = risk_counts(review) if review is not None else {}
    rows.append(
        (
            "Check: new rows that look like a CRM contact",
            risks.get("new_likely_duplicates", 0),
            "decision new, but a CRM contact has the same name and email domain: likely a "
            "duplicate once created; link it (a candidate) or skip if so (Review column Risk)",
        )
    )
    rows.append(
        (
            "Check: links whose names differ",
            risks.get("links_names_differ", 0),
            "decision link on an identical address, but the names do not agree (a shared or "
            "reused mailbox?): see the Review column Risk",
        )
    )
    rows.append(
        (
            "Next",
            "",
            "decide the 'review' rows in the Review sheet (or keep them for later), then: "
            "reconcile migrate apply <this file> --dry-run, and without --dry-run",
        )
    )
    return rows


def make_plan(
    dv: DataverseClient,
    out: str | Path,
    *,
    gr: GetResponseClient | None = None,
    source: str = "getresponse",
    lists: Sequence[str] = (),
    sync: SyncSettings | None = None,
    options: MatchOptions | None = None,
    accept_above: float | None = None,
    progress: Progress = SILENT,
    force: bool = False,
) -> PlanSummary:
    """Read, match and write the plan's review workbook (atomically). An existing ``out``
    is refused unless ``force`` (then an edited review is kept as a dated copy first)."""
    from reconcile.workbooks.guard import keep_edited, refuse_existing
    from reconcile.workbooks.migration import write_plan_review

    started = time.perf_counter()
    refuse_existing(out, force)
    dv_before = dv.requests_sent
    gr_before = gr.stats.requests if gr is not None else 0
    if source not in sources.SOURCES:
        raise InputError(Problem(f"unknown source {source!r}: use getresponse or crm"))
    if accept_above is not None and not 0 <= accept_above <= 100:
        raise InputError(Problem(f"--accept-above takes a score from 0 to 100, not {accept_above}"))
    sync = sync or SyncSettings()
    # Before reading: a contact changed during the read is read again by the contacts job.
    read_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if source == "getresponse":
        if gr is None:
            raise InputError(Problem("reading from GetResponse needs a GetResponse connection"))
        inputs = sources.read_getresponse(gr, dv, lists, sync, progress)
    else:
        inputs = sources.read_crm_records(dv, lists, progress)
    inputs.crm = sources.read_crm_contacts(dv, progress)
    options = options or MatchOptions()
    review, accepted = propose(inputs, options, accept_above=accept_above, progress=progress)
    environment = environment_key(dv.environment_url)
    migrate_meta = {
        "environment": environment,
        "source": inputs.source,
        "lists": [x.as_dict() for x in inputs.lists],
        "sync": inputs.sync,
        "accept_above": accept_above,
        "read_at": read_at,
    }
    payload = inputs.gr[[model.GR_CONTACT_ID, *sources.GR_COLUMNS[3:]]].reset_index(drop=True)
    plan = build_plan(review, payload, migrate_meta)
    source_meta: dict[str, Any] = {
        "files": [],
        "sheet": None,
        "headers": {},
        "language": "en",
        "metadata": None,
        "ids_from": "column",
    }
    meta = {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "gr": source_meta,
        "crm": {**source_meta, "rows": len(inputs.crm)},
        "migrate": migrate_meta,
    }
    names_to_check = int((review[NAME_REVIEW_REASON] != "").sum())
    extra = {
        "CRM contacts read": len(inputs.crm),
        "names to check ('Name Check')": names_to_check,
    }
    kept = keep_edited(out) if force else None
    write_plan_review(
        review,
        payload,
        out,
        meta,
        plan_rows(plan, inputs, accepted, review),
        summary_extra=extra,
        progress=progress,
    )
    counts = review[model.DECISION].value_counts()
    requests = {"dataverse": dv.requests_sent - dv_before}
    if gr is not None:
        requests["getresponse"] = gr.stats.requests - gr_before
    return PlanSummary(
        review=str(out),
        source=inputs.source,
        environment=environment,
        lists=[x.as_dict() for x in inputs.lists],
        gr_contacts=sum(x.contacts for x in inputs.lists),
        already_linked=sum(x.already_linked for x in inputs.lists),
        crm_contacts=len(inputs.crm),
        decisions={d: int(counts.get(d, 0)) for d in DECISIONS},
        accepted_above=accepted,
        plan=plan.counts(),
        names_to_check=names_to_check,
        requests=requests,
        seconds=round(time.perf_counter() - started, 2),
        kept_copy=str(kept) if kept else None,
        risks=risk_counts(review),
    )
