"""``sync activities`` over real HTTP against both sandboxes: sends, opens and clicks of the
synchronized contacts become linked Activity records read from a custom report; re-reading
the window writes nothing; the fallback endpoints give the same records; retention,
aggregation and the dry run's estimate."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reconcile.dataverse import schema as s
from reconcile.jobs.sync import activity_sources as sources
from reconcile.jobs.sync.activities import STORAGE
from reconcile.jobs.sync.context import StopSignal
from tests.jobs.migrate_env import Env
from tests.jobs.sync import activities_env as world_env
from tests.jobs.sync.activities_env import SHOP, World, settings


def writes(report: Any) -> dict[str, int]:
    """What a run wrote (its counts without the storage estimate)."""
    return {k: v for k, v in report.counts.items() if k != STORAGE}


@pytest.fixture
def world(env: Env, tmp_path: Path) -> World:
    return world_env.seed(env, tmp_path / "state.sqlite3")


KIND = {v: k for k, v in s.ACTIVITY_TYPES.items()}


def kinds_by_contact(world: World) -> Counter[tuple[str, str]]:
    email_of = {v: k for k, v in world.gr_ids.items()}
    return Counter(
        (email_of[r["grc_contactgetresponseid"]], KIND[r["grc_activitytype"]])
        for r in world.activities()
    )


def test_activities_of_synchronized_contacts_become_linked_records(world: World) -> None:
    report = world.run(settings=settings(source="report"))
    assert report.exit_code == 0, report.lines()
    assert kinds_by_contact(world) == Counter(
        {
            ("anna@example.fr", "send"): 1,
            ("anna@example.fr", "open"): 2,
            ("anna@example.fr", "click"): 1,
            ("jean@example.fr", "send"): 1,
            ("jean@example.fr", "open"): 1,
            ("jean@example.fr", "click"): 1,
            ("paul@example.fr", "send"): 1,
        }
    )  # fmt: skip  — zoe has no GetResponse Contact record
    found = world.activities()
    anna_click = next(r for r in found if r["grc_url"] == SHOP)
    assert anna_click["grc_name"] == "June news"
    assert anna_click["_grc_getresponsecontactid_value"] == world.records["anna@example.fr"]
    assert anna_click["_grc_contactid_value"] == world.crm["anna@example.fr"]
    assert anna_click["_grc_newsletterid_value"] == world.newsletter_record
    assert anna_click["grc_messageid"] == world.newsletter
    assert anna_click["grc_count"] == 1
    assert anna_click["grc_source"] == "report"
    paul = next(
        r for r in found if r["grc_contactgetresponseid"] == world.gr_ids["paul@example.fr"]
    )
    assert paul["_grc_contactid_value"] is None  # no CRM contact: the GetResponse record only
    assert writes(report) == {"activities added or counted": 8}
    # zoe's activities are not kept: the text of a real run (no plan shown) says so, and how
    # to have them: link her, then read the window again
    text = "\n".join(report.lines())
    assert re.search(
        r"Not kept: not a synchronized contact \(no GetResponse Contact record\): [1-9]", text
    )
    assert "--since DAY" in text
    assert report.counts[STORAGE] == 8  # about a KB each (estimated)
    # the newsletters, the report, 5 polls while it is generated (35 s), its file
    assert report.requests["getresponse"] == 8

    again = world.run(
        settings=settings(source="report"),
        options={"since": world.sent_at - dt.timedelta(days=1)},
    )
    assert again.exit_code == 0
    assert writes(again) == {}  # the same window re-read: nothing written
    assert len(world.activities()) == 8


def keys(world: World) -> set[str]:
    return {r["grc_getresponseid"] for r in world.activities()}


def test_the_activity_endpoints_give_the_same_records_as_the_report(world: World) -> None:
    first = world.run(settings=settings(source="api"))  # 180 days back: contact by contact
    assert first.exit_code == 0, first.lines()
    assert any("read contact by contact" in n for n in first.notes)
    by_contacts = keys(world)
    assert len(by_contacts) == 8
    assert {r["grc_source"] for r in world.activities()} == {"contacts"}
    since = {"since": world.sent_at - dt.timedelta(days=1)}
    by_messages = world.run(settings=settings(source="api"), options=since)
    assert writes(by_messages) == {}  # per message (and clicks per contact): the same ids
    assert not any("contact by contact" in n for n in by_messages.notes)
    again = world.run(settings=settings(source="report"), options=since)
    assert writes(again) == {}  # the report finds every activity under the same id
    assert keys(world) == by_contacts


def test_a_plan_without_custom_reports_falls_back_and_says_so(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "SMALL", 0)  # a window too big for the endpoints
    world.env.gr.reports.rules.update({"available": False})
    report = world.run(settings=settings(source="auto"))
    assert report.exit_code == 0, report.lines()
    assert any("not available on this GetResponse plan" in n for n in report.notes)
    assert len(world.activities()) == 8
    forced = world.run(settings=settings(source="report"), options={"since": world.sent_at})
    assert forced.exit_code == 3
    assert "the account's plan has no custom reports" in (forced.aborted or "")


def test_a_small_window_is_read_from_the_endpoints_without_a_report(world: World) -> None:
    since = {"since": world.sent_at - dt.timedelta(days=1)}  # recent: per message
    report = world.run(settings=settings(source="auto"), options=since)
    assert any("not worth the wait" in n for n in report.notes)
    assert not world.env.gr.conn.execute("SELECT 1 FROM custom_reports").fetchone()
    assert len(world.activities()) == 8


def test_a_report_not_ready_in_time_is_taken_up_by_the_next_run(world: World) -> None:
    slow = settings(source="report", report_wait="10s")
    first = world.run(settings=slow)
    assert first.exit_code == 0
    assert writes(first) == {}
    assert any("still generating custom report" in n for n in first.notes)
    assert first.watermarks == {}
    world.env.gr.advance(60)
    second = world.run(settings=slow)
    assert writes(second) == {"activities added or counted": 8}
    assert any("went on with custom report" in n for n in second.notes)
    assert world.env.gr.conn.execute("SELECT count(*) FROM custom_reports").fetchone()[0] == 1
    assert second.watermarks  # the window is written: the watermark moves


class StopWhileWaiting(StopSignal):
    """Ctrl-C / SIGTERM arriving once the custom report has been asked for."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world

    @property
    def requested(self) -> bool:
        return bool(self.world.env.gr.conn.execute("SELECT 1 FROM custom_reports").fetchone())


