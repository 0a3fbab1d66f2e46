"""Sample data: a realistic small CRM from a seed, exact scenarios from JSON, and fast bulk
inserts from Python.

The generated CRM (same seed, same data): contacts from :func:`reconcile.sample.people.people`
(some inactive, some merged into a master, one ``o'brien@example.com``), a few accounts, a
salesperson who owns part of the contacts, static and dynamic marketing lists targeting
contacts (one dynamic list filtered on "owner equals current user", SPEC 4.6), one list
targeting accounts, one inactive list, and campaigns with lists attached.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from reconcile.sandbox.dataverse.api import Principal
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.members import add_member, add_members
from reconcile.sandbox.dataverse.models import stable_guid
from reconcile.sandbox.dataverse.security import ORGANIZATION_ID, ROOT_BUSINESS_UNIT_ID
from reconcile.sandbox.dataverse.store import iso

if TYPE_CHECKING:
    from reconcile.sandbox.dataverse.environment import Environment

CITIES = (
    "Paris",
    "Lyon",
    "Marseille",
    "Toulouse",
    "Nantes",
    "Lille",
    "Bordeaux",
    "Rennes",
    "Strasbourg",
    "Montpellier",
)
COMPANIES = (
    "Atelier Durand",
    "Boulangerie Martin",
    "Cabinet Lefèvre Avocats",
    "Transports Girard",
    "Immobilier du Sud",
    "Pharma Rhône",
    "Digital Ouest",
    "Groupe Moreau",
    "Assurances Bertrand",
    "Bâtiment Fontaine",
    "Conseil & Co",
    "Services Lambert",
)
SALESPERSON_ID = stable_guid("systemuser", "salesperson")
SEED_ORDER = (
    "publishers",
    "solutions",
    "systemusers",
    "roles",
    "accounts",
    "contacts",
    "leads",
    "lists",
    "campaigns",
)
EXTRA_KEYS = ("duplicate_rules", "identity_roles", "merges", "generate")
SETS = {
    "publishers": "publisher",
    "solutions": "solution",
    "systemusers": "systemuser",
    "roles": "role",
    "accounts": "account",
    "contacts": "contact",
    "leads": "lead",
    "lists": "list",
    "campaigns": "campaign",
}


def prepare(sandbox: Environment) -> None:
    """The identities, and the sample data of the environment's seed if it has one and has
    not had it yet (a file database keeps it across restarts)."""
    with sandbox.store.lock, sandbox.store.transaction():
        sandbox.add_identities()
        if sandbox.seed is not None and not sandbox.store.setting("seeded"):
            generate(sandbox, sandbox.seed, contacts=sandbox.sample_size)
            sandbox.store.set_setting("seeded", str(sandbox.seed))


def reset(sandbox: Environment) -> None:
    """Back to the initial state: no custom tables, the sample data again (if seeded)."""
    with sandbox.store.lock:
        sandbox.clear()
        prepare(sandbox)


def load_document(sandbox: Environment, document: dict[str, Any]) -> dict[str, Any]:
    """Exact scenarios: the JSON accepted by ``POST /__sandbox__/seed`` (see :func:`load`)."""
    with sandbox.store.lock, sandbox.store.transaction():
        return load(sandbox, document)


def admin(sandbox: Environment) -> Principal:
    return Principal(sandbox.clients["admin"].user_id, ROOT_BUSINESS_UNIT_ID, ORGANIZATION_ID)


def bulk_insert(
    sandbox: Environment,
    logical: str,
    rows: list[dict[str, Any]],
    *,
    user: Principal | None = None,
) -> list[str]:
    """Validate rows like the Web API would, then insert them with one ``executemany``.

    Besides Web API columns a row may carry ``createdon``/``modifiedon`` (ISO date-times) to
    backdate it, which the Web API itself does not allow.
    """
    store = sandbox.store
    entity = store.catalog.entities[logical]
    rows_api = sandbox.service.rows
    who = user or admin(sandbox)
    first = store.next_version(len(rows))
    prepared = []
    for position, row in enumerate(rows):
        stamps = {k: row[k] for k in ("createdon", "modifiedon") if row.get(k)}
        body = {k: v for k, v in row.items() if k not in stamps}
        values = rows_api.parser.parse(entity, body, create=True)
        ready = rows_api.prepare_create(
            who, entity, values, detect_duplicates=False, version=first + position
        )
        ready.update(stamps)
        prepared.append(ready)
    store.insert(entity, prepared)
    return [row[entity.primary_id] for row in prepared]


def _merge(sandbox: Environment, logical: str, master: str, subordinate: str) -> None:
    store = sandbox.store
    entity = store.catalog.entities[logical]
    version = store.next_version()
    store.update(
        entity,
        subordinate,
        {
            "statecode": 1,
            "statuscode": entity.default_status[1],
            "merged": 1,
            "masterid": master,
            "versionnumber": version,
            "modifiedon": store.now(),
        },
    )


def generate(sandbox: Environment, seed: int, *, contacts: int = 500) -> None:
    from reconcile.sample.people import people

    rng = random.Random(seed)
    counter = itertools.count()

    def sid(kind: str) -> str:
        """Same seed, same ids: demos and tests can name sample rows."""
        return stable_guid("sample", seed, kind, next(counter))

    store = sandbox.store
    now = store.clock()
    sandbox.security.add_user(SALESPERSON_ID, "Camille Martin")
    account_ids = bulk_insert(
        sandbox,
        "account",
        [
            {
                "accountid": sid("account"),
                "name": name,
                "emailaddress1": f"contact@{name.lower().split()[0]}.fr",
                "address1_city": rng.choice(CITIES),
            }
            for name in COMPANIES
        ],
    )
    frame = people(contacts, seed)
    rows: list[dict[str, Any]] = []
    for person in frame.itertuples(index=False):
        created = now - timedelta(days=rng.uniform(30, 730))
        modified = created + timedelta(days=rng.uniform(0, (now - created).days))
        row: dict[str, Any] = {
            "contactid": sid("contact"),
            "firstname": person.first_name,
            "lastname": person.last_name,
            "emailaddress1": person.email,
            "gendercode": 2 if person.gender == "F" else 1,
            "address1_city": rng.choice(CITIES),
            "donotbulkemail": rng.random() < 0.05,
            "createdon": iso(created),
            "modifiedon": iso(modified),
        }
        if rng.random() < 0.25:
            row["parentcustomerid_account@odata.bind"] = f"/accounts({rng.choice(account_ids)})"
        if rng.random() < 0.2:
            row["ownerid@odata.bind"] = f"/systemusers({SALESPERSON_ID})"
        if rng.random() < 0.06:
            row["statecode"] = 1
        rows.append(row)
    rows.append(
        {
            "contactid": sid("contact"),
            "firstname": "Siobhan",
            "lastname": "O'Brien",
            "emailaddress1": "o'brien@example.com",
            "gendercode": 2,
            "address1_city": "Paris",
        }
    )
    contact_ids = bulk_insert(sandbox, "contact", rows)
    # Duplicates an admin merged: each subordinate is inactive, merged, pointing at its master.
    for master in rng.sample(contact_ids[:-1], max(1, contacts // 100)):
        original = store.get(store.catalog.entities["contact"], master) or {}
        duplicate = bulk_insert(
            sandbox,
            "contact",
            [
                {
                    "contactid": sid("contact"),
                    "firstname": original.get("firstname"),
                    "lastname": original.get("lastname"),
                    "emailaddress1": "old." + str(original.get("emailaddress1")),
                }
            ],
        )[0]
        _merge(sandbox, "contact", master, duplicate)
    _lists_and_campaigns(sandbox, rng, contact_ids, account_ids, sid)


def _lists_and_campaigns(
    sandbox: Environment,
    rng: random.Random,
    contact_ids: list[str],
    account_ids: list[str],
    sid: Callable[[str], str],
) -> None:
    who = admin(sandbox)
    paris = """<fetch version="1.0" mapping="logical">
  <entity name="contact">
    <attribute name="fullname" />
    <attribute name="emailaddress1" />
    <filter type="and">
      <condition attribute="statecode" operator="eq" value="0" />
      <condition attribute="address1_city" operator="eq" value="Paris" />
    </filter>
  </entity>
