"""The time zones ``GET /accounts/timezones`` lists and ``sendOn.timeZone.timeZoneId`` takes.

GetResponse numbers its time zones itself; the only pairing its OpenAPI description shows is
``1`` = Europe/Warsaw (Poland). The sandbox's other numbers are its own, so clients must look
them up through the endpoint, as they must with the real API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

_ZONES = [
    ("Europe/Warsaw", "Poland"),
    ("Europe/Paris", "France"),
    ("Europe/London", "United Kingdom"),
    ("Europe/Berlin", "Germany"),
    ("Europe/Madrid", "Spain"),
    ("Europe/Rome", "Italy"),
    ("Europe/Brussels", "Belgium"),
    ("Europe/Amsterdam", "Netherlands"),
    ("Europe/Zurich", "Switzerland"),
    ("Europe/Lisbon", "Portugal"),
    ("Europe/Dublin", "Ireland"),
    ("Europe/Vienna", "Austria"),
    ("Europe/Prague", "Czech Republic"),
    ("Europe/Stockholm", "Sweden"),
    ("Europe/Helsinki", "Finland"),
    ("Europe/Athens", "Greece"),
    ("Europe/Istanbul", "Turkey"),
    ("Europe/Moscow", "Russia"),
    ("Europe/Kiev", "Ukraine"),
    ("Africa/Casablanca", "Morocco"),
    ("Africa/Algiers", "Algeria"),
    ("Africa/Tunis", "Tunisia"),
    ("Africa/Dakar", "Senegal"),
    ("Africa/Abidjan", "Ivory Coast"),
    ("Africa/Cairo", "Egypt"),
    ("America/New_York", "United States"),
    ("America/Chicago", "United States"),
    ("America/Denver", "United States"),
    ("America/Los_Angeles", "United States"),
    ("America/Montreal", "Canada"),
    ("America/Sao_Paulo", "Brazil"),
    ("America/Mexico_City", "Mexico"),
    ("Asia/Dubai", "United Arab Emirates"),
    ("Asia/Kolkata", "India"),
    ("Asia/Shanghai", "China"),
    ("Asia/Tokyo", "Japan"),
    ("Asia/Ho_Chi_Minh", "Vietnam"),
    ("Australia/Sydney", "Australia"),
    ("UTC", "UTC"),
]

TIMEZONES: dict[int, tuple[str, str]] = {i: zone for i, zone in enumerate(_ZONES, start=1)}


def listing(epoch: float) -> list[dict[str, Any]]:
    out = []
    for zone_id, (name, country) in TIMEZONES.items():
        offset = datetime.fromtimestamp(epoch, ZoneInfo(name)).strftime("%z")
        out.append(
            {
                "timezoneId": zone_id,
                "name": name,
                "offset": f"{offset[:3]}:{offset[3:]}",
                "country": country,
            }
        )
    return out
