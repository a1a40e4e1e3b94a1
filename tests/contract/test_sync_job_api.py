"""`POST /v1/syncs` runs the real sync job against a sandbox CRM and reports its progress."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from service.config import Settings
from service.jobs import JobSettings
from service.main import create_app
from service.sentiment.settings import SentimentSettings
from service.store.keys import Scope
from tests.conftest import make_key
from tests.contract.harness import Harness


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
