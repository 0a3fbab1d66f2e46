"""``reconcile sandbox serve --json``: the first line tells a client how to reach Dataverse,
both with the ready token and through the msal path (TLS authority, local CA)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import msal
import pytest
import requests


@pytest.mark.slow
def test_serve_json_lists_dataverse(tmp_path: Path) -> None:
    command = [
        str(Path(sys.executable).parent / "reconcile"),
        "sandbox",
        "serve",
        "--json",
        "--seed",
        "3",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())["dataverse"]
        assert info["url"].startswith("http://127.0.0.1:")
        assert info["api_version"] == "9.2"
        assert info["authority"].startswith("https://127.0.0.1:")
        api = f"{info['url']}/api/data/v{info['api_version']}"
        ready = httpx.get(f"{api}/WhoAmI", headers={"Authorization": f"Bearer {info['token']}"})
        assert ready.status_code == 200
        session = requests.Session()
        session.trust_env = False
        session.verify = info["ca_file"]
        app = msal.ConfidentialClientApplication(
            info["client_id"],
            client_credential=info["client_secret"],
            authority=info["authority"],
            http_client=session,
            instance_discovery=False,
        )
        token = app.acquire_token_for_client(scopes=[f"{info['url']}/.default"])["access_token"]
        session.close()
        contacts = httpx.get(
            f"{api}/contacts",
            params={"$select": "fullname", "$filter": "emailaddress1 eq 'o''brien@example.com'"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()["value"]
        assert [c["fullname"] for c in contacts] == ["Siobhan O'Brien"]
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
