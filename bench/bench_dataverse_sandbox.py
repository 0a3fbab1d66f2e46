"""Raw serving speed of the Dataverse sandbox for the migration's traffic.

The sandbox runs in a *separate process* (its own interpreter and GIL), limits off. A bare
``httpx`` client then:

- writes ``--contacts`` contacts with ``CreateMultiple`` (500 targets per request);
- writes the same number again through ``$batch`` (one change set of 500 POSTs per request);
- reads them all back with ``@odata.nextLink`` paging at ``odata.maxpagesize=5000``
  (``$select`` of the columns the migration reads), decoding every page's JSON.

It prints requests, seconds, rows per second, and the server process's CPU seconds.

    python bench/bench_dataverse_sandbox.py [--contacts 100000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import time
import uuid
from typing import Any

import httpx

BATCH = 500
SELECT = "firstname,lastname,emailaddress1,statecode,modifiedon"


def _serve(conn: Any) -> None:
    from reconcile.sandbox.dataverse import DataverseSandbox, Limits
    from reconcile.sandbox.server import SandboxServer

    sandbox = DataverseSandbox(limits=Limits(enabled=False))
    with SandboxServer(sandbox.asgi_app) as server:
        info = sandbox.connection_info(server.url)
        conn.send((info["url"], info["token"]))
        while conn.recv() == "cpu":
            conn.send((time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    sandbox.close()


def person(i: int) -> dict[str, Any]:
    return {
        "firstname": f"First{i}",
        "lastname": f"Last{i % 9973}",
        "emailaddress1": f"p{i:07d}@bench.example",
    }


def write_create_multiple(http: httpx.Client, total: int) -> int:
    requests = 0
    for start in range(0, total, BATCH):
        targets = [
            {**person(i), "@odata.type": "Microsoft.Dynamics.CRM.contact"}
            for i in range(start, min(total, start + BATCH))
        ]
        response = http.post(
            "/contacts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": targets}
        )
        response.raise_for_status()
        assert len(response.json()["Ids"]) == len(targets)
        requests += 1
    return requests


def write_batch(http: httpx.Client, total: int, offset: int) -> int:
    requests = 0
    for start in range(offset, offset + total, BATCH):
        changeset = f"changeset_{uuid.uuid4()}"
        parts = []
        for i in range(start, min(offset + total, start + BATCH)):
            parts.append(
                f"--{changeset}\r\nContent-Type: application/http\r\n"
                f"Content-Transfer-Encoding: binary\r\nContent-ID: {i - start + 1}\r\n\r\n"
                "POST /api/data/v9.2/contacts HTTP/1.1\r\n"
                f"Content-Type: application/json; type=entry\r\n\r\n{json.dumps(person(i))}\r\n"
            )
        body = (
            f"--batch_b\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n"
            + "".join(parts)
            + f"--{changeset}--\r\n--batch_b--\r\n"
        )
        response = http.post(
            "/$batch",
            content=body.encode(),
            headers={"Content-Type": "multipart/mixed; boundary=batch_b"},
        )
        response.raise_for_status()
        assert response.text.count("HTTP/1.1 204") == min(BATCH, offset + total - start)
        requests += 1
    return requests


def read_all(http: httpx.Client) -> tuple[int, int]:
    rows = requests = 0
    url: str | None = f"/contacts?$select={SELECT}"
    headers = {"Prefer": "odata.maxpagesize=5000"}
    while url:
        body = http.get(url, headers=headers).json()
        rows += len(body["value"])
        requests += 1
        url = body.get("@odata.nextLink")
    return rows, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    args = parser.parse_args()
    parent, child = mp.Pipe()
    process = mp.get_context("spawn").Process(target=_serve, args=(child,), daemon=True)
    process.start()
    url, token = parent.recv()
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "OData-Version": "4.0",
    }

    def cpu() -> tuple[float, int]:
        parent.send("cpu")
        return parent.recv()

    with httpx.Client(base_url=f"{url}/api/data/v9.2", headers=headers, timeout=300) as http:
        for label, run in (
            (
                "CreateMultiple write",
                lambda: (args.contacts, write_create_multiple(http, args.contacts)),
            ),
            (
                "$batch write",
                lambda: (args.contacts, write_batch(http, args.contacts, args.contacts)),
            ),
            ("nextLink read", lambda: read_all(http)),
        ):
            cpu_before, _ = cpu()
            started = time.perf_counter()
            rows, requests = run()
            seconds = time.perf_counter() - started
            cpu_after, rss = cpu()
            print(
                f"{label:22} {rows:>8,} rows  {requests:>4} requests  {seconds:7.2f} s  "
                f"{rows / seconds:>9,.0f} rows/s  server CPU {cpu_after - cpu_before:6.2f} s  "
                f"server max RSS {rss / 1024:,.0f} MB"
            )
    parent.send("stop")
    process.join(timeout=30)


if __name__ == "__main__":
    main()
