"""``reconcile sync contacts`` against the bars of its issue: the user's command (the CLI in a
child process, its own peak RSS and CPU), the sandboxes in another process (their CPU next to
the command's):

- ``quiet``: 20 synchronized lists, nothing changed since the last run — bar: at most 2
  GetResponse requests per list and 3 Dataverse requests in all;
- ``changed``: one list of 100,000 contacts with custom field values and tags — first read
  whole (every record and value created), then every contact changed (renamed, a value
  changed) and read again — bars: at most 1 GetResponse request per 500 contacts read and 1
  Dataverse request per 500 records written, peak RSS at most 1 GB, wall time dominated by
  the sandboxes;
- ``scan``: the deletion scan of a 1,000,000-contact list whose records are all in the CRM —
  bars: at most 1,001 GetResponse requests, peak RSS at most 1 GB.

    python bench/bench_sync_contacts.py [--only quiet,changed,scan] [--contacts 100000]
        [--scan-contacts 1000000] [--lists 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PAST = "2026-01-05T08:00:00+0000"


# --- the sandboxes' process -----------------------------------------------------------------
def serve(kind: str, size: int) -> None:
    """Child: seed both sandboxes for ``kind``, serve them; answer "cpu", "change", "quit"."""
    from reconcile.dataverse import BearerTokenAuth, DataverseClient, install_roles, install_schema
    from reconcile.dataverse.roles import SERVICE_USER
    from reconcile.jobs.demo_data import bring_list_over
    from reconcile.sandbox.dataverse import DataverseSandbox, Limits
    from reconcile.sandbox.getresponse import GetResponseSandbox
    from reconcile.sandbox.server import SandboxServer

    dv = DataverseSandbox(seed=None, limits=Limits(enabled=False))
    gr = GetResponseSandbox(contact_delay=0, rate_limits={"enabled": False})
    with SandboxServer(dv.asgi_app) as dvs, SandboxServer(gr.asgi_app) as grs:
        info = dv.connection_info(dvs.url)
        with DataverseClient(dvs.url, auth=BearerTokenAuth(info["token"]), timeout=600) as admin:
            install_schema(admin)
            install_roles(admin)
            dv.load({"identity_roles": {"service": [SERVICE_USER.name]}})
            lists = _seed_getresponse(gr, kind, size)
            records = {}
            for name, campaign in lists.items():
                bring_list_over(admin, campaign, name, f"{name} (marketing list)")
            for row in admin.query("grc_getresponselists"):
                records[row["grc_name"]] = row["grc_getresponselistid"]
        if kind == "scan":
            _seed_records(dv, gr, records["scanned"])
        started = time.process_time()
        token = info["identities"]["service"]["token"]
        ready = {"dv_url": dvs.url, "dv_token": token, "gr": gr.connection_info(grs.url)}
        print(json.dumps({**ready, "lists": lists}), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "cpu":
                print(json.dumps({"cpu": time.process_time() - started}), flush=True)
            elif command == "change":
                with gr.lock:
                    _change_all(gr)
                print(json.dumps({"changed": True}), flush=True)
            else:
                break
    dv.close()


def _seed_getresponse(gr: Any, kind: str, size: int) -> dict[str, str]:
    base = gr.seed({
        "campaigns": [{"name": "scanned"}] if kind == "scan" else
                     [{"name": f"list_{n:02d}"} for n in range(size if kind == "quiet" else 1)],
        "customFields": [{"name": "ville", "type": "string", "format": "text"},
                         {"name": "niveau", "type": "string", "format": "text"}],
        "tags": ["vip", "client", "ancien"],
    })  # fmt: skip
    campaigns: dict[str, str] = base["campaigns"]
    per_list = {"quiet": 50, "changed": size, "scan": size}[kind]
    for n, campaign in enumerate(campaigns.values()):
        gr.bulk_add_contacts(campaign, (
            {"email": f"c{n}.{i}@example.org", "name": f"Contact {i}", "createdOn": PAST,
             "changedOn": PAST, "scoring": i % 50, "engagementScore": 1 + i % 5, "origin": "api"}
            for i in range(per_list)
        ))  # fmt: skip
    if kind != "scan":
        _values_and_tags(gr)
    return campaigns


def _values_and_tags(gr: Any) -> None:
    """Two custom field values for two contacts in three, and 0.7 tags a contact — three
    contacts in five have one, one in ten a second — (as SQL: the bulk loader takes neither)."""
    conn = gr.conn
    fields = [i for (i,) in conn.execute("SELECT id FROM custom_fields ORDER BY name")]
    tags = [i for (i,) in conn.execute("SELECT id FROM tags ORDER BY name")]
    ids = [i for (i,) in conn.execute("SELECT id FROM contacts")]
    with gr.state.write():
        conn.executemany(
            "INSERT INTO contact_fields (contact, field, vals) VALUES (?, ?, ?)",
            [(c, f, json.dumps([f"Ville {c % 30}" if f == fields[1] else "or"]))
             for c in ids for f in fields if c % 3],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO contact_tags (contact, tag) VALUES (?, ?)",
            [(c, tags[c % 3]) for c in ids if c % 5 < 3]
            + [(c, tags[(c + 1) % 3]) for c in ids if c % 10 == 0],
        )


def _change_all(gr: Any) -> None:
    """Every contact renamed and one of its values changed, ``changedOn`` moved."""
    now = gr.state.now()
    with gr.state.write() as conn:
        conn.execute(
            "UPDATE contacts SET name = name || ' (new)', name_key = name_key || ' (new)',"
            " changed_on = ?",
            (now,),
        )
        conn.execute("UPDATE contact_fields SET vals = '[\"argent\"]' WHERE vals = '[\"or\"]'")


def _seed_records(dv: Any, gr: Any, list_record: str) -> None:
    """The scanned list's GetResponse Contact records, straight into the Dataverse sandbox."""
    from reconcile.dataverse.schema import SYNC_STATUS_VALUES, getresponse_key
    from reconcile.model import SyncStatus
    from reconcile.sandbox.dataverse.seed import bulk_insert

    status = SYNC_STATUS_VALUES[SyncStatus.NEW]
    bind = f"/grc_getresponselists({list_record})"
    cursor = gr.conn.execute("SELECT cid, email FROM contacts")
    while chunk := cursor.fetchmany(50_000):
        rows = [{"grc_getresponseid": getresponse_key(cid), "grc_name": email,
                 "grc_email": email, "grc_synchronizationstatus": status,
                 "grc_GetResponseListId@odata.bind": bind} for cid, email in chunk]  # fmt: skip
        with dv.store.lock, dv.store.transaction():
            bulk_insert(dv, "grc_getresponsecontact", rows)


