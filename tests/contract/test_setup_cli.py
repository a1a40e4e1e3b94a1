"""`cem setup` provisions what the push needs, reports it, and is safe to run twice."""

from __future__ import annotations

import pytest

from service.cli import main
from tests.contract.harness import Harness

pytestmark = pytest.mark.needs("provisioning")


def configure(harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("CEM_DATABASE_URL", f"sqlite:///{tmp_path}/setup.db")
    settings = harness.settings()
    for field, value in settings.model_dump(exclude_none=True).items():
        plain = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        monkeypatch.setenv(
            f"CEM_CONNECTIONS__org__{field.upper()}", str(getattr(plain, "value", plain))
        )


def test_setup_dry_run_then_create_then_nothing_left(
    harness: Harness,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
) -> None:
    configure(harness, monkeypatch, tmp_path)
    assert main(["setup", harness.crm, "--dry-run"]) == 0
    planned = [line for line in capsys.readouterr().out.splitlines() if line.startswith("would")]
    assert planned, "a fresh CRM lacks our fields"
    assert main(["setup", "org"]) == 0
    created = [line for line in capsys.readouterr().out.splitlines() if line.startswith("created")]
    assert len(created) == len(planned)
    assert main(["setup", "org"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert not [line for line in out if line.startswith("created")]
    assert len([line for line in out if line.startswith("exists")]) >= len(created)


def test_unknown_connection_is_one_line(
    harness: Harness,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
) -> None:
    configure(harness, monkeypatch, tmp_path)
    assert main(["setup", "nowhere"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no connection 'nowhere' (configured: org)")
    assert err.count("\n") == 1


@pytest.mark.needs("push_fields")  # its first sync must push fields
def test_cem_sync_runs_the_loop_and_a_rerun_changes_nothing(
    harness: Harness,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
) -> None:
    configure(harness, monkeypatch, tmp_path)
    assert main(["setup", "org"]) == 0
    capsys.readouterr()
    assert main(["sync", "org", "--no-sentiment"]) == 0
    captured = capsys.readouterr()
    first = captured.out
    assert "org: pulled " in first
    assert "fields pushed 0," not in first
    assert "failed writes 0" in first, captured.err
    assert main(["sync", "org", "--no-sentiment"]) == 0
    second = capsys.readouterr().out
    assert "scored 0, fields pushed 0, tasks created 0, failed writes 0" in second
