"""Column names and small helpers shared by the two dashboards' queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from reconcile.dataverse import schema as s
from reconcile.model import SyncStatus

P = s.PUBLISHER.prefix
STATUS = f"{P}_synchronizationstatus"
LIST = f"{P}_getresponselistid"
CONTACT = f"{P}_contactid"
GR_CONTACT = f"{P}_getresponsecontactid"
TYPE = f"{P}_activitytype"
DATE = f"{P}_activitydate"
TYPE_NAMES = {value: name.capitalize() for name, value in s.ACTIVITY_TYPES.items()}
SENT_STATUSES = (SyncStatus.SENT, SyncStatus.SYNCHRONIZED)
TOP = 10
DRAWN = 15  # bars a chart draws at most (its table has every row)


def status_name(value: Any) -> str:
    status = s.SYNC_STATUS_BY_VALUE.get(int(value)) if value is not None else None
    return status.value if status else "(none)"


def day_text(when: date) -> str:
    return datetime.combine(when, time(), tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
