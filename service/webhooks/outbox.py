"""`emit(event_type, payload)`: queue an event for every subscriber that wants it (the outbox).

Pass the caller's `session` and the event is written in the same transaction as the change it
announces: both are committed, or neither (no event about a change that was rolled back, no lost
event for a change that was committed). The dispatcher sends it afterwards, with retries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from service.store.database import session_scope
from service.store.tables import WebhookDelivery, WebhookSubscription, new_id, utcnow
from service.webhooks.events import EventType, envelope


class WebhookOutbox:
    """Implements `EventSink` over the `webhook_deliveries` table."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._clock = clock

    def emit(
        self,
        event_type: EventType | str,
        payload: Mapping[str, Any],
        *,
        session: Session | None = None,
    ) -> str:
        """Queue one event; returns its id (the `webhook-id` receivers de-duplicate on).

        `ValueError` for an event type that is not one of `EventType`.
        """
        kind = EventType(event_type)
        event_id = new_id()
        now = self._clock()
        body = envelope(event_id, kind, now, payload)
        if session is not None:
            self._enqueue(session, kind, event_id, body, now)
        else:
            with session_scope(self._engine) as own:
                self._enqueue(own, kind, event_id, body, now)
        return event_id

    @staticmethod
    def _enqueue(
        session: Session, kind: EventType, event_id: str, body: str, now: datetime
    ) -> None:
        subscribers = session.exec(
            select(WebhookSubscription).where(col(WebhookSubscription.active).is_(True))
        )
        for subscriber in subscribers:
            if subscriber.event_types and kind.value not in subscriber.event_types:
                continue
            session.add(
                WebhookDelivery(
                    event_id=event_id,
                    event_type=kind.value,
                    subscription_id=subscriber.id,
                    body=body,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
