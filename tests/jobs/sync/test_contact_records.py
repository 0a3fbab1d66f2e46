"""The pure rules of ``sync contacts`` (no servers): what a record or a custom field value
needs, compared as Dynamics stores it, and the deletion-scan cadence."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from reconcile.errors import ConfigError
from reconcile.getresponse.records import CustomFieldValue
from reconcile.jobs.sync import contact_records as cr
from reconcile.jobs.sync.contact_scan import cadence

LIST = "11111111-1111-1111-1111-111111111111"
CRM = "22222222-2222-2222-2222-222222222222"
AT = "2026-03-01T10:00:00Z"


def seen(**changes: Any) -> cr.Seen:
    values: dict[str, Any] = {
        "contact_id": "pV3r", "campaign_id": "C", "email": "anna@x.fr", "name": "Anna",
        "origin": "api", "created_on": dt.datetime(2021, 3, 4, 11, 0, tzinfo=dt.timezone(
            dt.timedelta(hours=1))), "scoring": 12.4, "engagement_score": 4,
        "fields": (CustomFieldValue("f1", "ville", ("Lyon",), "text"),
                   CustomFieldValue("f2", "pays", ("France",), "text")),
        "tags": ("client", "vip"),
    }  # fmt: skip
    values.update(changes)
    return cr.Seen(**values)


def stored(**changes: Any) -> dict[str, Any]:
    """The record as Dataverse returns it after the migration wrote it."""
    row: dict[str, Any] = {
        "grc_getresponseid": "pV3r~1", "grc_name": "Anna", "grc_email": "anna@x.fr",
        "grc_engagementscore": 4, "grc_scoringpoints": 12, "grc_origin": "api",
        "grc_createdingetresponseon": "2021-03-04T10:00:00Z", "grc_tags": "client, vip",
        "grc_synchronizationstatus": cr.SYNCHRONIZED, "grc_synchronizationerror": None,
        "statecode": 0, cr.LINK: CRM, cr.LIST: LIST,
    }  # fmt: skip
    row.update(changes)
    return row


def decide(contact: cr.Seen, current: dict[str, Any] | None, **kwargs: Any) -> cr.Decision:
    options = {"list_record_id": LIST, "list_name": "clients_fr", "link": None,
               "send_tags": True, "at": AT, **kwargs}  # fmt: skip
    return cr.plan_record(contact, current, **options)


def test_the_same_contact_read_again_needs_no_write() -> None:
    """Dates in UTC seconds, scoring rounded, tags sorted: as the migration wrote them."""
    assert decide(seen(), stored()).body is None


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"name": "Anna M."}, "name changed"),
        ({"email": "a@y.fr"}, "email changed"),
        ({"engagement_score": 5}, "engagement score changed"),
        ({"scoring": 13.0}, "scoring points changed"),
        ({"tags": ("vip",)}, "tags changed"),
    ],
)
def test_a_mapped_change_is_written_with_why(change: dict[str, Any], why: str) -> None:
    decision = decide(seen(**change), stored())
    assert decision.body is not None
    assert decision.why == why


def test_a_new_contact_has_no_crm_contact_and_status_new() -> None:
    decision = decide(seen(name=None), None)
    assert decision.new
    assert decision.body is not None
    assert decision.body["grc_name"] == "anna@x.fr"  # no name: the email, as the migration
    assert decision.body["grc_synchronizationstatus"] == cr.NEW
    assert "grc_ContactId@odata.bind" not in decision.body


def test_tags_not_sent_are_never_written_or_compared() -> None:
    decision = decide(seen(tags=None), stored(grc_tags="old"), send_tags=False)
    assert decision.body is None


def test_another_jobs_note_and_an_inactive_record_are_left_alone() -> None:
    note = "No longer on marketing list 'Clients FR'."
    assert decide(seen(), stored(grc_synchronizationerror=note, statecode=1)).body is None
    changed = decide(seen(name="Anna M."), stored(grc_synchronizationerror=note))
    assert changed.body is not None
    assert cr.r.ERROR_TEXT not in changed.body
    assert "statecode" not in changed.body


def test_an_error_is_cleared_once_the_contact_is_fine() -> None:
    decision = decide(seen(), stored(grc_synchronizationstatus=cr.ERROR,
                                     grc_synchronizationerror="refused"))  # fmt: skip
    assert decision.body is not None
    assert decision.body[cr.r.ERROR_TEXT] is None
    assert decision.why == "status changed"


def test_a_link_by_email_and_a_move_to_another_list_are_changes() -> None:
    unlinked = stored(**{cr.LINK: None, "grc_synchronizationstatus": cr.NEW})
    linked = decide(seen(), unlinked, link=CRM)
    assert linked.body is not None
    assert linked.body["grc_ContactId@odata.bind"] == f"/contacts({CRM})"
    assert linked.body["grc_synchronizationstatus"] == cr.SYNCHRONIZED
    moved = decide(seen(), stored(**{cr.LIST: "33333333-3333-3333-3333-333333333333"}))
    assert moved.why == "list (now 'clients_fr') changed"


def field_row(field: str, value: str | None, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        cr.FIELDS.primary_id: f"id-{field}", "grc_getresponseid": field,
        "grc_contactgetresponseid": "pV3r~1", "grc_name": {"f1": "ville", "f2": "pays"}[field],
        "grc_value": value, "grc_fieldtype": "text", "grc_synchronizationstatus": cr.SYNCHRONIZED,
        "grc_synchronizationerror": None, "statecode": 0, cr.LINK: CRM, cr.OWNER: "record-id",
    }  # fmt: skip
    row.update(changes)
    return row


def test_custom_field_values_written_only_when_they_differ_and_removed_not_left_stale() -> None:
    contact = seen(fields=(CustomFieldValue("f1", "ville", ("Nice",), "text"),))
    wanted = cr.wanted_fields(contact, frozenset())
    current = {"f1": field_row("f1", "Lyon"), "f2": field_row("f2", "France")}
    upserts, removals = cr.plan_fields(contact, wanted, current, link=CRM)
    assert [(b["grc_value"], why) for b, why in upserts] == [("Nice", "ville: value changed")]
    assert len(removals) == 1
    body, why = removals[0]
    assert (body["grc_value"], body["statecode"], body["grc_synchronizationstatus"]) == (
        None, 1, cr.DELETED)  # fmt: skip
    assert "Removed in GetResponse" in why
    same = {"f1": field_row("f1", "Nice")}
    assert cr.plan_fields(contact, wanted, same, link=CRM) == ([], [])


def test_fields_the_settings_leave_out_are_marked_with_that_reason() -> None:
    contact = seen()
    wanted = cr.wanted_fields(contact, frozenset({"ville"}))
    assert set(wanted) == {"f1"}
    current = {"f1": field_row("f1", "Lyon"), "f2": field_row("f2", "France")}
    _, removals = cr.plan_fields(contact, wanted, current, link=CRM, left_out=frozenset({"f2"}))
    assert "sync.custom_fields" in removals[0][1]


def test_a_value_on_the_wrong_crm_contact_is_re_pointed() -> None:
    contact = seen()
    wanted = cr.wanted_fields(contact, frozenset())
    current = {"f1": field_row("f1", "Lyon", **{cr.LINK: None}), "f2": field_row("f2", "France")}
    upserts, _ = cr.plan_fields(contact, wanted, current, link=CRM)
    assert [why for _, why in upserts] == ["ville: links changed"]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1d", 86400), ("12h", 43200), ("30m", 1800), ("1w", 604800), ("0", 0), ("off", None)],
)
def test_deletion_scan_cadence(text: str, seconds: int | None) -> None:
    found = cadence(text)
    assert (found.total_seconds() if found is not None else None) == seconds


def test_a_bad_cadence_is_a_settings_error() -> None:
    with pytest.raises(ConfigError, match=r"contacts\.deletion_scan"):
        cadence("daily")
