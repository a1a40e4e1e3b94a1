"""`cem demo --once`: the whole loop on both sandbox CRMs, from an empty service to a summary,
then a live chat delivered by the HubSpot sandbox's webhook to the running API."""

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
    assert "live Zalo chat from" in out
    # The chat went through the HubSpot sandbox's webhook, and HubSpot then showed both.
    live = next(line for line in out.splitlines() if "sent by HubSpot's webhook" in line)
    assert "POST /v1/webhooks/hubspot" in live
    assert "churn flag true" in live
    assert "new task: " in live
    assert (tmp_path / ".cem" / "demo.db").exists()
