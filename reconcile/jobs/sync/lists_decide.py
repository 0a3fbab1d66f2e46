"""The lists job's decisions (SPEC 4, 8.1), as pure functions of what was read.

Nothing here touches a service: given a GetResponse List record, its marketing list, the
account's GetResponse lists, the marketing list's members and the GetResponse Contact
records already linked to the list, these functions say what the run does and why. That is
what ``--dry-run`` prints, and what the tests check without servers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconcile.dataverse import schema as s
from reconcile.emails import is_valid_email, normalize_email
from reconcile.model import SyncStatus

# The connector's own rule for list names (SPEC 4.1), stricter than the API's.
NAME_RULE = re.compile(r"^[a-z0-9_-]{3,64}$")
CONTACT_TARGET = 2  # list.createdfromcode: 1 Account, 2 Contact, 4 Lead

# Texts written into GetResponse Contact records; their first words are how later runs
# recognise what an earlier run did (a record is the only memory Dynamics keeps).
REMOVED_MARK = "No longer on marketing list"
REMOVED_DELETED = "Removed from marketing list"
UNSUBSCRIBED = "Unsubscribed in GetResponse"

LIVE = s.SYNC_STATUS_VALUES[SyncStatus.SYNCHRONIZED]
ERROR = s.SYNC_STATUS_VALUES[SyncStatus.ERROR]
DELETED = s.SYNC_STATUS_VALUES[SyncStatus.DELETED_IN_GETRESPONSE]
NEW = s.SYNC_STATUS_VALUES[SyncStatus.NEW]
CREATED = s.SYNC_STATUS_VALUES[SyncStatus.CREATED_IN_GETRESPONSE]


@dataclass(frozen=True, slots=True)
class Member:
    """A CRM contact of a marketing list, with what decides whether it is sent."""

    contact_id: str
    email: str | None  # normalized
    name: str | None
    active: bool
    no_bulk_email: bool
    no_email: bool

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Member:
        name = row.get("fullname") or " ".join(
            p for p in (row.get("firstname"), row.get("lastname")) if p
        )
        return cls(
            contact_id=str(row["contactid"]).lower(),
            email=normalize_email(row.get("emailaddress1")),
            name=(str(name).strip() or None) if name else None,
            active=row.get("statecode", 0) == 0,
            no_bulk_email=bool(row.get("donotbulkemail")),
            no_email=bool(row.get("donotemail")),
        )


@dataclass(frozen=True, slots=True)
class Linked:
    """A GetResponse Contact record of the list: the memory of an earlier push."""

    record_id: str
    gr_id: str | None
    contact_id: str | None
    email: str | None
    status: int | None
    text: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Linked:
        key = row.get("grc_getresponseid")
        contact = row.get("_grc_contactid_value")
        return cls(
            record_id=str(row[s.CONTACTS.primary_id]).lower(),
            gr_id=s.getresponse_id(key) if key else None,
            contact_id=str(contact).lower() if contact else None,
            email=normalize_email(row.get("grc_email")),
            status=row.get("grc_synchronizationstatus"),
            text=row.get("grc_synchronizationerror"),
        )

    @property
    def live(self) -> bool:
        """The GetResponse contact exists and this record follows it."""
        return self.status == LIVE and self.gr_id is not None

    @property
    def marked_removed(self) -> bool:
        return self.live and (self.text or "").startswith(REMOVED_MARK)

    @property
    def blocks_push(self) -> bool:
        """A record that means "do not send this member again": live, refused by GetResponse
        (Error, until an admin deletes the record), unsubscribed, or deleted in GetResponse
        (SPEC 8.3: never synchronized again). Only our own removal from the marketing list
        lets a member who comes back be sent again."""
        if self.live or self.status == ERROR:
            return True
        return self.status == DELETED and not (self.text or "").startswith(REMOVED_DELETED)


def list_problem(record: Mapping[str, Any], marketing: Mapping[str, Any] | None) -> str | None:
    """Why a New list record cannot go to GetResponse (SPEC 4.1), or None."""
    name = str(record.get("grc_name") or "")
    if not NAME_RULE.match(name):
        suggestion = suggest_name(name)
        example = f" (for example to {suggestion!r})" if suggestion else ""
        return (
            f"The name {name!r} does not follow the connector's rule: 3 to 64 lowercase "
            f"letters, digits, '-' or '_'. Rename the list{example}, then Set as New again."
        )
    if marketing is None:
        return (
            "No marketing list is linked (or it was deleted). Link a marketing list that "
            "targets contacts, then Set as New again."
        )
    if marketing.get("createdfromcode") != CONTACT_TARGET:
        kinds = {1: "accounts", 4: "leads"}
        target = kinds.get(marketing.get("createdfromcode") or 0, "another table")
        return (
            f"Marketing list {marketing.get('listname')!r} targets {target}; only lists "
            "targeting contacts can go to GetResponse (SPEC 4.1). Link another list, then "
            "Set as New again."
        )
    return None


def suggest_name(name: str) -> str | None:
    """A name that follows the rule, made from one that does not ('Clients Été' →
    'clients_ete'), or None when too little is left of it."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    made = re.sub(r"[^a-z0-9_-]+", "_", plain.lower()).strip("_-")[:64]
    return made if NAME_RULE.match(made) else None


