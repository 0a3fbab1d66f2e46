"""Realistic sample data for the sandbox: what ``seed=`` and ``reconcile sandbox serve`` load.

People come from :func:`reconcile.sample.people.people` (the same seed gives the same people
everywhere); lists, tags, custom fields, ``MS CRM …`` drafts and sent newsletters with their
activities are laid over them, deterministically for a seed.
"""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

from reconcile.sandbox.getresponse.db import encode_id, fmt_time
from reconcile.sandbox.getresponse.seed import newsletter

if TYPE_CHECKING:
    from reconcile.sandbox.getresponse.account import Account

SAMPLE_LISTS = ("clients_fr", "prospects_fr", "newsletter_hebdo", "webinar_2024")
SAMPLE_TAGS = ("vip", "client", "prospect", "newsletter", "webinar", "salon_2024")
SAMPLE_FIELDS: tuple[tuple[str, str, str, list[str]], ...] = (
    ("ville", "string", "text", []),
    ("niveau_client", "string", "single_select", ["or", "argent", "bronze"]),
    ("date_naissance", "date", "text", []),
    ("entreprise", "string", "text", []),
    ("centres_interet", "string", "multi_select", ["mode", "maison", "sport", "voyage"]),
)
SAMPLE_CITIES = ("Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Lille", "Bordeaux", "Nice")
# city -> (latitude, longitude, region, postal code): where sample contacts opened mail from
_PLACES = {
    "Paris": ("48.8566", "2.3522", "IDF", "75001"),
    "Lyon": ("45.7640", "4.8357", "ARA", "69001"),
    "Marseille": ("43.2965", "5.3698", "PAC", "13001"),
    "Toulouse": ("43.6047", "1.4442", "OCC", "31000"),
    "Nantes": ("47.2184", "-1.5536", "PDL", "44000"),
    "Lille": ("50.6292", "3.0573", "HDF", "59000"),
    "Bordeaux": ("44.8378", "-0.5792", "NAQ", "33000"),
    "Nice": ("43.7102", "7.2620", "PAC", "06000"),
}
_ORIGINS = ("import", "api", "www", "panel", "landing_page", "webinar", "email")
_ORIGIN_WEIGHTS = (30, 20, 25, 10, 8, 4, 3)


