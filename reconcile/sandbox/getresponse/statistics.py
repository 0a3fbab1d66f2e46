"""Newsletter statistics computed from the recorded activities.

``GET /newsletters/{id}/statistics`` and ``GET /newsletters/statistics`` group by ``total``
(the default), ``hour``, ``day`` or ``month``; each element's ``timeInterval`` is an ISO 8601
interval (``2014-09-20T00:00:00+0000/P1D``), as the OpenAPI example shows. Opens and clicks
are all counted as human (the sandbox has no bots); goals, forwards, bounces and complaints
are zero.
"""

from __future__ import annotations

import json
from typing import Any

from reconcile.sandbox.getresponse import queries
from reconcile.sandbox.getresponse.db import decode_id, parse_time
from reconcile.sandbox.getresponse.errors import invalid
from reconcile.sandbox.getresponse.paging import Page, PageRequest

GROUPS = {
    "total": None,
    "hour": (13, ":00:00+0000", "PT1H"),
    "day": (10, "T00:00:00+0000", "P1D"),
    "month": (7, "-01T00:00:00+0000", "P1M"),
}
_FILTERS = {
    "groupBy": queries.Filter("exact", "1"),
    "newsletterId": queries.Filter("exact", "1"),
    "campaignId": queries.Filter("exact", "1"),
    "createdOn": queries.Filter("range", "a.created_on"),
}


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"P{days}DT{hours}H{minutes}M{secs}S"


def statistics(state: Any, params: Any, newsletter_cid: str | None = None) -> Page:
    query = queries.parse(params, _FILTERS, {}, [("1", "ASC")], "1")
    group = query.values.get("groupBy", "total")
    if group not in GROUPS:
        raise invalid("query[groupBy]", f"Allowed: {', '.join(GROUPS)}", group, kind="query")
    where = [clause for clause in query.where if not clause.startswith("1 =")]
    params_sql = {k: v for k, v in query.params.items() if any(f":{k}" in w for w in where)}
    now = state.now()
    where.append("a.created_on <= :now")
    params_sql["now"] = now
    ids = [newsletter_cid] if newsletter_cid else _split(query.values.get("newsletterId"))
    if ids is not None:
        numbers = [decode_id("newsletter", i) or -1 for i in ids]
        where.append(f"a.newsletter IN ({','.join(str(n) for n in numbers)})")
    campaigns = _split(query.values.get("campaignId"))
    if campaigns is not None:
        numbers = [decode_id("campaign", c) or -1 for c in campaigns]
        where.append(
            f"a.newsletter IN (SELECT id FROM newsletters WHERE campaign IN"
            f" ({','.join(str(n) for n in numbers)}))"
        )
    spec = GROUPS[group]
    bucket = "'total'" if spec is None else f"substr(a.created_on, 1, {spec[0]})"
    rows = state.conn.execute(
        f"SELECT {bucket}, min(a.created_on),"
        " sum(a.activity = 'send'), sum(a.activity = 'open'),"
        " count(DISTINCT CASE WHEN a.activity = 'open' THEN a.contact END),"
        " sum(a.activity = 'click'),"
        " count(DISTINCT CASE WHEN a.activity = 'click' THEN a.contact END)"
        f" FROM activities a WHERE {' AND '.join(where)} GROUP BY 1 ORDER BY 1",
        params_sql,
    ).fetchall()
    items = []
    for key, first, sent, opened, unique_opened, clicked, unique_clicked in rows:
        if spec is None:
            interval = f"{first}/{_duration(parse_time(now) - parse_time(first))}"
        else:
            interval = f"{key}{spec[1]}/{spec[2]}"
        items.append(
            {
                "timeInterval": interval,
                "sent": sent,
                "totalOpened": opened,
                "totalHumanOpened": opened,
                "uniqueOpened": unique_opened,
                "uniqueHumanOpened": unique_opened,
                "totalClicked": clicked,
                "totalHumanClicked": clicked,
                "uniqueClicked": unique_clicked,
                "uniqueHumanClicked": unique_clicked,
                "goals": 0,
                "uniqueGoals": 0,
                "forwarded": 0,
                "unsubscribed": 0,
                "bounced": 0,
                "complaints": 0,
            }
        )
    request = PageRequest.from_params(params)
    start = (request.number - 1) * request.size
    body = json.dumps(items[start : start + request.size], separators=(",", ":"))
    return Page(body, len(items), request)


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]
