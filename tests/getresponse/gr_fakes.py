"""Test doubles for the GetResponse client: a fake clock and scripted HTTP answers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

from reconcile.getresponse import ApiKeyAuth, GetResponseClient
from reconcile.retrying import RetryPolicy

KEY = "gr-test-key-0123456789abcdef"


class FakeClock:
    """A clock that only moves when someone sleeps on it; records every sleep."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += max(seconds, 0.0)


def error_body(status: int, code: int, message: str = "error", **context: Any) -> dict[str, Any]:
    return {
        "httpStatus": status,
        "code": code,
        "codeDescription": f"description of {code}",
        "message": message,
        "moreInfo": f"https://apidocs.getresponse.com/en/v3/errors/{code}",
        "context": context,
        "uuid": "5d1c1b1e-0000-4000-8000-000000000000",
    }


def error(status: int, code: int, message: str = "error", **context: Any) -> httpx.Response:
    return httpx.Response(status, json=error_body(status, code, message, **context))


class Script:
    """An ``httpx.MockTransport`` handler answering from a queue (or a function), recording
    every request it sees. Items: a Response, an exception to raise, or a callable."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            if not self.answers:
                raise AssertionError(f"unexpected request {request.method} {request.url}")
            answer = self.answers.pop(0)
        if callable(answer) and not isinstance(answer, httpx.Response):
            answer = answer(request)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def make_client(
    handler: Callable[[httpx.Request], httpx.Response],
    clock: FakeClock | None = None,
    *,
    max_attempts: int = 5,
    **kwargs: Any,
) -> tuple[GetResponseClient, FakeClock]:
    clock = clock or FakeClock()
    client = GetResponseClient(
        kwargs.pop("auth", ApiKeyAuth(KEY)),
        base_url=kwargs.pop("base_url", "https://api.test/v3"),
        transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        clock=clock,
        policy=RetryPolicy(max_attempts=max_attempts, base_delay=1.0, max_delay=8.0),
        **kwargs,
    )
    return client, clock


def page(items: list[dict[str, Any]], number: int, total_pages: int, total: int) -> httpx.Response:
    return httpx.Response(
        200,
        json=items,
        headers={
            "TotalPages": str(total_pages),
            "CurrentPage": str(number),
            "TotalCount": str(total),
        },
    )
