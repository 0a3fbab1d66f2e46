"""How fast the GetResponse sandbox serves a big list, page after page, over real HTTP.

Builds an account of 1,000,000 contacts (100,000 on the list we read, 900,000 on another),
then reads the 100,000 in pages of 1000 with raw httpx, as a client would, and reports
per-page and total serving time; also deep random pages (no keyset shortcut) and single
contacts. The GetResponse client's own read time can be compared with these numbers.

    python bench/bench_getresponse_sandbox.py [--total 1000000] [--list 100000]
    /usr/bin/time -v python bench/bench_getresponse_sandbox.py   # for peak RSS
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator
from typing import Any

import httpx

from reconcile.sample.people import people
from reconcile.sandbox.getresponse import GetResponseSandbox
from reconcile.sandbox.server import SandboxServer


def rows(frame: Any, start: int, stop: int) -> Iterator[dict[str, Any]]:
    emails = frame.email.iloc[start:stop].tolist()
    names = (frame.first_name.iloc[start:stop] + " " + frame.last_name.iloc[start:stop]).tolist()
    for i, (email, name) in enumerate(zip(emails, names, strict=True), start=start):
        yield {
            "email": email,
            "name": name,
            "scoring": i % 97,
            "engagementScore": 1 + i % 5,
            "createdOn": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(1.6e9 + i * 60)),
        }


def summary(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[int(len(ms) * 0.95) - 1] if len(ms) > 1 else ms[0]
    print(
        f"{label}: n={len(ms)} mean={statistics.mean(ms):.1f} ms p50={ms[len(ms) // 2]:.1f} ms"
        f" p95={p95:.1f} ms max={ms[-1]:.1f} ms total={sum(ms) / 1000:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--list", type=int, default=100_000, dest="size")
    parser.add_argument("--per-page", type=int, default=1000)
    args = parser.parse_args()

    started = time.perf_counter()
    frame = people(args.total, seed=1)
    print(f"people({args.total:,}): {time.perf_counter() - started:.1f} s")
    sandbox = GetResponseSandbox(contact_delay=0, rate_limits={"enabled": False})
    target, other = sandbox.campaigns.add("bench_list"), sandbox.campaigns.add("other_list")
    started = time.perf_counter()
    sandbox.bulk_add_contacts(target, rows(frame, 0, args.size))
    sandbox.bulk_add_contacts(other, rows(frame, args.size, args.total))
    print(f"bulk_add_contacts({args.total:,}): {time.perf_counter() - started:.1f} s")

    with SandboxServer(sandbox.asgi_app) as server:
        info = sandbox.connection_info(server.url)
        headers = {"X-Auth-Token": f"api-key {info['api_key']}"}
        with httpx.Client(base_url=info["url"], headers=headers, timeout=60) as http:
            for path in (f"/campaigns/{target}/contacts", "/contacts"):
                params: dict[str, Any] = {"perPage": args.per_page}
                if path == "/contacts":
                    params["query[campaignId]"] = target
                timings, seen, page = [], 0, 1
                wall = time.perf_counter()
                while True:
                    t0 = time.perf_counter()
                    response = http.get(path, params={**params, "page": page})
                    items = response.json()
                    timings.append(time.perf_counter() - t0)
                    if not items:
                        break
                    seen += len(items)
                    page += 1
                wall = time.perf_counter() - wall
                assert seen == args.size, (seen, args.size)
                print(
                    f"\nGET {path.replace(target, '{id}')} ({', '.join(params)}):"
                    f" {seen:,} contacts in {page - 1} pages, {wall:.2f} s wall,"
                    f" {seen / wall:,.0f} contacts/s"
                )
                summary("  per page (request + JSON parse)", timings[:-1])
                print(
                    f"  first page {timings[0] * 1000:.1f} ms,"
                    f" last full page {timings[-2] * 1000:.1f} ms"
                )

            deep = []
            last_page = (args.total - args.size) // args.per_page
            for page in (last_page, last_page // 2, last_page - 1, 3, last_page // 3):
                t0 = time.perf_counter()
                http.get(
                    f"/campaigns/{other}/contacts", params={"perPage": args.per_page, "page": page}
                ).json()
                deep.append(time.perf_counter() - t0)
            summary("\nrandom deep pages of the 900k list (OFFSET, no keyset)", deep)

            ids = [
                c["contactId"]
                for c in http.get(f"/campaigns/{target}/contacts", params={"perPage": 200}).json()
            ]
            single = []
            for cid in ids:
                t0 = time.perf_counter()
                http.get(f"/contacts/{cid}").json()
                single.append(time.perf_counter() - t0)
            summary("GET /contacts/{id}", single)
            t0 = time.perf_counter()
            found = http.get(
                "/contacts",
                params={
                    "query[email]": frame.email.iloc[args.total - 1],
                    "additionalFlags": "exactMatch",
                },
            ).json()
            print(
                f"exact email search over {args.total:,}: "
                f"{(time.perf_counter() - t0) * 1000:.1f} ms ({len(found)} found)"
            )


if __name__ == "__main__":
    main()
