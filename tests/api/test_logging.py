"""Logs are JSON lines with request ids, and never contain a secret."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from service.config import load_settings
from service.main import create_app

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
PASSWORD = "pg-password-should-not-leak"


def test_secrets_never_reach_the_logs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    monkeypatch.setenv("CEM_DATABASE_URL", f"sqlite:///{tmp_path}/log.db")
    monkeypatch.setenv("CEM_LOG_FORMAT", "json")
    monkeypatch.setenv("CEM_CONNECTIONS__portal__KIND", "hubspot")
    monkeypatch.setenv("CEM_CONNECTIONS__portal__ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("CEM_CONNECTIONS__org__KIND", "salesforce")
    monkeypatch.setenv("CEM_CONNECTIONS__org__PASSWORD", PASSWORD)
    settings = load_settings()
    app = create_app(settings)

    @app.get("/leak")
    def leak() -> None:
        # Simulate careless code and an SDK error that embed credentials.
        logging.getLogger("hubspot").warning("calling with token %s", TOKEN)
        logging.getLogger("service.test").info("settings are %r", settings)
        raise RuntimeError(f"auth failed for password={PASSWORD}")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/leak", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert PASSWORD not in err
    assert TOKEN not in response.text
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert lines, "no JSON log lines captured"
    assert any(
        "[REDACTED]" in (line.get("message", "") + line.get("exc_info", "")) for line in lines
    )
    request_lines = [line for line in lines if line.get("request_id") == "req-42"]
    assert {line["logger"] for line in request_lines} >= {"hubspot", "cem.access"}
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
