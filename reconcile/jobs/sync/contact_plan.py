"""How ``sync contacts`` builds its plan, step by step: read the changed contacts of each
list, complete them (tags, details), look up their records, decide every write, scan for
deletions, and write down the consequences of a deletion (values, consent).

Everything the plan reads from Dataverse is read in bulk: records and custom field values by
key, 10,000 to a request (``records.read_where_in``); CRM contacts by email for
``contacts.link_by_email`` the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconcile.dataverse import query as q
from reconcile.dataverse import schema as s
from reconcile.getresponse.tagged import tags_of
from reconcile.jobs.sync import contact_records as cr
from reconcile.jobs.sync import records as r
from reconcile.jobs.sync.common import Plan
from reconcile.jobs.sync.contact_reads import changed_contacts
from reconcile.jobs.sync.contact_scan import ScanResult, check_reported, scan_list

if TYPE_CHECKING:
    import datetime as dt

    from reconcile.getresponse.records import Contact
    from reconcile.jobs.sync.context import SyncContext

CONTACT = s.CRM_TABLES["contact"]
WRITE_CONTACT = "prvWriteContact"
# step → (table, write mode, outcome in the report, alternate key), applied in this order: a
# custom field value binds to its contact's record by key, so records come first; marking a
# record Deleted in GetResponse comes last, because a marked record is never looked at again —
# a run killed before its values were emptied or its CRM contact opted out must find the
# record unmarked, and do those again.
STEPS: dict[str, tuple[Any, str, str, tuple[str, ...]]] = {
    "repoint-contacts": (s.CONTACTS, "update", "contact records moved to master", ()),
    "repoint-custom_fields": (s.CUSTOM_FIELDS, "update", "custom field values moved to master", ()),
    "repoint-activities": (s.ACTIVITIES, "update", "activities moved to master", ()),
    "record-new": (s.CONTACTS, "upsert", "contact records created", ("grc_getresponseid",)),
    "record": (s.CONTACTS, "upsert", "contact records updated", ("grc_getresponseid",)),
    "field": (s.CUSTOM_FIELDS, "upsert", "custom field values written",
              ("grc_getresponseid", "grc_contactgetresponseid")),
    "field-gone": (s.CUSTOM_FIELDS, "update", "custom field values removed", ()),
    "consent": (CONTACT, "update", "CRM contacts set no bulk email", ()),
    "gone": (s.CONTACTS, "update", "contact records marked deleted", ()),
}  # fmt: skip


@dataclass(frozen=True)
class Linked:
    """A GetResponse List record the job synchronizes."""

    record_id: str
    campaign_id: str
    name: str


@dataclass
class ContactsPlan(Plan):
    writes: dict[str, list[r.Write]] = field(default_factory=dict)  # step (STEPS) → writes
    left_out: list[tuple[str, str, str]] = field(default_factory=list)  # record, why, action
    # events of ``reconcile listen`` this run handles: inbox key → outcome, resolved after
    # the writes (a run stopped before leaves them for the next)
    inbox: dict[str, str] = field(default_factory=dict)

    def write(self, step: str, w: r.Write, action: str, why: str) -> None:
        self.writes.setdefault(step, []).append(w)
        self.add(action, w.record, why)


@dataclass
class Gone:
    row: dict[str, Any]  # the record (primary id, key, email, link …)
    why: str


class Planner:
    def __init__(
        self,
        ctx: SyncContext,
        plan: ContactsPlan,
        sync: Any,
        settings: Any,
        masters: dict[str, str],
        at: str,
        all_lists: Callable[[], list[Linked]],
    ) -> None:
        self.ctx, self.plan, self.masters, self.at = ctx, plan, masters, at
        self.all_lists = all_lists  # every synchronized list (where a moved contact may be)
        self.send_fields, self.send_tags = bool(sync.send_custom_fields), bool(sync.send_tags)
        self.names = frozenset(n.casefold() for n in sync.custom_fields)
        self.link_by_email = bool(settings.link_by_email)
        self.consent = bool(settings.unsubscribe_sets_donotbulkemail)
        self.seen: dict[str, cr.Seen] = {}
        self.where: dict[str, Linked] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self.gone: dict[str, Gone] = {}
        self.vanished: set[str] = set()  # seen, then 404 when their details were read
        self.unsubscribed: dict[str, str] = {}  # contact id → CRM contact
        self.whole: dict[str, set[str]] = {}  # campaign id → ids, for lists read whole
        self.counts: Counter[str] = Counter()

    # -- reading -------------------------------------------------------------------------
    def read(self, linked: Linked, since: dt.datetime | None) -> dt.datetime | None:
        found, began = changed_contacts(
            self.ctx.gr,
            linked.campaign_id,
            since,
            with_fields=self.send_fields,
            progress=self.ctx.progress,
            label=f"GetResponse contacts of {linked.name} changed",
        )
        for contact_id, seen in found.items():
            self.seen[contact_id], self.where[contact_id] = seen, linked
        if since is None:  # every contact of the list was read: that is a deletion scan too
            self.whole[linked.campaign_id] = set(found)
        what = "read whole" if since is None else f"read from {r.sync_time(since)}"
        self.plan.notes.append(f"List {linked.name!r} {what}: {len(found):,} contacts.")
        return began

    def enrich(self) -> None:
        """Tags (``sync.send_tags``): by one search per tag or one details read per contact,
        whichever costs less; a contact whose details answer 404 was just deleted."""
        if not self.send_tags or not self.seen:
            return
        lists = sorted({self.where[c].campaign_id for c in self.seen})
        read = tags_of(self.ctx.gr, list(self.seen), lists, progress=self.ctx.progress)
        for contact_id, names in read.tags.items():
            self.seen[contact_id].tags = names
        for contact_id, contact in read.details.items():
            if self.send_fields:
                self.seen[contact_id].fields = contact.custom_field_values
        self.vanished = read.gone

    # -- deciding ------------------------------------------------------------------------
    def decide(self) -> None:
        keys = [seen.key for seen in self.seen.values()]
        rows = r.read_where_in(
            self.ctx, cr.RECORDS.entity_set, cr.RECORD_COLUMNS, "grc_getresponseid", keys
        )
        self.records = {s.getresponse_id(str(row["grc_getresponseid"])): row for row in rows}
        links = self._links_by_email() if self.link_by_email else {}
        owners = [row[cr.RECORDS.primary_id] for row in self.records.values()]
        fields = self._field_rows(owners) if self.send_fields else {}
        for contact_id, seen in self.seen.items():
            current = self.records.get(contact_id)
            if current is not None and current.get(r.STATUS) == cr.DELETED:
                self.counts["back"] += 1  # SPEC 8.3: never synchronized again
                continue
            if contact_id in self.vanished:
                if current is not None:
                    self.gone[contact_id] = Gone(current, self._vanished_why(contact_id))
                continue
            self._decide(seen, self.where[contact_id], current, links.get(contact_id), fields)

    def _decide(
        self,
        seen: cr.Seen,
        linked: Linked,
        current: dict[str, Any] | None,
        new_link: str | None,
        fields: dict[str, dict[str, dict[str, Any]]],
    ) -> None:
        old = str(current.get(cr.LINK) or "").lower() or None if current else None
        decision = cr.plan_record(
            seen,
            current,
            list_record_id=linked.record_id,
            list_name=linked.name,
            link=new_link,
            send_tags=self.send_tags,
            at=self.at,
        )
        why = decision.why + (f"; linked by email to CRM contact {new_link}" if new_link else "")
        if decision.body is not None:
            step, action = (
                ("record-new", "create record") if decision.new else ("record", "update record")
            )
            self.plan.write(
                step, r.Write(f"record:{seen.contact_id}", decision.body, seen.label()), action, why
            )
        if not self.send_fields or seen.fields is None:
            return
        effective = new_link or (self.masters.get(old, old) if old else None)
        wanted = cr.wanted_fields(seen, self.names)
        left_out = frozenset({v.custom_field_id for v in seen.fields} - set(wanted))
        upserts, removals = cr.plan_fields(
            seen, wanted, fields.get(seen.contact_id, {}), link=effective, left_out=left_out
        )
        for body, reason in upserts:
            key = f"field:{body['grc_getresponseid']}:{seen.contact_id}"
            self.plan.write(
                "field", r.Write(key, body, seen.label()), "write custom field value", reason
            )
        for body, reason in removals:
            key = f"field-gone:{body[cr.FIELDS.primary_id]}"
            self.plan.write(
                "field-gone", r.Write(key, body, seen.label()), "remove custom field value", reason
            )

    def _vanished_why(self, contact_id: str) -> str:
        name = self.where[contact_id].name
        return f"Deleted in GetResponse: gone from list {name!r} while it was read ({self.at})."

    def _field_rows(self, owners: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        """Contact id → field id → its Custom Field record, for the contacts whose records
        are ``owners``: read by the lookup to the record, which Dataverse indexes (the value's
        own GetResponse contact id is only the second column of its alternate key)."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        if not owners:
            return out
        for row in r.read_where_in(
            self.ctx, cr.FIELDS.entity_set, cr.FIELD_COLUMNS, cr.OWNER,
            [q.as_guid(owner) for owner in owners],
        ):  # fmt: skip
            contact = s.getresponse_id(str(row.get("grc_contactgetresponseid") or ""))
            field = s.getresponse_id(str(row.get("grc_getresponseid") or ""))
            out.setdefault(contact, {})[field] = row
        return out

    def _links_by_email(self) -> dict[str, str]:
        """``contacts.link_by_email``: an unlinked contact's one active CRM contact whose
        primary email is exactly its address — never when two or more hold it."""
        wanted = {
            contact_id: seen.email.strip().casefold()
            for contact_id, seen in self.seen.items()
            if seen.email
            and not (self.records.get(contact_id) or {}).get(cr.LINK)
            and contact_id not in self.vanished
        }
        if not wanted:
            return {}
        holders: dict[str, set[str]] = {}
        emails = sorted(set(wanted.values()))
        for row in r.read_where_in(
            self.ctx, "contacts", ("contactid", "emailaddress1"), "emailaddress1", emails,
            condition=q.eq("statecode", 0),
        ):  # fmt: skip
            email = str(row.get("emailaddress1") or "").strip().casefold()
            holders.setdefault(email, set()).add(str(row["contactid"]).lower())
        links: dict[str, str] = {}
        for contact_id, email in wanted.items():
            found = holders.get(email, set())
            if len(found) == 1:
                links[contact_id] = next(iter(found))
            elif len(found) > 1:
                self.counts["ambiguous"] += 1
        return links

    # -- deletions -----------------------------------------------------------------------
    def scan(self, linked: Linked) -> None:
        result = scan_list(
            self.ctx, linked.record_id, linked.campaign_id, linked.name,
            skip=set(self.seen), consent=self.consent, at=self.at,
            present=self.whole.pop(linked.campaign_id, None),
        )  # fmt: skip
        self.plan.notes.append(
            f"List {linked.name!r}: deletion scan of {result.scanned:,} GetResponse contacts, "
            f"{len(result.gone):,} gone."
        )
        self._found(result, linked)

    def reported(self, linked: Linked, contact_ids: set[str]) -> None:
        """Contacts GetResponse's callbacks said left this list since the last run: checked
        now (SPEC 8.3 "immediately when callbacks report them"), not at the next scan."""
        wanted = contact_ids - set(self.seen) - set(self.gone)
        if not wanted:
            return
        result = check_reported(self.ctx, linked.record_id, linked.campaign_id, linked.name,
                                wanted, consent=self.consent, at=self.at)  # fmt: skip
        self.plan.notes.append(
            f"List {linked.name!r}: {len(wanted):,} contacts reported by GetResponse as having "
            f"left it checked, {len(result.gone):,} gone."
        )
        self._found(result, linked)

    def _found(self, result: ScanResult, linked: Linked) -> None:
        for contact_id, (row, why) in result.gone.items():
            self.gone[contact_id] = Gone(row, why)
        self.unsubscribed.update(result.unsubscribed)
        for contact_id, (row, contact) in result.moved.items():
            self._moved(contact_id, row, contact, linked)

    def _moved(self, contact_id: str, row: dict[str, Any], contact: Contact, old: Linked) -> None:
        """A contact the scan found in another list (moved there, with its history): its
        record follows it when that list is synchronized too; otherwise it is gone for us."""
        target = {x.campaign_id: x for x in self.all_lists()}.get(contact.campaign_id or "")
        if target is None:
            self.gone[contact_id] = Gone(
                row,
                f"Deleted in GetResponse: moved from list {old.name!r} to list "
                f"{contact.campaign_name!r}, which the CRM does not synchronize ({self.at}).",
            )
            return
        seen = cr.Seen.from_contact(contact, with_fields=self.send_fields)
        seen.tags = tuple(sorted(t.name for t in contact.tags))
        self.seen[contact_id], self.where[contact_id] = seen, target
        self._decide(seen, target, self._record(contact_id), None, {})

    def _record(self, contact_id: str) -> dict[str, Any]:
        if contact_id not in self.records:
            key = s.getresponse_key(contact_id)
            for row in r.read_where_in(
                self.ctx, cr.RECORDS.entity_set, cr.RECORD_COLUMNS, "grc_getresponseid", [key]
            ):
                self.records[contact_id] = row
        return self.records.get(contact_id, {})

    def finish(self) -> None:
        """Opt the unsubscribed out, mark what is gone, empty its values; say what was left."""
        self._consent()
        for contact_id, gone in sorted(self.gone.items()):
            record_id = gone.row.get(cr.RECORDS.primary_id)
            if not record_id:
                continue
            label = f"GetResponse contact {gone.row.get('grc_email') or contact_id} ({contact_id})"
            body = cr.gone_body(str(record_id), gone.why, self.at)
            self.plan.write(
                "gone", r.Write(f"gone:{contact_id}", body, label), "mark deleted", gone.why
            )
        owners = [str(g.row[cr.RECORDS.primary_id]) for g in self.gone.values()
                  if g.row.get(cr.RECORDS.primary_id)]  # fmt: skip
        for values in self._field_rows(owners).values():
            for row in values.values():
                if row.get(r.STATUS) == cr.DELETED and row.get("statecode") == 1:
                    continue
                why = "The GetResponse contact was deleted."
                body = cr.field_gone_body(row, why)
                key = f"field-gone:{row[cr.FIELDS.primary_id]}"
                self.plan.write(
                    "field-gone",
                    r.Write(key, body, str(row.get("grc_name"))),
                    "remove custom field value",
                    why,
                )
        if self.counts["back"]:
            self.plan.notes.append(
                f"{self.counts['back']:,} contacts marked Deleted in GetResponse are in "
                "GetResponse again: left as they are (SPEC 8.3, never synchronized again)."
            )
        if self.counts["ambiguous"]:
            self.plan.notes.append(
                f"{self.counts['ambiguous']:,} new contacts have an address several active CRM "
                "contacts hold: not linked (reconcile migrate plan --from crm reviews them)."
            )

    def _consent(self) -> None:
        """Unsubscribed in GetResponse → *Do not allow Bulk Emails* on the CRM contact. That
        needs Write on Contact, which the connector's Service User role does not grant (SPEC
        2): checked first; without it the records are left unmarked, so that the next scan
        tries again once the privilege is given, and the run says so."""
        if not self.unsubscribed:
            return
        from reconcile.dataverse.security import held_privileges

        if not held_privileges(self.ctx.dv, [WRITE_CONTACT]):
            for contact_id in self.unsubscribed:
                self.gone.pop(contact_id, None)
            self.plan.left_out.append(
                (
                    "setting contacts.unsubscribe_sets_donotbulkemail",
                    f"{len(self.unsubscribed):,} contacts unsubscribed in GetResponse are not "
                    f"opted out in the CRM: the connector's identity lacks {WRITE_CONTACT} (Write "
                    "on Contact), which the GetResponse Service User role does not grant. Their "
                    "records are left as they are until it can.",
                    "Give the connector's identity a role with Write on Contact (organization), "
                    "or turn the setting off; the next deletion scan does the rest.",
                )
            )
            self.plan.add("skip opt-out", "unsubscribed contacts", "no Write on Contact",
                          len(self.unsubscribed))  # fmt: skip
            return
        crm = {self.masters.get(c, c) for c in self.unsubscribed.values()}
        for row in r.read_where_in(
            self.ctx, "contacts", ("contactid", "fullname", "donotbulkemail"), "contactid",
            [q.as_guid(c) for c in sorted(crm)],
        ):  # fmt: skip
            if row.get("donotbulkemail") is True:
                continue
            contact_id = str(row["contactid"]).lower()
            body = {"contactid": contact_id, "donotbulkemail": True}
            label = f"CRM contact {row.get('fullname') or contact_id}"
            why = "unsubscribed in GetResponse (contacts.unsubscribe_sets_donotbulkemail)"
            self.plan.write(
                "consent",
                r.Write(f"consent:{contact_id}", body, label),
                "set do not bulk email",
                why,
            )
