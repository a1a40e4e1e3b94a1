"""`POST /v1/syncs` runs the real sync job against a sandbox CRM and reports its progress."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.jobs import JobSettings
from service.main import create_app
from service.sentiment.settings import SentimentSettings
from service.store.keys import Scope
from tests.api.test_metrics import scrape, value
from tests.conftest import make_key
from tests.contract.harness import Harness, SandboxAdmin

pytestmark = pytest.mark.needs("push_fields")


def test_a_sync_posted_over_http_runs_against_the_crm(harness: Harness, tmp_path: Path) -> None:
    harness.writer().provision(dry_run=False)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        connections={"org": harness.settings()},
        jobs=JobSettings(poll_seconds=0.05, heartbeat_seconds=0.2),
        # The lexicon backend keeps this test fast; the embedding model is tested elsewhere.
        sentiment=SentimentSettings(backends={"*": ("lexicon",)}),
    )
    with TestClient(create_app(settings)) as client:
        write = {"X-API-Key": make_key(client, Scope.WRITE)}
        job = client.post("/v1/syncs", json={"connection": "org"}, headers=write)
        assert job.status_code == 202, job.text
        job_id = job.json()["id"]
        deadline = time.monotonic() + 120
        while (body := client.get(f"/v1/jobs/{job_id}", headers=write).json())["state"] in (
            "queued",
            "running",
        ):
            assert time.monotonic() < deadline, body
            time.sleep(0.2)
    assert body["state"] == "succeeded", body
    assert body["progress"]["pulled"] > 0
    assert body["progress"]["pushed"] > 0
    assert body["progress"].get("failed", 0) == 0


def test_metrics_move_with_a_real_sync_under_rate_limits(
    harness: Harness, admin: SandboxAdmin, tmp_path: Path
) -> None:
    """Scrape /metrics before and after a sync job that met the CRM's rate limit."""
    harness.writer().provision(dry_run=False)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'metrics.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        connections={"org": harness.settings()},
        jobs=JobSettings(poll_seconds=0.05, heartbeat_seconds=0.2),
        sentiment=SentimentSettings(backends={"*": ("lexicon",)}),
    )
    crm = harness.crm
    with TestClient(create_app(settings)) as client:
        before = scrape(client)
        # Every 20th data call is refused with a rate limit and no Retry-After wait to speak of
        # (enough for the series to move; each HubSpot 429 still costs its client a second).
        admin.faults([{"route": f"* {harness.api_routes.split(' ', 1)[1]}", "rate_limited": 0.05,
                       "retry_after_seconds": 0}])  # fmt: skip
        write = {"X-API-Key": make_key(client, Scope.WRITE)}
        job = client.post("/v1/syncs", json={"connection": "org"}, headers=write).json()
        deadline = time.monotonic() + 120
        while (body := client.get(f"/v1/jobs/{job['id']}", headers=write).json())["state"] in (
            "queued",
            "running",
        ):
            assert time.monotonic() < deadline, body
            time.sleep(0.2)
        admin.faults([])
        after = scrape(client)
    assert body["state"] == "succeeded", body
    assert body["progress"].get("rate_limit_waits", 0) >= 1  # shown in the job's progress

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("cem_crm_calls_total", crm=crm, status="ok") > 10
    assert moved("cem_crm_calls_total", crm=crm, status="429") >= 1
    assert moved("cem_job_duration_seconds_count", kind="sync", outcome="succeeded") == 1
    assert value(after, "cem_jobs", state="succeeded", kind="sync") == 1
    assert value(after, "cem_job_queue_depth") == 0
    assert (
        sum(v - before.get(k, 0.0) for k, v in after.items() if k[0] == "cem_sentiment_units_total")
        > 0
    )
    if crm == "salesforce":  # Sforce-Limit-Info on every answer (HubSpot's OAuth-less pair
        # comes only with its rate limits on, which the harness turns off)
        assert 0 < value(after, "cem_crm_quota_used_ratio", crm=crm, connection="org") < 1
