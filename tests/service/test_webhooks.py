"""The webhook outbox and dispatcher; outgoing HTTP via pytest-httpx. What the dispatcher does
with an answer runs on the in-memory store (tests/fakes/webhooks.py, held to the real one by
test_webhook_store_contract.py); the outbox's rows, transactions, restarts and leases run on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pytest_httpx import HTTPXMock
from sqlalchemy import Engine
from sqlmodel import select

from service.store.database import session_scope
from service.store.tables import WebhookDelivery, WebhookSubscription
from service.store.webhooks import WebhookRepository
from service.webhooks import (
    EventType,
    SecretVault,
    WebhookDispatcher,
    WebhookOutbox,
    WebhookSettings,
    new_secret,
    verify,
)
from service.webhooks.egress import EgressPolicy
from service.webhooks.store import WebhookStore
from tests.fakes.webhooks import InMemoryWebhooks

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
URL = "https://hooks.example.com/cem"
OTHER = "https://other.example.com/in"
# Public addresses the test resolver gives those hosts; deliveries connect to them (pinned).
ADDRESSES = {"hooks.example.com": "93.184.215.14", "other.example.com": "93.184.215.15"}
SENT = "https://93.184.215.14/cem"
VAULT = SecretVault("k" * 40)


def resolver(host: str, _port: int) -> list[str]:
    if host not in ADDRESSES:
        raise OSError("no such host")
    return [ADDRESSES[host]]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def subscribe(
    store: Engine | WebhookStore, url: str = URL, events: list[str] | None = None
) -> tuple[str, str]:
    secret = new_secret()
    hooks = WebhookRepository(store) if isinstance(store, Engine) else store
    row = hooks.add(
        WebhookSubscription(
            url=url, event_types=events or [], secret_ciphertext=VAULT.encrypt(secret)
        )
    )
    return row.id, secret


def deliveries(engine: Engine) -> list[WebhookDelivery]:
    with session_scope(engine) as session:
        return list(session.exec(select(WebhookDelivery)))


def dispatcher(store: Engine | WebhookStore, clock: Clock, **settings: object) -> WebhookDispatcher:
    config = WebhookSettings(**settings)  # type: ignore[arg-type]
    egress = EgressPolicy(
        allow_http=config.allow_http, allowed=config.allowed_destinations, resolver=resolver
    )
    hooks = WebhookRepository(store) if isinstance(store, Engine) else store
    return WebhookDispatcher(hooks, VAULT, config, clock=clock, egress=egress)


def test_emit_queues_one_delivery_per_interested_subscriber(engine: Engine) -> None:
    everything, _ = subscribe(engine)
    tasks_only, _ = subscribe(engine, OTHER, ["task.created"])
    outbox = WebhookOutbox(engine, clock=Clock())
    event_id = outbox.emit(EventType.FLAG_RAISED, {"customer_id": "c1", "probability": 0.81})
    outbox.emit("task.created", {"customer_id": "c1", "at": T0})
    rows = deliveries(engine)
    assert sorted((r.event_type, r.subscription_id == everything) for r in rows) == [
        ("flag.raised", True),
        ("task.created", False),
        ("task.created", True),
    ]
    flag = next(r for r in rows if r.event_type == "flag.raised")
    assert json.loads(flag.body) == {
        "id": event_id,
        "type": "flag.raised",
        "timestamp": "2026-11-22T12:00:00Z",
        "data": {"customer_id": "c1", "probability": 0.81},
    }
    assert tasks_only in {r.subscription_id for r in rows}


def test_emit_rejects_unknown_event_types(engine: Engine) -> None:
    with pytest.raises(ValueError, match=r"flag\.exploded"):
        WebhookOutbox(engine).emit("flag.exploded", {})


def test_emit_in_the_callers_transaction_rolls_back_with_it(engine: Engine) -> None:
    subscribe(engine)
    outbox = WebhookOutbox(engine)

    def failing_use_case() -> None:
        with session_scope(engine) as session:
            outbox.emit(EventType.SCORE_CHANGED, {"customer_id": "c1"}, session=session)
            raise RuntimeError("the use case failed after emitting")

    with pytest.raises(RuntimeError):
        failing_use_case()
    assert deliveries(engine) == []
    with session_scope(engine) as session:
        outbox.emit(EventType.SCORE_CHANGED, {"customer_id": "c1"}, session=session)
    assert len(deliveries(engine)) == 1


def test_a_delivery_is_a_signed_post(httpx_mock: HTTPXMock) -> None:
    clock = Clock()
    hooks = InMemoryWebhooks(clock)
    _, secret = subscribe(hooks)
    event_id = hooks.emit(EventType.FLAG_RAISED, {"customer_id": "c1"})
    httpx_mock.add_response(url=SENT, method="POST", status_code=204)
    assert dispatcher(hooks, clock).deliver_due() == 1
    (request,) = httpx_mock.get_requests()
    assert request.headers["webhook-id"] == event_id
    assert request.headers["webhook-timestamp"] == str(int(T0.timestamp()))
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("cem-bridge-webhooks/")
    verify(secret, dict(request.headers), request.content, now=T0.timestamp())
    (row,) = hooks.deliveries()
    assert row.state == "delivered"
    assert row.attempts == 1
    assert row.last_status == 204
    assert row.delivered_at == T0


def test_failures_are_retried_with_backoff_then_given_up(httpx_mock: HTTPXMock) -> None:
    clock = Clock()
    hooks = InMemoryWebhooks(clock)
    subscribe(hooks)
    hooks.emit(EventType.TASK_CREATED, {"customer_id": "c1"})
    sender = dispatcher(hooks, clock, max_attempts=3, backoff_base_seconds=60)
    httpx_mock.add_response(url=SENT, status_code=503)
    httpx_mock.add_exception(httpx.ConnectTimeout("timed out"), url=SENT)
    httpx_mock.add_response(url=SENT, status_code=500)

    assert sender.deliver_due() == 1
    (row,) = hooks.deliveries()
    assert (row.state, row.attempts, row.last_status, row.last_error) == (
        "pending", 1, 503, "http_5xx"
    )  # fmt: skip
    assert T0 + timedelta(seconds=48) <= row.next_attempt_at <= T0 + timedelta(seconds=72)
    assert sender.deliver_due() == 0  # not due yet

    clock.now = row.next_attempt_at
    assert sender.deliver_due() == 1
    (row,) = hooks.deliveries()
    assert row.last_error == "timeout"
    assert row.last_status is None
    # The second wait doubles: 120 s ±20 %.
    assert clock.now + timedelta(seconds=96) <= row.next_attempt_at
    assert row.next_attempt_at <= clock.now + timedelta(seconds=144)

    clock.now = row.next_attempt_at
    assert sender.deliver_due() == 1
    (row,) = hooks.deliveries()
    assert (row.state, row.attempts, row.last_status) == ("failed", 3, 500)
    clock.now += timedelta(days=30)
    assert sender.deliver_due() == 0


def test_pending_deliveries_survive_a_restart(engine: Engine, httpx_mock: HTTPXMock) -> None:
    subscribe(engine)
    clock = Clock()
    WebhookOutbox(engine, clock).emit(EventType.FLAG_CLEARED, {"customer_id": "c1"})
    httpx_mock.add_response(url=SENT, status_code=502)
    dispatcher(engine, clock).deliver_due()
    # A new process (a new dispatcher on the same database) finds it and sends it.
    clock.now += timedelta(hours=1)
    httpx_mock.add_response(url=SENT, status_code=200)
    assert dispatcher(engine, clock).deliver_due() == 1
    (row,) = deliveries(engine)
    assert (row.state, row.attempts) == ("delivered", 2)


def test_a_crashed_send_is_retried_after_its_lease(engine: Engine, httpx_mock: HTTPXMock) -> None:
    subscribe(engine)
    clock = Clock()
    WebhookOutbox(engine, clock).emit(EventType.FLAG_RAISED, {"customer_id": "c1"})
    repository = WebhookRepository(engine)
    (_leased,) = repository.claim_due(T0, timedelta(seconds=40), 10)  # then the process died
    assert repository.claim_due(T0, timedelta(seconds=40), 10) == []  # nobody else sends it
    clock.now = T0 + timedelta(seconds=41)
    httpx_mock.add_response(url=SENT, status_code=200)
    assert dispatcher(engine, clock).deliver_due() == 1
    (row,) = deliveries(engine)
    assert (row.state, row.attempts) == ("delivered", 2)


def test_410_gone_disables_the_subscription(httpx_mock: HTTPXMock) -> None:
    clock = Clock()
    outbox = hooks = InMemoryWebhooks(clock)
    gone, _ = subscribe(hooks)
    outbox.emit(EventType.FLAG_RAISED, {"customer_id": "c1"})
    outbox.emit(EventType.FLAG_RAISED, {"customer_id": "c2"})
    httpx_mock.add_response(url=SENT, status_code=410)
    assert dispatcher(hooks, clock, batch_size=1).deliver_due() == 1
    subscription = hooks.subscription(gone)
    assert subscription is not None
    assert not subscription.active
    assert subscription.disabled_reason == "the receiver answered 410 Gone"
    assert {r.state for r in hooks.deliveries()} == {"failed"}
    outbox.emit(EventType.FLAG_RAISED, {"customer_id": "c3"})
    assert len(hooks.deliveries()) == 2  # nothing new queued for it


def test_removing_a_subscription_drops_its_pending_events(engine: Engine) -> None:
    sub, _ = subscribe(engine)
    keep, _ = subscribe(engine, OTHER)
    WebhookOutbox(engine).emit(EventType.SCORE_CHANGED, {"customer_id": "c1"})
    assert WebhookRepository(engine).remove(sub)
    assert not WebhookRepository(engine).remove(sub)
    assert [r.subscription_id for r in deliveries(engine)] == [keep]
