"""Contacts through the client against the sandbox: paging, lookups, queued creation and its
confirmation, rejections, updates, batches, activities."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from gr_fakes import FakeClock
from gr_live import CONTACT_DELAY, SandboxHandle

from reconcile.getresponse import (
    CreateOutcome,
    ForbiddenState,
    GetResponseClient,
    NewContact,
    NotFound,
    RelatedResourceNotFound,
    add_tags,
    create_contact,
    create_contacts,
    create_custom_field,
    create_tag,
    delete_contact,
    find_contact,
    find_contacts_by_email,
    get_contact,
    iter_contacts,
    update_contact,
    upsert_custom_fields,
    wait_for_contacts,
)

LIST = "clients_fr"


def seed_list(gr: SandboxHandle, n: int, **extra: object) -> str:
    contacts = [
        {"email": f"person{i:05d}@example.fr", "name": f"Person {i}", "campaign": LIST}
        for i in range(n)
    ]
    ids = gr.seed({"campaigns": [{"name": LIST}], "contacts": contacts, **extra})
    return ids["campaigns"][LIST]


def test_reads_every_page_of_a_big_list_once(gr: SandboxHandle, client: GetResponseClient) -> None:
    campaign_id = seed_list(gr, 2_345)
    contacts = list(iter_contacts(client, campaign_id=campaign_id, per_page=100))
    assert len(contacts) == 2_345
    assert len({c.contact_id for c in contacts}) == 2_345
    assert {c.campaign_id for c in contacts} == {campaign_id}
    assert client.stats.requests == 24  # TotalPages ends the read: no extra empty page
    assert all(c.created_on is not None and c.created_on.tzinfo for c in contacts)


def test_concurrent_page_reads_give_the_same_records_in_order(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    campaign_id = seed_list(gr, 1_050)
    sequential = [c.contact_id for c in iter_contacts(client, campaign_id=campaign_id, per_page=50)]
    parallel = [
        c.contact_id
        for c in iter_contacts(client, campaign_id=campaign_id, per_page=50, concurrency=4)
    ]
    assert parallel == sequential
    assert len(parallel) == 1_050


def test_progress_is_sized_by_total_count(gr: SandboxHandle, client: GetResponseClient) -> None:
    campaign_id = seed_list(gr, 250)
    seen: list[tuple[str, int | None, int]] = []

    class Task:
        def __init__(self, label: str, total: int | None) -> None:
            self.label, self.total, self.done = label, total, 0

        def advance(self, n: int = 1) -> None:
            self.done += n

    class Recorder:
        def task(self, label: str, total: int | None = None):  # type: ignore[no-untyped-def]
            from contextlib import contextmanager

            @contextmanager
            def run():  # type: ignore[no-untyped-def]
                task = Task(label, total)
                yield task
                seen.append((task.label, task.total, task.done))

            return run()

    assert len(list(iter_contacts(client, campaign_id=campaign_id, progress=Recorder()))) == 250
    assert seen == [("GetResponse contacts", 250, 250)]


def test_search_by_email_is_exact(gr: SandboxHandle, client: GetResponseClient) -> None:
    ids = gr.seed(
        {
            "campaigns": [{"name": LIST}, {"name": "other_list"}],
            "contacts": [
                {"email": "anna@example.fr", "campaign": LIST},
                {"email": "joanna@example.fr", "campaign": LIST},
                {"email": "anna@example.fr.example", "campaign": LIST},
                {"email": "anna@example.fr", "campaign": "other_list"},
            ],
        }
    )
    everywhere = find_contacts_by_email(client, "Anna@Example.fr")
    assert sorted(c.campaign_id for c in everywhere) == sorted(ids["campaigns"].values())
    assert {c.email for c in everywhere} == {"anna@example.fr"}
    in_list = find_contacts_by_email(client, "anna@example.fr", campaign_id=ids["campaigns"][LIST])
    assert [c.email for c in in_list] == ["anna@example.fr"]
    assert find_contacts_by_email(client, "nobody@example.fr") == []


def test_incremental_read_by_change_date(gr: SandboxHandle, client: GetResponseClient) -> None:
    gr.seed(
        {
            "campaigns": [{"name": LIST}],
            "contacts": [
                {
                    "email": "old@example.fr",
                    "campaign": LIST,
                    "createdOn": "2024-01-01T00:00:00+0000",
                },
                {
                    "email": "new@example.fr",
                    "campaign": LIST,
                    "createdOn": "2024-03-01T00:00:00+0000",
                },
            ],
        }
    )
    since = datetime(2024, 2, 1, tzinfo=UTC)
    assert [c.email for c in iter_contacts(client, created_from=since)] == ["new@example.fr"]
    assert [c.email for c in iter_contacts(client, changed_from=since)] == ["new@example.fr"]
    assert [c.email for c in iter_contacts(client, created_to=since)] == ["old@example.fr"]


def test_create_is_queued_then_confirmed(
    gr: SandboxHandle, client: GetResponseClient, clock: FakeClock
) -> None:
    campaign_id = seed_list(gr, 0)
    tier = create_custom_field(client, "tier", format="single_select", values=["gold", "silver"])
    vip = create_tag(client, "vip")
    contact = NewContact(
        "new.person@example.fr",
        name="New Person",
        custom_fields={tier.custom_field_id: "gold"},
        tag_ids=[vip.tag_id],
    )
    outcome = create_contact(client, campaign_id, contact)
    assert outcome.outcome is CreateOutcome.QUEUED
    assert find_contacts_by_email(client, contact.email) == []  # not visible yet

    confirmation = wait_for_contacts(client, campaign_id, [contact.email], poll_interval=10)
    assert confirmation.complete
    assert confirmation.polls > 1
    assert clock.now - 1_000 >= CONTACT_DELAY
    found = get_contact(client, confirmation.found[contact.email].contact_id)
    assert found.name == "New Person"
    assert [t.name for t in found.tags] == ["vip"]
    assert [(v.name, v.values) for v in found.custom_field_values] == [("tier", ("gold",))]

    again = create_contact(client, campaign_id, contact)
    assert again.outcome is CreateOutcome.ALREADY_EXISTS
    assert not again.after_retry


def test_a_duplicate_while_still_queued_is_already_exists(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    campaign_id = seed_list(gr, 0)
    first = create_contact(client, campaign_id, NewContact("twice@example.fr"))
    second = create_contact(client, campaign_id, NewContact("twice@example.fr"))
    assert (first.outcome, second.outcome) == (CreateOutcome.QUEUED, CreateOutcome.ALREADY_EXISTS)


def test_a_create_dropped_mid_answer_is_repeated_and_queued_once(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    campaign_id = seed_list(gr, 0)
    gr.fault(kind="drop", count=1, path="/v3/contacts", method="POST")
    outcome = create_contact(client, campaign_id, NewContact("dropped@example.fr"))
    assert outcome.outcome is CreateOutcome.QUEUED
    assert client.stats.retries == 1
    assert [q["email"] for q in gr.queue()] == ["dropped@example.fr"]


def test_a_create_whose_answer_is_lost_is_repeated_and_reported_as_ours(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    # The first POST is queued by the sandbox, then the connection drops: the repeat is
    # refused with 409, which after a retry is our own first attempt, not a prior contact.
    campaign_id = seed_list(gr, 0)
    gr.fault(kind="drop", after=True, count=1, path="/v3/contacts", method="POST")
    outcome = create_contact(client, campaign_id, NewContact("lost@example.fr"))
    assert (outcome.outcome, outcome.after_retry) == (CreateOutcome.ALREADY_EXISTS, True)
    assert client.stats.retries == 1
    assert [q["email"] for q in gr.queue()] == ["lost@example.fr"]


def test_rejected_contacts_stay_missing_and_cannot_be_added_again(
    gr: SandboxHandle, client: GetResponseClient
) -> None:
    campaign_id = seed_list(gr, 0, blacklist=["@blocked.example"])
    gr.configure(undeliverable_domains=["nowhere.example"])
    with pytest.raises(ForbiddenState):  # blocklisted: refused at once
        create_contact(client, campaign_id, NewContact("spam@blocked.example"))
    for email in ("ok@example.fr", "ghost@nowhere.example"):  # the second is rejected later
        assert create_contact(client, campaign_id, NewContact(email)).outcome == "queued"
    confirmation = wait_for_contacts(
        client, campaign_id, ["ok@example.fr", "ghost@nowhere.example"], timeout=120
    )
    assert list(confirmation.found) == ["ok@example.fr"]
    assert confirmation.missing == ["ghost@nowhere.example"]
    with pytest.raises(ForbiddenState) as caught:
        create_contact(client, campaign_id, NewContact("ghost@nowhere.example"))
    assert caught.value.code == 1002


def test_batches_of_a_thousand_are_queued_and_confirmed_in_one_scan(
    gr: SandboxHandle, client: GetResponseClient, clock: FakeClock
) -> None:
    campaign_id = seed_list(gr, 0)
    since = datetime.fromtimestamp(0, UTC)  # any instant before the submission works here
    people = [NewContact(f"batch{i:04d}@example.fr", name=f"Batch {i}") for i in range(2_100)]
    submitted = list(create_contacts(client, campaign_id, people))
    assert [len(emails) for emails, _ in submitted] == [1000, 1000, 100]
    assert {outcome for _, outcome in submitted} == {CreateOutcome.QUEUED}
    assert clock.now - 1_000 >= 2.0  # paced: one batch call per second
    before = client.stats.requests
    confirmation = wait_for_contacts(
        client, campaign_id, [p.email for p in people], since=since, poll_interval=40
    )
    assert confirmation.complete
    assert client.stats.requests - before <= 2 * 3  # scans of 3 pages, not 2,100 lookups


def test_updates_upserts_and_deletes(gr: SandboxHandle, client: GetResponseClient) -> None:
    ids = gr.seed(
        {
            "campaigns": [{"name": LIST}],
            "customFields": [
                {"name": "tier", "type": "string", "format": "text"},
                {"name": "city", "type": "string", "format": "text"},
            ],
            "tags": [{"name": "vip"}, {"name": "lead"}],
            "contacts": [
                {
                    "email": "anna@example.fr",
                    "name": "Anna",
                    "campaign": LIST,
                    "tags": ["vip"],
                    "customFields": {"tier": ["gold"]},
                }
            ],
        }
    )
    contact_id = ids["contacts"]["anna@example.fr"]
    tier, city = ids["customFields"]["tier"], ids["customFields"]["city"]
    lead = ids["tags"]["lead"]

    upsert_custom_fields(client, contact_id, {city: "Lyon"})
    add_tags(client, contact_id, [lead])
    merged = get_contact(client, contact_id)
    assert {v.name: v.values for v in merged.custom_field_values} == {
        "tier": ("gold",),
        "city": ("Lyon",),
    }
    assert {t.name for t in merged.tags} == {"vip", "lead"}

    replaced = update_contact(
        client, contact_id, name="Anna Martin", custom_fields={tier: "silver"}, tag_ids=[]
    )
    assert replaced.name == "Anna Martin"
    assert {v.name: v.values for v in replaced.custom_field_values} == {"tier": ("silver",)}
    assert replaced.tags == ()
    assert replaced.changed_on is not None

    with pytest.raises(RelatedResourceNotFound):
        upsert_custom_fields(client, contact_id, {"nope": "x"})

    assert delete_contact(client, contact_id) is True
    assert delete_contact(client, contact_id) is False
    assert find_contact(client, contact_id) is None
    with pytest.raises(NotFound):
        get_contact(client, contact_id)
