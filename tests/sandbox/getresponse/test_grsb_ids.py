"""Ids are never reused (a deleted contact's or draft's id is not given to a new one, as on the
service), and a send's opens depend on the newsletter's name and the recipients, not on how
many rows came before — so that two runs of the same scenario hold the same data."""

from __future__ import annotations

from reconcile.sandbox.getresponse import GetResponseSandbox


def test_a_deleted_records_id_is_not_reused(sandbox: GetResponseSandbox) -> None:
    made = sandbox.seed({"campaigns": [{"name": "clients_fr"}]})
    first = sandbox.seed({"contacts": [{"email": "a@x.fr", "campaign": "clients_fr"}]})
    draft = sandbox.seed({"newsletters": [{"name": "MS CRM A", "type": "draft",
                                           "campaign": "clients_fr", "subject": "A"}]})  # fmt: skip
    sandbox.conn.execute("DELETE FROM contacts")
    sandbox.conn.execute("DELETE FROM newsletters")
    second = sandbox.seed({"contacts": [{"email": "b@x.fr", "campaign": "clients_fr"}]})
    again = sandbox.seed({"newsletters": [{"name": "MS CRM B", "type": "draft",
                                           "campaign": "clients_fr", "subject": "B"}]})  # fmt: skip
    assert second["contacts"]["b@x.fr"] != first["contacts"]["a@x.fr"]
    assert again["newsletters"]["MS CRM B"] != draft["newsletters"]["MS CRM A"]
    sandbox.reset()  # a reset starts the ids again
    assert sandbox.seed({"campaigns": [{"name": "clients_fr"}]}) == made


def opens(sandbox: GetResponseSandbox, filler: int) -> set[str]:
    sandbox.reset()
    people = [{"email": f"p{i}@x.fr", "campaign": "clients_fr",
               "createdOn": "2019-01-01T00:00:00+0000"} for i in range(60)]  # fmt: skip
    sandbox.seed({"campaigns": [{"name": "clients_fr"}, {"name": "other"}]})
    sandbox.seed({"newsletters": [{"name": f"filler {i}", "type": "draft", "campaign": "other",
                                   "subject": "x"} for i in range(filler)]})  # fmt: skip
    sandbox.seed({"contacts": people[::-1] if filler else people})
    june = {
        "name": "June news",
        "type": "broadcast",
        "campaign": "clients_fr",
        "subject": "June",
        "sendOn": "2020-01-01T00:00:00+0000",
        "engagement": 1,
    }
    sent = sandbox.seed({"newsletters": [june]})
    assert sent["newsletters"]["June news"]
    rows = sandbox.conn.execute("SELECT email FROM activities WHERE activity = 'open'")
    return {email for (email,) in rows}


def test_who_opens_depends_on_the_newsletter_and_the_recipient_only(
    sandbox: GetResponseSandbox,
) -> None:
    plain = opens(sandbox, 0)
    assert plain  # some do open
    assert opens(sandbox, 3) == plain  # other rows created before, in another order: the same
