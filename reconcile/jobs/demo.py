"""``reconcile demo``: the migration, end to end, against both sandboxes started in-process.

1. Both emulators start on loopback ports; GetResponse gets two lists of a few thousand
   contacts (scores, origins, custom fields, tags, some people on both lists), the CRM an
   overlapping base (typos, shared mailboxes, duplicates, namesakes) — ``demo_data.py``.
2. The connector's tables and roles are installed; the connector's identity gets the
   *GetResponse Service User* and *Connection User* roles (it must create contacts); the
   admin brings ``clients_fr`` over as SPEC 5.3 says (a GetResponse List record linked to a
   static marketing list).
3. ``migrate plan`` (custom fields and tags sent, confident review rows accepted) writes
   ``review.xlsx``.
4. Meanwhile somebody merges a few CRM contacts that the plan links to (SPEC 8.4).
5. ``migrate apply`` writes it all and ``review-report.xlsx`` says what happened.
6. The sync jobs go on from there, one step each (``demo_sync.STEPS``): e.g. a marketing
   list and a GetResponse List record are created and ``sync lists`` pushes it.

The generator knows the truth, so the demo also says how many links are right. No network,
no account: everything runs on 127.0.0.1 and stops at the end.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from reconcile import model
from reconcile.progress import SILENT, Progress

MERGED_DURING_REVIEW = 5


@dataclass
class DemoResult:
    out_dir: str
    review: str
    report: str
    state: str
    plan: dict[str, Any]
    run: dict[str, Any]
    summary: list[str]
    merged: int = 0
    links_checked: int = 0
    links_wrong: int = 0
    new_wrong: int = 0
    formula_cells: list[str] = field(default_factory=list)
    dashboards: str = ""  # the two dashboards: workbook ...
    dashboards_page: str = ""  # ... and web page (reconcile report)
    sync: list[dict[str, Any]] = field(default_factory=list)  # one entry per sync step
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _merge_some(dataverse: Any, client: Any, review: pd.DataFrame, count: int) -> dict[str, str]:
    """Merge ``count`` linked CRM contacts into the duplicate a colleague created meanwhile
    (same name and email); returns master -> merged contact."""
    linked = review[review[model.DECISION] == "link"].head(count)
    rows, merges, masters = [], [], {}
    for target in linked[model.CRM_CONTACT_ID]:
        found = client.retrieve(
            "contacts", target, select=["firstname", "lastname", "emailaddress1"]
        )
        master = str(uuid.uuid5(uuid.NAMESPACE_URL, f"reconcile-demo-merge:{target}"))
        copy = {k: found.get(k) for k in ("firstname", "lastname", "emailaddress1") if found.get(k)}
        rows.append({"contactid": master, "lastname": "-", **copy})
        merges.append({"master": master, "subordinate": target})
        masters[master] = target
    if rows:
        dataverse.bulk_contacts(rows)
        dataverse.load({"merges": merges})
    return masters


def _score(
    run: Any, truth: pd.DataFrame, masters: dict[str, str], plan: Any
) -> tuple[int, int, int]:
    """(links made, links to a wrong contact, contacts created for people the CRM had)."""
    ids = dict(zip(truth["gr_id"], truth["crm_contact_ids"], strict=True))
    wrong = 0
    for row in run.linked:
        if row["created_by_migration"]:
            continue
        crm = masters.get(row["crm_contact"], row["crm_contact"])
        wrong += crm not in str(ids.get(row["getresponse_contact"], "")).split("|")
    created = {c["contact_id"] for c in run.created}
    new_wrong = sum(
        1
        for contact in plan.contacts
        if contact.contact_id in created and any(ids.get(g) for g in contact.gr_ids)
    )
    checked = sum(1 for row in run.linked if not row["created_by_migration"])
    return checked, wrong, new_wrong


def run_demo(
    out_dir: str | Path,
    *,
    rows: int = 3000,
    seed: int = 7,
    accept_above: float | None = 90.0,
    progress: Progress = SILENT,
) -> DemoResult:
    """Run the whole migration on the sandboxes into ``out_dir`` (see the module docstring)."""
    from reconcile import sandbox
    from reconcile.config import SyncSettings
    from reconcile.dataverse import BearerTokenAuth, DataverseClient, install_roles, install_schema
    from reconcile.dataverse.roles import CONNECTION_USER, SERVICE_USER
    from reconcile.getresponse import ApiKeyAuth, GetResponseClient
    from reconcile.jobs.demo_data import LISTS, bring_list_over, seed_both
    from reconcile.jobs.migrate import apply_plan, load_plan, make_plan
    from reconcile.jobs.sync import environment_key
    from reconcile.state import StateStore
    from reconcile.workbooks.migration import write_run_report
    from reconcile.workbooks.safety import formula_cells
    from reconcile.workbooks.validate import read_review

    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    review_path, report_path = out / "review.xlsx", out / "review-report.xlsx"
    state_path = out / "state.sqlite3"
    with sandbox.start(seed=None) as running:
        dv_sandbox, gr_sandbox = running["dataverse"].sandbox, running["getresponse"].sandbox
        dv_info, gr_info = running["dataverse"].info, running["getresponse"].info

        def client(identity: str) -> DataverseClient:
            token = dv_info["identities"][identity]["token"]
            return DataverseClient(dv_info["url"], auth=BearerTokenAuth(token))

        with progress.task("Seeding both sandboxes with sample data", total=None):
            seeded = seed_both(gr_sandbox, dv_sandbox, rows=rows, seed=seed)
        with client("admin") as admin:
            with progress.task("Installing the connector's tables and roles", total=None):
                install_schema(admin)
                install_roles(admin)
            roles = [SERVICE_USER.name, CONNECTION_USER.name]
            dv_sandbox.load({"identity_roles": {"service": roles}})
            bring_list_over(admin, seeded.lists[LISTS[0]], LISTS[0], "Clients FR")
        sync = SyncSettings(send_custom_fields=True, send_tags=True)
        with (
            client("service") as service,
            GetResponseClient(ApiKeyAuth(gr_info["api_key"]), base_url=gr_info["url"]) as gr,
        ):
            summary = make_plan(  # the demo's own folder: replaced on every run
                service, review_path, gr=gr, sync=sync, accept_above=accept_above,
                progress=progress, force=True,
            )  # fmt: skip
            reviewed = read_review(review_path).rows
            masters = _merge_some(dv_sandbox, service, reviewed, MERGED_DURING_REVIEW)
            plan = load_plan(review_path, allow_duplicates=False, progress=progress)
            with StateStore(state_path) as state:
                run = apply_plan(
                    service,
                    plan,
                    workbook=str(review_path),
                    state=state,
                    progress=progress,
                    sync_environment=environment_key(dv_info["url"], gr_info["url"]),
                )
        from reconcile.jobs.demo_sync import DemoWorld, run_steps

        world = DemoWorld(dv_sandbox, gr_sandbox, dv_info, gr_info, state_path, progress)
        world.settings = _settings(sync)
        synced = run_steps(world)
        from reconcile.jobs.demo_activities import getresponse_time
        from reconcile.jobs.report import build_report, write_report

        # up to GetResponse's own clock, which the demo moved on: the opens of those days are
        # in the time series as they are in the totals
        now = getresponse_time(world)
        with client("admin") as admin, progress.task("Writing the dashboards", total=None):
            dashboards = write_report(
                build_report(admin, environment=f"{dv_info['url']} (sandbox)", now=now),
                out / "dashboards.xlsx",
                out / "dashboards.html",
            )
    run.report_path = str(report_path)
    write_run_report(run.as_dict(), run.summary(), report_path)
    checked, wrong, new_wrong = _score(run, seeded.truth, masters, plan)
    unsafe = [f"{p.name}: {part}" for p in (review_path, report_path) for part in formula_cells(p)]
    return DemoResult(
        out_dir=str(out),
        review=str(review_path),
        report=str(report_path),
        state=str(state_path),
        plan=summary.as_dict(),
        run=run.as_dict(),
        summary=run.summary(),
        merged=len(masters),
        links_checked=checked,
        links_wrong=wrong,
        new_wrong=new_wrong,
        formula_cells=unsafe,
        sync=synced,
        dashboards=str(dashboards.workbook),
        dashboards_page=str(dashboards.page),
        seconds=round(time.perf_counter() - started, 1),
    )


def _settings(sync: Any) -> Any:
    """The settings the demo's sync steps run with: the migration's [sync] choices, and a
    deletion scan on every run (the default is daily) so that the contacts step shows it."""
    from reconcile.config import (
        ContactsSettings,
        DynamicsSettings,
        GetResponseSettings,
        Settings,
    )

    return Settings(
        profile="demo",
        source=None,
        dynamics=DynamicsSettings(),
        getresponse=GetResponseSettings(),
        sync=sync,
        contacts=ContactsSettings(deletion_scan="0"),
    )