</fetch>"""
    mine = """<fetch version="1.0" mapping="logical">
  <entity name="contact">
    <attribute name="fullname" />
    <filter type="and"><condition attribute="ownerid" operator="eq-userid" /></filter>
  </entity>
</fetch>"""
    partners = (
        '<fetch version="1.0" mapping="logical"><entity name="account"><attribute name="name" />'
        "</entity></fetch>"
    )
    lists = bulk_insert(
        sandbox,
        "list",
        [
            {
                "listid": sid("list"),
                "listname": "Newsletter",
                "type": False,
                "createdfromcode": 2,
                "purpose": "Monthly newsletter",
            },
            {"listid": sid("list"), "listname": "Clients VIP", "type": False, "createdfromcode": 2},
            {
                "listid": sid("list"),
                "listname": "Prospects Paris",
                "type": True,
                "createdfromcode": 2,
                "query": paris,
            },
            {
                "listid": sid("list"),
                "listname": "Mes contacts",
                "type": True,
                "createdfromcode": 2,
                "query": mine,
                "description": "Dynamic list filtered on owner equals current user",
            },
            {
                "listid": sid("list"),
                "listname": "Comptes partenaires",
                "type": False,
                "createdfromcode": 1,
            },
            {
                "listid": sid("list"),
                "listname": "Tous les comptes",
                "type": True,
                "createdfromcode": 1,
                "query": partners,
            },
            {
                "listid": sid("list"),
                "listname": "Ancienne liste",
                "type": False,
                "createdfromcode": 2,
            },
        ],
    )
    service = sandbox.service
    for list_id, share in ((lists[0], 0.3), (lists[1], 0.05)):
        chosen = [(c, None) for c in contact_ids if rng.random() < share]
        add_members(service, who, list_id, chosen)
    add_member(service, who, lists[0], contact_ids[-1])  # o'brien@example.com is on the newsletter
    for account_id in account_ids[:5]:
        add_member(service, who, lists[4], account_id)
    add_member(service, who, lists[6], contact_ids[0])
    sandbox.store.update(
        sandbox.store.catalog.entities["list"],
        lists[6],
        {"statecode": 1, "statuscode": 1, "versionnumber": sandbox.store.next_version()},
    )
    campaigns = bulk_insert(
        sandbox,
        "campaign",
        [
            {
                "campaignid": sid("campaign"),
                "name": "Printemps",
                "typecode": 2,
                "codename": "CMP-1001",
            },
            {
                "campaignid": sid("campaign"),
                "name": "Salon Lyon",
                "typecode": 3,
                "codename": "CMP-1002",
            },
        ],
    )
    _campaign_item(sandbox, campaigns[0], lists[0])
    _campaign_item(sandbox, campaigns[1], lists[2])


def _campaign_item(sandbox: Environment, campaign_id: str, list_id: str) -> None:
    items = sandbox.store.catalog.entities["campaignitem"]
    sandbox.service.rows.create_values(
        admin(sandbox),
        items,
        {
            "campaignitemid": stable_guid("campaignitem", campaign_id, list_id),
            "campaignid": campaign_id,
            "entityid": list_id,
            "entitytype": "list",
        },
    )


# ------------------------------------------------------------------------------ JSON
def load(sandbox: Environment, document: dict[str, Any]) -> dict[str, Any]:
    """Load an exact scenario; returns the ids created, by entity set."""
    if not isinstance(document, dict):
        raise ValueError("the seed document must be a JSON object")
    unknown = set(document) - {*SEED_ORDER, *EXTRA_KEYS}
    if unknown:
        known = sorted((*SEED_ORDER, *EXTRA_KEYS))
        raise ValueError(f"unknown keys {sorted(unknown)}; known: {known}")
    created: dict[str, Any] = {}
    if "duplicate_rules" in document:
        import json

        rules = document["duplicate_rules"]
        if not isinstance(rules, dict):
            raise ValueError("duplicate_rules maps a table to lists of columns")
        sandbox.store.set_setting("duplicate_rules", json.dumps(rules))
    if "generate" in document:
        spec = document["generate"]
        generate(sandbox, int(spec.get("seed", 0)), contacts=int(spec.get("contacts", 100)))
    service = sandbox.service
    who = admin(sandbox)
    for key in SEED_ORDER:
        items = document.get(key) or []
        if not isinstance(items, list):
            raise ValueError(f"'{key}' must be a list of rows")
        extras = [
            {k: item.pop(k) for k in ("members", "lists", "privileges") if k in item}
            for item in items
        ]
        ids = bulk_insert(sandbox, SETS[key], items) if items else []
        created[key] = ids
        for record_id, extra in zip(ids, extras, strict=True):
            if extra.get("members"):  # one check and one recount per list (issue 14)
                add_members(service, who, record_id, [(m, None) for m in extra["members"]])
            for list_id in extra.get("lists", []):
                _campaign_item(sandbox, record_id, list_id)
            for grant in extra.get("privileges", []):
                depth = {"Basic": 1, "Local": 2, "Deep": 4, "Global": 8}.get(
                    grant.get("depth", "Global"), 8
                )
                sandbox.security.grant(record_id, grant["name"], depth)
    for label, roles in (document.get("identity_roles") or {}).items():
        if label not in sandbox.clients:
            raise ValueError(f"unknown identity {label!r}; known: {sorted(sandbox.clients)}")
        for role in roles:
            role_id = _role_id(sandbox, role)
            sandbox.security.assign_role(sandbox.clients[label].user_id, role_id)
    for merge in document.get("merges") or []:
        _merge(sandbox, merge.get("table", "contact"), merge["master"], merge["subordinate"])
    return created


def _role_id(sandbox: Environment, role: str) -> str:
    found = sandbox.store.scalar(
        "SELECT roleid FROM t_role WHERE roleid = ? OR name = ?", (role.lower(), role)
    )
    if found is None:
        raise DataverseError("ObjectDoesNotExist", entity="role", id=role)
    return str(found)
