"""HubSpot webhooks in: the sandbox's sender posts signed events to the running service, which
re-reads the records and pushes at once; bad signatures are refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.core.server import SandboxServer
from service.config import Settings
from service.jobs import JobSettings
from service.main import create_app
from service.sentiment.settings import SentimentSettings
from tests.contract.harness import HubSpotHarness

SECRET = "hubspot-app-client-secret-for-tests"


@pytest.fixture(scope="module")
def crm() -> Iterator[HubSpotHarness]:
    with HubSpotHarness(40) as harness:
        harness.writer().provision(dry_run=False)
        yield harness


@pytest.fixture
def service(crm: HubSpotHarness, tmp_path: Path) -> Iterator[str]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'events.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        connections={"portal": crm.settings(webhook_secret=SECRET)},
        jobs=JobSettings(enabled=False),
        sentiment=SentimentSettings(backends={"*": ("lexicon",)}),
    )
    with SandboxServer(create_app(settings)) as server:
        yield server.base_url


def test_a_signed_delivery_rereads_and_pushes(crm: HubSpotHarness, service: str) -> None:
    url = f"{service}/v1/crm-events/hubspot/portal"
    crm.emulator.webhooks.configure(
        target_url=url, client_secret=SECRET, linger_seconds=0.0, duplicate_rate=0.5
    )
    contact = crm.customer_ids()[3]
    api = crm._sdk().crm.objects.basic_api
    api.update("contacts", contact, {"properties": {"firstname": "Changed"}})
    deadline = time.monotonic() + 30
    while crm.field_value(contact, "cem_scored_at") in (None, ""):
        assert time.monotonic() < deadline, "the event never led to a push"
        time.sleep(0.2)
    crm.emulator.webhooks.configure(target_url=None)


def test_bad_or_missing_signatures_are_refused(service: str) -> None:
    url = f"{service}/v1/crm-events/hubspot/portal"
    body = b'[{"eventId": 1, "subscriptionType": "contact.propertyChange", "objectId": 1}]'
    now = str(int(time.time() * 1000))
    headers = {"Content-Type": "application/json", "X-HubSpot-Request-Timestamp": now}
    forged = httpx.post(url, content=body, headers={**headers, "X-HubSpot-Signature-v3": "Zm9v"})
    assert forged.status_code == 401
    assert forged.headers["content-type"].startswith("application/problem+json")
    stale = {**headers, "X-HubSpot-Request-Timestamp": "1000", "X-HubSpot-Signature-v3": "Zm9v"}
    assert httpx.post(url, content=body, headers=stale).status_code == 401
    assert (
        httpx.post(
            f"{service}/v1/crm-events/hubspot/nowhere", content=body, headers=headers
        ).status_code
        == 401  # like a bad signature: connection names cannot be probed
    )
