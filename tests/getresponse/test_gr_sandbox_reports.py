"""Custom reports and callbacks through the client, against the sandbox: a report's files go
pending → in-progress → ready on the sandbox clock and are streamed from their own storage
links (no API key sent); an expired link is replaced by a fresh one; a plan without custom
reports is recognised; the callbacks configuration is read, set and turned off."""

from __future__ import annotations

import tempfile
from datetime import date

import httpx
import pytest
from gr_live import SandboxHandle

from reconcile.getresponse import GetResponseClient, GetResponseError, reports
from reconcile.getresponse import callbacks as cb
from reconcile.getresponse.report_files import read_rows

LIST = "clients_fr"


def seed(gr: SandboxHandle) -> dict:
    return gr.seed(
        {
            "campaigns": [{"name": LIST}],
            "contacts": [
                {"email": "anna@example.fr", "campaign": LIST},
                {"email": "jean@example.fr", "campaign": LIST},
            ],
            "newsletters": [
                {"name": "June news", "type": "broadcast", "campaign": LIST, "subject": "June",
                 "sendOn": "2024-06-01T08:00:00+0000",
                 "clickTracks": [{"name": "Shop", "url": "https://shop.example/"}]}
            ],
            "activities": [
                {"email": email, "campaign": LIST, "newsletter": "June news",
                 "activity": kind, "createdOn": when,
                 **({"clickTrack": "Shop"} if kind == "click" else {})}
                for email, kind, when in [
                    ("anna@example.fr", "send", "2024-06-01T08:00:00+0000"),
                    ("anna@example.fr", "open", "2024-06-01T09:00:00+0000"),
                    ("anna@example.fr", "click", "2024-06-01T09:12:00+0000"),
                    ("jean@example.fr", "open", "2024-06-03T10:00:00+0000"),
                ]
            ],
        }
    )  # fmt: skip


def test_a_report_is_generated_on_the_sandbox_clock_and_streamed(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    ids = seed(gr)
    june = ids["newsletters"]["June news"]
    made = reports.create_activity_report(
        client, name="reconcile 2024-06", start=date(2024, 6, 1), end=date(2024, 6, 2),
        kinds=["send", "open", "click"], message_ids=[june],
    )  # fmt: skip
    assert [f.status for f in made.files] == ["pending"]
    assert reports.find_reports(client, "reconcile 2024-06") == [made.report_id]
    ready = reports.wait_for_report(client, made.report_id, timeout=3600)
    assert ready.ready
    assert ready.raw["scheduling"]["oneTime"]["endDate"] == "2024-06-02T23:59:59+0000"
    (file,) = ready.files
    assert file.download_url is not None
    assert httpx.get(file.download_url).status_code == 200  # a pre-signed link: no key
    gr.advance(301)  # links are valid for 5 minutes
    assert httpx.get(file.download_url).status_code == 403
    before = client.stats.requests
    with tempfile.TemporaryFile() as sink:
        reports.download_report_file(
            client, made.report_id, file.file_id, sink, url=file.download_url
        )
        found = list(read_rows(sink, file.file_id))
    assert client.stats.requests - before == 3  # the expired link, the details, the file
    assert [(r[1], r[4]) for r in found] == [
        ("anna@example.fr", "send"), ("anna@example.fr", "open"), ("anna@example.fr", "click"),
    ]  # jean's open is on June 3rd, outside the window  # fmt: skip
    assert found[2][6] == "https://shop.example/"
    assert {r[0] for r in found} == {ids["contacts"]["anna@example.fr"]}


def test_a_plan_without_custom_reports_is_recognised(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    june = seed(gr)["newsletters"]["June news"]
    gr.configure(custom_reports={"available": False})
    with pytest.raises(GetResponseError) as caught:
        reports.create_activity_report(
            client, name="not on this plan", start=date(2024, 6, 1), end=date(2024, 6, 1),
            kinds=["open"], message_ids=[june],
        )  # fmt: skip
    assert reports.unavailable(caught.value)


def test_a_report_body_is_checked_before_it_is_sent() -> None:
    with pytest.raises(ValueError, match="message id"):
        reports.report_body("x" * 5, date(2024, 1, 1), date(2024, 1, 2), ["open"], [])
    with pytest.raises(ValueError, match="before it starts"):
        reports.report_body("x" * 5, date(2024, 1, 2), date(2024, 1, 1), ["open"], ["N"])
    body = reports.report_body(
        "r" * 90, date(2024, 1, 1), date(2024, 1, 2), ["click", "send"], ["N"]
    )
    assert len(body["name"]) == 70
    assert body["filters"] == {"activityType": ["send", "click"], "messageId": ["N"]}


def test_callbacks_are_read_set_and_turned_off(client: GetResponseClient) -> None:
    assert cb.get_callbacks(client) is None
    made = cb.set_callbacks(
        client, "https://hooks.example.com/getresponse/s3cret", ["open", "click"]
    )
    assert made == cb.Callbacks("https://hooks.example.com/getresponse/s3cret", ("open", "click"))
    assert cb.get_callbacks(client) == made
    assert cb.disable_callbacks(client) is True
    assert cb.get_callbacks(client) is None
