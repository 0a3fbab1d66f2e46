"""``migrate plan``: reading both sides over the APIs, matching with the round-trip's core, the
review workbook with its Plan sheet and hidden payload; and the pure plan it turns into."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from reconcile import model
from reconcile.config import SyncSettings
from reconcile.dataverse.schema import getresponse_key as key
from reconcile.errors import InputError
from reconcile.jobs.migrate import build_plan, contact_guid, list_guid, make_plan
from reconcile.jobs.migrate.plan import accept_confident
from reconcile.model import Decision
from reconcile.workbooks.migration import read_payload
from reconcile.workbooks.validate import read_review
from tests.jobs import migrate_env
from tests.jobs.migrate_env import Env, seed_small


@pytest.fixture(scope="module")
def _servers() -> Iterator[Env]:
    yield from migrate_env.servers()


@pytest.fixture
def env(_servers: Env) -> Iterator[Env]:
    yield from migrate_env.fresh(_servers)


ALL = SyncSettings(send_custom_fields=True, send_tags=True)


def plan_sheet(path: Path) -> dict[str, object]:
    with closing(openpyxl.load_workbook(path, read_only=True)) as book:
        assert book["Plan"].sheet_state == "visible"
        assert book["_migrate"].sheet_state == "hidden"
        return {r[0]: r[1] for r in book["Plan"].iter_rows(min_row=2, values_only=True)}


def test_plan_from_getresponse(env: Env, tmp_path: Path) -> None:
    ids = seed_small(env)
    out = tmp_path / "review.xlsx"
    summary = make_plan(env.dataverse(), out, gr=env.getresponse(), sync=ALL)
    assert summary.gr_contacts == 6
    assert summary.decisions == {"link": 2, "new": 3, "review": 1, "skip": 0, "invalid": 0}
    assert summary.plan["contacts_to_create"] == 2  # Paul once for his two lists, and Zoé
    assert summary.plan["link_new"] == 3
    assert summary.plan["lists_to_create"] == 2
    assert summary.plan["custom_field_values"] == 2
    # GetResponse: lists, tags, one search per tag, one page per list; Dataverse: list
    # records and contacts (no list record yet, so no GetResponse Contact records to read)
    assert summary.requests == {"dataverse": 2, "getresponse": 6}
    sheet = plan_sheet(out)
    assert sheet["CRM contacts to create"] == 2
    assert sheet["Link to an existing CRM contact"] == 2
    assert sheet["Left for review"] == 1
    assert sheet["GetResponse List records to create"] == 2
    reviewed = read_review(out)
    payload = read_payload(reviewed).set_index(model.GR_CONTACT_ID)
    anna = ids["contacts"][("clients_fr", "anna.martin@gmail.com")]
    data = json.loads(payload.at[anna, "gr_data"])
    assert data["score"] == 4
    assert data["points"] == 12
    assert data["origin"] == "api"
    assert data["created"].startswith("2021-03-04T10:00:00")
    assert data["tags"] == ["client", "vip"]
    assert [(f[1], f[3]) for f in data["fields"]] == [("ville", ["Lyon"])]
    assert payload.at[anna, "gr_list_name"] == "clients_fr"
    assert reviewed.meta["migrate"]["environment"] == env.dv_url


def test_settings_decide_what_is_read(env: Env, tmp_path: Path) -> None:
    seed_small(env)
    summary = make_plan(
        env.dataverse(), tmp_path / "r.xlsx", gr=env.getresponse(), sync=SyncSettings()
    )
    assert summary.requests["getresponse"] == 3  # lists and one page per list: no tag search
    payload = read_payload(read_review(tmp_path / "r.xlsx"))
    assert all("tags" not in json.loads(d) and "fields" not in json.loads(d)
               for d in payload["gr_data"])  # fmt: skip
    only = SyncSettings(send_custom_fields=True, custom_fields=("nothing_like_it",))
    make_plan(env.dataverse(), tmp_path / "o.xlsx", gr=env.getresponse(), sync=only)
    payload = read_payload(read_review(tmp_path / "o.xlsx"))
    assert {d for d in payload["gr_data"] if json.loads(d)["fields"]} == set()


def test_one_list_and_already_linked_contacts(env: Env, tmp_path: Path) -> None:
    ids = seed_small(env)
    admin = env.dataverse()
    record = admin.create(
        "grc_getresponselists",
        {"grc_name": "clients_fr", "grc_getresponseid": key(ids["campaigns"]["clients_fr"])},
        id_column="grc_getresponselistid",
    )
    anna = ids["contacts"][("clients_fr", "anna.martin@gmail.com")]
    admin.create(
        "grc_getresponsecontacts",
        {
            "grc_name": "Anna Martin",
            "grc_getresponseid": key(anna),
            "grc_ContactId@odata.bind": f"/contacts({ids['crm']['anna.martin@gmail.com']})",
            "grc_GetResponseListId@odata.bind": f"/grc_getresponselists({record})",
        },
        id_column="grc_getresponsecontactid",
    )
    out = tmp_path / "review.xlsx"
    summary = make_plan(admin, out, gr=env.getresponse(), lists=["CLIENTS_FR"], sync=ALL)
    assert [x["name"] for x in summary.lists] == ["clients_fr"]
    assert summary.lists[0]["record_id"] == record
    assert (summary.gr_contacts, summary.already_linked) == (3, 1)
    assert anna not in migrate_env.review_rows(out)
    assert summary.plan["lists_to_create"] == 0
    with pytest.raises(InputError) as info:
        make_plan(admin, out, gr=env.getresponse(), lists=["clients", "newsletter"], force=True)
    assert "no list called 'clients' in GetResponse (lists: clients_fr, newsletter)" in str(
        info.value
    )


def test_plan_from_the_crms_unlinked_records(env: Env, tmp_path: Path) -> None:
    ids = seed_small(env)
    admin = env.dataverse()
    record = admin.create(
        "grc_getresponselists",
        {"grc_name": "clients_fr", "grc_getresponseid": key(ids["campaigns"]["clients_fr"])},
        id_column="grc_getresponselistid",
    )
    for (name, email), cid in ids["contacts"].items():
        if name != "clients_fr":
            continue
        body = {
            "grc_name": email.split("@")[0].replace(".", " ").title(),
            "grc_email": email,
            "grc_getresponseid": key(cid),
            "grc_GetResponseListId@odata.bind": f"/grc_getresponselists({record})",
        }
        if email.startswith("jean"):  # already linked: not to migrate
            body["grc_ContactId@odata.bind"] = f"/contacts({ids['crm'][email]})"
        admin.create("grc_getresponsecontacts", body, id_column="grc_getresponsecontactid")
    out = tmp_path / "review.xlsx"
    summary = make_plan(admin, out, source="crm")
    assert summary.source == "crm"
    assert summary.gr_contacts == 2
    assert summary.decisions["link"] == 1
    assert summary.decisions["new"] == 1
    assert summary.requests == {"dataverse": 3}
    assert plan_sheet(out)["GetResponse contacts read"] == 2


def test_an_empty_list_and_a_crm_without_the_tables(env: Env, tmp_path: Path) -> None:
    from reconcile.errors import ConfigError
    from reconcile.jobs.migrate import apply_plan, load_plan
    from reconcile.state import StateStore

    env.gr.seed({"campaigns": [{"name": "empty_list"}]})
    out = tmp_path / "review.xlsx"
    summary = make_plan(env.dataverse(), out, gr=env.getresponse())
    assert (summary.gr_contacts, summary.plan["lists_to_create"]) == (0, 1)
    plan = load_plan(out, allow_duplicates=False)  # an empty Review sheet reads back
    with StateStore(tmp_path / "s.sqlite3") as state:
        report = apply_plan(env.dataverse(), plan, workbook=str(out), state=state)
    assert report.counts["lists_created"] == 1
    env.dv.reset()  # no connector tables any more
    with pytest.raises(ConfigError) as info:
        make_plan(env.dataverse(), out, gr=env.getresponse(), force=True)
    assert "reconcile schema install" in str(info.value)


# --- the pure plan ---------------------------------------------------------------------------


def reviewed(*rows: tuple[str, str, str, str, str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows, payload) as the workbook gives them: id, email, first, last, decision, crm id."""
    frame = pd.DataFrame(
        rows,
        columns=[model.GR_CONTACT_ID, model.EMAIL, model.FIRST_NAME, model.LAST_NAME,
                 model.DECISION, model.CRM_CONTACT_ID],
    )  # fmt: skip
    frame[model.NAME] = frame[model.FIRST_NAME] + " " + frame[model.LAST_NAME]
    frame["sheet"], frame["row"] = "Review", range(2, 2 + len(frame))
    payload = pd.DataFrame(
        {model.GR_CONTACT_ID: frame[model.GR_CONTACT_ID], "gr_list_id": "L1",
         "gr_list_name": "clients_fr", "gr_data": ""}
    )  # fmt: skip
    return frame, payload


