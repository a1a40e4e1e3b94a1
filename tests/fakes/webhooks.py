"""`InMemoryWebhooks`: the outbox (`EventSink`) and the `WebhookStore` in one in-memory object,
as the two share the database's tables; with its rules (events only for active subscribers that
want them, a lease per attempt, removal dropping only undelivered events)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlmodel import SQLModel

from service.store.paging import Page, Sort, decode_cursor, encode_cursor
from service.store.tables import (
    WebhookDelivery,
    WebhookDeliveryState,
    WebhookSubscription,
    new_id,
    utcnow,
)
from service.store.webhooks import NEWEST_FIRST, OLDEST_FIRST
from service.webhooks.events import EventType, envelope

PENDING = WebhookDeliveryState.PENDING.value
Row = TypeVar("Row", WebhookSubscription, WebhookDelivery)


class InMemoryWebhooks:
    """Subscriptions and deliveries in dicts. Reads return copies, as the database's do."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self._clock = clock
        self._subscriptions: dict[str, WebhookSubscription] = {}
        self._deliveries: dict[str, WebhookDelivery] = {}
        self._lock = threading.RLock()

    # -- the outbox ------------------------------------------------------------------------

    def emit(self, event_type: EventType | str, payload: Mapping[str, Any]) -> str:
        kind = EventType(event_type)
        event_id = new_id()
        now = self._clock()
        body = envelope(event_id, kind, now, payload)
        with self._lock:
            for subscriber in self._subscriptions.values():
                if not subscriber.active:
                    continue
                if subscriber.event_types and kind.value not in subscriber.event_types:
                    continue
                delivery = WebhookDelivery(
                    event_id=event_id,
                    event_type=kind.value,
                    subscription_id=subscriber.id,
                    body=body,
                    next_attempt_at=now,
                    created_at=now,
                )
                self._deliveries[delivery.id] = delivery
        return event_id

    def deliveries(self) -> list[WebhookDelivery]:
        """Every delivery, oldest first (what a test reads from the table)."""
        with self._lock:
            return [_copy(d) for d in sorted(self._deliveries.values(), key=_created)]

    # -- subscriptions ---------------------------------------------------------------------

    def add(self, subscription: WebhookSubscription) -> WebhookSubscription:
        with self._lock:
            self._subscriptions[subscription.id] = _copy(subscription)
        return subscription

    def subscription(self, subscription_id: str) -> WebhookSubscription | None:
        with self._lock:
            found = self._subscriptions.get(subscription_id)
            return _copy(found) if found else None

    def subscription_page(
        self,
        *,
        active: bool | None = None,
        sort: Sort = OLDEST_FIRST,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[WebhookSubscription]:
        with self._lock:
            rows = [s for s in self._subscriptions.values() if active in (None, s.active)]
        return _page(rows, sort, cursor, limit)

    def remove(self, subscription_id: str) -> bool:
        with self._lock:
            if self._subscriptions.pop(subscription_id, None) is None:
                return False
            for delivery in list(self._deliveries.values()):
                if delivery.subscription_id == subscription_id and delivery.state == PENDING:
                    del self._deliveries[delivery.id]
            return True

    def disable(self, subscription_id: str, now: datetime, reason: str) -> None:
        with self._lock:
            subscription = self._subscriptions.get(subscription_id)
            if subscription is not None:
                subscription.active = False
                subscription.disabled_at = now
                subscription.disabled_reason = reason[:200]
            for delivery in self._deliveries.values():
                if delivery.subscription_id == subscription_id and delivery.state == PENDING:
                    delivery.state = WebhookDeliveryState.FAILED.value
                    delivery.last_error = "gone"
                    delivery.next_attempt_at = None

    # -- deliveries ------------------------------------------------------------------------

    def delivery_page(
        self,
        subscription_id: str,
        *,
        state: str | None = None,
        event_type: str | None = None,
        sort: Sort = NEWEST_FIRST,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[WebhookDelivery]:
        with self._lock:
            rows = [
                d
                for d in self._deliveries.values()
                if d.subscription_id == subscription_id
                and state in (None, d.state)
                and event_type in (None, d.event_type)
            ]
        return _page(rows, sort, cursor, limit)

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[WebhookDelivery]:
        with self._lock:
            due = sorted(
                (
                    d
                    for d in self._deliveries.values()
                    if d.state == PENDING
                    and d.next_attempt_at is not None
                    and d.next_attempt_at <= now
                ),
                key=lambda d: (d.next_attempt_at, d.id),
            )[:limit]
            for delivery in due:
                delivery.next_attempt_at = now + lease
                delivery.attempts += 1
            return [_copy(d) for d in due]

    def record(
        self,
        delivery_id: str,
        *,
        state: WebhookDeliveryState,
        status: int | None,
        error: str | None,
        next_attempt_at: datetime | None,
        now: datetime,
    ) -> None:
        with self._lock:
            delivery = self._deliveries.get(delivery_id)
            if delivery is None:
                return
            delivery.state = state.value
            delivery.last_status = status
            delivery.last_error = error
            delivery.next_attempt_at = next_attempt_at
            if state is WebhookDeliveryState.DELIVERED:
                delivery.delivered_at = now


def _created(row: WebhookSubscription | WebhookDelivery) -> tuple[datetime, str]:
    return row.created_at, row.id


def _page(rows: list[Row], sort: Sort, cursor: str | None, limit: int) -> Page[Row]:
    # Keyset order (created_at, id), as `keyset_page` reads it; only created_at sorts here.
    rows = sorted(rows, key=_created, reverse=sort.descending)
    if cursor is not None:
        after = decode_cursor(cursor, sort)
        rows = [
            r for r in rows if (_created(r) < after if sort.descending else _created(r) > after)
        ]
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more and rows else None
    next_cursor = encode_cursor(sort, last.created_at, last.id) if last else None
    return Page([_copy(r) for r in rows], next_cursor)


M = TypeVar("M", bound=SQLModel)


def _copy(row: M) -> M:
    return row.model_copy(deep=True)
