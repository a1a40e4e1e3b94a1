"""`/v1/webhooks/subscriptions`: admin only, secret shown once and encrypted at rest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from service.api.services import services_of
from service.config import Settings
from service.main import create_app
from service.store.keys import Scope
from service.webhooks import WebhookOutbox, WebhookSettings
from tests.conftest import make_key

PROBLEM = "application/problem+json"
ENCRYPTION_KEY = "an-encryption-key-of-at-least-32-chars"


@pytest.fixture
def hooks_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'hooks.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        # Delivery off: these tests look at the outbox as the API and emit() leave it.
        webhooks=WebhookSettings(encryption_key=ENCRYPTION_KEY, enabled=False),  # type: ignore[arg-type]
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        services_of(client.app).webhook_egress.resolver = public_resolver
        yield client


def public_resolver(host: str, _port: int) -> list[str]:
    """Every *.example.com host is a public address; nothing else resolves (no DNS in tests)."""
    if host.endswith("example.com"):
        return ["93.184.215.14"]
    raise OSError("no such host")


def admin(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key(client, Scope.ADMIN)}"}


def test_register_list_get_and_delete(hooks_client: TestClient) -> None:
    headers = admin(hooks_client)
    created = hooks_client.post(
        "/v1/webhooks/subscriptions",
        json={"url": "https://hooks.example.com/cem", "events": ["task.created", "flag.raised"],
              "description": "churn alerts"},
        headers=headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    assert body["events"] == ["flag.raised", "task.created"]
    assert body["active"] is True

    listed = hooks_client.get("/v1/webhooks/subscriptions", headers=headers)
    assert listed.status_code == 200
    assert secret not in listed.text
    assert [item["id"] for item in listed.json()["items"]] == [body["id"]]
    one = hooks_client.get(f"/v1/webhooks/subscriptions/{body['id']}", headers=headers)
    assert one.json()["url"] == "https://hooks.example.com/cem"
    assert "secret" not in one.json()

    # At rest the secret is ciphertext: neither it nor its key bytes appear in the table.
    engine: Engine = services_of(hooks_client.app).engine
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT * FROM webhook_subscriptions")).all()
    assert secret not in repr(stored)
    assert secret.removeprefix("whsec_") not in repr(stored)

    gone = hooks_client.delete(f"/v1/webhooks/subscriptions/{body['id']}", headers=headers)
    assert gone.status_code == 204
    again = hooks_client.delete(f"/v1/webhooks/subscriptions/{body['id']}", headers=headers)
    assert again.status_code == 404
    assert again.headers["content-type"] == PROBLEM


def test_deliveries_of_a_subscription_are_listed(hooks_client: TestClient) -> None:
    headers = admin(hooks_client)
    sub = hooks_client.post(
        "/v1/webhooks/subscriptions", json={"url": "https://h.example.com/x"}, headers=headers
    ).json()
    outbox: WebhookOutbox = services_of(hooks_client.app).webhooks
    event_id = outbox.emit("score.changed", {"customer_id": "c1", "from": 71.5, "to": 48.0})
    listed = hooks_client.get(
        f"/v1/webhooks/subscriptions/{sub['id']}/deliveries", headers=headers
    ).json()["items"]
    assert [(d["event_id"], d["event_type"], d["state"]) for d in listed] == [
        (event_id, "score.changed", "pending")
    ]


def test_only_admins_and_valid_bodies(hooks_client: TestClient) -> None:
    write = {"Authorization": f"Bearer {make_key(hooks_client, Scope.WRITE)}"}
    payload = {"url": "https://hooks.example.com/cem"}
    assert hooks_client.post("/v1/webhooks/subscriptions", json=payload).status_code == 401
    forbidden = hooks_client.post("/v1/webhooks/subscriptions", json=payload, headers=write)
    assert forbidden.status_code == 403
    assert hooks_client.get("/v1/webhooks/subscriptions", headers=write).status_code == 403
    headers = admin(hooks_client)
    for bad in (
        {"url": "ftp://files.example.com/x"},
        {"url": "https://user:pw@hooks.example.com/"},
        {"url": "https://hooks.example.com/", "events": ["flag.exploded"]},
        {"url": "https://hooks.example.com/", "secret": "mine"},
    ):
        answer = hooks_client.post("/v1/webhooks/subscriptions", json=bad, headers=headers)
        assert answer.status_code == 422, bad
        assert answer.headers["content-type"] == PROBLEM
        assert "pw" not in answer.text
    missing = hooks_client.get(f"/v1/webhooks/subscriptions/{'0' * 32}", headers=headers)
    assert missing.status_code == 404


def test_without_an_encryption_key_registration_is_503(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    answer = client.post(
        "/v1/webhooks/subscriptions",
        json={"url": "https://hooks.example.com/cem"},
        headers=admin_headers,
    )
    assert answer.status_code == 503
    assert answer.json()["type"] == "urn:cem:problem:webhooks-not-configured"
    assert "CEM_WEBHOOKS__ENCRYPTION_KEY" in answer.json()["detail"]


def _all_pages(client: TestClient, url: str, headers: dict[str, str]) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        body = client.get(url, params=params, headers=headers).json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_subscribers_and_deliveries_are_paged_and_filtered(hooks_client: TestClient) -> None:
    headers = admin(hooks_client)
    url = "/v1/webhooks/subscriptions"
    subs = [
        hooks_client.post(url, json={"url": f"https://h{i}.example.com/"}, headers=headers).json()
        for i in range(5)
    ]
    pages = _all_pages(hooks_client, url, headers)
    assert [len(page) for page in pages] == [2, 2, 1]
    # Oldest first, none twice, none lost.
    assert [i for page in pages for i in page] == [sub["id"] for sub in subs]

    outbox: WebhookOutbox = services_of(hooks_client.app).webhooks
    events = [outbox.emit("score.changed", {"customer_id": f"c{i}"}) for i in range(3)]
    events.append(outbox.emit("flag.raised", {"customer_id": "c9"}))
    url = f"/v1/webhooks/subscriptions/{subs[0]['id']}/deliveries"
    deliveries = [i for page in _all_pages(hooks_client, url, headers) for i in page]
    assert len(deliveries) == len(set(deliveries)) == 4
    flags = hooks_client.get(url, params={"event_type": "flag.raised"}, headers=headers).json()
    assert [d["event_id"] for d in flags["items"]] == [events[-1]]
    delivered = hooks_client.get(url, params={"state": "delivered"}, headers=headers).json()
    assert delivered["items"] == []

    # A cursor made for one order is refused for another, as a problem, not a wrong page.
    first = hooks_client.get(url, params={"limit": "1"}, headers=headers).json()
    other = hooks_client.get(
        url, params={"cursor": first["next_cursor"], "sort": "created_at"}, headers=headers
    )
    assert other.status_code == 400
    assert other.headers["content-type"] == PROBLEM
    assert other.json()["type"] == "urn:cem:problem:bad-cursor"