META = {
    "environment": "https://contoso.crm4.dynamics.com",
    "source": "getresponse",
    "lists": [{"campaign_id": "L1", "name": "clients_fr"}],
}


def test_new_contacts_are_one_per_email_and_name_with_planned_guids() -> None:
    rows, payload = reviewed(
        ("g1", "paul@x.fr", "Paul", "Nouveau", "new", ""),
        ("g2", "PAUL@x.fr", "paul", "NOUVEAU", "new", ""),  # the same person on another list
        ("g3", "paul@x.fr", "Pauline", "Nouveau", "new", ""),  # another person, same mailbox
        ("g4", "anna@x.fr", "Anna", "Martin", "link", "C1"),
        ("g5", "bad", "", "", "invalid", ""),
        ("g6", "rev@x.fr", "Rev", "Iew", "review", ""),
    )
    plan = build_plan(rows, payload, META)
    guid = contact_guid(META["environment"], "paul@x.fr", "Paul", "Nouveau")
    assert guid == contact_guid(META["environment"] + "/", "paul@x.fr", "PAUL", "nouveau")
    assert [(c.contact_id, c.gr_ids) for c in plan.contacts] == [(guid, ("g1", "g2"))]
    by_id = {r.gr_id: r for r in plan.records}
    assert (by_id["g1"].link, by_id["g1"].new) == (guid, True)
    assert by_id["g3"].link is None
    assert "this run creates another CRM contact with the email paul@x.fr" in by_id["g3"].problem
    assert (by_id["g4"].link, by_id["g4"].new) == ("c1", False)
    assert {s.gr_id: s.decision for s in plan.skipped} == {"g5": "invalid", "g6": "review"}
    assert by_id["g6"].link is None  # mirrored, unlinked
    assert by_id["g6"].problem is None
    assert plan.lists[0].record_id == list_guid(META["environment"], "L1")
    assert plan.counts()["flagged_duplicates"] == 1
    allowed = build_plan(rows, payload, META, allow_duplicates=True)
    assert len(allowed.contacts) == 2
    crm = build_plan(rows, payload, {**META, "source": "crm"})
    assert {r.gr_id for r in crm.records} == {"g1", "g2", "g3", "g4"}  # nothing to mirror


