"""Read every contact of a 100,000-contact list through the GetResponse client.

The sandbox runs in a *separate process* (its own interpreter, so client and server do not
share a GIL), with its rate limits switched off so that the baseline measures serving alone.
Three readers go over the same list, each ``--runs`` times (best run kept):

- ``raw``: a bare ``httpx.Client`` loop over ``page=1..N&perPage=1000``, reading bodies and
  decoding JSON — the floor for any Python consumer, i.e. the sandbox's serving time as a
  client sees it;
- ``client``: ``iter_contacts(client, campaign_id=…)`` → ``Contact`` records (auth, pacing
  at 80 req/s and 10 in flight, retry policy, paging with loop detection, parsed dates);
- ``client x4``: the same with ``concurrency=4`` (pages fetched ahead in parallel).

Targets (issue 3): at most 101 requests, and the client within 1.5× of the raw time.

    python bench/bench_getresponse_read.py [--contacts 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import sys
import time
from typing import Any

import httpx

API_KEY = "bench-key-0123456789abcdef"
LIST_NAME = "bench_list"


def _serve(contacts: int, conn: Any) -> None:
    """Child process: build the sandbox, load the list, serve until told to stop."""
    from reconcile.sandbox.getresponse import GetResponseSandbox
    from reconcile.sandbox.server import SandboxServer

    sandbox = GetResponseSandbox(api_key=API_KEY, rate_limits={"enabled": False})
    campaign_id = sandbox.seed({"campaigns": [{"name": LIST_NAME}]})["campaigns"][LIST_NAME]
    started = time.perf_counter()
    rows = (
        {"email": f"person{i:07d}@bench.example", "name": f"Person {i}"} for i in range(contacts)
    )
    loaded = sandbox.bulk_add_contacts(campaign_id, rows)
    load_seconds = time.perf_counter() - started
    with SandboxServer(sandbox.asgi_app) as server:
        conn.send((server.url + "/v3", campaign_id, loaded, load_seconds))
        while conn.recv() == "cpu":  # until "stop": report the server's CPU seconds so far
            conn.send(time.process_time())


def read_raw(base_url: str, campaign_id: str) -> tuple[int, int]:
    """Bare httpx: the fewest steps that still decode every page."""
    headers = {"X-Auth-Token": f"api-key {API_KEY}"}
    count = requests = 0
    with httpx.Client(base_url=base_url + "/", headers=headers, timeout=60) as http:
        page = 1
        while True:
            response = http.get(
                "contacts",
                params={"query[campaignId]": campaign_id, "page": page, "perPage": 1000},
            )
            requests += 1
            response.raise_for_status()
            items = response.json()
            count += len(items)
            total_pages = int(response.headers.get("TotalPages", "0"))
            if not items or page >= total_pages:
                return count, requests
            page += 1


def read_client(base_url: str, campaign_id: str, concurrency: int) -> tuple[int, int]:
    from reconcile.getresponse import ApiKeyAuth, GetResponseClient, iter_contacts

    with GetResponseClient(ApiKeyAuth(API_KEY), base_url=base_url, timeout=60) as client:
        count = sum(
            1 for _ in iter_contacts(client, campaign_id=campaign_id, concurrency=concurrency)
        )
        return count, client.stats.requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(args.contacts, child), daemon=True)
    server.start()
    try:
        base_url, campaign_id, loaded, load_seconds = parent.recv()
        print(f"sandbox: {loaded:,} contacts loaded in {load_seconds:.1f} s, serving {base_url}")
        readers = {
            "raw": lambda: read_raw(base_url, campaign_id),
            "client": lambda: read_client(base_url, campaign_id, 1),
            "client x4": lambda: read_client(base_url, campaign_id, 4),
        }
        times: dict[str, list[float]] = {name: [] for name in readers}
        client_cpu: dict[str, list[float]] = {name: [] for name in readers}
        server_cpu: dict[str, list[float]] = {name: [] for name in readers}
        counts: dict[str, tuple[int, int]] = {}

        def served() -> float:
            parent.send("cpu")
            return float(parent.recv())

        read_raw(base_url, campaign_id)  # warm-up: page cache, connections, imports
        names = list(readers)
        for run in range(args.runs):
            # Rotate the order each run, so that no reader always goes first (or last).
            for name in names[run % len(names) :] + names[: run % len(names)]:
                server_before, cpu_before = served(), time.process_time()
                started = time.perf_counter()
                counts[name] = readers[name]()
                times[name].append(time.perf_counter() - started)
                client_cpu[name].append(time.process_time() - cpu_before)
                server_cpu[name].append(served() - server_before)
        raw_best = min(times["raw"])
        print(f"{'reader':<10} {'contacts':>9} {'requests':>8} {'best s':>7} {'median s':>8} "
              f"{'vs raw':>6} {'server cpu s':>12} {'client cpu s':>12}")  # fmt: skip
        failures = []
        for name in readers:
            count, requests = counts[name]
            best, median = min(times[name]), statistics.median(times[name])
            ratio = best / raw_best
            print(
                f"{name:<10} {count:>9,} {requests:>8} {best:>7.2f} {median:>8.2f} {ratio:>5.2f}x "
                f"{statistics.median(server_cpu[name]):>12.2f} "
                f"{statistics.median(client_cpu[name]):>12.2f}"
            )
            if count != loaded:
                failures.append(f"{name} read {count} of {loaded} contacts")
            if name != "raw" and requests > 101:
                failures.append(f"{name} made {requests} requests (target: at most 101)")
            if name == "client" and ratio > 1.5:
                failures.append(f"{name} took {ratio:.2f}x the raw time (target: 1.5x)")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"client process peak RSS: {peak:.0f} MB (records are streamed, a page at a time)")
        for failure in failures:
            print("MISSED:", failure)
        return 1 if failures else 0
    finally:
        parent.send("stop")
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()


if __name__ == "__main__":
    sys.exit(main())
