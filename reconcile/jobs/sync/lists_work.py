"""What the lists job decided for each GetResponse List record: the plan's data, shared by
the planning (``lists_plan``) and the writing (``lists_apply``) steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconcile.jobs.sync.common import Plan
from reconcile.jobs.sync.lists_decide import MemberDecision
from reconcile.jobs.sync.lists_push import Sent


@dataclass
class ListWork:
    """One GetResponse List record, and what this run does with it."""

    record_id: str
    name: str
    action: str  # create | adopt | sync | error | deleted | quiet
    marketing: dict[str, Any] | None = None
    campaign_id: str | None = None
    problem: str | None = None
    complete: bool = False  # members were evaluated in full
    decision: MemberDecision = field(default_factory=MemberDecision)
    already: dict[str, Any] = field(default_factory=dict)  # contact id → GetResponse contact
    waiting: list[Sent] = field(default_factory=list)  # queued by an earlier run
    records_gone: list[str] = field(default_factory=list)  # record ids, list deleted in GR
    warnings: list[str] = field(default_factory=list)
    current_text: str | None = None  # the record's Synchronization error now
    started: str = ""  # when this invocation planned (ISO 8601 UTC): older pushes are retried
    watermark: tuple[str, str] | None = None

    @property
    def label(self) -> str:
        return f"list {self.name!r}"


@dataclass
class ListsPlan(Plan):
    work: list[ListWork] = field(default_factory=list)
