"""Rate limits with the real headers and 429 bodies, and injected faults in GetResponse's shape."""

from __future__ import annotations

import math
import time
from typing import Any

import httpx
import pytest
from grsb_help import advance, error_of, make_list


def limits(control: httpx.Client, **values: Any) -> None:
    response = control.post("/__sandbox__/config", json={"rate_limits": values})
    assert response.status_code == 200, response.text


def test_time_frame_limit_counts_down_then_429_until_the_frame_resets(
    api: httpx.Client, control: httpx.Client
) -> None:
    limits(control, per_window=3, window_seconds=600)
    remaining = [api.get("/campaigns").headers["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = api.get("/campaigns")
    assert error_of(refused) == (429, 1015)
    body = refused.json()
    assert body["context"] == {"currentLimit": 3, "timeToReset": "600 seconds"}
    assert body["message"].startswith("You have reached your requests limit")
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Reset"] == "600 seconds"
    assert "Retry-After" not in refused.headers
    advance(control, 400)
    still = api.get("/campaigns")
    assert error_of(still) == (429, 1015)
    assert still.headers["X-RateLimit-Reset"] == "200 seconds"
    advance(control, 200)
    again = api.get("/campaigns")
    assert again.status_code == 200
    assert again.headers["X-RateLimit-Remaining"] == "2"


def start_of_a_second(control: httpx.Client) -> None:
    """Move the sandbox clock to the start of a whole second, so that the next few calls
    (milliseconds apart) fall in the same one-second window."""
    epoch = control.get("/__sandbox__/clock").json()["epoch"]
    control.post(
        "/__sandbox__/clock",
        json={"now": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(math.floor(epoch) + 2))},
    )


def test_per_second_limit_answers_retry_after(api: httpx.Client, control: httpx.Client) -> None:
    limits(control, per_second=2)
    start_of_a_second(control)
    assert [api.get("/accounts").status_code for _ in range(2)] == [200, 200]
    refused = api.get("/accounts")
    assert error_of(refused) == (429, 1015)
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["X-RateLimit-Limit"] == "2"
    assert refused.json()["context"]["timeToReset"] == "1 seconds"
    advance(control, 1)
    assert api.get("/accounts").status_code == 200


def test_batch_endpoint_has_its_own_one_per_second_limit(
    api: httpx.Client, control: httpx.Client
) -> None:
    campaign = make_list(api)

    def batch(email: str) -> httpx.Response:
        return api.post(
            "/contacts/batch", json={"campaignId": campaign, "contacts": [{"email": email}]}
        )

    start_of_a_second(control)
    assert batch("a@gmail.com").status_code == 202
    assert error_of(batch("b@gmail.com")) == (429, 1015)
    assert api.get("/campaigns").status_code == 200  # other calls are not held back
    advance(control, 1)
    assert batch("b@gmail.com").status_code == 202


def test_limits_can_be_switched_off(api: httpx.Client, control: httpx.Client) -> None:
    limits(control, per_second=1, enabled=False)
    assert {api.get("/accounts").status_code for _ in range(5)} == {200}


def test_bad_limit_settings_are_refused(control: httpx.Client) -> None:
    response = control.post("/__sandbox__/config", json={"rate_limits": {"per_minute": 5}})
    assert response.status_code == 400
    assert "per_minute" in response.json()["error"]


@pytest.mark.parametrize(("status", "code"), [(500, 1), (502, 1), (503, 1019)])
def test_injected_server_errors_have_the_error_body(
    api: httpx.Client, control: httpx.Client, status: int, code: int
) -> None:
    control.post("/__sandbox__/faults", json={"kind": "status", "status": status, "count": 1})
    assert error_of(api.get("/campaigns")) == (status, code)
    assert api.get("/campaigns").status_code == 200


def test_injected_429_looks_like_a_used_up_time_frame(
    api: httpx.Client, control: httpx.Client
) -> None:
    control.post(
        "/__sandbox__/faults", json={"kind": "status", "status": 429, "path": "/v3/contacts"}
    )
    refused = api.get("/contacts")
    assert error_of(refused) == (429, 1015)
    assert refused.headers["X-RateLimit-Reset"].endswith(" seconds")
    assert refused.json()["context"]["currentLimit"] == 30000


def test_injected_drop_and_latency(api: httpx.Client, control: httpx.Client) -> None:
    control.post(
        "/__sandbox__/faults",
        json=[{"kind": "latency", "latency_ms": 5}, {"kind": "drop", "method": "GET"}],
    )
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/campaigns")
    assert api.get("/campaigns").status_code == 200


def test_seeded_probability_faults_repeat(api: httpx.Client, control: httpx.Client) -> None:
    def run() -> list[int]:
        control.delete("/__sandbox__/faults")
        control.post(
            "/__sandbox__/faults",
            json={"kind": "status", "status": 503, "probability": 0.25, "seed": 11},
        )
        return [api.get("/accounts").status_code for _ in range(30)]

    first = run()
    assert first == run()
    assert 0 < first.count(503) < 30


def test_reset_clears_data_faults_counters_and_settings(
    api: httpx.Client, control: httpx.Client
) -> None:
    make_list(api)
    limits(control, per_window=50)
    control.post("/__sandbox__/faults", json={"kind": "status", "status": 500, "count": 5})
    control.post("/__sandbox__/config", json={"contact_delay": 0})
    advance(control, 100)
    assert control.post("/__sandbox__/reset").status_code == 204
    assert control.get("/__sandbox__/faults").json() == []
    config = control.get("/__sandbox__/config").json()
    assert config["rate_limits"]["per_window"] == 30000
    assert config["contact_delay"] == 30.0
    assert control.get("/__sandbox__/clock").json()["offset"] == 0
    response = api.get("/campaigns")
    assert response.json() == []
    assert response.headers["X-RateLimit-Remaining"] == "29999"
    seeded = control.post("/__sandbox__/reset", json={"seed": 1, "contacts": 50}).json()
    assert seeded["contacts"] >= 50
    assert len(api.get("/campaigns").json()) == 4


def test_clock_only_moves_forward(control: httpx.Client) -> None:
    assert control.post("/__sandbox__/clock", json={"advance": -5}).status_code == 400
    assert control.post("/__sandbox__/clock", json={"now": "2000-01-01"}).status_code == 400
    moved = control.post("/__sandbox__/clock", json={"now": "2999-01-01T00:00:00Z"}).json()
    assert moved["now"] == "2999-01-01T00:00:00+0000"
