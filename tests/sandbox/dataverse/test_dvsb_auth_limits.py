"""Tokens (the real msal against the sandbox's TLS authority), 401s, service protection
limits (429 + Retry-After), fault injection and the ``/__sandbox__/`` controls."""

from __future__ import annotations

import ssl
import time
from typing import Any

import httpx
import msal
import pytest
import requests

from reconcile.sandbox.dataverse import DataverseSandbox
from reconcile.sandbox.dataverse.errors import DataverseError
from reconcile.sandbox.dataverse.limits import Limiter, Limits


def msal_app(
    info: dict[str, Any], authority: str, secret: str | None = None
) -> msal.ConfidentialClientApplication:
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides verify
    session.verify = info["ca_file"]
    return msal.ConfidentialClientApplication(
        info["client_id"],
        client_credential=secret or info["client_secret"],
        authority=authority,
        http_client=session,
        instance_discovery=False,
    )


@pytest.mark.parametrize("shape", ["entra", "adfs"])
def test_msal_gets_a_token_that_the_api_accepts(info: dict[str, Any], shape: str) -> None:
    assert info["authority"].startswith("https://127.0.0.1:")
    authority = (
        info["authority"] if shape == "entra" else info["authority"].rsplit("/", 1)[0] + "/adfs"
    )
    app = msal_app(info, authority)
    result = app.acquire_token_for_client(scopes=[f"{info['url']}/.default"])
    app.http_client.close()
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer"
    headers = {"Authorization": f"Bearer {result['access_token']}"}
    who = httpx.get(f"{info['url']}/api/data/v9.2/WhoAmI", headers=headers)
    assert who.status_code == 200
    assert who.json()["UserId"] == info["identities"]["admin"]["user_id"]


def test_msal_with_a_wrong_secret(info: dict[str, Any]) -> None:
    result = msal_app(info, info["authority"], "not-the-secret").acquire_token_for_client(
        scopes=[f"{info['url']}/.default"]
    )
    assert result["error"] == "invalid_client"
    assert "AADSTS7000215" in result["error_description"]
    assert "not-the-secret" not in str(result)


