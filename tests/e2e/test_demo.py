"""`cem demo --once`: the whole loop on both sandbox CRMs, from an empty service to a summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.cli import main


def test_demo_once_runs_the_loop_and_the_live_chat(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--once", "--customers", "60"]) == 0
    out = capsys.readouterr().out
    assert "salesforce-demo" in out
    assert "hubspot-demo" in out
    assert "NPS per market" in out
    assert "customers scored 120;" in out
    assert "live chat from" in out
    assert "churn flag true" in out
    assert (tmp_path / ".cem" / "demo.db").exists()
