"""``reconcile sandbox serve --json``: the first line tells a client how to reach GetResponse."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest


@pytest.mark.slow
def test_serve_json_first_line_connects_a_client(tmp_path: Path) -> None:
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
        info = json.loads(process.stdout.readline())["getresponse"]
        assert info["url"].startswith("http://127.0.0.1:")
        assert info["url"].endswith("/v3")
        assert info["max"]["url"].endswith("/max/v3")
        headers = {"X-Auth-Token": f"api-key {info['api_key']}"}
        lists = httpx.get(info["url"] + "/campaigns", headers=headers, timeout=10).json()
        assert {c["name"] for c in lists} >= {"clients_fr", "newsletter_hebdo"}
        drafts = httpx.get(
            info["url"] + "/newsletters",
            headers=headers,
            timeout=10,
            params={"query[type]": "draft", "query[name]": "MS CRM"},
        ).json()
        assert len(drafts) == 3
        max_headers = {**headers, "X-Domain": info["max"]["domain"]}
        assert httpx.get(info["max"]["url"] + "/accounts", headers=max_headers).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl+C sends
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err  # it was 40 lines, 3 times out of 3
    assert err.rstrip().endswith("Stopped.")
