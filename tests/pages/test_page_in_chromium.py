"""The dashboards page in a real browser: headless Chromium (Debian's ``chromium``) opens the
file with every network name unresolvable, takes a screenshot, and the charts are there —
bars, slices and lines in the palette's colours, not a blank page — and it prints to PDF.

Skipped where Chromium is not installed, except in CI (``.ci/run`` installs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from reconcile.jobs.report.model import COUNT, PERCENT, Chart, Dashboard, Report
from reconcile.pages.dashboards import write_page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="chromium is not installed"
)
BLUE, ORANGE = (0x2F, 0x6F, 0xB3), (0xE0, 0x79, 0x2B)


def sample_report() -> Report:
    days = [date(2026, 3, 1) + timedelta(days=i) for i in range(30)]
    contacts = Dashboard(
        "contacts",
        "GetResponse — Contacts",
        [
            Chart("by_status", "By status", "pie", "Status", ["Synchronized", "New", "Error"],
                  {"Contacts": [700, 200, 100]}, {"Contacts": COUNT}),
            Chart("by_list", "By list", "bar", "List", ["clients_fr", "prospects"],
                  {"Contacts": [600, 400]}, {"Contacts": COUNT}),
            Chart("new", "New contacts", "line", "Day", days,
                  {"New contacts": [(i * 7) % 13 for i in range(30)]}, {"New contacts": COUNT}),
        ],
        [("GetResponse contacts", 1000)],
    )  # fmt: skip
    activity = Dashboard(
        "activity",
        "GetResponse — Activity and sent emails",
        [
            Chart("sent", "Newsletters sent", "column", "Day", days,
                  {"Newsletters": [i % 3 for i in range(30)]}, {"Newsletters": COUNT}),
            Chart("rates", "Rates", "bar", "Newsletter", ["Spring", "Summer"],
                  {"Open rate": [0.4, 0.3], "Click rate": [0.1, 0.05]},
                  {"Open rate": PERCENT, "Click rate": PERCENT}),
        ],
        [("Sends", 5000)],
    )  # fmt: skip
    return Report(
        environment="https://contoso.crm4.dynamics.com",
        generated_at=datetime(2026, 3, 31, 12, 0, tzinfo=UTC),
        since=days[0],
        until=days[-1],
        lists=(),
        dashboards=[contacts, activity],
    )


def chromium(*args: str) -> None:
    assert CHROMIUM is not None, "chromium is not installed (.ci/run installs it)"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # the page must need no network
            *args,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def near(pixel: tuple[int, ...], color: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(pixel[:3], color, strict=True))


def test_charts_render_in_headless_chromium(tmp_path: Path) -> None:
    from PIL import Image

    page = write_page(sample_report(), tmp_path / "report.html")
    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,1800", page.as_uri())
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 1800)
    pixels = [image.getpixel((x, y)) for y in range(0, 1800, 2) for x in range(0, 1280, 2)]
    blue = sum(1 for p in pixels if near(p, BLUE))
    orange = sum(1 for p in pixels if near(p, ORANGE))
    assert blue > 1200, "the charts' bars and slices are missing: a blank page?"
    assert orange > 120
    assert len(set(pixels[::37])) > 50  # text, lines and fills, not one flat colour
    pdf = tmp_path / "report.pdf"
    chromium(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri())
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 20_000
