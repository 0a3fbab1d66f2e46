"""A bounded, seeded random fuzzer for the Dataverse sandbox, over real HTTP: record ids and
alternate keys, ``$filter``, ``$select``, ``$orderby``, ``$top``, ``$expand``, ``$batch``
bodies and writes, built from pieces of valid requests, broken on purpose.

Every answer must be a success or Dataverse's own 4xx error body, never a 5xx, a dropped
connection or a hang (each request has a timeout). The same seed gives the same requests, so
a failure is reproduced by running the test again; the request that failed is in the message.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from reconcile.sandbox.dataverse import DataverseSandbox
from reconcile.sandbox.server import SandboxServer

SEED = 14
REQUESTS = 1500  # under a minute, even on a busy machine
TIMEOUT = 20.0

COLUMNS = [
    "lastname", "firstname", "emailaddress1", "contactid", "statecode", "birthdate",
    "createdon", "numberofchildren", "creditlimit", "donotemail", "_parentcustomerid_value",
    "parentcustomerid_account/name", "nosuchcolumn", "", "LastName", "contactid/x",
]  # fmt: skip
NAVS = ["parentcustomerid_account", "listcontact_association", "contact_customer_accounts",
        "nosuchnav", "owninguser", "createdby"]  # fmt: skip
LITERALS = [
    "'a'", "'o''brien'", "''", "'", "'''", "null", "true", "false", "0", "-1", "2147483648",
    "9223372036854775807", "123456789012345678901234567890", "1.5", "-1e308", "1e999",
    "NaN", "00000000-0000-0000-0000-000000000000", "2024-01-01", "2024-13-45",
    "2024-01-01T00:00:00Z", "2024-01-01T25:61:00Z", "@p1", "[]", "['a','b']", '["x",1]',
    "('a','b')", "()", "x" * 500,
]  # fmt: skip
OPERATORS = ["eq", "ne", "gt", "ge", "lt", "le", "in", "has", "add", "and", "or", "eqq", ""]
FUNCTIONS = [
    "contains({c},{v})", "startswith({c},{v})", "endswith({c})", "tolower({c}) eq {v}",
    "Microsoft.Dynamics.CRM.In(PropertyName='{c}',PropertyValues=[{v}])",
    "Microsoft.Dynamics.CRM.In(PropertyName='{c}',PropertyName='{c}',PropertyValues=[{v}])",
    "Microsoft.Dynamics.CRM.Between(PropertyName='{c}',PropertyValues=[{v},{v}])",
    "Microsoft.Dynamics.CRM.LastXDays(PropertyName='{c}',PropertyValue={v})",
    "Microsoft.Dynamics.CRM.On(PropertyName='{c}',PropertyValue={v})",
    "Microsoft.Dynamics.CRM.EqualUserId(PropertyName='{c}')",
    "Microsoft.Dynamics.CRM.Nope(PropertyName='{c}')",
    "listcontact_association/any(l:l/{c} eq {v})", "listcontact_association/all(l:{c} eq {v})",
    "nosuchnav/any(x:x/{c} eq {v})",
]  # fmt: skip
ODDITIES = ["&", ";", "#", "%", "(", ")", "'", "\\", "\x00", "é", "$", "/", ",", ":", "=", " "]


class Fuzzer:
    def __init__(self, rng: random.Random, ids: list[str]) -> None:
        self.rng = rng
        self.ids = ids

    def pick(self, items: list[Any]) -> Any:
        return self.rng.choice(items)

    def mangle(self, text: str) -> str:
        """Cut, duplicate, or splice an odd character into a valid piece."""
        r = self.rng
        kind = r.randrange(6)
        if kind == 0 and text:
            return text[: r.randrange(len(text))]
        if kind == 1 and text:
            at = r.randrange(len(text))
            return text[:at] + self.pick(ODDITIES) + text[at:]
        if kind == 2:
            return text + " " + text
        return text

    def comparison(self) -> str:
        column, value = self.pick(COLUMNS), self.pick(LITERALS)
        if self.rng.random() < 0.3:
            return self.pick(FUNCTIONS).format(c=column, v=value)
        return f"{column} {self.pick(OPERATORS)} {value}"

    def filter(self, depth: int = 0) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.05:
            return " or ".join(f"lastname eq 'n{i}'" for i in range(r.choice([300, 1200])))
        if roll < 0.08:
            n = r.choice([50, 150, 1000])
            return "(" * n + "lastname eq 'a'" + ")" * n
        if roll < 0.10:
            return "not " * r.choice([50, 300]) + "(lastname eq 'a')"
        if depth < 3 and roll < 0.45:
            joiner = self.pick([" and ", " or "])
            return f"({self.filter(depth + 1)}){joiner}({self.filter(depth + 1)})"
        text = self.comparison()
        return self.mangle(text) if r.random() < 0.3 else text

    def options(self) -> dict[str, str]:
        r = self.rng
        params: dict[str, str] = {}
        if r.random() < 0.7:
            params["$filter"] = self.filter()
        if r.random() < 0.4:
            params["$select"] = ",".join(r.sample(COLUMNS, r.randrange(1, 4)))
        if r.random() < 0.3:
            params["$orderby"] = self.mangle(
                f"{self.pick(COLUMNS)} {self.pick(['asc', 'desc', '', 'sideways'])}"
            )
        if r.random() < 0.3:
            params["$top"] = self.pick(["0", "1", "5000", "-1", "x", "1e3", "9" * 30, ""])
        if r.random() < 0.3:
            nav = self.pick(NAVS)
            inner = self.pick(
                [
                    "",
                    "($select=name)",
                    "($select=fullname;$expand=createdby)",
                    "($filter=name eq 'x')",
                    "($top=2)",
                    "(",
                    "($select=nope)",
                ]
            )
            params["$expand"] = self.mangle(nav + inner)
        if r.random() < 0.1:
            params[self.pick(["$skip", "$count", "$apply", "$search", "$format", "@p1"])] = (
                self.pick(["1", "true", "x", "'a'"])
            )
        return params

    def key(self) -> str:
        r = self.rng
        return self.pick(
            [
                self.pick(self.ids),
                str(uuid.UUID(int=r.getrandbits(128))),
                "not-a-guid",
                "",
                "'x'",
                "emailaddress1='o''brien@example.com'",
                "emailaddress1='a',lastname='b'",
                "lastname=",
                "contactid=" + self.pick(self.ids),
                "9" * 40,
                "(" * 5,
                self.mangle(self.pick(self.ids)),
                "a" * 2000,
            ]
        )

    def body(self) -> Any:
        r = self.rng
        values: list[Any] = [None, "", "x" * 200, "x" * 5000, 0, -1, 2**31, 2**63, 2**70,
                             1.5e308, True, [], {}, {"a": 1}, "2024-13-45", "not-a-guid",
                             "/contacts(not-a-guid)", "/nosuch(1)", "$1"]  # fmt: skip
        body: dict[str, Any] = {}
        for _ in range(r.randrange(0, 5)):
            column = self.pick([*COLUMNS, "parentcustomerid_account@odata.bind", "@odata.type"])
            body[column] = self.pick(values)
        return self.pick([body, body, [], "text", 5, None])

    def batch(self) -> tuple[str, bytes]:
        r = self.rng
        boundary = "batch_fz"
        parts = []
        for n in range(r.randrange(1, 4)):
            method = self.pick(["GET", "POST", "PATCH", "DELETE", "PUT", "BREW"])
            url = self.pick(
                [
                    "contacts",
                    f"contacts({self.key()})",
                    "$1",
                    "$9",
                    "nosuch",
                    "/api/data/v9.2/accounts",
                    "/api/data/v8.2/contacts",
                    "$batch",
                ]
            )
            body = json.dumps(self.body())
            part = (f"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
                    f"Content-ID: {n + 1}\r\n\r\n{method} {url} HTTP/1.1\r\n"
                    f"Content-Type: application/json\r\n\r\n{body}")  # fmt: skip
            if r.random() < 0.4:
                part = (f"Content-Type: multipart/mixed; boundary=cs_{n}\r\n\r\n--cs_{n}\r\n"
                        f"{part}\r\n--cs_{n}--")  # fmt: skip
            parts.append(part)
        text = "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n"
        text = self.mangle(text) if r.random() < 0.3 else text
        content_type = self.pick(
            [f"multipart/mixed; boundary={boundary}"] * 4
            + ["multipart/mixed", "application/json", "multipart/mixed; boundary=other"]
        )
        return content_type, text.encode("utf-8", "surrogatepass")

    def request(self) -> dict[str, Any]:
        r = self.rng
        roll = r.random()
        sets = ["contacts", "accounts", "lists", "listmembers", "systemusers"]
        if roll < 0.35:
            return {"method": "GET", "url": self.pick(sets), "params": self.options()}
        if roll < 0.45:
            return {"method": "GET", "url": f"contacts({self.key()})", "params": self.options()}
        if roll < 0.52:
            meta = self.pick(
                [
                    "EntityDefinitions",
                    "EntityDefinitions(LogicalName='contact')",
                    "EntityDefinitions(LogicalName='contact')/Attributes",
                    "RelationshipDefinitions",
                    "GlobalOptionSetDefinitions",
                ]
            )
            params = {"$filter": self.filter()} if r.random() < 0.8 else {}
            if r.random() < 0.3:
                params["$select"] = self.pick(["LogicalName", "LogicalName,Nope", ""])
            return {"method": "GET", "url": meta, "params": params}
        if roll < 0.68:
            method = self.pick(["POST", "PATCH", "PATCH", "DELETE", "PUT"])
            url = "contacts" if method == "POST" else f"contacts({self.key()})"
            if r.random() < 0.2:
                url += self.pick(
                    [
                        "/lastname",
                        "/$ref",
                        "/listcontact_association/$ref",
                        "/parentcustomerid_account/$ref",
                        "/$value",
                        "/nosuch",
                    ]
                )
            return {"method": method, "url": url, "json": self.body()}
        if roll < 0.85:
            content_type, content = self.batch()
            return {"method": "POST", "url": "$batch", "content": content,
                    "headers": {"Content-Type": content_type}}  # fmt: skip
        action = self.pick(
            [
                "WhoAmI",
                "RetrieveVersion",
                "WhoAmI()",
                "Nope",
                "AddListMembersList",
                "Merge",
                "contacts/Microsoft.Dynamics.CRM.CreateMultiple",
                "contacts/Microsoft.Dynamics.CRM.UpsertMultiple",
                f"lists({self.key()})/Microsoft.Dynamics.CRM.AddMemberList",
            ]
        )
        return {"method": self.pick(["GET", "POST"]), "url": action, "json": self.body()}


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[tuple[httpx.Client, list[str]]]:
    sandbox = DataverseSandbox(seed=7, sample_size=60)
    with SandboxServer(sandbox.asgi_app) as server:
        info = sandbox.connection_info(server.url)
        with httpx.Client(
            base_url=f"{server.url}/api/data/v9.2/",
            headers={"Authorization": f"Bearer {info['token']}", "Accept": "application/json"},
            timeout=TIMEOUT,
        ) as http:
            rows = http.get("contacts", params={"$select": "contactid", "$top": "20"}).json()
            yield http, [row["contactid"] for row in rows["value"]]
    sandbox.close()


def _describe(request: dict[str, Any]) -> str:
    shown = {k: v for k, v in request.items() if k != "content"}
    if "content" in request:
        shown["content"] = request["content"][:300]
    return repr(shown)[:600]


def run(http: httpx.Client, ids: list[str], count: int, on_answer: Callable[..., None]) -> None:
    fuzzer = Fuzzer(random.Random(SEED), ids)
    for _ in range(count):
        request = fuzzer.request()
        try:
            response = http.request(**request)
        except httpx.InvalidURL:
            continue  # no HTTP client can send it (a NUL in the path): nothing to answer
        except httpx.TransportError as exc:
            pytest.fail(f"{type(exc).__name__} on {_describe(request)}")
        on_answer(request, response)


def test_no_fuzzed_request_gets_a_server_error(fuzzed: tuple[httpx.Client, list[str]]) -> None:
    http, ids = fuzzed
    failures: list[str] = []
    statuses: dict[int, int] = {}

    def check(request: dict[str, Any], response: httpx.Response) -> None:
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.headers.get("content-type", "").startswith("multipart/mixed"):
            inner = [int(s) for s in re.findall(r"^HTTP/1\.1 (\d{3})", response.text, re.M)]
            if any(s >= 500 for s in inner):
                failures.append(f"a batch part answered {inner} <- {_describe(request)}")
            return
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {response.text[:200]} <- {_describe(request)}")
        elif response.status_code >= 400 and response.status_code != 401:
            try:
                error = response.json().get("error", {})
            except ValueError:
                error = {}
            if not {"code", "message"} <= set(error):
                failures.append(
                    f"{response.status_code} without Dataverse's error body: "
                    f"{response.text[:200]!r} <- {_describe(request)}"
                )

    run(http, ids, REQUESTS, check)
    assert failures == [], f"{len(failures)} of {REQUESTS}:\n" + "\n".join(failures[:15])
    assert sum(n for s, n in statuses.items() if s < 300) > REQUESTS // 20  # not all refused
    assert sum(n for s, n in statuses.items() if 400 <= s < 500) > REQUESTS // 4
