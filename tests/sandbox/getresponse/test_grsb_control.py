"""The control surface's seeding, the Python bulk loader, file-backed state, internal errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.sandbox.getresponse import GetResponseSandbox
from reconcile.sandbox.server import SandboxServer


def test_seed_over_http_answers_the_ids(api: httpx.Client, control: httpx.Client) -> None:
    seeded = control.post(
        "/__sandbox__/seed",
        json={
            "campaigns": [{"name": "clients_fr"}],
            "tags": ["vip"],
            "contacts": [
                {
                    "email": "anna@x.fr",
                    "name": "Anna",
                    "campaign": "clients_fr",
                    "tags": ["vip"],
                    "createdOn": "2024-02-01T09:00:00+0000",
                }
            ],
            "newsletters": [
                {
                    "name": "MS CRM Welcome",
                    "type": "draft",
                    "campaign": "clients_fr",
                    "subject": "Welcome",
                }
            ],
            "blacklist": ["@spam.example"],
        },
    )
    assert seeded.status_code == 201
    ids = seeded.json()
    contact = api.get(f"/contacts/{ids['contacts']['anna@x.fr']}").json()
    assert contact["createdOn"] == "2024-02-01T09:00:00+0000"
    assert contact["tags"][0]["tagId"] == ids["tags"]["vip"]
    assert api.get(f"/newsletters/{ids['newsletters']['MS CRM Welcome']}").json()["type"] == "draft"
    assert api.get("/accounts/blocklists").json() == {"masks": ["@spam.example"]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"lists": []}, "unknown seed key"),
        ({"contacts": [{"email": "a@b.fr", "campaign": "nope"}]}, "campaign 'nope'"),
        ({"campaigns": [{"name": "x"}]}, "too short"),
    ],
)
def test_bad_seed_is_refused_with_a_reason(
    control: httpx.Client, body: dict[str, Any], message: str
) -> None:
    response = control.post("/__sandbox__/seed", json=body)
    assert response.status_code == 400
    assert message in str(response.json())


def test_simulated_web_app_deletion_of_a_draft(
    api: httpx.Client, control: httpx.Client, sandbox: Any
) -> None:
    ids = sandbox.seed(
        {
            "campaigns": [{"name": "clients_fr"}],
            "newsletters": [
                {"name": "MS CRM Old", "type": "draft", "campaign": "clients_fr", "subject": "Old"}
            ],
        }
    )
    draft = ids["newsletters"]["MS CRM Old"]
    assert control.post("/__sandbox__/delete", json={"newsletters": [draft]}).status_code == 200
    assert api.get(f"/newsletters/{draft}").status_code == 404
    assert control.post("/__sandbox__/delete", json={"drafts": []}).status_code == 400
    assert control.post("/__sandbox__/delete", json={"contacts": ["nope"]}).status_code == 404


def test_bulk_load_skips_duplicates_and_keeps_indexes(sandbox: Any, api: httpx.Client) -> None:
    campaign = api.post("/campaigns", json={"name": "bulk_list"}).json()["campaignId"]
    rows = [{"email": f"u{i}@gmail.com"} for i in range(60_000)]
    assert sandbox.bulk_add_contacts(campaign, [*rows, {"email": "U1@gmail.com"}]) == 60_000
    assert sandbox.bulk_add_contacts(campaign, [*rows[:10], {"email": "new@gmail.com"}]) == 1
    indexes = {
        r[0] for r in sandbox.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    assert {"contacts_list_email", "contacts_list", "contacts_email"} <= indexes
    found = api.get(
        "/contacts", params={"query[email]": "u59999@gmail.com", "additionalFlags": "exactMatch"}
    ).json()
    assert len(found) == 1


def test_state_in_a_file_survives_a_restart(tmp_path: Path) -> None:
    database = str(tmp_path / "gr.sqlite3")
    first = GetResponseSandbox(database=database, api_key="k")
    first.seed({"campaigns": [{"name": f"list_{i}"} for i in range(4)]})
    first.conn.close()
    again = GetResponseSandbox(database=database, seed=9, api_key="k")  # not re-seeded
    assert again.conn.execute("SELECT count(*) FROM campaigns").fetchone()[0] == 4
    with SandboxServer(again.asgi_app) as server:
        info = again.connection_info(server.url)
        response = httpx.get(info["url"] + "/campaigns", headers={"X-Auth-Token": "api-key k"})
        assert len(response.json()) == 4
    again.conn.close()


def test_a_sandbox_bug_answers_the_internal_error_body(
    api: httpx.Client, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(sandbox, "account", broken)
    response = api.get("/accounts")
    assert response.status_code == 500
    assert response.json()["code"] == 1