def test_a_stop_while_the_report_is_generated_ends_the_run_at_once(world: World) -> None:
    # The wait lasts up to activities.report_wait (10 minutes by default): a stop must not
    # wait for the report (systemd kills what does not stop), and the next run goes on with it
    started = world.env.gr.clock()
    first = world.run(settings=settings(source="report"), stop=StopWhileWaiting(world))
    assert first.exit_code == 130, first.lines()
    assert first.interrupted
    assert world.env.gr.clock() - started < 5  # stopped within a second of the wait
    assert writes(first) == {}
    second = world.run(settings=settings(source="report"))
    assert writes(second) == {"activities added or counted": 8}
    assert any("went on with custom report" in n for n in second.notes)
    assert world.env.gr.conn.execute("SELECT count(*) FROM custom_reports").fetchone()[0] == 1


def test_records_past_the_retention_are_deleted(world: World) -> None:
    admin = world.env.dataverse()
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    admin.create(
        s.ACTIVITIES.entity_set,
        {"grc_getresponseid": "0" * 32, "grc_name": "Old news", "grc_activitydate": old,
         "grc_lastactivitydate": old, "grc_activitytype": s.ACTIVITY_TYPES["open"]},
    )  # fmt: skip
    report = world.run(settings=settings(source="report"))
    assert writes(report) == {"activities added or counted": 8, "expired records deleted": 1}
    assert "0" * 32 not in keys(world)
    kept = world.run(settings=settings(source="report", retention_days=1))
    assert writes(kept) == {"expired records deleted": 8}  # two days old, kept one day


def test_aggregated_records_count_what_happened_since_their_last(world: World) -> None:
    aggregated = settings(source="report", aggregate=True)
    first = world.run(settings=aggregated)
    assert first.exit_code == 0, first.lines()
    counts = {
        (r["grc_contactgetresponseid"], KIND[r["grc_activitytype"]]): r["grc_count"]
        for r in world.activities()
    }
    anna = world.gr_ids["anna@example.fr"]
    assert counts[(anna, "open")] == 2
    assert len(counts) == 7  # anna's two opens are one record
    since = {"since": world.sent_at - dt.timedelta(days=1)}
    assert world.run(settings=aggregated, options=since).counts == {}  # counted already
    world.seed_activities(
        [("anna@example.fr", "open", dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5), None)]
    )
    third = world.run(settings=aggregated, options=since)
    assert writes(third) == {"activities added or counted": 1}
    (record,) = [
        r for r in world.activities()
        if r["grc_contactgetresponseid"] == anna and KIND[r["grc_activitytype"]] == "open"
    ]  # fmt: skip
    assert record["grc_count"] == 3
    assert record["grc_lastactivitydate"] > record["grc_activitydate"]


def test_a_newsletter_record_that_appears_later_is_linked(world: World) -> None:
    world.env.dataverse().delete(s.NEWSLETTERS.entity_set, world.newsletter_record)
    world.run(settings=settings(source="report"))
    assert {r["_grc_newsletterid_value"] for r in world.activities()} == {None}
    later = world.env.dataverse().create(
        s.NEWSLETTERS.entity_set,
        {"grc_getresponseid": s.getresponse_key(world.newsletter), "grc_name": "June news"},
        id_column=s.NEWSLETTERS.primary_id,
    )
    again = world.run(settings=settings(source="report"), options={"since": world.sent_at})
    assert writes(again) == {"activity records corrected": 8}
    assert {r["_grc_newsletterid_value"] for r in world.activities()} == {later}


def test_a_report_naming_contacts_by_email_only_is_matched_through_their_list(world: World) -> None:
    columns = {
        "email": "E-mail",
        "message_id": "Newsletter ID",
        "activity": "Action",
        "date": "Time",
    }
    world.env.gr.reports.rules.update({"columns": columns, "compression": "gzip"})
    report = world.run(settings=settings(source="report", clicks=False))
    assert report.exit_code == 0, report.lines()
    assert sorted(KIND[r["grc_activitytype"]] for r in world.activities()) == [
        "open", "open", "open", "send", "send", "send",
    ]  # fmt: skip


def test_the_dry_run_estimates_what_the_run_adds(world: World) -> None:
    dry = world.run(settings=settings(source="report"), dry_run=True)
    assert dry.plan is not None
    estimated = sum(
        i["count"] for i in dry.plan["items"] if i["action"] == "add activities (estimate)"
    )
    assert any("Estimated from GetResponse's statistics" in n for n in dry.notes)
    assert world.activities() == []
    assert not world.env.gr.conn.execute("SELECT 1 FROM custom_reports").fetchone()
    real = world.run(settings=settings(source="report"))
    written = real.counts["activities added or counted"]
    assert abs(estimated - written) <= 0.2 * written
