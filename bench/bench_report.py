"""``reconcile report`` on a big CRM: both outputs (workbook and web page) from a Dataverse
sandbox holding ``--contacts`` GetResponse Contacts and ``--activities`` activities.

The connector tables are installed over HTTP (``install_schema``); the rows are then written by
seeded code straight into the sandbox's SQLite store (millions of HTTP writes would only
measure the writes). The user's command runs as its own process, exactly as typed:

    reconcile report -o dashboards.xlsx --html report.html

and the bench prints its wall time and peak RSS, the number of aggregate queries it sent, and
the totals it found (which must equal the seeded counts). Side by side, in the same run, the
baseline: what a report that reads records would pay just to count the contacts by status —
every GetResponse Contact read through the Web API (5,000 per page, one column), in its own
process too (``--no-baseline`` skips it).

    python bench/bench_report.py [--contacts 1000000] [--activities 5000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reconcile.dataverse import BearerTokenAuth, DataverseClient, install_schema
from reconcile.dataverse import schema as s
from reconcile.model import SyncStatus
from reconcile.sandbox.dataverse import DataverseSandbox, Limits
from reconcile.sandbox.server import SandboxServer

P = "grc"
END = datetime(2026, 6, 30, tzinfo=UTC)
SPAN = timedelta(days=730)
CHUNK = 50_000
STATUSES = [  # and their shares, in percent
    (SyncStatus.SYNCHRONIZED, 70),
    (SyncStatus.NEW, 10),
    (SyncStatus.ERROR, 5),
    (SyncStatus.DELETED_IN_GETRESPONSE, 15),
]
ORIGINS = ["import", "api", "landing_page", "form", "copy", "panel", None]


FMT = "%Y-%m-%dT%H:%M:%SZ"
ROWS = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)"


def guid(kind: int) -> str:
    """SQL for a sequential GUID of row ``i`` (Dataverse hands out sequential GUIDs too)."""
    return f"printf('00005eed-{kind:04x}-4000-8000-%012x', i)"


def pick(k: int, modulo: int) -> str:
    """SQL for a seeded pseudo-random number in [0, modulo) for row ``i`` (column ``k``)."""
    return f"((((i + {k * 7919}) * 2654435761) % 4294967296) / 256 % {modulo})"


def without_indexes(sandbox: DataverseSandbox, tables: list[s.Table]) -> list[str]:
    """Drop the secondary indexes of ``tables`` (rebuilt afterwards by sorting, which is
    much faster than millions of random B-tree inserts); returns their CREATE statements."""
    conn = sandbox.store.conn
    names = [sandbox.store.catalog.entities[t.logical_name].table for t in tables]
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({', '.join('?' * len(names))})",
        names,
    ).fetchall()
    for name, _ in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in rows]


def fill(sandbox: DataverseSandbox, table: s.Table, count: int, columns: dict[str, str]) -> None:
    """``count`` rows whose columns are SQL expressions of the row number ``i`` — generated
    inside SQLite, so millions of rows take seconds."""
    entity = sandbox.store.catalog.entities[table.logical_name]
    names = ", ".join(f'"{n}"' for n in columns)
    sql = (
        f'{ROWS} INSERT INTO "{entity.table}" ({names}) SELECT {", ".join(columns.values())} FROM n'
    )
    with sandbox.store.lock, sandbox.store.transaction():
        sandbox.store.conn.execute(sql, (count,))


def seed(sandbox: DataverseSandbox, contacts: int, activities: int) -> None:
    """Lists, newsletters, CRM contacts, GetResponse contacts and activities, spread over two
    years, from fixed formulas (the same numbers every run)."""
    start, span = int((END - SPAN).timestamp()), int(SPAN.total_seconds())
    created = f"strftime('{FMT}', {start} + i * {span} / {{n}}, 'unixepoch')"
    common = {"versionnumber": "i + 1", "statecode": "0", "statuscode": "1"}
    fill(sandbox, s.LISTS, 20, {
        s.LISTS.primary_id: guid(1), f"{P}_name": "printf('list_%02d', i)",
        f"{P}_getresponseid": "'L' || i", "createdon": f"'{END - SPAN:{FMT}}'", **common,
    })  # fmt: skip
    crm = sandbox.store.catalog.entities["contact"]
    with sandbox.store.lock, sandbox.store.transaction():
        sandbox.store.conn.execute(
            f'{ROWS} INSERT INTO "{crm.table}" (contactid, firstname, lastname, fullname, '
            f"statecode, statuscode, versionnumber) SELECT {guid(3)}, 'F' || i, 'L' || i, "
            "'F' || i || ' L' || i, 0, 1, i + 1 FROM n",
            (5000,),
        )
    sent = s.SYNC_STATUS_VALUES[SyncStatus.SENT]
    fill(sandbox, s.NEWSLETTERS, 120, {
        s.NEWSLETTERS.primary_id: guid(4), f"{P}_name": "printf('Newsletter %03d', i)",
        f"{P}_getresponseid": "'m' || i", f"{P}_synchronizationstatus": str(sent),
        f"{P}_scheduledon": created.format(n=120), "createdon": f"'{END - SPAN:{FMT}}'", **common,
    })  # fmt: skip
    status = (
        "CASE "
        + " ".join(
            f"WHEN {pick(1, 100)} < {bound} THEN {s.SYNC_STATUS_VALUES[st]}"
            for st, bound in zip([x for x, _ in STATUSES], (70, 80, 85, 100), strict=True)
        )
        + " END"
    )
    origins = (
        "CASE "
        + " ".join(
            f"WHEN {pick(4, len(ORIGINS))} = {k} THEN '{o}'" for k, o in enumerate(ORIGINS) if o
        )
        + " END"
    )
    made = created.format(n=contacts)
    fill(sandbox, s.CONTACTS, contacts, {
        s.CONTACTS.primary_id: guid(2), f"{P}_name": "'Person ' || i",
        f"{P}_email": "printf('p%07d@bench.example', i)",
        f"{P}_getresponseid": "printf('c%07d', i)",
        f"{P}_synchronizationstatus": status,
        f"{P}_getresponselistid": f"printf('00005eed-0001-4000-8000-%012x', {pick(2, 20)})",
        f"{P}_contactid": f"CASE WHEN {pick(3, 10)} < 6 THEN "
        f"printf('00005eed-0003-4000-8000-%012x', {pick(5, 5000)}) END",
        f"{P}_origin": origins,
        f"{P}_engagementscore": f"CASE WHEN {pick(6, 10)} > 0 THEN {pick(7, 101)} END",
        f"{P}_createdingetresponseon": f"strftime('{FMT}', {start} + i * {span} / {contacts} "
        f"- {pick(8, 400)} * 86400, 'unixepoch')",
        "createdon": made,
        "modifiedon": f"strftime('{FMT}', {start} + i * {span} / {contacts} + {pick(9, 30)} "
        "* 86400, 'unixepoch')",
        **common,
    })  # fmt: skip
    kind = pick(11, 10)
    types = s.ACTIVITY_TYPES
    fill(sandbox, s.ACTIVITIES, activities, {
        s.ACTIVITIES.primary_id: guid(5),
        f"{P}_name": f"printf('Newsletter %03d', i * 120 / {activities})",
        f"{P}_messageid": f"'m' || (i * 120 / {activities})",
        f"{P}_getresponseid": "printf('a%08d', i)",
        f"{P}_activitytype": f"CASE WHEN {kind} < 6 THEN {types['send']} WHEN {kind} < 9 "
        f"THEN {types['open']} ELSE {types['click']} END",
        f"{P}_activitydate": f"strftime('{FMT}', {start} + i * {span} / {activities} "
        f"- {pick(12, 36000)}, 'unixepoch')",
        f"{P}_url": f"CASE WHEN {kind} = 9 THEN printf('https://shop.example.com/p/%d', "
        f"{pick(13, 40)}) END",
        f"{P}_getresponsecontactid": "printf('00005eed-0002-4000-8000-%012x', "
        f"{pick(14, max(contacts, 1))})",
        "createdon": created.format(n=activities),
        "modifiedon": created.format(n=activities),
        **common,
    })  # fmt: skip


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float, str, float]:
    """(seconds, peak RSS in MB, stdout, CPU seconds) of one child process."""
    script = (
        "import resource, subprocess, sys, json, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "t = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'s': t, 'rss': u.ru_maxrss / 1024, 'cpu': u.ru_utime + u.ru_stime,"
        " 'out': p.stdout, 'err': p.stderr[-2000:], 'code': p.returncode}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *command], env=env, capture_output=True, text=True
    )
    result = json.loads(done.stdout)
    if result["code"] != 0:
        raise SystemExit(f"{command[0]} failed: {result['err']}")
    return result["s"], result["rss"], result["out"], result["cpu"]


BASELINE = """
import sys
from collections import Counter
from reconcile.dataverse import BearerTokenAuth, DataverseClient
from reconcile.dataverse import query as q
url, token = sys.argv[1], sys.argv[2]
with DataverseClient(url, auth=BearerTokenAuth(token)) as client:
    counts = Counter(r.get("grc_synchronizationstatus") for r in client.query(
        "grc_getresponsecontacts", q.Query(select=("grc_synchronizationstatus",))))
