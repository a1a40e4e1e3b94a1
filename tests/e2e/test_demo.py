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
    # The at_risk segment is the flag: its share is the flagged share less the customers
    # already lost (not "everyone over 0.5", which once put 82 % of the demo in it).
    scored = next(line for line in out.splitlines() if line.startswith("customers scored"))
    flags = int(scored.rsplit("churn flags ", 1)[1].replace(",", ""))
    segments = next(line for line in out.splitlines() if line.startswith("segments: "))
    counts = {
        part.split()[0]: int(part.split()[1].replace(",", ""))
        for part in segments.removeprefix("segments: ").split(", ")
    }
    assert sum(counts.values()) == 120
    at_risk = counts.get("at_risk", 0)
    assert at_risk <= flags
    assert abs(at_risk - flags) / 120 <= 0.05
    assert "live Zalo chat from" in out
    # The chat went through the HubSpot sandbox's webhook, and HubSpot then showed both.
    live = next(line for line in out.splitlines() if "sent by HubSpot's webhook" in line)
    assert "POST /v1/webhooks/hubspot" in live
    assert "churn flag true" in live
    assert "new task: " in live
    assert (tmp_path / ".cem" / "demo.db").exists()
