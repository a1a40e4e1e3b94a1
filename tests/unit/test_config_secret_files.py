"""Every secret, nested ones included, can come from a file in CEM_SECRETS_DIR (issue 16): the value
arrives, and never shows in a repr, a dump or a log line."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from service.config import Settings, load_settings
from service.logs import configure_logging

# (file name, value, how to read it back from the settings)
KINDS: dict[str, tuple[str, str, Callable[[Settings], SecretStr | None]]] = {
    "connection access token": (
        "CEM_CONNECTIONS__acme__ACCESS_TOKEN",
        "pat-na1-from-a-file-0001",
        lambda s: s.connections["acme"].access_token,
    ),
    "connection client secret": (
        "CEM_CONNECTIONS__acme__CLIENT_SECRET",
        "client-secret-from-a-file-0002",
        lambda s: s.connections["acme"].client_secret,
    ),
    "connection webhook secret": (
        "CEM_CONNECTIONS__acme__WEBHOOK_SECRET",
        "whsec_from-a-file-0003",
        lambda s: s.connections["acme"].webhook_secret,
    ),
    "webhook encryption key": (
        "CEM_WEBHOOKS__ENCRYPTION_KEY",
        "encryption-key-from-a-file-0004-at-least-32-chars",
        lambda s: s.webhooks.encryption_key,
    ),
    "database url": (
        "CEM_DATABASE_URL",
        "postgresql+psycopg://cem:pw-from-a-file-0005@db/cem",
        lambda s: s.database_url,
    ),
}


@pytest.fixture
def secrets_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in [k for k in os.environ if k.upper().startswith("CEM_")]:
        monkeypatch.delenv(name)
    directory = tmp_path / "secrets"
    directory.mkdir()
    monkeypatch.setenv("CEM_SECRETS_DIR", str(directory))
    # The connection's kind comes from the environment, its secret from a file: the two merge.
    monkeypatch.setenv("CEM_CONNECTIONS__acme__KIND", "hubspot")
    return directory


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_secret_from_a_file_arrives_and_stays_hidden(
    kind: str, secrets_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file_name, value, read = KINDS[kind]
    (secrets_dir / file_name).write_text(value + "\n", encoding="utf-8")  # as `echo` writes it

    settings = load_settings()

    secret = read(settings)
    assert secret is not None, f"{file_name} did not arrive from the secrets directory"
    assert secret.get_secret_value() == value
    assert value not in repr(settings)
    assert value not in str(settings)
    assert value not in str(settings.model_dump())
    assert value not in settings.model_dump_json()
    assert value in settings.secret_values()

    configure_logging("DEBUG", "json", settings.secret_values())
    try:
        logger = logging.getLogger("tests.secret_files")
        logger.warning("settings %r", settings)
        logger.warning("a client printed its credential: %s", value)
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if h.get_name() == "cem"]:
            root.removeHandler(handler)
    logged = capsys.readouterr().err
    assert "a client printed its credential" in logged
    assert value not in logged


def test_lower_case_file_names_work_too(secrets_dir: Path) -> None:
    (secrets_dir / "cem_connections__acme__access_token").write_text("pat-lower-case-0006")
    token = load_settings().connections["acme"].access_token
    assert token is not None
    assert token.get_secret_value() == "pat-lower-case-0006"


def test_environment_wins_over_a_file(secrets_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (secrets_dir / "CEM_CONNECTIONS__acme__ACCESS_TOKEN").write_text("pat-from-the-file")
    monkeypatch.setenv("CEM_CONNECTIONS__acme__ACCESS_TOKEN", "pat-from-the-environment")
    token = load_settings().connections["acme"].access_token
    assert token is not None
    assert token.get_secret_value() == "pat-from-the-environment"


def test_a_whole_connection_from_files(secrets_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CEM_CONNECTIONS__acme__KIND")
    (secrets_dir / "CEM_CONNECTIONS__crm__KIND").write_text("salesforce\n")
    (secrets_dir / "CEM_CONNECTIONS__crm__CLIENT_ID").write_text("client-id\n")
    (secrets_dir / "CEM_CONNECTIONS__crm__CLIENT_SECRET").write_text("client-secret-0007\n")
    connection = load_settings().connections["crm"]
    assert connection.kind == "salesforce"
    assert connection.client_id == "client-id"
    assert connection.client_secret is not None
    assert connection.client_secret.get_secret_value() == "client-secret-0007"


def test_unrelated_files_in_the_directory_are_ignored(secrets_dir: Path) -> None:
    # /run/secrets is shared with other containers' secrets (compose mounts postgres_password).
    (secrets_dir / "postgres_password").write_text("not-ours")
    assert load_settings().connections["acme"].access_token is None