def test_accept_above_takes_a_lone_confident_candidate_only() -> None:
    line = "{id} · Jean Dupont jean@x.fr · {score} · email typo"
    review = pd.DataFrame(
        {
            model.EMAIL: ["jean@x.fr", "jean@y.fr", "jean@z.fr", "jean@w.fr"],
            model.DECISION: ["review", "review", "review", "link"],
            model.CANDIDATES: [
                line.format(id="c1", score=95),
                line.format(id="c2", score=96) + "\n" + line.format(id="c3", score=93),
                line.format(id="c4", score=70),
                "",
            ],
            "candidate_ids": [("c1",), ("c2", "c3"), ("c4",), ("c9",)],
            model.CRM_CONTACT_ID: [None, None, None, "c9"],
            model.CRM_NAME: [None] * 4,
            model.CRM_EMAIL: [None] * 4,
            model.SCORE: [95, 96, 70, 100],
            model.REASON: ["email typo"] * 4,
        }
    )
    assert accept_confident(review, 90, margin=6) == 1
    assert review[model.DECISION].tolist() == ["link", "review", "review", "link"]
    assert review.at[0, model.CRM_CONTACT_ID] == "c1"
    assert (review.at[0, model.CRM_NAME], review.at[0, model.CRM_EMAIL]) == (
        "Jean Dupont",
        "jean@x.fr",
    )
    assert review.at[0, model.REASON].startswith("accepted (--accept-above 90)")
    assert Decision.REVIEW.value == review.at[1, model.DECISION]


def test_accept_above_never_links_two_addresses_to_one_contact() -> None:
    """The matcher sends two typos of one address to review (only one can be that person's
    mailbox); --accept-above must not link both. The same address twice (one person in two
    lists) is one mailbox and is taken."""
    line = "c1 · Jean Dupont jean.dupont@gmail.com · 98 · email typo"
    review = pd.DataFrame(
        {
            model.EMAIL: [
                "jean.dupont@gmial.com",
                "jean.dupont@gmail.con",
                "paul.martin@gmial.com",
                "Paul.Martin@gmial.com",
            ],
            model.DECISION: ["review"] * 4,
            model.CANDIDATES: [line, line, line.replace("c1", "c2"), line.replace("c1", "c2")],
            "candidate_ids": [("c1",), ("c1",), ("c2",), ("c2",)],
            model.CRM_CONTACT_ID: [None] * 4,
            model.CRM_NAME: [None] * 4,
            model.CRM_EMAIL: [None] * 4,
            model.SCORE: [98] * 4,
            model.REASON: ["email typo; another GetResponse address matches the same CRM contact"]
            * 4,
        }
    )
    assert accept_confident(review, 90, margin=6) == 2
    assert review[model.DECISION].tolist() == ["review", "review", "link", "link"]
    assert review[model.CRM_CONTACT_ID].tolist()[2:] == ["c2", "c2"]


def test_plan_sheet_text_stays_readable_with_a_thousand_lists() -> None:
    from reconcile.jobs.migrate.job import PLAN_TEXT_LIMIT, _joined

    names = [f"liste_clients_region_{i:04d}_newsletter_hebdomadaire" for i in range(1000)]
    text = _joined(names)
    assert len(text) <= PLAN_TEXT_LIMIT + 40
    assert text.startswith(names[0])
    assert text.endswith("more")
    shown = text.count("liste_clients")
    assert f"… and {1000 - shown:,} more" in text
    assert _joined(names[:3]) == ", ".join(names[:3])