def sample(s: Account, seed: int, contacts: int = 3000) -> dict[str, Any]:
    """Lists, a few thousand people from :func:`reconcile.sample.people.people` spread over
    them (some on two lists, as separate contacts), engagement score, scoring, origin,
    custom field values and tags. Deterministic for a seed."""
    from reconcile.sample.people import people

    rng = random.Random(seed)
    now = s.clock()
    out: dict[str, Any] = {"campaigns": {}, "tags": {}, "customFields": {}}
    for i, name in enumerate(SAMPLE_LISTS):
        opened_on = fmt_time(now - (3 * 365 - i * 90) * 86400)
        out["campaigns"][name] = s.campaigns.add(name, created_on=opened_on)
    for name in SAMPLE_TAGS:
        out["tags"][name] = s.tags.add(name)
    for name, kind, fmt, choices in SAMPLE_FIELDS:
        out["customFields"][name] = s.fields.add(name, kind, fmt, "false", list(choices))
    out["fromFields"] = {
        "news@boutique-sandbox.fr": s.from_fields.add(
            "news@boutique-sandbox.fr", "Boutique Sandbox", is_default=True
        )
    }
    frame = people(contacts, seed)
    list_ids = [int(s.campaigns.row_id(cid)) for cid in out["campaigns"].values()]
    tag_ids = [s.tags.row_id(cid) for cid in out["tags"].values()]
    field_ids = {name: s.fields.row_id(cid) for name, cid in out["customFields"].items()}
    rows: list[tuple[Any, ...]] = []
    tags: list[tuple[int, int]] = []
    values: list[tuple[int, int, str]] = []
    with s.state.write() as conn:
        first = conn.execute("SELECT coalesce(max(id), 0) FROM contacts").fetchone()[0]
        number = first
        for person in frame.itertuples(index=False):
            lists = [rng.choices(list_ids, weights=(50, 25, 20, 5))[0]]
            if rng.random() < 0.12:
                lists.append(rng.choice(list_ids))
            for campaign in dict.fromkeys(lists):
                number += 1
                created = now - rng.uniform(1, 3 * 365) * 86400
                changed = min(now, created + rng.uniform(0, 400) * 86400)
                full = f"{person.first_name} {person.last_name}" if rng.random() > 0.04 else None
                rows.append(
                    (
                        number,
                        encode_id("contact", number),
                        campaign,
                        person.email,
                        person.email.lower(),
                        full,
                        full.lower() if full else None,
                        rng.choices(_ORIGINS, weights=_ORIGIN_WEIGHTS)[0],
                        "Europe/Paris",
                        fmt_time(created),
                        fmt_time(changed),
                        str(rng.randint(0, 60)) if rng.random() < 0.3 else None,
                        rng.randint(0, 120) if rng.random() < 0.7 else None,
                        rng.choices((1, 2, 3, 4, 5), weights=(15, 25, 30, 20, 10))[0]
                        if rng.random() < 0.9
                        else None,
                        _geolocation(rng) if rng.random() < 0.6 else None,
                    )
                )
                for tag in rng.sample(tag_ids, rng.choices((0, 1, 2, 3), (40, 35, 18, 7))[0]):
                    tags.append((number, tag))
                if rng.random() < 0.7:
                    values.append(
                        (number, field_ids["ville"], json.dumps([rng.choice(SAMPLE_CITIES)]))
                    )
                if rng.random() < 0.5:
                    level = rng.choices(["or", "argent", "bronze"], (1, 3, 6))[0]
                    values.append((number, field_ids["niveau_client"], json.dumps([level])))
                if rng.random() < 0.3:
                    day = fmt_time(now - rng.uniform(18, 80) * 365 * 86400)[:10]
                    values.append((number, field_ids["date_naissance"], json.dumps([day])))
                if rng.random() < 0.25:
                    picks = rng.sample(["mode", "maison", "sport", "voyage"], rng.randint(1, 3))
                    values.append((number, field_ids["centres_interet"], json.dumps(picks)))
        conn.executemany(
            "INSERT INTO contacts (id, cid, campaign, email, email_key, name, name_key, origin,"
            " time_zone, created_on, changed_on, day_of_cycle, scoring, engagement_score,"
            " geolocation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.executemany("INSERT INTO contact_tags (contact, tag) VALUES (?, ?)", tags)
        conn.executemany(
            "INSERT INTO contact_fields (contact, field, vals) VALUES (?, ?, ?)", values
        )
    out["contacts"] = len(rows)
    out["newsletters"] = _sample_newsletters(s, now)
    return out


def _sample_newsletters(s: Account, now: float) -> dict[str, str]:
    """``MS CRM …`` drafts (the connector's templates), another draft, newsletters sent over
    the last three months with their activities, and one scheduled for later."""
    day = 86400
    shop = '<p><a href="https://boutique-sandbox.fr/{0}">{1}</a></p>'
    body = "<h1>{0}</h1><p>Bonjour [[firstname]],</p>" + shop.format("", "Voir la boutique")
    drafts = [
        ("MS CRM Bienvenue", "Bienvenue chez Boutique Sandbox", "clients_fr"),
        ("MS CRM Offre du mois", "Votre offre du mois", "clients_fr"),
        ("MS CRM Invitation webinar", "Invitation : notre prochain webinar", "webinar_2024"),
        ("Brouillon soldes d'été", "Les soldes arrivent", "newsletter_hebdo"),
    ]
    items: list[dict[str, Any]] = [
        {
            "name": name,
            "type": "draft",
            "subject": subject,
            "campaign": campaign,
            "html": body.format(subject),
            "createdOn": fmt_time(now - (120 - i * 20) * day),
        }
        for i, (name, subject, campaign) in enumerate(drafts)
    ]
    sent = [
        ("Lettre de mars", "clients_fr", 85),
        ("Nouveautés printemps", "newsletter_hebdo", 52),
        ("Offre fidélité", "clients_fr", 21),
        ("Lettre hebdo", "newsletter_hebdo", 3),
    ]
    for name, campaign, ago in sent:
        items.append(
            {
                "name": name,
                "type": "broadcast",
                "subject": name,
                "campaign": campaign,
                "html": body.format(name) + shop.format("nouveautes", "Nos nouveautés"),
                "createdOn": fmt_time(now - (ago + 1) * day),
                "sendOn": fmt_time(now - ago * day),
                "engagement": 1.0,
            }
        )
    items.append(
        {
            "name": "Lettre à venir",
            "type": "broadcast",
            "subject": "Bientôt",
            "campaign": "clients_fr",
            "html": body.format("Bientôt"),
            "sendOn": fmt_time(now + 2 * day),
        }
    )
    return {item["name"]: newsletter(s, item) for item in items}


def _geolocation(rng: random.Random) -> str:
    city = rng.choice(SAMPLE_CITIES)
    latitude, longitude, region, postal = _PLACES[city]
    return json.dumps(
        {
            "latitude": latitude,
            "longitude": longitude,
            "continentCode": "EU",
            "countryCode": "FR",
            "region": region,
            "postalCode": postal,
            "dmaCode": None,
            "city": city,
        }
    )
