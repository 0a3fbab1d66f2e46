"""``reconcile report``: the two dashboards of SPEC 10 as a workbook and a web page.

:func:`build_report` asks Dynamics for the numbers (aggregates only, see ``gather.py``);
:func:`write_report` writes the workbook and, when asked, the page, both from the same
:class:`~reconcile.jobs.report.model.Report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reconcile.jobs.report.gather import gather
from reconcile.jobs.report.model import Chart, Dashboard, Report

if TYPE_CHECKING:
    from reconcile.dataverse.client import DataverseClient

__all__ = ["Chart", "Dashboard", "Report", "ReportFiles", "build_report", "write_report"]


@dataclass(frozen=True)
class ReportFiles:
    workbook: Path | None
    page: Path | None


def build_report(
    client: DataverseClient,
    *,
    environment: str,
    since: date | None = None,
    lists: tuple[str, ...] = (),
    now: datetime | None = None,
) -> Report:
    return gather(client, environment=environment, since=since, list_names=lists, now=now)


def write_report(
    report: Report, workbook: str | Path | None, page: str | Path | None = None
) -> ReportFiles:
    from reconcile.pages.dashboards import write_page
    from reconcile.workbooks.dashboards import write_dashboards

    book = write_dashboards(report, workbook) if workbook else None
    html = write_page(report, page) if page else None
    return ReportFiles(book, html)
