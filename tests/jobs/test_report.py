"""``reconcile report`` against the Dataverse sandbox over real HTTP: every figure of both
dashboards equals the count read record by record through the Web API, also when the tables
are bigger than the aggregate limit (made small here) and must be counted in ranges."""

from __future__ import annotations

import random
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from reconcile.dataverse import install_schema
from reconcile.dataverse import schema as s
from reconcile.jobs.report import build_report, write_report
from reconcile.jobs.report.model import Report
from reconcile.model import SyncStatus
from reconcile.sandbox.dataverse import aggregate
from tests.dataverse.conftest import Target

pytest_plugins = ["tests.dataverse.conftest"]

P = "grc"
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
STATUSES = [
    SyncStatus.SYNCHRONIZED,
    SyncStatus.NEW,
    SyncStatus.ERROR,
    SyncStatus.DELETED_IN_GETRESPONSE,
]


class Clock:
    """The sandbox's clock, moved by hand so records get spread-out ``createdon`` values."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def crm(dv: Target) -> Iterator[tuple[Any, Clock]]:
    client = dv.client()
    install_schema(client)
    clock = Clock(NOW - timedelta(days=40))
    previous = dv.sandbox.store.clock
    dv.sandbox.store.clock = clock
    rng = random.Random(12)
    lists = []
    for name in ("clients_fr", "prospects"):
        marketing = client.create("lists", {"listname": name, "createdfromcode": 2, "type": False})
        lists.append(
            client.create(
                s.LISTS.entity_set,
                {
                    f"{P}_name": name,
                    f"{P}_MarketingListId@odata.bind": f"/lists({marketing})",
                },
            )
        )
    crm_contact = client.create("contacts", {"firstname": "Ann", "lastname": "Lee"})
    contacts = []
    for i in range(36):
        clock.now += timedelta(hours=rng.randint(1, 20))
        body: dict[str, Any] = {
            f"{P}_name": f"Person {i}",
            f"{P}_email": f"p{i}@example.com",
            f"{P}_getresponseid": f"c{i}",
            f"{P}_synchronizationstatus": s.SYNC_STATUS_VALUES[STATUSES[i % 4]],
            f"{P}_GetResponseListId@odata.bind": f"/{s.LISTS.entity_set}({lists[i % 3 % 2]})",
            f"{P}_createdingetresponseon": (NOW - timedelta(days=rng.randint(0, 60))).isoformat(),
        }
        if i % 5:
            body[f"{P}_engagementscore"] = rng.randint(1, 5)  # GetResponse's 1 to 5
        if i % 4 != 3:
            body[f"{P}_origin"] = rng.choice(["import", "api", "landing_page"])
        if i % 3 == 0:
            body[f"{P}_ContactId@odata.bind"] = f"/contacts({crm_contact})"
        contacts.append(client.create(s.CONTACTS.entity_set, body))
    sent = s.SYNC_STATUS_VALUES[SyncStatus.SENT]
    for n, (name, status) in enumerate(
        [("Spring sale", sent), ("Draft", s.SYNC_STATUS_VALUES[SyncStatus.NEW])]
    ):
        client.create(
            s.NEWSLETTERS.entity_set,
            {
                f"{P}_name": name,
                f"{P}_getresponseid": f"m{n}",
                f"{P}_synchronizationstatus": status,
                f"{P}_scheduledon": (NOW - timedelta(days=10 + n)).isoformat(),
            },
        )
    for i in range(120):
        clock.now += timedelta(hours=rng.randint(0, 6))
        kind = rng.choice(["send", "send", "open", "click"])
        message = rng.choice([("m0", "Spring sale"), ("m1", "Welcome")])
        body = {
            f"{P}_name": message[1],
            f"{P}_messageid": message[0],
            f"{P}_getresponseid": f"a{i}",
            f"{P}_activitytype": s.ACTIVITY_TYPES[kind],
            f"{P}_activitydate": (NOW - timedelta(days=rng.randint(0, 45), hours=i)).isoformat(),
            f"{P}_GetResponseContactId@odata.bind": (
                f"/{s.CONTACTS.entity_set}({rng.choice(contacts)})"
            ),
        }
        if kind == "click":
            body[f"{P}_url"] = rng.choice(["https://example.com/a", "https://example.com/b"])
        client.create(s.ACTIVITIES.entity_set, body)
    dv.sandbox.store.clock = lambda: NOW
    yield client, clock
    dv.sandbox.store.clock = previous


def read_all(client: Any, table: s.Table) -> list[dict[str, Any]]:
    return list(client.query(table.entity_set))


def day(text: str | None) -> date | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date() if text else None


def series(report: Report, board: str, chart: str) -> dict[Any, Any]:
    found = report.dashboard(board).chart(chart)
    name = next(iter(found.series))
    return dict(zip(found.categories, found.series[name], strict=True))


def check_against_records(report: Report, client: Any, since: date | None) -> None:
    contacts = read_all(client, s.CONTACTS)
    status = Counter(
        s.SYNC_STATUS_BY_VALUE[r[f"{P}_synchronizationstatus"]].value for r in contacts
    )
    assert series(report, "contacts", "contacts_by_status") == dict(status)
    linked = sum(1 for r in contacts if r.get(f"_{P}_contactid_value"))
    assert series(report, "contacts", "contacts_linked") == {
        "With CRM contact": linked,
        "Without CRM contact": len(contacts) - linked,
    }
    names = {r[s.LISTS.primary_id]: r[f"{P}_name"] for r in read_all(client, s.LISTS)}
    assert series(report, "contacts", "contacts_by_list") == dict(
        Counter(names[r[f"_{P}_getresponselistid_value"]] for r in contacts)
    )
    assert series(report, "contacts", "contacts_by_origin") == dict(
        Counter(r.get(f"{P}_origin") or "(not set)" for r in contacts)
    )
    words = {1: "1 (least)", 5: "5 (most)"}
    buckets = Counter(
        "no score"
        if r.get(f"{P}_engagementscore") is None
        else words.get(r[f"{P}_engagementscore"], str(r[f"{P}_engagementscore"]))
        for r in contacts
    )
    scores = series(report, "contacts", "engagement_scores")
    assert {k: v for k, v in scores.items() if v} == dict(buckets)
    created = Counter(day(r[f"{P}_createdingetresponseon"]) for r in contacts)
    new = series(report, "contacts", "new_contacts")
    assert {k: v for k, v in new.items() if v} == {
        k: v for k, v in created.items() if since is None or k >= since
    }
    activities = read_all(client, s.ACTIVITIES)
    if since:
        activities = [r for r in activities if day(r[f"{P}_activitydate"]) >= since]
    over_time = report.dashboard("activity").chart("activity_over_time")
    for kind in ("send", "open", "click"):
        got = dict(
            zip(over_time.categories, over_time.series[kind.capitalize() + "s"], strict=True)
        )
        expected = Counter(
            day(r[f"{P}_activitydate"])
            for r in activities
            if r[f"{P}_activitytype"] == s.ACTIVITY_TYPES[kind]
        )
        assert {k: v for k, v in got.items() if v} == dict(expected)
    rates = report.dashboard("activity").chart("newsletter_rates")
    for i, name in enumerate(rates.categories):
        mine = [r for r in activities if r[f"{P}_name"] == name]
        kinds = Counter(r[f"{P}_activitytype"] for r in mine)
        assert rates.extra["Sends"][i] == kinds[s.ACTIVITY_TYPES["send"]]
        assert rates.extra["Opens"][i] == kinds[s.ACTIVITY_TYPES["open"]]
        sends = kinds[s.ACTIVITY_TYPES["send"]]
        assert rates.series["Open rate"][i] == pytest.approx(
            kinds[s.ACTIVITY_TYPES["open"]] / sends if sends else 0
        )
    assert series(report, "activity", "top_urls") == dict(
        Counter(
            r[f"{P}_url"] for r in activities if r[f"{P}_activitytype"] == s.ACTIVITY_TYPES["click"]
        )
    )
    sent = series(report, "activity", "newsletters_sent")
    assert sum(sent.values()) == 1
    engaged = report.dashboard("activity").chart("most_engaged")
    live = [
        r
        for r in contacts
        if r.get(f"{P}_engagementscore") is not None
        and r[f"{P}_synchronizationstatus"]
        != s.SYNC_STATUS_VALUES[SyncStatus.DELETED_IN_GETRESPONSE]
    ]
    best = sorted(live, key=lambda r: (-r[f"{P}_engagementscore"], r[f"{P}_email"]))[:10]
    assert engaged.extra["Email"] == [r[f"{P}_email"] for r in best]
    by_contact = Counter(
        (r[f"_{P}_getresponsecontactid_value"], r[f"{P}_activitytype"]) for r in activities
    )
    assert engaged.extra["Opens"] == [
        by_contact[(r[s.CONTACTS.primary_id], s.ACTIVITY_TYPES["open"])] for r in best
    ]


def test_every_figure_equals_the_records_read_through_the_api(crm: Any) -> None:
    client, _ = crm
    report = build_report(client, environment="sandbox", now=NOW)
    check_against_records(report, client, None)
    assert report.dashboard("contacts").figures[0] == ("GetResponse contacts", 36)


def test_tables_over_the_aggregate_limit_are_counted_in_ranges(
    crm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = crm
    whole = build_report(client, environment="sandbox", now=NOW)
    monkeypatch.setattr(aggregate, "RECORD_LIMIT", 7)  # the service's 50,000, made small
    since = (NOW - timedelta(days=30)).date()
    split = build_report(client, environment="sandbox", now=NOW)
    assert split.queries > whole.queries * 3
    assert [c.series for d in split.dashboards for c in d.charts] == [
        c.series for d in whole.dashboards for c in d.charts
    ]
    check_against_records(
        build_report(client, environment="sandbox", now=NOW, since=since), client, since
    )


def test_list_filter_and_unknown_list(crm: Any) -> None:
    client, _ = crm
    report = build_report(client, environment="sandbox", now=NOW, lists=("clients_fr",))
    assert list(series(report, "contacts", "contacts_by_list")) == ["clients_fr"]
    from reconcile.errors import InputError

    with pytest.raises(InputError, match="no GetResponse List has that name"):
        build_report(client, environment="sandbox", now=NOW, lists=("nope",))


def test_workbook_has_native_charts_tables_numbers_and_dates(crm: Any, tmp_path: Path) -> None:
    client, _ = crm
    report = build_report(client, environment="sandbox", now=NOW)
    files = write_report(report, tmp_path / "dashboards.xlsx", tmp_path / "report.html")
    book = openpyxl.load_workbook(files.workbook)
    assert book.sheetnames == ["Contacts", "Activity", "Contacts data", "Activity data"]
    with zipfile.ZipFile(files.workbook) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 12  # native charts: Excel draws them from the data sheets
        xml = archive.read("xl/charts/chart1.xml").decode()
        assert "'Contacts data'!$B$" in xml
    data = book["Contacts data"]
    assert "t_contacts_by_status" in data.tables
    first = data.tables["t_new_contacts"].ref.split(":")[0]
    row = data[first].row + 1
    assert isinstance(data.cell(row, 1).value, datetime)
    assert isinstance(data.cell(row, 2).value, int)
    assert book["Contacts"]["B3"].value == "sandbox"
    assert isinstance(book["Contacts"]["B6"].value, datetime)
    # Every number of every chart is in the workbook's tables, as numbers and dates.
    for dashboard, sheet in zip(report.dashboards, ["Contacts data", "Activity data"], strict=True):
        tables = book[sheet].tables
        for chart in dashboard.charts:
            cells = book[sheet][tables[f"t_{chart.key}"].ref]
            assert [c.value for c in cells[0]] == chart.columns()
            got = [[c.value for c in row] for row in cells[1:]]
            want = [
                [datetime(v.year, v.month, v.day) if isinstance(v, date) else v for v in row]
                for row in chart.rows()
            ]
            assert got == (want or [[None] * len(chart.columns())]), chart.key
    page = files.page.read_text(encoding="utf-8")
    for chart in report.dashboard("contacts").charts:
        for value in chart.series[next(iter(chart.series))]:
            assert f"<td class='n'>{int(value):,}</td>" in page
    assert page.count("<svg") == 12
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "<script" not in page


def test_engagement_scores_are_getresponse_s_one_to_five() -> None:
    from reconcile.jobs.report.model import score_buckets

    labels, counts = score_buckets({1: 4, 3: 2, 5: 7, None: 1})
    assert dict(zip(labels, counts, strict=True)) == {
        "1 (least)": 4, "2": 0, "3": 2, "4": 0, "5 (most)": 7, "no score": 1,
    }  # fmt: skip
    labels, counts = score_buckets({2: 1, 40: 3})  # not GetResponse's: shown, not hidden
    assert labels[-1] == "other (not 1-5)"
    assert counts[-1] == 3
