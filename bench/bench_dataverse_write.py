"""Create 100,000 contacts in the Dataverse sandbox through the client; count requests, time it.

The sandbox runs in a *separate process* (its own interpreter, so client and server do not
share a GIL). The contacts come from the seeded sample-data generator (names, emails) and
are written with :func:`reconcile.dataverse.create_many`:

- ``--api-version 9.2`` (default): ``CreateMultiple`` in chunks of 1000 — the bar is at most
  100 requests plus a few for 100,000 contacts;
- ``--api-version 9.1`` (or 8.2, 9.0): the ``$batch`` fallback, 1000 operations per batch.

After the write it reads the contact count back (``$count``) to prove every record landed.

    python bench/bench_dataverse_write.py [--contacts 100000] [--api-version 9.2] [--workers 1]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from typing import Any


def _serve(conn: Any) -> None:
    """Child process: an empty sandbox (no sample data), served until told to stop."""
    from reconcile.sandbox.dataverse import DataverseSandbox
    from reconcile.sandbox.server import SandboxServer

    sandbox = DataverseSandbox(seed=None)
    with SandboxServer(sandbox.asgi_app) as server:
        info = sandbox.connection_info(server.url)
        conn.send({"url": info["url"], "token": info["token"]})
        conn.recv()  # "stop"
    sandbox.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--api-version", default="9.2", choices=["8.2", "9.0", "9.1", "9.2"])
    parser.add_argument("--workers", type=int, default=1, help="chunks written in parallel")
    parser.add_argument("--chunk-size", type=int, default=1000)
    args = parser.parse_args()

    from reconcile.dataverse import BearerTokenAuth, DataverseClient, create_many
    from reconcile.sample.people import people

    frame = people(args.contacts, seed=7)
    records = [
        {"firstname": f, "lastname": last, "emailaddress1": e}
        for f, last, e in zip(frame["first_name"], frame["last_name"], frame["email"], strict=True)
    ]

    parent, child = mp.get_context("spawn").Pipe()
    server = mp.get_context("spawn").Process(target=_serve, args=(child,), daemon=True)
    server.start()
    info = parent.recv()
    try:
        client = DataverseClient(
            info["url"],
            api_version=args.api_version,
            auth=BearerTokenAuth(info["token"]),
            timeout=600,
        )
        before = client.requests_sent
        started = time.perf_counter()
        result = create_many(
            client,
            "contacts",
            records,
            logical_name="contact",
            id_column="contactid",
            chunk_size=args.chunk_size,
            workers=args.workers,
        )
        seconds = time.perf_counter() - started
        requests = client.requests_sent - before
        count = _count(client)
        client.close()
    finally:
        parent.send("stop")
        server.join(timeout=30)

    mode = "CreateMultiple" if result.used_bulk_messages else "$batch"
    print(f"contacts           {args.contacts:>10,}")
    print(
        f"API version        {'v' + args.api_version:>10}  ({mode}, chunks of {args.chunk_size},"
        f" {args.workers} worker(s))"
    )
    print(f"created            {result.succeeded:>10,}  failed {result.failed:,}")
    print(f"requests           {requests:>10,}")
    print(f"wall time          {seconds:>10.1f} s  ({args.contacts / seconds:,.0f} contacts/s)")
    print(f"contacts in Dataverse afterwards: {count:,}")
    ok = result.succeeded == args.contacts and count == args.contacts
    if result.used_bulk_messages:
        ok = ok and requests <= args.contacts // 1000 + 5
    print("OK" if ok else "NOT OK")
    sys.exit(0 if ok else 1)


def _count(client: Any) -> int:
    """Contacts in the environment, read back through the API (ids only, 5000 per page:
    ``$count=true`` stops counting at 5000)."""
    from reconcile.dataverse import Query

    return sum(1 for _ in client.query("contacts", Query(select=("contactid",)), page_size=5000))


if __name__ == "__main__":
    main()
