"""``reconcile sync templates`` (SPEC 6, every 5 minutes): GetResponse drafts named
``MS CRM …`` become GetResponse Template records; a draft no longer there makes its
template inactive and **Deleted in GetResponse**, so newsletters cannot use it.

A quiet run costs two requests: the account's drafts (one page of up to 1,000) and the
Template records (one page of up to 5,000). Only what differs is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.getresponse.newsletters import iter_newsletters
from reconcile.jobs.sync import records as r
from reconcile.jobs.sync.common import Journal, Param, Plan, Report
from reconcile.jobs.sync.context import SyncContext
from reconcile.model import SyncStatus

PREFIX = "MS CRM"
TABLE = s.TEMPLATES
COLUMNS = (
    TABLE.primary_id,
    "grc_name",
    "grc_getresponseid",
    "grc_subject",
    r.STATUS,
    r.ERROR_TEXT,
    "statecode",
)


@dataclass
class TemplatesPlan(Plan):
    writes: list[r.Write] = field(default_factory=list)


def _wanted(draft: Any, at: str) -> dict[str, Any]:
    return {
        "grc_getresponseid": s.getresponse_key(draft.newsletter_id),
        "grc_name": (draft.name or "")[:200],
        "grc_subject": (draft.subject or "")[:400] or None,
        r.STATUS: r.status_value(SyncStatus.SYNCHRONIZED),
        r.ERROR_TEXT: None,
        "grc_lastsynchronizedon": at,
        **r.ACTIVE,
    }


def _differs(record: dict[str, Any], body: dict[str, Any]) -> bool:
    compared = ("grc_name", "grc_subject", r.STATUS, r.ERROR_TEXT, "statecode")
    return any((record.get(c) or None) != (body.get(c) or None) for c in compared)


class TemplatesJob:
    name: ClassVar[str] = "templates"
    spec: ClassVar[str] = "SPEC 6.1-6.2"
    summary: ClassVar[str] = "GetResponse 'MS CRM …' drafts → GetResponse Template records"
    help: ClassVar[str] = (
        "Make every GetResponse draft whose name starts with 'MS CRM' a GetResponse Template "
        "record (name, subject, draft id) that newsletters can use; a template whose draft was "
        "deleted, or renamed without the prefix, becomes inactive and 'Deleted in "
        "GetResponse'.\n\n\b\nExample:\n  reconcile sync templates --dry-run\n"
        "  reconcile sync templates --json"
    )
    params: ClassVar[tuple[Param, ...]] = ()

    def plan(self, ctx: SyncContext, journal: Journal) -> TemplatesPlan:
        plan = TemplatesPlan(self.name, ctx.environment)
        at = r.sync_time(ctx.now())
        drafts = {d.newsletter_id: d for d in iter_newsletters(ctx.gr, type="draft")}
        templates = {d_id: d for d_id, d in drafts.items() if (d.name or "").startswith(PREFIX)}
        existing = {
            s.getresponse_id(row["grc_getresponseid"]): row
            for row in r.read_all(ctx, TABLE, COLUMNS, q.ne("grc_getresponseid", None))
        }
        for draft_id, draft in templates.items():
            body = _wanted(draft, at)
            record = existing.get(draft_id)
            label = f"template {draft.name!r}"
            if record is None:
                plan.add("create template", label, f"new '{PREFIX}' draft {draft_id}")
            elif _differs(record, body):
                plan.add("update template", label, _change(record, body))
            else:
                continue
            plan.writes.append(r.Write(f"template:{draft_id}", body, label))
        deleted = r.status_value(SyncStatus.DELETED_IN_GETRESPONSE)
        for draft_id, record in existing.items():
            if draft_id in templates or record.get(r.STATUS) == deleted:
                continue
            renamed = drafts.get(draft_id)
            why = (
                f"the draft was renamed {renamed.name!r}, without the '{PREFIX}' prefix"
                if renamed is not None
                else "the draft no longer exists in GetResponse"
            )
            label = f"template {record.get('grc_name')!r}"
            plan.add("mark template deleted", label, why)
            body = {
                TABLE.primary_id: record[TABLE.primary_id],
                r.STATUS: deleted,
                r.ERROR_TEXT: f"Deleted in GetResponse: {why}; newsletters cannot use it.",
                "grc_lastsynchronizedon": at,
                **r.INACTIVE,
            }
            plan.writes.append(r.Write(f"template-gone:{draft_id}", body, label))
        return plan

    def apply(self, plan: Plan, ctx: SyncContext, journal: Journal, report: Report) -> None:
        assert isinstance(plan, TemplatesPlan)
        upserts = [w for w in plan.writes if w.key.startswith("template:")]
        updates = [w for w in plan.writes if w.key.startswith("template-gone:")]
        r.write(ctx, journal, report, TABLE, upserts, kind="template", outcome="templates written")
        r.write(
            ctx,
            journal,
            report,
            TABLE,
            updates,
            mode="update",
            kind="template-gone",
            outcome="templates marked deleted",
        )


def _change(record: dict[str, Any], body: dict[str, Any]) -> str:
    if record.get("statecode") == 1 or record.get(r.STATUS) != body[r.STATUS]:
        return "the draft is back in GetResponse: active again"
    if (record.get("grc_name") or None) != body["grc_name"]:
        return f"renamed in GetResponse (was {record.get('grc_name')!r})"
    return "subject changed in GetResponse"


JOB = TemplatesJob()
