"""Rescore and erase one customer over HTTP, run by the real job runner against a sandbox CRM."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.api.services import services_of
from service.config import Settings
from service.jobs import JobSettings
from service.main import create_app
from service.sentiment.settings import SentimentSettings
from service.store.keys import Scope
from service.store.tables import CrmLink, EntityType, PushLedger
from tests.conftest import make_key
from tests.contract.harness import Harness, SandboxAdmin

pytestmark = pytest.mark.needs("push_fields", "erasure")


def finished(client: TestClient, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while (body := client.get(f"/v1/jobs/{job_id}", headers=headers).json())["state"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
    return body


def writes(admin: SandboxAdmin) -> list[dict[str, Any]]:
    """Requests that change something in the CRM (reads, searches and logins left out)."""
    return [
        r
        for r in admin.requests()
        if r["method"] != "GET"
        and "search" not in str(r["path"])
        and "batch/read" not in str(r["path"])
        and "oauth" not in str(r["path"])
    ]


def test_rescore_twice_then_erase_over_http(
    harness: Harness, admin: SandboxAdmin, tmp_path: Path
) -> None:
    harness.writer().provision(dry_run=False)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        connections={"org": harness.settings()},
        jobs=JobSettings(poll_seconds=0.05, heartbeat_seconds=0.2),
        sentiment=SentimentSettings(backends={"*": ("lexicon",)}),
    )
    with TestClient(create_app(settings)) as client:
        write = {"X-API-Key": make_key(client, Scope.WRITE)}
        erase = {"X-API-Key": make_key(client, Scope.ADMIN)}
        sync = client.post("/v1/syncs", json={"connection": "org"}, headers=write)
        assert finished(client, sync.json()["id"], write)["state"] == "succeeded"
        with Session(services_of(client.app).engine) as session:
            customer_id = session.exec(select(PushLedger.customer_id)).first()
            assert customer_id is not None
            (link,) = session.exec(
                select(CrmLink).where(
                    CrmLink.entity_type == EntityType.CUSTOMER.value,
                    CrmLink.entity_id == customer_id,
                )
            ).all()

        first = client.post(f"/v1/customers/{customer_id}/rescore", headers=write)
        assert first.status_code == 202
        assert first.headers["location"] == f"/v1/jobs/{first.json()['id']}"
        done = finished(client, first.json()["id"], write)
        assert done["state"] == "succeeded", done["error"]
        assert done["progress"]["scored"] == 1
        # Idempotent: a second rescore with nothing new in between writes nothing to the CRM.
        admin.clear_requests()
        second = client.post(f"/v1/customers/{customer_id}/rescore", headers=write)
        again = finished(client, second.json()["id"], write)
        assert again["state"] == "succeeded", again["error"]
        assert again["progress"]["scored"] == 1
        assert again["progress"].get("pushed", 0) == 0
        assert writes(admin) == []

        deleted = client.delete(f"/v1/customers/{customer_id}", headers=erase)
        assert deleted.status_code == 202
        job = finished(client, deleted.json()["id"], write)
        assert job["state"] == "succeeded", job["error"]
        assert job["progress"]["records_cleared"] == 1
        assert job["progress"]["rows_deleted"] > 0
        # The jobs keep no trace of the id (only an opaque hash).
        for listed in client.get("/v1/jobs", headers=write).json()["items"]:
            assert customer_id not in str(listed)
        # Erased means unknown: repeating the DELETE (or a rescore) is a 404 problem.
        repeat = client.delete(f"/v1/customers/{customer_id}", headers=erase)
        assert repeat.status_code == 404
        assert repeat.headers["content-type"].startswith("application/problem+json")
        rescore = client.post(f"/v1/customers/{customer_id}/rescore", headers=write)
        assert rescore.status_code == 404
        # A live message about the erased person is refused, not the seed of a new profile.
        message = {
            "connection": "org",
            "customer": link.crm_id,
            "id": "late-chat-1",
            "channel": "chat",
            "text": "Where is my order?",
        }
        late = client.post("/v1/interactions", json=message, headers=write)
        assert late.status_code == 410, late.text
        assert late.json()["type"] == "urn:cem:problem:customer-erased"
        with Session(services_of(client.app).engine) as session:
            assert session.exec(select(CrmLink).where(CrmLink.crm_id == link.crm_id)).all() == []
            assert session.exec(select(CrmLink).where(CrmLink.crm_id == "late-chat-1")).all() == []
    field = "CEM_Experience_Score__c" if harness.crm == "salesforce" else "cem_experience_score"
    external = "CEM_External_Id__c" if harness.crm == "salesforce" else "cem_external_id"
    assert harness.field_value(link.crm_id, field) in (None, "")
    assert harness.field_value(link.crm_id, external) in (None, "")
