"""Posting what happens in the account to the configured addresses, as GetResponse does
(sources in docs/getresponse-api.md, "Callbacks and webhooks").

- **Callbacks** (``/accounts/callbacks``): one ``GET`` per event, its data in the query
  string (``action``, ``ACCOUNT_ID``, ``CAMPAIGN_ID``, ``campaign_name``, ``MESSAGE_ID``,
  ``message_name``, ``message_subject``, ``CONTACT_ID``, ``contact_name``, ``contact_email``;
  ``link_url`` for clicks — not documented, our choice), 4 s timeout, never repeated: one
  that fails is **lost**.
- **Webhooks** (set up in the web app; here ``/__sandbox__/webhooks``): ``POST`` of a JSON
  event — or of an array of up to ``batch`` of them — with ``X-Webhook-Type`` and
  ``X-Webhook-ID`` (the same on every retry); 5 s timeout; delivered when the answer is a 2xx
  whose JSON body is ``{"status": "OK"}``, retried ``len(retry_delays)`` more times at the
  increasing intervals ``retry_delays`` (real seconds: GetResponse says "3 more times at
  increasing intervals" without the intervals) on network errors, timeouts, 429, 5xx and a 2xx
  without that body, never on 1xx, 3xx or other 4xx.

What is sent: opens and clicks as the sandbox clock reaches them (sends are no callback
event), contacts added through the API (subscribe) and contacts deleted with ``messageId``
(unsubscribe), from the moment delivery is configured — never the past. Every delivery is
recorded (``/__sandbox__/deliveries``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import httpx

from reconcile.sandbox.getresponse.callbacks import Callbacks
from reconcile.sandbox.getresponse.db import SandboxClock, fmt_time
from reconcile.sandbox.getresponse.models import State

log = logging.getLogger(__name__)

WEBHOOK_TYPES = {
    "open": "contact_opened_message",
    "click": "contact_clicked_message_link",
    "subscribe": "contact_subscribed",
    "unsubscribe": "contact_unsubscribed",
}
CALLBACK_TIMEOUT = 4.0


class Account(Protocol):
    """What delivery needs of the account (kept below it: no import of account.py)."""

    lock: Any
    clock: SandboxClock
    conn: Any
    state: State
    callbacks: Callbacks

    def settle(self) -> None: ...


@dataclass
class WebhookRules:
    url: str | None = None
    events: list[str] = field(default_factory=lambda: list(WEBHOOK_TYPES.values()))
    batch: int = 1  # events per request (GetResponse batches up to 100)
    retry_delays: list[float] = field(default_factory=lambda: [10.0, 60.0, 300.0])
    timeout: float = 5.0
    concurrency: int = 10

    def update(self, data: dict[str, Any]) -> None:
        unknown = set(data) - set(asdict(self))
        if unknown:
            raise ValueError(f"unknown webhook setting(s): {', '.join(sorted(unknown))}")
        url = data.get("url")
        if url is not None and not str(url).startswith(("http://", "https://")):
            raise ValueError("url must be an http(s) URL")
        if "events" in data and not set(data["events"]) <= set(WEBHOOK_TYPES.values()):
            raise ValueError(f"events are among {', '.join(WEBHOOK_TYPES.values())}")
        if "batch" in data and not 1 <= int(data["batch"]) <= 100:
            raise ValueError("batch is 1 to 100 events")
        for key, value in data.items():
            setattr(self, key, value)


@dataclass
class _Item:
    row: int
    target: str  # callback | webhook
    payload: dict[str, Any]
    attempts: int
    webhook_id: str


class Delivery:
    """The account's outbox and the thread that empties it."""

    def __init__(self, account: Account) -> None:
        self.a = account
        self.webhooks = WebhookRules()
        self.collected: float | None = None  # sandbox time up to which events were queued
        self._thread: threading.Thread | None = None
        self._http: httpx.Client | None = None
        self._wake = threading.Event()

    def reset(self) -> None:
        self.webhooks = WebhookRules()
        self.collected = None

    # ---- queueing (under the account lock) -----------------------------------------------

    def _targets(self) -> dict[str, set[str]]:
        """kind → where it goes (callback, webhook)."""
        out: dict[str, set[str]] = {kind: set() for kind in WEBHOOK_TYPES}
        config = self.a.callbacks.current()
        if config and config.get("url"):
            for kind, on in (config.get("actions") or {}).items():
                if on and kind in out:
                    out[kind].add("callback")
        if self.webhooks.url:
            for kind, name in WEBHOOK_TYPES.items():
                if name in self.webhooks.events:
                    out[kind].add("webhook")
        return out

    def collect(self) -> int:
        """Queue the events that happened since the last call (from settle())."""
        targets = self._targets()
        now = self.a.clock()
        if not any(targets.values()):
            self.collected = None
            return 0
        if self.collected is None:  # just configured: from now on
            self.collected = now
            self._start()
            return 0
        low, high = fmt_time(self.collected), fmt_time(now)
        if high <= low:
            return 0
        conn = self.a.conn
        events: list[tuple[str, dict[str, Any]]] = []
        kinds = [k for k in ("open", "click") if targets[k]]
        if kinds:
            rows = conn.execute(
                "SELECT a.activity, a.contact_cid, a.email, a.created_on, n.cid, n.name, n.subject,"
                " k.cid, k.name, c.name, json_extract(a.click_track, '$.url'),"
                " json_extract(a.click_track, '$.id'), json_extract(a.click_track, '$.name')"
                " FROM activities a JOIN newsletters n ON n.id = a.newsletter"
                " JOIN campaigns k ON k.id = n.campaign LEFT JOIN contacts c ON c.id = a.contact"
                f" WHERE a.created_on > ? AND a.created_on <= ? AND a.activity IN"
                f" ({','.join('?' * len(kinds))}) ORDER BY a.created_on, a.id",
                [low, high, *kinds],
            ).fetchall()
            for (
                kind,
                contact,
                email,
                at,
                mid,
                mname,
                subject,
                kid,
                kname,
                cname,
                url,
                tid,
                tname,
            ) in rows:
                payload = {"kind": kind, "contact": contact, "email": email, "at": at,
                           "message": mid, "message_name": mname or subject, "subject": subject,
                           "campaign": kid, "campaign_name": kname, "contact_name": cname,
                           "url": url, "track_id": tid, "track_name": tname}  # fmt: skip
                events.append((kind, payload))
        if targets["subscribe"]:
            for cid, email, name, at, kid, kname in conn.execute(
                "SELECT c.cid, c.email, c.name, c.created_on, k.cid, k.name FROM contacts c"
                " JOIN campaigns k ON k.id = c.campaign WHERE c.created_on > ? AND"
                " c.created_on <= ? ORDER BY c.created_on, c.id",
                (low, high),
            ):
                events.append(("subscribe", {"kind": "subscribe", "contact": cid, "email": email,
                                             "contact_name": name, "at": at, "campaign": kid,
                                             "campaign_name": kname}))  # fmt: skip
        if targets["unsubscribe"]:
            for cid, email, at, kid, kname in conn.execute(
                "SELECT r.contact_cid, r.email_key, r.removed_on, k.cid, k.name FROM removals r"
                " JOIN campaigns k ON k.id = r.campaign WHERE r.reason = 'unsubscribed'"
                " AND r.contact_cid IS NOT NULL AND r.removed_on > ? AND r.removed_on <= ?",
                (low, high),
            ):
                events.append(("unsubscribe", {"kind": "unsubscribe", "contact": cid,
                                               "email": email, "at": at, "campaign": kid,
                                               "campaign_name": kname}))  # fmt: skip
        self.collected = now
        queued = [
            (target, json.dumps(payload), str(uuid.uuid4()))
            for kind, payload in events
            for target in sorted(targets[kind])
        ]
        if queued:
            with self.a.state.write() as c:
                c.executemany(
                    "INSERT INTO callback_outbox (target, payload, webhook_id, state, attempts,"
                    " next_at) VALUES (?, ?, ?, 'queued', 0, 0)",
                    queued,
                )
            self._wake.set()
        return len(queued)

    # ---- sending (in the delivery thread) -----------------------------------------------

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="grsb-delivery", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        self._http = httpx.Client(follow_redirects=False)
        pool = ThreadPoolExecutor(max_workers=100, thread_name_prefix="grsb-post")
        while True:
            self._wake.wait(0.2)
            self._wake.clear()
            with self.a.lock:
                self.a.settle()  # the clock may have passed new events
                due = self._due()
                rules = WebhookRules(**asdict(self.webhooks))
                config = self.a.callbacks.current() or {}
            if not due:
                continue
            requests = self._requests(due, rules)
            workers = max(1, min(rules.concurrency, len(requests)))
            chunks = [requests[i::workers] for i in range(workers)]
            results: list[tuple[list[_Item], str]] = []
            for part in pool.map(self._post_all, chunks, [rules] * workers, [config] * workers):
                results.extend(part)
            with self.a.lock:
                self._record(results, rules)
            self._wake.set()

    def _due(self) -> list[_Item]:
        rows = self.a.conn.execute(
            "SELECT id, target, payload, attempts, webhook_id FROM callback_outbox"
            " WHERE state IN ('queued', 'retry') AND next_at <= ? ORDER BY id LIMIT 5000",
            (time.time(),),
        ).fetchall()
        if rows:
            with self.a.state.write() as c:
                c.executemany(
                    "UPDATE callback_outbox SET state = 'sending' WHERE id = ?",
                    [(r[0],) for r in rows],
                )
        return [_Item(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in rows]

    def _requests(self, due: list[_Item], rules: WebhookRules) -> list[list[_Item]]:
        callbacks = [[i] for i in due if i.target == "callback"]
        hooks = [i for i in due if i.target == "webhook"]
        size = max(1, int(rules.batch))
        return callbacks + [hooks[n : n + size] for n in range(0, len(hooks), size)]

    def _post_all(
        self, requests: list[list[_Item]], rules: WebhookRules, config: dict[str, Any]
    ) -> list[tuple[list[_Item], str]]:
        return [self._post(items, rules, config) for items in requests]

    def _post(
        self, items: list[_Item], rules: WebhookRules, config: dict[str, Any]
    ) -> tuple[list[_Item], str]:
        assert self._http is not None
        try:
            if items[0].target == "callback":
                url = config.get("url")
                if not url:
                    return items, "lost: callbacks disabled"
                sep = "&" if "?" in url else "?"
                query = httpx.QueryParams(_callback_params(items[0].payload))
                response = self._http.get(f"{url}{sep}{query}", timeout=CALLBACK_TIMEOUT)
                return (
                    items,
                    "delivered"
                    if response.status_code < 300
                    else f"lost: HTTP {response.status_code}",
                )
            if not rules.url:
                return items, "failed: webhooks disabled"
            body = [_webhook(i.payload, self.a) for i in items]
            response = self._http.post(
                rules.url,
                json=body if rules.batch > 1 else body[0],
                timeout=rules.timeout,
                headers={
                    "X-Webhook-Type": WEBHOOK_TYPES[items[0].payload["kind"]],
                    "X-Webhook-ID": items[0].webhook_id,
                    "X-Request-ID": str(uuid.uuid4()),
                },
            )
        except httpx.HTTPError as exc:
            what = "timeout" if isinstance(exc, httpx.TimeoutException) else type(exc).__name__
            return items, ("lost: " if items[0].target == "callback" else "retry: ") + what
        status = response.status_code
        if 200 <= status < 300:
            try:
                ok = (response.json() or {}).get("status") == "OK"
            except ValueError:
                ok = False
            return items, "delivered" if ok else 'retry: 2xx without {"status": "OK"}'
        if status == 429 or status >= 500:
            return items, f"retry: HTTP {status}"
        return items, f"failed: HTTP {status}"

    def _record(self, results: list[tuple[list[_Item], str]], rules: WebhookRules) -> None:
        updates = []
        now = time.time()
        for items, outcome in results:
            for item in items:
                attempts = item.attempts + 1
                if outcome.startswith("retry") and attempts <= len(rules.retry_delays):
                    state, next_at = "retry", now + float(rules.retry_delays[attempts - 1])
                elif outcome.startswith("retry"):
                    state, next_at = "failed", 0.0
                else:
                    state, next_at = outcome.split(":")[0], 0.0
                updates.append((state, attempts, next_at, outcome, item.row))
        with self.a.state.write() as c:
            c.executemany(
                "UPDATE callback_outbox SET state = ?, attempts = ?, next_at = ?, outcome = ?"
                " WHERE id = ?",
                updates,
            )

    def summary(self) -> dict[str, Any]:
        counts = dict(
            self.a.conn.execute(
                "SELECT state, count(*) FROM callback_outbox GROUP BY state"
            ).fetchall()
        )
        attempts = self.a.conn.execute(
            "SELECT coalesce(sum(attempts), 0) FROM callback_outbox"
        ).fetchone()[0]
        return {"states": counts, "attempts": int(attempts), "webhooks": asdict(self.webhooks)}


def _callback_params(p: dict[str, Any]) -> dict[str, str]:
    params = {
        "action": p["kind"],
        "ACCOUNT_ID": "sandbox",
        "account_login": "sandbox",
        "CAMPAIGN_ID": p.get("campaign") or "",
        "campaign_name": p.get("campaign_name") or "",
        "CONTACT_ID": p["contact"],
        "contact_name": p.get("contact_name") or "",
        "contact_email": p.get("email") or "",
    }
    if p.get("message"):
        params.update(MESSAGE_ID=p["message"], message_name=p.get("message_name") or "",
                      message_subject=p.get("subject") or "")  # fmt: skip
    if p.get("url"):
        params["link_url"] = p["url"]
    return params


def _webhook(p: dict[str, Any], account: Account) -> dict[str, Any]:
    base = "https://api.getresponse.com/v3"
    out: dict[str, Any] = {
        "type": WEBHOOK_TYPES[p["kind"]],
        "contact": {
            "contactId": p["contact"],
            "email": p.get("email"),
            "name": p.get("contact_name"),
            "campaign": {
                "campaignId": p.get("campaign"),
                "name": p.get("campaign_name"),
                "href": f"{base}/campaigns/{p.get('campaign')}",
            },
            "href": f"{base}/contacts/{p['contact']}",
        },
        "account": {"accountId": "sandbox"},
        "event": {"occurredAt": p["at"][:19] + "+00:00"},
    }
    if p.get("message"):
        out["message"] = {
            "resourceType": "newsletters",
            "resourceId": p["message"],
            "name": p.get("message_name"),
            "subject": p.get("subject"),
            "href": f"{base}/newsletters/{p['message']}",
        }
    if p.get("url"):
        out["clickTrack"] = {"id": p.get("track_id"), "name": p.get("track_name"), "url": p["url"]}
    return out
