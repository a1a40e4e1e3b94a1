"""Settings: prefix, nesting, secrets directory, one-line errors, no secrets in reprs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.config import ConfigError, load_settings


def test_defaults_without_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CEM_SECRETS_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.database_url.get_secret_value().startswith("sqlite:///")
    assert settings.api.max_body_bytes == 1_048_576
    assert settings.connections == {}


def test_prefix_and_nested_delimiter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CEM_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("CEM_PORT", "9123")
    monkeypatch.setenv("CEM_API__MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("CEM_CONNECTIONS__acme__KIND", "hubspot")
    monkeypatch.setenv("CEM_CONNECTIONS__acme__ACCESS_TOKEN", "pat-na1-secret-value")
    settings = load_settings()
    assert settings.port == 9123
    assert settings.api.max_body_bytes == 2048
    connection = settings.connections["acme"]
    assert connection.kind == "hubspot"
    assert connection.access_token is not None
    assert connection.access_token.get_secret_value() == "pat-na1-secret-value"
    assert "pat-na1-secret-value" not in repr(settings)
    assert "pat-na1-secret-value" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        # The union's tag (the kind) is not part of a variable's name.
        ("CEM_CONNECTIONS__acme__READ_TIMEOUT", "-1", "CEM_CONNECTIONS__ACME__READ_TIMEOUT: "),
        # A field of another kind's model: the kind decides which fields exist.
        ("CEM_CONNECTIONS__acme__USERNAME", "ann", "CEM_CONNECTIONS__ACME__USERNAME: unknown"),
    ],
)
def test_a_connection_field_error_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv("CEM_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("CEM_CONNECTIONS__acme__KIND", "hubspot")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"invalid setting {expected}")


def test_each_kind_reads_its_own_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CEM_SECRETS_DIR", str(tmp_path))
    (tmp_path / "CEM_CONNECTIONS__org__PASSWORD").write_text("tiger-secret-pw")
    monkeypatch.setenv("CEM_CONNECTIONS__org__KIND", "salesforce")
    monkeypatch.setenv("CEM_CONNECTIONS__org__USERNAME", "ann@example.com")
    monkeypatch.setenv("CEM_CONNECTIONS__portal__KIND", "hubspot")
    monkeypatch.setenv("CEM_CONNECTIONS__portal__SEARCH_PER_SECOND", "2")
    settings = load_settings()
    org, portal = settings.connections["org"], settings.connections["portal"]
    assert type(org).__name__ == "SalesforceSettings"
    assert org.password.get_secret_value() == "tiger-secret-pw"  # type: ignore[attr-defined]
    assert portal.search_per_second == 2  # type: ignore[attr-defined]
    assert "tiger-secret-pw" in settings.secret_values()
    assert "tiger-secret-pw" not in repr(settings)


def test_reading_settings_loads_no_crm_sdk(tmp_path: Path) -> None:
    # A fresh interpreter: this one has long imported the SDKs for other tests.
    code = (
        "import sys; from service.config import load_settings; load_settings(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'hubspot', "
        "'simple_salesforce'}))"
    )
    env = {**os.environ, "CEM_SECRETS_DIR": str(tmp_path), "CEM_CONNECTIONS__a__KIND": "hubspot"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_secret_read_from_secrets_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "CEM_DATABASE_URL").write_text("sqlite:////var/lib/cem/from-file.db")
    monkeypatch.setenv("CEM_SECRETS_DIR", str(tmp_path))
    monkeypatch.delenv("CEM_DATABASE_URL", raising=False)
    assert load_settings().database_url.get_secret_value() == "sqlite:////var/lib/cem/from-file.db"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("CEM_PORT", "not-a-port", "invalid setting CEM_PORT: "),
        ("CEM_PORT", "70000", "invalid setting CEM_PORT: "),
        ("CEM_API__MAX_BODY_BYTES", "-1", "invalid setting CEM_API__MAX_BODY_BYTES: "),
        ("CEM_LOG_LEVEL", "LOUD", "invalid setting CEM_LOG_LEVEL: "),
        ("CEM_DATABASE_URL", "mysql://x", "invalid setting CEM_DATABASE_URL: "),
        ("CEM_CONNECTIONS__acme__KIND", "pipedrive", "invalid setting CEM_CONNECTIONS__ACME__KIND"),
    ],
)
def test_bad_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv("CEM_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_bad_database_url_error_does_not_echo_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CEM_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("CEM_DATABASE_URL", "mysql://root:hunter2-secret@db/x")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "hunter2-secret" not in str(caught.value)


def test_secrets_dir_must_exist_when_given(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CEM_SECRETS_DIR", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="CEM_SECRETS_DIR"):
        load_settings()


def test_secret_values_include_url_passwords(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CEM_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("CEM_DATABASE_URL", "postgresql+psycopg://cem:s3cr3t-pw@db:5432/cem")
    assert "s3cr3t-pw" in load_settings().secret_values()
