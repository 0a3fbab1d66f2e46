"""The control surface under ``/__sandbox__/`` (not part of GetResponse's API).

- ``POST reset`` — empty the account (``{"seed": 1}`` to reload sample data too);
- ``POST seed`` — explicit data (lists, contacts, fields, tags, newsletters, activities,
  blocklist); answers the ids it created;
- ``GET|POST clock`` — read the sandbox time, or move it (``{"advance": 30}``) so that queued
  contacts appear and rate-limit windows pass without a test sleeping;
- ``GET|POST config`` — ``contact_delay``, ``rate_limits``, ``undeliverable_domains``,
  ``sending`` (``keep_drafts``, ``newsletters_per_day``, ``limits``: see ``sending.py``),
  ``taken_list_names`` (names held by other accounts: creating such a list is 409 / 1008),
  ``custom_reports`` (``available``, ``pending_seconds``, ``generation_seconds``,
  ``link_seconds``, ``keep_days``, ``file_rows``, ``compression``, ``columns``: see
  ``reports.py``);
- ``GET queue`` — what happened to each asynchronous addition (pending, added, rejected + why);
- ``POST delete`` — what a user deleting lists, drafts or contacts in the web app does;
- ``POST scores`` — what GetResponse does to contacts over time: scoring rules change
  ``scoring``, engagement scores are recomputed (``{"contacts": {id: {"engagementScore": 4,
  "scoring": 12}}, "fromActivity": true}``); ``changedOn`` moves for each changed contact;
- ``POST rename`` — ``{"newsletters": {id: "new name"}}``, a draft renamed in the web app (the
  v3 API cannot rename a newsletter);
- ``GET archive/{id}.html`` — a newsletter's content (its activities' ``previewUrl``);
- ``GET|POST webhooks`` — the webhooks set up in the web app (``url``, ``events``, ``batch``,
  ``retry_delays``, ``timeout``, ``concurrency``: see ``delivery.py``; ``{"url": null}`` turns
  them off); ``GET deliveries`` — what was posted to callbacks and webhooks, and how it went;
- ``GET /__files__/custom-reports/{fileId}?expires=&signature=`` — a custom report's file, as
  its pre-signed ``downloadUrl`` gives it (outside the API: no key, expires);
- ``/faults`` — the shared fault injection (see :mod:`reconcile.sandbox.faults`).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from reconcile.sandbox.faults import CONTROL_PREFIX
from reconcile.sandbox.getresponse import sample_data
from reconcile.sandbox.getresponse import seed as seeding
from reconcile.sandbox.getresponse.db import fmt_time, parse_time
from reconcile.sandbox.getresponse.errors import GetResponseError
from reconcile.sandbox.getresponse.ratelimit import RateLimits
from reconcile.sandbox.getresponse.reports import FILES_PATH

if TYPE_CHECKING:
    from reconcile.sandbox.getresponse.account import Account


def _refuse(reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=400)


async def _json(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw else {}


def routes(sandbox: Account) -> list[Route]:
    s = sandbox

    async def reset(request: Request) -> Response:
        try:
            body = await _json(request)
        except ValueError:
            return _refuse("body is not JSON")
        s.reset()
        if isinstance(body, dict) and body.get("seed") is not None:
            with s.lock:
                made = sample_data.sample(s, int(body["seed"]), int(body.get("contacts", 3000)))
            return JSONResponse(made)
        return Response(status_code=204)

    async def seed(request: Request) -> Response:
        try:
            body = await _json(request)
            if not isinstance(body, dict):
                raise ValueError("the seed body must be a JSON object")
            with s.lock:
                made = seeding.apply(s, body)
            return JSONResponse(made, status_code=201)
        except GetResponseError as error:
            return JSONResponse({"error": error.message, "detail": error.body()}, 400)
        except (ValueError, TypeError, KeyError) as exc:
            return _refuse(str(exc))

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            try:
                body = await _json(request)
                if "advance" in body:
                    s.advance(float(body["advance"]))
                elif "now" in body:
                    with s.lock:
                        s.clock.set(parse_time(str(body["now"])))
                else:
                    raise ValueError('give "advance" (seconds) or "now" (a date-time)')
            except (ValueError, TypeError, AttributeError) as exc:
                return _refuse(str(exc))
        with s.lock:
            now = s.clock()
            return JSONResponse({"now": fmt_time(now), "epoch": now, "offset": s.clock.offset})

    async def config(request: Request) -> Response:
        if request.method == "POST":
            try:
                body = await _json(request)
                with s.lock:
                    _configure(s, body)
            except (ValueError, TypeError, AttributeError) as exc:
                return _refuse(str(exc))
        with s.lock:
            return JSONResponse(_config(s))

    async def queue(request: Request) -> Response:
        with s.lock:
            s.settle()
            rows = s.conn.execute(
                "SELECT q.email, k.cid, q.state, q.reason, q.queued_on, q.due FROM queue q"
                " JOIN campaigns k ON k.id = q.campaign ORDER BY q.id"
            ).fetchall()
        return JSONResponse(
            [
                {
                    "email": email,
                    "campaignId": cid,
                    "state": state,
                    "reason": reason,
                    "queuedOn": queued,
                    "dueOn": fmt_time(due),
                }
                for email, cid, state, reason, queued, due in rows
            ]
        )

    async def delete(request: Request) -> Response:
        try:
            body = await _json(request)
            with s.lock:
                removed = _delete(s, body)
        except GetResponseError as error:
            return JSONResponse({"error": error.message, "detail": error.body()}, 404)
        except (ValueError, TypeError, AttributeError) as exc:
            return _refuse(str(exc))
        return JSONResponse(removed)

    async def scores(request: Request) -> Response:
        try:
            body = await _json(request)
            if not isinstance(body, dict) or not set(body) <= {"contacts", "fromActivity"}:
                raise ValueError('give "contacts" ({id: {engagementScore, scoring}}) and/or '
                                 '"fromActivity": true')  # fmt: skip
            with s.lock:
                changed = s.contacts.rescore(
                    body.get("contacts") or {}, from_activity=bool(body.get("fromActivity"))
                )
        except GetResponseError as error:
            return JSONResponse({"error": error.message, "detail": error.body()}, 404)
        except (ValueError, TypeError, AttributeError) as exc:
            return _refuse(str(exc))
        return JSONResponse({"changed": changed})

    async def rename(request: Request) -> Response:
        try:
            body = await _json(request)
            names = body.get("newsletters") if isinstance(body, dict) else None
            if not isinstance(names, dict) or set(body) != {"newsletters"}:
                raise ValueError('give {"newsletters": {"<newsletterId>": "new name"}}')
            with s.lock:
                for cid, name in names.items():
                    s.messages.rename(str(cid), str(name))
        except GetResponseError as error:
            return JSONResponse({"error": error.message, "detail": error.body()}, 404)
        except (ValueError, TypeError, AttributeError) as exc:
            return _refuse(str(exc))
        return JSONResponse({"newsletters": names})

    async def archive(request: Request) -> Response:
        cid = str(request.path_params["newsletterId"])
        with s.lock:
            row = s.conn.execute(
                "SELECT subject, html, plain FROM newsletters WHERE cid = ?", (cid,)
            ).fetchone()
        if row is None:
            return Response("No such newsletter", 404, media_type="text/plain")
        subject, html, plain = row
        return HTMLResponse(
            html or f"<html><title>{subject}</title><pre>{plain or ''}</pre></html>"
        )

    async def report_file(request: Request) -> Response:
        with s.lock:
            status, body = s.reports.file(
                str(request.path_params["fileId"]),
                request.query_params.get("expires"),
                request.query_params.get("signature"),
            )
        if status != 200:
            return Response(body, status, media_type="application/xml")
        return Response(
            body,
            200,
            media_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="{request.path_params["fileId"]}.csv"'
            },
        )

    async def webhooks(request: Request) -> Response:
        if request.method == "POST":
            try:
                body = await _json(request)
                if not isinstance(body, dict):
                    raise ValueError("the body must be an object")
                with s.lock:
                    s.delivery.webhooks.update(body)
                    s.settle()
            except (ValueError, TypeError) as exc:
                return _refuse(str(exc))
        with s.lock:
            return JSONResponse(asdict(s.delivery.webhooks))

    async def deliveries(request: Request) -> Response:
        with s.lock:
            s.settle()
            return JSONResponse(s.delivery.summary())

    p = CONTROL_PREFIX
    return [
        Route(f"{p}/webhooks", webhooks, methods=["GET", "POST"]),
        Route(f"{p}/deliveries", deliveries, methods=["GET"]),
        Route(f"{FILES_PATH}/{{fileId}}", report_file, methods=["GET"]),
        Route(f"{p}/reset", reset, methods=["POST"]),
        Route(f"{p}/seed", seed, methods=["POST"]),
        Route(f"{p}/clock", clock, methods=["GET", "POST"]),
        Route(f"{p}/config", config, methods=["GET", "POST"]),
        Route(f"{p}/queue", queue, methods=["GET"]),
        Route(f"{p}/delete", delete, methods=["POST"]),
        Route(f"{p}/scores", scores, methods=["POST"]),
        Route(f"{p}/rename", rename, methods=["POST"]),
        Route(f"{p}/archive/{{newsletterId}}.html", archive, methods=["GET"]),
    ]


def _config(s: Account) -> dict[str, Any]:
    limits = s.limiter.limits
    return {
        "contact_delay": s.settings.contact_delay,
        "rate_limits": {name: getattr(limits, name) for name in limits.__dataclass_fields__},
        "undeliverable_domains": sorted(s.settings.undeliverable_domains),
        "taken_list_names": sorted(s.settings.taken_list_names),
        "sending": s.sending.rules.as_json(),
        "custom_reports": asdict(s.reports.rules),
    }


def _configure(s: Account, body: dict[str, Any]) -> None:
    unknown = set(body) - {
        "contact_delay", "rate_limits", "undeliverable_domains", "sending", "taken_list_names",
        "custom_reports",
    }  # fmt: skip
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    if "rate_limits" in body:
        s.limiter.limits = RateLimits.from_json(body["rate_limits"], s.limiter.limits)
        s.limiter.reset()
    if "contact_delay" in body:
        delay = float(body["contact_delay"])
        if delay < 0:
            raise ValueError("contact_delay cannot be negative")
        s.settings.contact_delay = delay
    if "undeliverable_domains" in body:
        domains = body["undeliverable_domains"]
        if not isinstance(domains, list):
            raise ValueError("undeliverable_domains must be a list of domains")
        s.settings.undeliverable_domains = {str(d).lower() for d in domains}
    if "taken_list_names" in body:
        names = body["taken_list_names"]
        if not isinstance(names, list):
            raise ValueError("taken_list_names must be a list of list names")
        s.settings.taken_list_names = {str(n).lower() for n in names}
    if "sending" in body:
        if not isinstance(body["sending"], dict):
            raise ValueError("sending must be an object")
        s.sending.rules.update(body["sending"])
    if "custom_reports" in body:
        if not isinstance(body["custom_reports"], dict):
            raise ValueError("custom_reports must be an object")
        s.reports.rules.update(body["custom_reports"])


def _delete(s: Account, body: dict[str, Any]) -> dict[str, list[str]]:
    """``{"campaigns": [...], "newsletters": [...], "contacts": [...]}`` by id."""
    unknown = set(body) - {"campaigns", "newsletters", "contacts"}
    if unknown:
        raise ValueError(f"can delete campaigns, newsletters and contacts, not {sorted(unknown)}")
    for cid in body.get("campaigns", []):
        s.campaigns.delete(cid)
    for cid in body.get("newsletters", []):
        s.messages.delete(cid)
    for cid in body.get("contacts", []):
        s.contacts.delete(cid)
    return {key: list(body.get(key, [])) for key in ("campaigns", "newsletters", "contacts")}
