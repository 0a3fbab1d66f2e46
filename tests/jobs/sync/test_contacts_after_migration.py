"""The first ``sync contacts`` after ``migrate apply``: the migration read every contact of
its lists when its plan was made, so the contacts job starts from there — it reads only what
changed in GetResponse since, and asks for no full read (a migrated list is not a lost
watermark)."""

from __future__ import annotations

from pathlib import Path

from reconcile.config import SyncSettings
from reconcile.jobs.migrate import apply_plan, load_plan, make_plan
from reconcile.jobs.sync import jobs, run_job
from reconcile.state import StateStore
from tests.jobs.migrate_env import Env, records, seed_small
from tests.jobs.sync.sync_env import Contexts


def migrate(env: Env, tmp_path: Path, contexts: Contexts, *, tell_sync: bool) -> None:
    review = tmp_path / "review.xlsx"
    make_plan(env.dataverse(), review, gr=env.getresponse(), sync=SyncSettings(send_tags=True))
    plan = load_plan(review, allow_duplicates=False)
    with StateStore(contexts.state_path) as state:
        report = apply_plan(
            env.dataverse(),
            plan,
            workbook=str(review),
            state=state,
            sync_environment=contexts().environment if tell_sync else None,
        )
    assert report.exit_code == 0


def test_the_first_contacts_run_after_a_migration_reads_only_what_changed(
    env: Env, tmp_path: Path
) -> None:
    ids = seed_small(env)
    contexts = Contexts(env, tmp_path / "state.sqlite3")
    migrate(env, tmp_path, contexts, tell_sync=True)
    anna = ids["contacts"][("clients_fr", "anna.martin@gmail.com")]
    env.getresponse().post(f"contacts/{anna}", {"name": "Anna Martin-Roux"}, idempotent=True)
    report = run_job(jobs()["contacts"], contexts())
    assert report.exit_code == 0, report.lines()
    assert records(env.dataverse())[anna]["grc_name"] == "Anna Martin-Roux"
    # Only Anna changed since the plan read GetResponse: one record written, nothing else.
    assert report.counts == {"contact records updated": 1}


def test_without_the_migration_s_read_time_the_job_asks_for_one_full_read(
    env: Env, tmp_path: Path
) -> None:
    seed_small(env)
    contexts = Contexts(env, tmp_path / "state.sqlite3")
    migrate(env, tmp_path, contexts, tell_sync=False)
    report = run_job(jobs()["contacts"], contexts())
    assert report.exit_code == 1
    assert all("--full" in f.action for f in report.failures)
