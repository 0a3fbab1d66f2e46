"""The runner's settings: [schedule] cadences and time zone, [alerts] (the webhook URL is a
secret), and sync.state (a PostgreSQL URL never carries its password in the settings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.config import load_settings, stale_seconds
from reconcile.errors import ConfigError
from reconcile.state import locate


def settings_from(tmp_path: Path, text: str, env: dict[str, str] | None = None):
    path = tmp_path / "reconcile.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, env=env or {}, secret_lookup=None)


def test_spec_9_cadences_by_default(tmp_path: Path) -> None:
    schedule = settings_from(tmp_path, "").schedule
    assert (schedule.lists, schedule.contacts, schedule.activities) == ("1h", "1h", "1h")
    assert (schedule.templates, schedule.newsletters) == ("5m", "1m")


def test_cron_lines_and_durations_are_accepted_and_mistakes_refused(tmp_path: Path) -> None:
    ok = settings_from(tmp_path, '[schedule]\ncontacts = "*/30 * * * *"\nnewsletters = "30s"\n')
    assert ok.schedule.contacts == "*/30 * * * *"
    with pytest.raises(ConfigError, match=r"schedule.lists: 'hourly' is neither a duration"):
        settings_from(tmp_path, '[schedule]\nlists = "hourly"\n')
    with pytest.raises(ConfigError, match=r"'Mars/Olympus' is not a time zone"):
        settings_from(tmp_path, '[schedule]\ntimezone = "Mars/Olympus"\n')
    with pytest.raises(ConfigError, match=r"schedule.after_block"):
        settings_from(tmp_path, '[schedule]\nafter_block = "soon"\n')


def test_stale_after_is_a_duration_or_off(tmp_path: Path) -> None:
    assert stale_seconds(settings_from(tmp_path, "")) == 3 * 3600
    assert stale_seconds(settings_from(tmp_path, '[alerts]\nstale_after = "off"\n')) is None
    with pytest.raises(ConfigError, match=r"alerts.stale_after"):
        settings_from(tmp_path, '[alerts]\nstale_after = "3 hours"\n')


def test_the_alert_webhook_is_a_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"alerts.webhook is a secret"):
        settings_from(tmp_path, '[alerts]\nwebhook = "https://hooks.example.com/T0/B0/key"\n')
    env = {"RECONCILE_ALERTS_WEBHOOK": "https://hooks.example.com/T0/B0/key"}
    settings = settings_from(tmp_path, "", env)
    assert settings.alerts.webhook is not None
    assert settings.alerts.webhook.reveal().endswith("/key")
    assert "key" not in repr(settings.alerts)
    assert settings.describe()["alerts"]["webhook"] == "set (environment RECONCILE_ALERTS_WEBHOOK)"


def test_a_postgresql_state_url_never_holds_its_password(tmp_path: Path) -> None:
    url = "postgresql://reconcile@db.example.com/reconcile"
    settings = settings_from(tmp_path, f'[sync]\nstate = "{url}"\n')
    assert settings.sync.state == url
    with pytest.raises(ConfigError, match=r"PGPASSWORD or ~/\.pgpass"):
        settings_from(tmp_path, '[sync]\nstate = "postgresql://reconcile:hunter2@db/reconcile"\n')
    with pytest.raises(ConfigError, match=r"holds a password"):
        settings_from(tmp_path, '[sync]\nstate = "postgresql://db/reconcile?password=hunter2"\n')


def test_which_state_store_a_command_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "/data")
    assert locate() == "/data/reconcile/state.sqlite3"
    assert locate(None, "postgresql://db/r") == "postgresql://db/r"
    monkeypatch.setenv("RECONCILE_STATE", "/tmp/s.sqlite3")
    assert locate(None, "postgresql://db/r") == "/tmp/s.sqlite3"
    assert locate("postgresql://other/r", "postgresql://db/r") == "postgresql://other/r"
