"""The in-memory webhook store behaves as the outbox and repository on the database: each check
runs on both (SQLite and PostgreSQL), so the dispatcher tests that use the fake
(test_webhooks.py) learn nothing the real store would not do."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from sqlalchemy import Engine

from service.store.paging import Sort
from service.store.tables import WebhookDeliveryState, WebhookSubscription
from service.store.webhooks import WebhookRepository
from service.webhooks import EventType, WebhookOutbox
from service.webhooks.events import EventSink
from service.webhooks.store import WebhookStore
from tests.fakes.webhooks import InMemoryWebhooks

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=40)


class Hooks(Protocol):
    """Both halves over one set of rows: the outbox that emits, the store that reads."""

    @property
    def outbox(self) -> EventSink: ...

    @property
    def store(self) -> WebhookStore: ...


class Pair:
    def __init__(self, outbox: EventSink, store: WebhookStore) -> None:
        self.outbox = outbox
        self.store = store


def subscribe(hooks: Hooks, events: list[str] | None = None, at: datetime = T0) -> str:
    row = WebhookSubscription(
        url="https://hooks.example.com/cem", event_types=events or [], secret_ciphertext="x"
    )
    row.created_at = at
    return hooks.store.add(row).id


def events_go_to_the_active_subscribers_that_want_them(hooks: Hooks) -> None:
    everything = subscribe(hooks)
    tasks_only = subscribe(hooks, ["task.created"])
    gone = subscribe(hooks)
    hooks.store.disable(gone, T0, "gone")
    flag = hooks.outbox.emit(EventType.FLAG_RAISED, {"customer_id": "c1"})
    hooks.outbox.emit("task.created", {"customer_id": "c1"})
    assert [d.event_type for d in hooks.store.delivery_page(everything).items] == [
        "task.created", "flag.raised",
    ]  # fmt: skip
    (task,) = hooks.store.delivery_page(tasks_only).items
    assert task.event_type == "task.created"
    assert hooks.store.delivery_page(gone).items == []
    (raised,) = hooks.store.delivery_page(everything, event_type="flag.raised").items
    assert json.loads(raised.body)["id"] == flag
    assert raised.event_id == flag
    with pytest.raises(ValueError, match=r"flag\.exploded"):
        hooks.outbox.emit("flag.exploded", {})


def a_lease_gives_each_attempt_to_one_sender(hooks: Hooks) -> None:
    subscribe(hooks)
    hooks.outbox.emit(EventType.FLAG_RAISED, {"customer_id": "c1"})
    hooks.outbox.emit(EventType.FLAG_RAISED, {"customer_id": "c2"})
    now = datetime.now(UTC)  # the outbox stamps the real time; due from then on
    first = hooks.store.claim_due(now, LEASE, 1)
    assert len(first) == 1
    assert first[0].attempts == 1
    (second,) = hooks.store.claim_due(now, LEASE, 10)
    assert second.id != first[0].id
    assert hooks.store.claim_due(now, LEASE, 10) == []
    (again,) = hooks.store.claim_due(now + LEASE + timedelta(seconds=1), LEASE, 1)
    assert again.attempts == 2


def outcomes_are_recorded_and_end_the_schedule(hooks: Hooks) -> None:
    sub = subscribe(hooks)
    hooks.outbox.emit(EventType.SCORE_CHANGED, {"customer_id": "c1"})
    hooks.outbox.emit(EventType.SCORE_CHANGED, {"customer_id": "c2"})
    now = datetime.now(UTC)
    done, retried = hooks.store.claim_due(now, LEASE, 2)
    hooks.store.record(done.id, state=WebhookDeliveryState.DELIVERED, status=204, error=None,
                       next_attempt_at=None, now=now)  # fmt: skip
    hooks.store.record(retried.id, state=WebhookDeliveryState.PENDING, status=503,
                       error="http_5xx", next_attempt_at=now + LEASE, now=now)  # fmt: skip
    delivered = hooks.store.delivery_page(sub, state="delivered").items
    assert [(d.id, d.last_status, d.delivered_at, d.next_attempt_at) for d in delivered] == [
        (done.id, 204, now, None)
    ]
    (pending,) = hooks.store.delivery_page(sub, state="pending").items
    assert (pending.last_status, pending.last_error) == (503, "http_5xx")
    # Removing the subscription drops what is undelivered and keeps the history.
    assert hooks.store.remove(sub)
    assert not hooks.store.remove(sub)
    assert hooks.store.subscription(sub) is None
    assert [d.id for d in hooks.store.delivery_page(sub).items] == [done.id]


def disabling_fails_what_is_pending(hooks: Hooks) -> None:
    sub = subscribe(hooks)
    hooks.outbox.emit(EventType.FLAG_RAISED, {"customer_id": "c1"})
    hooks.store.disable(sub, T0, "the receiver answered 410 Gone")
    disabled = hooks.store.subscription(sub)
    assert disabled is not None
    assert (disabled.active, disabled.disabled_at, disabled.disabled_reason) == (
        False, T0, "the receiver answered 410 Gone",
    )  # fmt: skip
    (failed,) = hooks.store.delivery_page(sub).items
    assert (failed.state, failed.last_error, failed.next_attempt_at) == ("failed", "gone", None)
    assert hooks.store.claim_due(datetime.now(UTC), LEASE, 10) == []


def subscriptions_page_in_creation_order(hooks: Hooks) -> None:
    ids = [subscribe(hooks, at=T0 + timedelta(minutes=i)) for i in range(5)]
    hooks.store.disable(ids[1], T0, "gone")
    first = hooks.store.subscription_page(limit=2)
    assert [s.id for s in first.items] == ids[:2]
    rest = hooks.store.subscription_page(limit=10, cursor=first.next_cursor)
    assert [s.id for s in rest.items] == ids[2:]
    assert rest.next_cursor is None
    active = hooks.store.subscription_page(active=True, sort=Sort.parse("-created_at"))
    assert [s.id for s in active.items] == [ids[4], ids[3], ids[2], ids[0]]


CHECKS: list[Callable[[Hooks], None]] = [
    events_go_to_the_active_subscribers_that_want_them,
    a_lease_gives_each_attempt_to_one_sender,
    outcomes_are_recorded_and_end_the_schedule,
    disabling_fails_what_is_pending,
    subscriptions_page_in_creation_order,
]


def _name(check: Callable[[Hooks], None]) -> str:
    return check.__name__


@pytest.fixture
def memory() -> Hooks:
    hooks = InMemoryWebhooks()
    return Pair(hooks, hooks)


@pytest.mark.parametrize("check", CHECKS, ids=_name)
def test_the_in_memory_store(check: Callable[[Hooks], None], memory: Hooks) -> None:
    check(memory)


@pytest.mark.parametrize("check", CHECKS, ids=_name)
def test_the_database_store(check: Callable[[Hooks], None], engine: Engine) -> None:
    check(Pair(WebhookOutbox(engine), WebhookRepository(engine)))


def test_both_satisfy_the_protocols(engine: Engine) -> None:
    assert isinstance(InMemoryWebhooks(), WebhookStore)
    assert isinstance(WebhookRepository(engine), WebhookStore)
    _sink: EventSink = InMemoryWebhooks()  # EventSink is checked by mypy only
