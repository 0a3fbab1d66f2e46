"""What an ``apply`` run did (or, in a dry run, would do): counts, every record created,
linked, skipped or failed — each failure with the record, the API's message and what to do —
a one-screen summary, and the exit code (0 all done, 1 some rows failed or were not created
as duplicates, 3 the run stopped because a service refused or could not be reached). Rows left
out — waiting for a decision, skipped by the reviewer, without a usable email — are listed in
the report and do not change the exit code: they are the review's outcome, not a failure (a
workbook with shared mailboxes nearly always has some, and 1 must keep meaning "look")."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from reconcile.errors import EXIT_FAILED, EXIT_OK, EXIT_SERVICE

COUNTS = (
    ("lists_created", "GetResponse List records created"),
    ("contacts_created", "CRM contacts created"),
    ("contacts_existed", "CRM contacts already there (created by an earlier apply of this plan)"),
    ("linked_existing", "GetResponse contacts linked to an existing CRM contact"),
    ("linked_new", "GetResponse contacts linked to a contact created by this migration"),
    ("linked_master", "  (of the links above: to the master of a merged CRM contact)"),
    ("unlinked_written", "GetResponse Contact records written without a CRM contact"),
    ("custom_field_values", "custom field values written"),
    ("members_added", "contacts added to marketing lists"),
    ("duplicates", "not created: a CRM contact has this email (duplicates)"),
    ("failed", "failed (see the report's Failed sheet)"),
    ("skipped", "left out (review, skip, invalid email)"),
)


@dataclass(frozen=True)
class Failure:
    """One record that was not written as planned."""

    what: str  # "CRM contact", "GetResponse Contact record", …
    record: str  # its id or key
    email: str
    where: str  # the Review row it comes from
    message: str  # the service's message (or ours)
    action: str  # what the admin can do


@dataclass
class RunReport:
    workbook: str
    environment: str
    dry_run: bool
    run_id: int | None = None
    resumed: bool = False
    already_applied: bool = False
    aborted: str | None = None  # why the run stopped early (service refused / unreachable)
    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k, _ in COUNTS})
    created: list[dict[str, Any]] = field(default_factory=list)
    linked: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[Failure] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    lists: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    report_path: str | None = None
    started_at: str | None = None  # UTC, ISO 8601
    identity: str | None = None  # the Dataverse user the run wrote as (checked before writing)

    @property
    def exit_code(self) -> int:
        if self.aborted:
            return EXIT_SERVICE
        if self.failures or self.duplicates:
            return EXIT_FAILED
        return EXIT_OK

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["exit_code"] = self.exit_code
        out["count_labels"] = dict(COUNTS)
        return out

    def summary(self) -> list[str]:
        """The one-screen summary the CLI prints."""
        verb = "Would apply" if self.dry_run else "Applied"
        lines = [f"{verb} {self.workbook} to {self.environment}"]
        if self.already_applied:
            lines[0] = (
                f"Nothing to do: {self.workbook} was already applied completely to "
                f"{self.environment} (run {self.run_id}); these are that run's results."
            )
        elif self.resumed:
            lines.append(f"Resumed run {self.run_id}: what it had already done was not redone.")
        width = max(len(label) for _, label in COUNTS)
        for key, label in COUNTS:
            value = self.counts.get(key, 0)
            if value or key in ("contacts_created", "linked_existing", "linked_new"):
                lines.append(f"  {label:<{width}} {value:>9,}")
        for failure in (self.duplicates + self.failures)[:5]:
            lines.append(f"  ! {failure.what} {failure.record} {failure.where}: {failure.message}")
        more = len(self.duplicates) + len(self.failures) - 5
        if more > 0:
            lines.append(f"  … and {more:,} more in the report")
        lines.extend(f"Note: {note}" for note in self.notes)
        if self.aborted:
            lines.append(f"Stopped: {self.aborted}")
            lines.append("Run the same command again when the service is back: it resumes.")
        if self.requests:
            parts = ", ".join(f"{k} {v:,}" for k, v in self.requests.items())
            lines.append(f"Requests: {parts}; {self.seconds:.1f} s.")
        if self.report_path:
            lines.append(f"Report: {self.report_path}")
        return lines
