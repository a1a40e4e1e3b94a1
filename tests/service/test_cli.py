"""The `cem` CLI against both databases: keys it creates work over HTTP, revoked ones do not."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from service.cli import main
from service.config import load_settings
from service.main import create_app


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_key_authenticates_until_revoked(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CEM_DATABASE_URL", database_url)
    code, out, _ = run(capsys, "keys", "create", "--name", "crm-rules", "--scope", "read", "--json")
    assert code == 0
    created = json.loads(out)
    assert created["scopes"] == ["read"]

    with TestClient(create_app(load_settings())) as client:
        headers = {"Authorization": f"Bearer {created['key']}"}
        assert client.get("/v1/keys", headers=headers).status_code == 403  # valid key, low scope
        code, out, _ = run(capsys, "keys", "list")
        assert code == 0
        assert created["id"] in out
        assert created["key"] not in out  # lists never show keys
        assert run(capsys, "keys", "revoke", created["id"])[0] == 0
        assert client.get("/v1/keys", headers=headers).status_code == 401


def test_cli_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    monkeypatch.setenv("CEM_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    cases = [
        (["keys", "revoke", "0123456789ab"], "no API key with id"),
        (["keys", "create", "--name", "x", "--scope", "root"], "--scope"),
        (["no-such-command"], "No such command"),
    ]
    for argv, expected in cases:
        code, _, err = run(capsys, *argv)
        assert code != 0
        assert expected in err
        assert err.count("\n") == 1, err
        assert "Traceback" not in err


def test_bad_setting_fails_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CEM_PORT", "eighty")
    code, _, err = run(capsys, "keys", "list")
    assert code == 1
    assert err.startswith("error: invalid setting CEM_PORT:")
    assert err.count("\n") == 1


def test_unreachable_database_does_not_echo_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CEM_DATABASE_URL", "postgresql+psycopg://cem:pw-do-not-print@127.0.0.1:1/x")
    code, out, err = run(capsys, "keys", "list")
    assert code == 1
    assert "pw-do-not-print" not in out + err
    assert err.startswith("error: database failure")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "version")
    assert code == 0
    assert out.strip().count(".") >= 2
