"""Event webhooks: created over the API, their signing secret read back, and the sender's
deliveries signed as Zendesk signs them (checked by our connector's verify and by hand)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request

from adapters.zendesk.webhooks import verify
from sandbox.core.server import SandboxServer
from service.realtime.changes import SignatureError
from tests.sandbox.zendesk.conftest import Account

EVENTS = [
    "zen:event-type:ticket.created",
    "zen:event-type:ticket.comment_added",
    "zen:event-type:ticket.satisfaction_rating_changed",
]


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> dict[str, str]:
        got.append({"headers": dict(request.headers), "body": await request.body()})
        return {"ok": "yes"}

    with SandboxServer(app) as server:
        yield f"{server.base_url}/hook", got


def _create(account: Account, endpoint: str, **extra: Any) -> dict[str, Any]:
    hook = {
        "name": "cem-bridge",
        "status": "active",
        "endpoint": endpoint,
        "http_method": "POST",
        "request_format": "json",
        "subscriptions": EVENTS,
        **extra,
    }
    answer = account.http.post("/api/v2/webhooks", json={"webhook": hook})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()["webhook"]
    return created


def _wait(got: list[dict[str, Any]], count: int) -> None:
    deadline = time.monotonic() + 10
    while len(got) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_event_subscriptions_need_post_and_json(account: Account) -> None:
    hook = {
        "name": "x",
        "status": "active",
        "endpoint": "http://127.0.0.1:9/x",
        "http_method": "GET",
        "request_format": "json",
        "subscriptions": EVENTS[:1],
    }
    assert account.http.post("/api/v2/webhooks", json={"webhook": hook}).status_code == 422


def test_deliveries_are_signed_with_the_webhooks_secret(
    account: Account, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    endpoint, got = receiver
    hook = _create(account, endpoint)
    secret = account.http.get(f"/api/v2/webhooks/{hook['id']}/signing_secret").json()
    key = secret["signing_secret"]["secret"]
    ticket = next(iter(account.emu.store.tickets.rows))
    # A customer's comment through the API, and a rating through the admin trigger.
    comment = {"ticket": {"comment": {"body": "Still broken!", "public": True}}}
    assert account.http.put(f"/api/v2/tickets/{ticket}.json", json=comment).status_code == 200
    sent = account.admin(
        "POST", "zendesk/webhooks/send", json={"kind": "rating", "ticket_id": ticket}
    )
    assert sent.status_code == 200
    _wait(got, 2)
    assert len(got) == 2
    kinds = []
    for delivery in got:
        headers, body = delivery["headers"], delivery["body"]
        stamp = headers["x-zendesk-webhook-signature-timestamp"]
        expected = base64.b64encode(
            hmac.new(key.encode(), stamp.encode() + body, hashlib.sha256).digest()
        ).decode()
        assert headers["x-zendesk-webhook-signature"] == expected
        verify(key, "POST", endpoint, headers, body, int(time.time() * 1000))
        with pytest.raises(SignatureError):
            verify("another-secret", "POST", endpoint, headers, body, int(time.time() * 1000))
        with pytest.raises(SignatureError):  # the same delivery replayed ten minutes later
            verify(key, "POST", endpoint, headers, body, int(time.time() * 1000) + 600_000)
        event = json.loads(body)
        assert event["detail"]["id"] == str(ticket)
        kinds.append(event["type"])
    assert kinds == [EVENTS[1], EVENTS[2]]
    assert json.loads(got[0]["body"])["event"]["comment"]["is_public"] is True


def test_unsubscribed_events_are_not_sent(
    account: Account, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    endpoint, got = receiver
    _create(account, endpoint, subscriptions=[EVENTS[0]])
    ticket = next(iter(account.emu.store.tickets.rows))
    account.admin(
        "POST", "zendesk/webhooks/send", json={"kind": "comment_added", "ticket_id": ticket}
    )
    account.admin("POST", "zendesk/webhooks/flush")
    assert got == []
