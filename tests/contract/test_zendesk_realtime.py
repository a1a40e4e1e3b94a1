"""Real time from Zendesk: the emulator's signed event webhook reaches the running service at
`POST /v1/webhooks/zendesk`, which verifies it, re-reads the ticket's comments by id, scores the
customer and writes the result back onto the Zendesk user; forged and stale deliveries are
refused."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.registry import connection_settings
from sandbox.core.server import SandboxServer
from sandbox.serving import RunningSandbox, ServeOptions, connection_values, start_sandbox
from sandbox.zendesk.signature import SIGNATURE, TIMESTAMP, sign
from service.api.services import services_of
from service.config import Settings
from service.jobs import JobSettings
from service.main import create_app
from service.sentiment.settings import SentimentSettings
from service.usecases.sync import sync

ZD = "zendesk-rt"
COMPLAINT = (
    "This is the third time I write. The replacement never arrived, support is useless and I "
    "am very disappointed. I will cancel my account."
)


@dataclass
class World:
    sandbox: RunningSandbox
    service: str
    secret: str
    zendesk: httpx.Client


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    sandbox = start_sandbox(ServeOptions(kinds=("zendesk",), customers=60, seed=11))
    info: dict[str, Any] = sandbox.info["zendesk"]
    database = tmp_path_factory.mktemp("zendesk-rt") / "rt.db"
    settings = Settings(
        database_url=f"sqlite:///{database}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        jobs=JobSettings(enabled=False),
        sentiment=SentimentSettings(backends={"*": ("lexicon",)}),
        connections={ZD: connection_settings(connection_values(sandbox.info, "zendesk"))},
    )
    app = create_app(settings)
    state = services_of(app)
    wiring = state.build_connection(ZD)
    wiring.writer.provision(dry_run=False)
    sync(
        ZD,
        wiring.reader,
        wiring.writer,
        state.sync_stores(),
        datetime.now(UTC),
        analyzer=state.analyzer_factory(),
    )
    pair = f"{info['email']}/token:{info['api_token']}".encode()
    zendesk = httpx.Client(
        base_url=info["base_url"],
        headers={"Authorization": "Basic " + base64.b64encode(pair).decode()},
        timeout=30,
    )
    try:
        with SandboxServer(app) as server:
            yield World(sandbox, server.base_url, info["webhook_signing_secret"], zendesk)
    finally:
        zendesk.close()
        sandbox.stop()


def _user(world: World, user_id: int) -> dict[str, Any]:
    user: dict[str, Any] = world.zendesk.get(f"/api/v2/users/{user_id}.json").json()["user"]
    return user


def test_a_complaint_on_a_ticket_is_reread_scored_and_written_back(world: World) -> None:
    hook = {
        "name": "cem-bridge",
        "status": "active",
        "endpoint": f"{world.service}/v1/webhooks/zendesk",
        "http_method": "POST",
        "request_format": "json",
        "subscriptions": ["zen:event-type:ticket.comment_added"],
    }
    assert world.zendesk.post("/api/v2/webhooks", json={"webhook": hook}).status_code == 201
    tickets = world.zendesk.get("/api/v2/tickets.json", params={"page[size]": 10}).json()
    ticket = tickets["tickets"][0]
    requester = int(ticket["requester_id"])
    before = _user(world, requester)["user_fields"].get("cem_scored_at")
    comment = {"body": COMPLAINT, "public": True, "author_id": requester}
    answer = world.zendesk.put(
        f"/api/v2/tickets/{ticket['id']}.json", json={"ticket": {"comment": comment}}
    )
    assert answer.status_code == 200
    deadline = time.monotonic() + 60
    fields: dict[str, Any] = {}
    while time.monotonic() < deadline:
        fields = _user(world, requester)["user_fields"]
        if fields.get("cem_scored_at") not in (None, before):
            break
        time.sleep(0.2)
    assert fields.get("cem_scored_at") not in (None, before), fields
    assert fields.get("cem_external_id")
    assert fields.get("cem_sentiment") is not None
    assert float(fields["cem_sentiment"]) < 0


def _post(world: World, body: bytes, stamp: str, secret: str) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP: stamp,
        SIGNATURE: sign(secret, stamp, body),
    }
    return httpx.post(f"{world.service}/v1/webhooks/zendesk", content=body, headers=headers)


def test_forged_and_stale_deliveries_are_refused(world: World) -> None:
    body = (
        b'{"id":"e1","type":"zen:event-type:ticket.created","time":"2026-12-07T10:00:00Z",'
        b'"detail":{"id":"1"},"event":{}}'
    )
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _post(world, body, now, "not-the-secret").status_code == 401
    assert _post(world, body, "2020-01-01T00:00:00Z", world.secret).status_code == 401
    assert _post(world, b"[1]", now, world.secret).status_code in (400, 422)
