"""Canonical record shapes shared by the core, the edges and the jobs.

DataFrames inside reconcile use these snake_case column names; workbook headers (Dynamics
display names) are mapped to them in ``reconcile.workbooks.columns`` and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum


class Decision(StrEnum):
    """What happens to one GetResponse contact in the migration."""

    LINK = "link"  # confident: link to exactly one existing CRM contact
    REVIEW = "review"  # ambiguous or fuzzy: a person chooses among the candidates
    NEW = "new"  # no CRM contact: one will be created
    INVALID = "invalid"  # no usable email: cannot be migrated as is
    SKIP = "skip"  # the reviewer chose to leave it out


# Decisions a reviewer may type in the Review sheet's dropdown.
REVIEWABLE_DECISIONS = (Decision.LINK, Decision.NEW, Decision.SKIP, Decision.REVIEW)


class SyncStatus(StrEnum):
    """Synchronization status of a connector record in Dynamics (SPEC 3, 4, 6, 7, 8)."""

    NEW = "New"
    CREATED_IN_GETRESPONSE = "Created in GetResponse"
    SYNCHRONIZED = "Synchronized"
    ERROR = "Error"
    DELETED_IN_GETRESPONSE = "Deleted in GetResponse"
    READY_FOR_REALIZATION = "Ready for realization"
    SENT = "Sent"
    # Appended (values are positional): a newsletter GetResponse has scheduled, not yet sent.
    SCHEDULED = "Scheduled"


# --- canonical column names -------------------------------------------------------------
# GetResponse-side contact (as exported from the CRM's GetResponse Contacts table, or read
# from the GetResponse API).
GR_CONTACT_ID = "gr_contact_id"
NAME = "name"
FIRST_NAME = "first_name"
LAST_NAME = "last_name"
EMAIL = "email"
NAME_NEEDS_REVIEW = "name_needs_review"

# CRM-side contact.
CRM_CONTACT_ID = "crm_contact_id"
CRM_NAME = "crm_name"
CRM_FIRST_NAME = "crm_first_name"
CRM_LAST_NAME = "crm_last_name"
CRM_EMAIL = "crm_email"

# Matching outcome, one row per GetResponse contact.
DECISION = "decision"
SCORE = "score"  # 0-100
REASON = "reason"  # a sentence a person can read
CANDIDATES = "candidates"  # review rows: up to 3 "id (score): reason" entries

# Hidden columns of a Dynamics "Export to Excel" workbook, kept so a re-import updates.
ROW_CHECKSUM = "row_checksum"
MODIFIED_ON = "modified_on"