def taken_elsewhere(name: str) -> str:
    return (
        f"The name {name!r} is already taken in GetResponse by another account (list names "
        "are unique across all GetResponse accounts). Rename the list, then Set as New again."
    )


@dataclass
class MemberDecision:
    """What to do with one list's members (one evaluation, full or of a subset)."""

    push: list[Member] = field(default_factory=list)
    skipped: list[tuple[Member, str]] = field(default_factory=list)
    email_changed: list[tuple[Member, Linked]] = field(default_factory=list)
    opted_out: list[tuple[Member, Linked]] = field(default_factory=list)
    removed: list[Linked] = field(default_factory=list)
    back: list[Linked] = field(default_factory=list)  # marked removed, a member again
    pending: list[Member] = field(default_factory=list)  # queued earlier, not yet seen


def by_contact_records(by_contact: Mapping[str, list[Linked]]) -> Iterable[Linked]:
    for records in by_contact.values():
        yield from records


def why_not_sent(member: Member, send_inactive: bool, send_opted_out: bool) -> str | None:
    if not member.active and not send_inactive:
        return "inactive in the CRM (lists.send_inactive = true sends it anyway)"
    if member.email is None:
        return "no email address"
    if not is_valid_email(member.email):
        return f"email {member.email!r} is not a valid address"
    if not send_opted_out:
        if member.no_bulk_email:
            return "does not allow bulk email (lists.send_opted_out = true sends it anyway)"
        if member.no_email:
            return "does not allow email (lists.send_opted_out = true sends it anyway)"
    return None


def decide_members(
    members: Iterable[Member],
    records: Iterable[Linked],
    *,
    send_inactive: bool,
    send_opted_out: bool,
    pending: set[str] = frozenset(),  # type: ignore[assignment]
    complete: bool,
) -> MemberDecision:
    """Compare the marketing list's members with the list's GetResponse Contact records.

    ``complete``: ``members`` is the whole list (a full evaluation), so a live record whose
    contact is not among them was removed from the marketing list. ``pending``: contact ids
    queued in GetResponse by an earlier run and not confirmed yet (never sent twice)."""
    out = MemberDecision()
    by_contact: dict[str, list[Linked]] = {}
    for record in records:
        if record.contact_id:
            by_contact.setdefault(record.contact_id, []).append(record)
    seen: set[str] = set()
    # One GetResponse contact per address and list: who holds each address already.
    emails: dict[str, str] = {
        r.email: r.contact_id
        for r in by_contact_records(by_contact)
        if r.live and r.email and r.contact_id
    }
    for member in sorted(members, key=lambda m: m.contact_id):
        if member.contact_id in seen:
            continue
        seen.add(member.contact_id)
        mine = by_contact.get(member.contact_id, [])
        live = next((r for r in mine if r.live), None)
        reason = why_not_sent(member, send_inactive, send_opted_out)
        if live is not None:
            if live.marked_removed:
                out.back.append(live)
            consent = member.no_bulk_email or member.no_email
            if consent and not send_opted_out:
                out.opted_out.append((member, live))
            elif member.email and live.email and member.email != live.email:
                out.email_changed.append((member, live))
            continue
        if any(r.blocks_push for r in mine):
            continue
        if member.contact_id in pending:
            out.pending.append(member)
            continue
        if reason is not None:
            out.skipped.append((member, reason))
            continue
        assert member.email is not None
        other = emails.get(member.email)
        if other is not None and other != member.contact_id:
            out.skipped.append((member, f"shares its email with CRM contact {other} on this list"))
            continue
        emails[member.email] = member.contact_id
        out.push.append(member)
    if complete:
        for contact_id, mine in by_contact.items():
            if contact_id in seen:
                continue
            out.removed.extend(r for r in mine if r.live)
    return out
