"""Suite-wide rules: hermetic environment, no network beyond loopback."""

from __future__ import annotations

import os

import pytest

_LEAKY = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No user setting, secret or proxy from the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.startswith("RECONCILE_") or name.upper() in _LEAKY:
            monkeypatch.delenv(name, raising=False)
