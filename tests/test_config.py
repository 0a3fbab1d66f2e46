"""Settings: file + profiles + environment, secrets from the environment or the keyring only."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from reconcile.config import (
    TEMPLATE,
    Secret,
    load_settings,
    require_dynamics,
    require_getresponse,
    write_template,
)
from reconcile.errors import ConfigError

FILE = """
[dynamics]
deployment = "online"
environment_url = "https://contoso.crm4.dynamics.com"
api_version = "v9.1"
client_id = "app-1"
concurrency = 8

[getresponse]
api_url = "https://api3.getresponse360.com/v3"
domain = "example.com"

[sync]
send_custom_fields = true
custom_fields = ["city", "company"]
send_tags = true

[profiles.staging.dynamics]
environment_url = "https://contoso-staging.crm4.dynamics.com"
api_version = "9.2"
"""


def write(tmp_path: Path, text: str = FILE) -> Path:
    path = tmp_path / "reconcile.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_values_profiles_and_environment_in_that_order(tmp_path: Path) -> None:
    path = write(tmp_path)
    base = load_settings(path, env={}, secret_lookup=None)
    assert base.dynamics.environment_url == "https://contoso.crm4.dynamics.com"
    assert base.dynamics.api_version == "v9.1"
    assert base.dynamics.concurrency == 8
    assert base.sync.custom_fields == ("city", "company")
    assert base.sync.send_tags is True
    assert base.getresponse.domain == "example.com"
    staging = load_settings(path, "staging", env={}, secret_lookup=None)
    assert staging.dynamics.environment_url == "https://contoso-staging.crm4.dynamics.com"
    assert staging.dynamics.client_id == "app-1"  # inherited from the base tables
    env = {
        "RECONCILE_DYNAMICS_API_VERSION": "v8.2",
        "RECONCILE_SYNC_SEND_TAGS": "no",
        "RECONCILE_SYNC_CUSTOM_FIELDS": "a, b",
        "RECONCILE_PROFILE": "staging",
    }
    from_env = load_settings(path, env=env, secret_lookup=None)
    assert from_env.profile == "staging"
    assert from_env.dynamics.api_version == "v8.2"
    assert from_env.sync.send_tags is False
    assert from_env.sync.custom_fields == ("a", "b")


def test_settings_from_the_environment_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "none"),
        "RECONCILE_DYNAMICS_ENVIRONMENT_URL": "https://org.crm.dynamics.com",
        "RECONCILE_DYNAMICS_CLIENT_ID": "app",
        "RECONCILE_DYNAMICS_CLIENT_SECRET": "pw",
        "RECONCILE_GETRESPONSE_API_KEY": "key",
    }
    settings = load_settings(env=env, secret_lookup=None)
    assert settings.source is None
    dynamics = require_dynamics(settings)
    assert dynamics.client_secret is not None
    assert dynamics.client_secret.reveal() == "pw"
    assert require_getresponse(settings).api_key is not None


def test_secrets_come_from_environment_or_keyring_and_never_print(tmp_path: Path) -> None:
    path = write(tmp_path)
    asked: list[tuple[str, str]] = []

    def keyring(service: str, name: str) -> str | None:
        asked.append((service, name))
        return "from-keyring" if name == "staging/dynamics.client_secret" else None

    settings = load_settings(
        path, "staging", env={"RECONCILE_GETRESPONSE_API_KEY": "gr-key"}, secret_lookup=keyring
    )
    secret = settings.dynamics.client_secret
    assert isinstance(secret, Secret)
    assert secret.reveal() == "from-keyring"
    assert ("reconcile", "staging/dynamics.client_secret") in asked
    printed = f"{settings} {settings!r} {secret} {settings.describe()}"
    for value in ("from-keyring", "gr-key"):
        assert value not in printed
    assert settings.describe()["dynamics"]["client_secret"] == (
        "set (keyring reconcile staging/dynamics.client_secret)"
    )
    assert settings.describe()["getresponse"]["api_key"] == (
        "set (environment RECONCILE_GETRESPONSE_API_KEY)"
    )
    assert settings.describe()["dynamics"]["access_token"] == "not set"
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_a_secret_in_the_file_is_refused_with_where_to_put_it(tmp_path: Path) -> None:
    path = write(tmp_path, FILE + '\n[profiles.prod.getresponse]\napi_key = "oops"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={}, secret_lookup=None)
    assert "profiles.prod.getresponse.api_key is a secret" in str(info.value)
    assert "RECONCILE_GETRESPONSE_API_KEY" in str(info.value)
    assert "oops" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[dynamics]\nclient_idd = 'x'\n", "unknown setting dynamics.client_idd"),
        ("[dynamix]\n", "unknown table [dynamix]"),
        ("[dynamics]\nconcurrency = 'many'\n", "dynamics.concurrency must be a whole number"),
        ("[dynamics]\napi_version = 'v10'\n", "api_version must be one of v8.2"),
        ("[dynamics]\ndeployment = 'cloud'\n", "deployment must be 'online' or 'onpremises'"),
        ("[dynamics]\nenvironment_url = 'contoso'\n", "must be an http(s) URL"),
        (
            "[dynamics]\nenvironment_url = 'https://contoso.crm4.dynamics.com/api/data/v9.2'\n",
            "give the environment's own URL: 'https://contoso.crm4.dynamics.com'",
        ),
        ("[sync]\nsend_tags = 'maybe'\n", "sync.send_tags must be true or false"),
        ("[dynamics\n", "not valid TOML"),
    ],
)
def test_bad_files_say_what_and_where(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={}, secret_lookup=None)
    assert message in str(info.value)


def test_unknown_profile_and_missing_file(tmp_path: Path) -> None:
    path = write(tmp_path)
    with pytest.raises(ConfigError, match="Profile 'prod' is not defined") as info:
        load_settings(path, "prod", env={}, secret_lookup=None)
    assert "staging" in str(info.value.hint)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={}, secret_lookup=None)


def test_missing_connection_settings_are_listed_together(tmp_path: Path) -> None:
    path = write(tmp_path, "[dynamics]\ndeployment = 'onpremises'\n")
    settings = load_settings(path, env={}, secret_lookup=None)
    with pytest.raises(ConfigError) as info:
        require_dynamics(settings)
    text = str(info.value)
    for needed in (
        "environment_url",
        "client_id",
        "RECONCILE_DYNAMICS_CLIENT_SECRET",
        "dynamics.authority",
    ):
        assert needed in text
    assert "reconcile init" in str(info.value.hint)
    only_secret = load_settings(write(tmp_path), env={}, secret_lookup=None)
    with pytest.raises(ConfigError) as info:
        require_dynamics(only_secret)  # the file is complete: only the secret is not set
    assert "reconcile init" not in str(info.value.hint)
    assert "RECONCILE_DYNAMICS_CLIENT_SECRET" in str(info.value.hint)
    assert "keyring set reconcile default/dynamics.client_secret" in str(info.value.hint)
    with pytest.raises(ConfigError, match="GetResponse MAX needs"):
        require_getresponse(
            load_settings(
                write(tmp_path, "[getresponse]\napi_url = 'https://api3.getresponse360.pl/v3'\n"),
                env={"RECONCILE_GETRESPONSE_API_KEY": "k"},
                secret_lookup=None,
            )
        )


def test_the_template_loads_and_is_not_overwritten(tmp_path: Path) -> None:
    target = write_template(tmp_path / "sub" / "reconcile.toml")
    assert target.read_text(encoding="utf-8") == TEMPLATE
    settings = load_settings(target, env={}, secret_lookup=None)
    assert settings.dynamics.api_version == "v9.2"
    with pytest.raises(ConfigError, match="already exists"):
        write_template(target)
    write_template(target, force=True)


def test_the_real_keyring_lookup_degrades_to_none() -> None:
    from reconcile.config import keyring_get

    assert keyring_get("reconcile", "nobody/dynamics.client_secret") is None