def test_raw_adfs_token_form(info: dict[str, Any]) -> None:
    token_url = info["authority"].rsplit("/", 1)[0] + "/adfs/oauth2/token"
    response = httpx.post(
        token_url,
        verify=ssl.create_default_context(cafile=info["ca_file"]),
        data={
            "grant_type": "client_credentials",
            "client_id": info["identities"]["service"]["client_id"],
            "client_secret": info["identities"]["service"]["client_secret"],
            "resource": info["url"],
        },
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    who = httpx.get(
        f"{info['url']}/api/data/v9.2/WhoAmI", headers={"Authorization": f"Bearer {token}"}
    )
    assert who.json()["UserId"] == info["identities"]["service"]["user_id"]


def test_requests_without_a_good_token_are_401(
    info: dict[str, Any], sandbox: DataverseSandbox
) -> None:
    url = f"{info['url']}/api/data/v9.2/WhoAmI"
    missing = httpx.get(url)
    assert missing.status_code == 401
    challenge = missing.headers["WWW-Authenticate"]
    assert challenge.startswith(f"Bearer authorization_uri={info['authority']}/oauth2/authorize")
    assert f"resource_id={info['url']}/" in challenge
    forged = info["token"][:-4] + ("AAAA" if not info["token"].endswith("AAAA") else "BBBB")
    assert httpx.get(url, headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    elsewhere = sandbox.token("admin", "https://contoso.crm.dynamics.com")
    assert httpx.get(url, headers={"Authorization": f"Bearer {elsewhere}"}).status_code == 401


# ------------------------------------------------------------------------------- limits
def test_request_limit_answers_429_with_retry_after(
    api: httpx.Client, control: httpx.Client
) -> None:
    assert (
        control.post("/__sandbox__/limits", json={"requests": 3, "window_seconds": 60}).status_code
        == 200
    )
    responses = [api.get("/WhoAmI") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    throttled = responses[-1]
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert throttled.json()["error"] == {
        "code": "0x80072322",
        "message": "Number of requests exceeded the limit of 3 over time window of 60 seconds.",
    }
    assert responses[1].headers["x-ms-ratelimit-burst-remaining-xrm-requests"] == "1"


def test_limiter_window_slides_and_counts_execution_time() -> None:
    now = [1000.0]
    limiter = Limiter(Limits(requests=2, window_seconds=10, execution_ms=500), lambda: now[0])
    limiter.enter("u")
    limiter.leave("u", 10)
    limiter.enter("u")
    limiter.leave("u", 10)
    with pytest.raises(DataverseError) as caught:
        limiter.enter("u")
    assert caught.value.headers["Retry-After"] == "10"
    now[0] += 10.5
    limiter.enter("u")
    limiter.leave("u", 600)
    with pytest.raises(DataverseError) as slow:
        limiter.enter("u")
    assert slow.value.code == "0x80072321"
    limiter.limits.concurrent = 1
    limiter.limits.execution_ms = 10**9
    now[0] += 100
    limiter.enter("v")
    with pytest.raises(DataverseError) as busy:
        limiter.enter("v")
    assert busy.value.code == "0x80072326"


# ------------------------------------------------------------------------------- faults
def test_faults_render_in_dataverse_shape(api: httpx.Client, control: httpx.Client) -> None:
    control.post(
        "/__sandbox__/faults",
        json=[
            {"kind": "status", "status": 429, "path": "/api/data"},
            {"kind": "status", "status": 503},
        ],
    )
    throttled, unavailable, fine = (api.get("/WhoAmI") for _ in range(3))
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "2"
    assert throttled.json()["error"]["code"] == "0x80072322"
    assert unavailable.status_code == 503
    assert "error" in unavailable.json()
    assert fine.status_code == 200
    control.post("/__sandbox__/faults", json={"kind": "drop"})
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/WhoAmI")
    started = time.monotonic()
    control.post("/__sandbox__/faults", json={"kind": "latency", "latency_ms": 50})
    assert api.get("/WhoAmI").status_code == 200
    assert time.monotonic() - started >= 0.05


# ------------------------------------------------------------------------- controls
ACCOUNT = "6f1c2f4e-0000-4000-8000-000000000001"


def test_reset_and_seed(
    api: httpx.Client, control: httpx.Client, sandbox: DataverseSandbox
) -> None:
    unit = api.get("/WhoAmI").json()["BusinessUnitId"]
    document = {
        "accounts": [{"accountid": ACCOUNT, "name": "Contoso"}],
        "contacts": [
            {
                "firstname": "Ann",
                "lastname": "Lee",
                "emailaddress1": "o'brien@example.com",
                "parentcustomerid_account@odata.bind": f"/accounts({ACCOUNT})",
                "modifiedon": "2024-01-02T03:04:05Z",
            },
            {"lastname": "Dup"},
        ],
        "lists": [{"listname": "News", "type": False, "createdfromcode": 2, "members": []}],
        "roles": [
            {
                "name": "Reader",
                "businessunitid@odata.bind": f"/businessunits({unit})",
                "privileges": [{"name": "prvReadContact", "depth": "Global"}],
            }
        ],
        "identity_roles": {"service": ["Reader"]},
        "duplicate_rules": {"contact": [["lastname"]]},
    }
    created = control.post("/__sandbox__/seed", json=document)
    assert created.status_code == 201, created.text
    ids = created.json()
    assert len(ids["contacts"]) == 2
    row = api.get(
        f"/contacts({ids['contacts'][0]})?$select=modifiedon,_parentcustomerid_value"
    ).json()
    assert row["modifiedon"] == "2024-01-02T03:04:05Z"
    merge = {"merges": [{"master": ids["contacts"][0], "subordinate": ids["contacts"][1]}]}
    assert control.post("/__sandbox__/seed", json=merge).status_code == 201
    assert api.get(f"/contacts({ids['contacts'][1]})?$select=merged").json()["merged"] is True
    dup = api.post(
        "/contacts", json={"lastname": "Lee"}, headers={"MSCRM.SuppressDuplicateDetection": "false"}
    )
    assert dup.status_code == 500
    bad = control.post("/__sandbox__/seed", json={"widgets": []})
    assert bad.status_code == 400
    assert "unknown keys ['widgets']" in bad.json()["error"]
    invalid = control.post("/__sandbox__/seed", json={"contacts": [{"lastname": "x" * 80}]})
    assert invalid.status_code == 400
    assert control.get("/__sandbox__/state").json()["rows"]["contacts"] == 2
    api.post(
        "/EntityDefinitions",
        json={
            "SchemaName": "new_Thing",
            "Attributes": [
                {
                    "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
                    "SchemaName": "new_Name",
                    "IsPrimaryName": True,
                }
            ],
        },
    )
    assert control.get("/__sandbox__/state").json()["custom_tables"] == ["new_thing"]
    assert control.post("/__sandbox__/reset").status_code == 204
    state = control.get("/__sandbox__/state").json()
    assert state["rows"]["contacts"] == 0
    assert state["custom_tables"] == []
    assert api.get("/WhoAmI").status_code == 200  # tokens survive a reset


def test_control_token_and_limits_validation(control: httpx.Client, info: dict[str, Any]) -> None:
    token = control.post("/__sandbox__/token", json={"identity": "service"}).json()["access_token"]
    who = httpx.get(
        f"{info['url']}/api/data/v9.2/WhoAmI", headers={"Authorization": f"Bearer {token}"}
    )
    assert who.json()["UserId"] == info["identities"]["service"]["user_id"]
    assert control.post("/__sandbox__/token", json={"identity": "nobody"}).status_code == 400
    assert control.post("/__sandbox__/limits", json={"requests": 0}).status_code == 400
    assert control.get("/__sandbox__/limits").json()["requests"] == 6000