class Server:
    def __init__(self, kind: str, size: int) -> None:
        command = [sys.executable, __file__, "--serve", kind, str(size)]
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.info = json.loads(self.proc.stdout.readline())

    def ask(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return dict(json.loads(self.proc.stdout.readline()))

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=120)


# --- one scenario (its own process) ---------------------------------------------------------
def _run(server: Server, state: Path, watermarks: dict[str, str] | None = None) -> dict[str, Any]:
    """``reconcile sync contacts`` as the admin runs it: the CLI in a child process, the
    settings in its environment (custom fields and tags sent, the deletion scan daily)."""
    from cli_child import run_sync

    from reconcile.jobs.sync import environment_key
    from reconcile.jobs.sync.context import watermark_name
    from reconcile.state import StateStore

    info = server.info
    environment = environment_key(info["dv_url"], info["gr"]["url"])
    with StateStore(state) as store:
        for name, value in (watermarks or {}).items():
            store.advance_watermark(watermark_name("contacts", environment, name), value)
    settings = {
        "RECONCILE_DYNAMICS_ENVIRONMENT_URL": info["dv_url"],
        "RECONCILE_DYNAMICS_API_VERSION": "v9.2",
        "RECONCILE_DYNAMICS_TIMEOUT": "600",
        "RECONCILE_DYNAMICS_ACCESS_TOKEN": info["dv_token"],
        "RECONCILE_GETRESPONSE_API_URL": info["gr"]["url"],
        "RECONCILE_GETRESPONSE_API_KEY": info["gr"]["api_key"],
        "RECONCILE_CONFIG": "",
        "XDG_CONFIG_HOME": "/nonexistent",
        "RECONCILE_SYNC_SEND_CUSTOM_FIELDS": "true",
        "RECONCILE_SYNC_SEND_TAGS": "true",
        "RECONCILE_CONTACTS_DELETION_SCAN": "1d",
    }
    server_cpu = server.ask("cpu")["cpu"]
    run = run_sync("contacts", settings, state, ok=(0, 1))
    report = run.report
    return {
        "exit_code": run.exit_code,
        "counts": report["counts"],
        "requests": report["requests"],
        "wall": round(run.wall, 1),
        "job_cpu": round(run.command_cpu, 1),
        "sandboxes_cpu": round(server.ask("cpu")["cpu"] - server_cpu, 1),
        "peak_rss_mb": run.peak_rss_mb,
        "failures": [f"{f['record']}: {f['message']}" for f in report.get("failures", [])[:3]],
    }


def scenario(kind: str, size: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state.sqlite3"
        server = Server(kind, size)
        runs = {}
        try:
            if kind == "quiet":
                runs["first run (lists new to the job)"] = _run(server, state)
                runs["quiet run"] = _run(server, state)
            elif kind == "changed":
                runs["first read of the list"] = _run(server, state)
                server.ask("change")
                runs["every contact changed"] = _run(server, state)
            else:
                now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                marks = {f"list:{cid}": now for cid in server.info["lists"].values()}
                runs["deletion scan"] = _run(server, state, watermarks=marks)
        finally:
            server.stop()
    print(json.dumps({"scenario": kind, "size": size, "runs": runs}))


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="quiet,changed,scan")
    parser.add_argument("--lists", type=int, default=20)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--scan-contacts", type=int, default=1_000_000)
    args = parser.parse_args()
    sizes = {"quiet": args.lists, "changed": args.contacts, "scan": args.scan_contacts}
    for kind in args.only.split(","):
        command = [sys.executable, __file__, "--scenario", kind, str(sizes[kind])]
        result = json.loads(subprocess.run(command, check=True, capture_output=True,
                                           text=True).stdout.strip().splitlines()[-1])  # fmt: skip
        print(f"\n== {kind} ({result['size']:,})")
        for label, run in result["runs"].items():
            print(
                f"  {label}: exit {run['exit_code']}, requests {run['requests']}, "
                f"wall {run['wall']} s (command CPU {run['job_cpu']} s, sandboxes CPU "
                f"{run['sandboxes_cpu']} s), the command's peak RSS {run['peak_rss_mb']:,} MB "
                f"({load()})"
            )
            print(f"    {run['counts']}")
            for failure in run["failures"]:
                print(f"    failed: {failure}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--scenario":
        scenario(sys.argv[2], int(sys.argv[3]))
    else:
        main()
