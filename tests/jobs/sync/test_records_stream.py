"""``records.write`` over a generator (a spool read lazily) with one journal op per chunk, and
its delete mode, against the Dataverse sandbox: what a job writing a million records needs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from reconcile.dataverse import schema as s
from reconcile.jobs.sync import Journal, Report
from reconcile.jobs.sync import records as r
from reconcile.state import DONE
from tests.jobs.migrate_env import Env, rows
from tests.jobs.sync.sync_env import Contexts


def test_a_generator_is_written_in_chunks_with_one_journal_op_each(
    env: Env, tmp_path: Path
) -> None:
    ctx = Contexts(env, tmp_path / "state.sqlite3")()
    run = ctx.state.open_run("sync:test", ctx.environment)
    journal, report = Journal(ctx.state, run), Report("test", ctx.environment)
    consumed: list[int] = []
    read_ahead: list[int] = []  # how far the generator was read when a record was confirmed

    def writes() -> Iterator[r.Write]:
        for n in range(2500):
            consumed.append(n)
            body = {"grc_getresponseid": f"a{n:05d}", "grc_name": f"message {n}", "grc_count": 1}
            yield r.Write(f"activity:{n}", body, f"activity {n}")

    done = r.write(
        ctx, journal, report, s.ACTIVITIES, writes(), kind="activity",
        outcome="activities written", per_record=False, total=2500,
        on_done=lambda w: read_ahead.append(len(consumed) - int(w.key.split(":")[1])),
    )  # fmt: skip
    assert max(read_ahead) <= r.CHUNK  # never more than a chunk ahead: streamed
    assert done == 2500
    assert report.counts == {"activities written": 2500}
    assert len(rows(env.dataverse(), s.ACTIVITIES.entity_set)) == 2500
    entries = ctx.state.entries(run)
    assert [e.op_key for e in entries] == [
        "activity:activity:0..activity:999:1000",
        "activity:activity:1000..activity:1999:1000",
        "activity:activity:2000..activity:2499:500",
    ]
    assert {e.state for e in entries} == {DONE}

    found = rows(env.dataverse(), s.ACTIVITIES.entity_set)
    ids = [row[s.ACTIVITIES.primary_id] for row in found[:1200]]
    gone = [r.Write(f"gone:{i}", {s.ACTIVITIES.primary_id: i}, "x") for i in ids]
    deleted = r.write(
        ctx, journal, report, s.ACTIVITIES, iter(gone), mode="delete", kind="gone",
        outcome="activities deleted", per_record=False,
    )  # fmt: skip
    assert deleted == 1200
    assert len(rows(env.dataverse(), s.ACTIVITIES.entity_set)) == 1300
