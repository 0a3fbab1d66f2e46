"""The demo's contacts step: what happens in GetResponse after the migration, before the
hourly ``reconcile sync contacts`` (SPEC 5.1-5.3, 8).

The migration left the watermark the hourly runs start from (when its plan read
GetResponse), so no full read is needed. In GetResponse, after the migration: two contacts
renamed, one email changed, GetResponse's engagement scores moving for three, a custom field
value and a tag changed, two contacts subscribing, two deleted — and the demo runs the job.
"""

from __future__ import annotations

from typing import Any

from reconcile.jobs.demo_data import LISTS

RENAMED, RESCORED, DELETED = 2, 3, 2


def prepare(world: Any) -> list[str]:
    gr_sandbox = world.gr_sandbox
    campaign = gr_sandbox.conn.execute(
        "SELECT cid, id FROM campaigns WHERE name = ?", (LISTS[0],)
    ).fetchone()
    rows = gr_sandbox.conn.execute(
        "SELECT cid, email, name FROM contacts WHERE campaign = ? ORDER BY id LIMIT 20",
        (campaign[1],),
    ).fetchall()
    ids = [r[0] for r in rows]
    fields = dict(gr_sandbox.conn.execute("SELECT name, cid FROM custom_fields").fetchall())
    tags = dict(gr_sandbox.conn.execute("SELECT name, cid FROM tags").fetchall())
    with world.getresponse() as gr:
        for cid, _, name in rows[:RENAMED]:
            gr.post(f"contacts/{cid}", {"name": f"{name or 'Contact'} (renamed)"}, idempotent=True)
        gr.post(f"contacts/{ids[2]}", {"email": f"new.{rows[2][1]}"}, idempotent=True)
        gr.post(
            f"contacts/{ids[3]}/custom-fields",
            {"customFieldValues": [{"customFieldId": fields["ville"], "value": ["Bordeaux"]}]},
            idempotent=True,
        )
        first_tag = next(iter(tags.values()))
        gr.post(f"contacts/{ids[4]}/tags", {"tags": [{"tagId": first_tag}]}, idempotent=True)
        for cid in ids[-DELETED:]:
            gr.delete(f"contacts/{cid}")
    gr_sandbox.contacts.rescore({cid: {"engagementScore": 5} for cid in ids[5 : 5 + RESCORED]})
    new = [
        {"email": f"nouveau.{n}@example.org", "name": f"Nouveau Contact {n}", "campaign": LISTS[0]}
        for n in (1, 2)
    ]
    gr_sandbox.seed({"contacts": new})
    return [
        f"In GetResponse list '{LISTS[0]}': {RENAMED} contacts renamed, 1 email changed, "
        f"{RESCORED} engagement scores changed, 1 custom field value and 1 tag changed, "
        f"2 new contacts, {DELETED} deleted (the demo scans for deletions on every run; the "
        "default is daily: contacts.deletion_scan).",
    ]