print(sum(counts.values()))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--activities", type=int, default=5_000_000)
    parser.add_argument("--keep", type=Path, help="folder for the database and outputs")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse the database in --keep instead of seeding"
    )
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-report-"))
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "dataverse.sqlite3"
    reuse = args.reuse and database.exists()
    if not reuse:
        database.unlink(missing_ok=True)
    sandbox = DataverseSandbox(database=str(database), limits=Limits(enabled=False))
    with SandboxServer(sandbox.asgi_app) as server:
        info = sandbox.connection_info(server.url)
        token = info["identities"]["admin"]["token"]
        if reuse:
            print(f"reusing {database} (seeded by an earlier run with the same sizes)")
        else:
            with DataverseClient(info["url"], auth=BearerTokenAuth(token)) as client:
                install_schema(client)
            started = time.perf_counter()
            indexes = without_indexes(sandbox, [s.CONTACTS, s.ACTIVITIES])
            seed(sandbox, args.contacts, args.activities)
            for sql in indexes:
                sandbox.store.conn.execute(sql)
            sandbox.store.conn.execute("ANALYZE")
            seeded = time.perf_counter() - started
            print(
                f"seeded {args.contacts:,} GetResponse contacts and {args.activities:,} "
                f"activities into the sandbox store in {seeded:.0f} s "
                f"({database.stat().st_size / 1e9:.1f} GB)"
            )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("RECONCILE_")},
            "RECONCILE_DYNAMICS_ENVIRONMENT_URL": info["url"],
            "RECONCILE_DYNAMICS_ACCESS_TOKEN": token,
            "RECONCILE_CONFIG": "",
            "XDG_CONFIG_HOME": "/nonexistent",
        }
        book, page = folder / "dashboards.xlsx", folder / "report.html"
        command = ["reconcile", "report", "-o", str(book), "--html", str(page), "--json", "-q"]
        server_cpu = time.process_time()
        seconds, rss, out, cpu = measure(command, env)
        server_cpu = time.process_time() - server_cpu
        figures = json.loads(out)
        contacts = figures["figures"]["contacts"]["GetResponse contacts"]
        events = sum(figures["figures"]["activity"][k] for k in ("Sends", "Opens", "Clicks"))
        print(
            f"reconcile report (workbook + page): {seconds:.1f} s, peak RSS {rss:.0f} MB, "
            f"{figures['aggregate_queries']} aggregate queries; counted {contacts:,} contacts "
            f"and {events:,} activities"
        )
        print(
            f"  CPU: the sandbox {server_cpu:.1f} s serving it, the command {cpu:.1f} s; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        assert contacts == args.contacts, "the report must count every seeded contact"
        assert events == args.activities, "the report must count every seeded activity"
        if not args.no_baseline:
            code = [sys.executable, "-c", BASELINE, info["url"], token]
            base_s, base_rss, base_out, base_cpu = measure(code, env)
            print(
                f"baseline, reading every GetResponse Contact to count them by status: "
                f"{base_s:.1f} s (CPU {base_cpu:.1f} s), peak RSS {base_rss:.0f} MB "
                f"({int(base_out):,} rows read)"
            )
        print(f"outputs: {book} ({book.stat().st_size:,} bytes), {page}")
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"bench process (sandbox and seeding) peak RSS: {own:.0f} MB")
    sandbox.close()


if __name__ == "__main__":
    main()
