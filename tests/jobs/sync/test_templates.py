"""``sync templates`` over real HTTP against both sandboxes: 'MS CRM' drafts become Template
records, a renamed or deleted draft makes its template inactive and Deleted in GetResponse,
a quiet run costs two requests and writes nothing."""

from __future__ import annotations

from reconcile.dataverse import schema
from reconcile.dataverse.schema import getresponse_id
from reconcile.jobs.sync import jobs, run_job
from reconcile.model import SyncStatus
from tests.jobs.migrate_env import Env, rows
from tests.jobs.sync.sync_env import Contexts

SYNCHRONIZED = schema.SYNC_STATUS_VALUES[SyncStatus.SYNCHRONIZED]
DELETED = schema.SYNC_STATUS_VALUES[SyncStatus.DELETED_IN_GETRESPONSE]
JOB = jobs()["templates"]


def seed_drafts(env: Env, *names: str) -> dict[str, str]:
    env.gr.seed({"campaigns": [{"name": "clients_fr"}]})
    ids = {}
    for name in names:
        made = env.gr.seed(
            {"newsletters": [{"name": name, "subject": f"Subject of {name}", "type": "draft",
                              "campaign": "clients_fr"}]}
        )  # fmt: skip
        ids[name] = next(iter(made["newsletters"].values()))
    return ids


def templates(env: Env) -> dict[str, dict]:
    return {
        getresponse_id(r["grc_getresponseid"]): r
        for r in rows(env.dataverse(), "grc_getresponsetemplates")
    }


def test_ms_crm_drafts_become_templates_and_others_do_not(env: Env, contexts: Contexts) -> None:
    ids = seed_drafts(env, "MS CRM Welcome message", "MS CRM Promo", "Internal draft")
    report = run_job(JOB, contexts())
    assert report.exit_code == 0, report.lines()
    assert report.counts == {"templates written": 2}
    found = templates(env)
    assert set(found) == {ids["MS CRM Welcome message"], ids["MS CRM Promo"]}
    welcome = found[ids["MS CRM Welcome message"]]
    assert welcome["grc_name"] == "MS CRM Welcome message"
    assert welcome["grc_subject"] == "Subject of MS CRM Welcome message"
    assert welcome["grc_synchronizationstatus"] == SYNCHRONIZED
    assert welcome["statecode"] == 0


def test_quiet_run_costs_two_requests_and_writes_nothing(env: Env, contexts: Contexts) -> None:
    seed_drafts(env, "MS CRM Welcome message")
    run_job(JOB, contexts())
    again = run_job(JOB, contexts())
    assert again.counts == {}
    assert again.requests == {"getresponse": 1, "dataverse": 1}
    assert again.lines()[1] == "  nothing to do"


def test_deleted_or_renamed_draft_makes_its_template_unusable(env: Env, contexts: Contexts) -> None:
    ids = seed_drafts(env, "MS CRM Welcome message", "MS CRM Promo")
    run_job(JOB, contexts())
    gr = env.getresponse()
    gr.delete(f"newsletters/{ids['MS CRM Promo']}")
    env.gr.state.conn.execute(
        "UPDATE newsletters SET name = 'Welcome (old)' WHERE name = 'MS CRM Welcome message'"
    )
    report = run_job(JOB, contexts())
    assert report.counts == {"templates marked deleted": 2}
    found = templates(env)
    promo, welcome = found[ids["MS CRM Promo"]], found[ids["MS CRM Welcome message"]]
    for record in (promo, welcome):
        assert record["grc_synchronizationstatus"] == DELETED
        assert record["statecode"] == 1
    assert "no longer exists" in promo["grc_synchronizationerror"]
    assert "renamed 'Welcome (old)'" in welcome["grc_synchronizationerror"]
    # Marked once: the next run has nothing to do.
    assert run_job(JOB, contexts()).counts == {}


def test_dry_run_plans_without_writing(env: Env, contexts: Contexts) -> None:
    seed_drafts(env, "MS CRM Welcome message")
    report = run_job(JOB, contexts(dry_run=True))
    assert report.plan is not None
    assert report.plan["counts"] == {"create template": 1}
    assert "create template:" in report.lines()
    assert templates(env) == {}
    assert contexts().state.runs() == []
