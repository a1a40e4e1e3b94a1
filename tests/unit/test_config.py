"""Settings: prefix, nesting, secrets directory, one-line errors, no secrets in reprs."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import ConfigError, CrmKind, load_settings


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
    assert connection.kind is CrmKind.HUBSPOT
    assert connection.access_token is not None
    assert connection.access_token.get_secret_value() == "pat-na1-secret-value"
    assert "pat-na1-secret-value" not in repr(settings)
    assert "pat-na1-secret-value" not in str(settings.model_dump())


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
