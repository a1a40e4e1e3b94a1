"""Webhook subscriptions and the delivery outbox in the database.

Deliveries are claimed with a lease: a conditional `UPDATE` moves `next_attempt_at` past the
send's timeout, so two dispatchers (threads or replicas) never send the same attempt, and a
dispatcher that dies mid-send leaves a delivery that becomes due again when the lease runs out
(at-least-once: receivers de-duplicate on `webhook-id`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, update
from sqlmodel import Session, col, select

from service.store.database import session_scope
from service.store.paging import Page, Sort, keyset_page
from service.store.tables import (
    WebhookDelivery,
    WebhookDeliveryState,
    WebhookSubscription,
)

PENDING = WebhookDeliveryState.PENDING.value
OLDEST_FIRST = Sort("created_at", descending=False)
NEWEST_FIRST = Sort("created_at", descending=True)


class WebhookRepository:
    """Subscriptions (CRUD) and deliveries (enqueue, claim, record)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- subscriptions ---------------------------------------------------------------------

    def add(self, subscription: WebhookSubscription) -> WebhookSubscription:
        with session_scope(self._engine) as session:
            session.add(subscription)
        return subscription

    def subscription(self, subscription_id: str) -> WebhookSubscription | None:
        with Session(self._engine) as session:
            return session.get(WebhookSubscription, subscription_id)

    def subscription_page(
        self,
        *,
        active: bool | None = None,
        sort: Sort = OLDEST_FIRST,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[WebhookSubscription]:
        """A page of subscribers (`BadCursorError` for a foreign cursor)."""
        query = select(WebhookSubscription)
        if active is not None:
            query = query.where(col(WebhookSubscription.active).is_(active))
        with Session(self._engine) as session:
            return keyset_page(
                session,
                query,
                sort=sort,
                columns={"created_at": col(WebhookSubscription.created_at)},
                id_column=col(WebhookSubscription.id),
                cursor=cursor,
                limit=limit,
            )

    def remove(self, subscription_id: str) -> bool:
        """Delete a subscription and its undelivered events (delivered ones are history)."""
        with session_scope(self._engine) as session:
            row = session.get(WebhookSubscription, subscription_id)
            if row is None:
                return False
            session.delete(row)
            session.execute(
                delete(WebhookDelivery).where(
                    col(WebhookDelivery.subscription_id) == subscription_id,
                    col(WebhookDelivery.state) == PENDING,
                )
            )
        return True

    def disable(self, subscription_id: str, now: datetime, reason: str) -> None:
        """Stop sending to a receiver that said it is gone; its pending events fail."""
        with self._engine.begin() as connection:
            connection.execute(
                update(WebhookSubscription)
                .where(col(WebhookSubscription.id) == subscription_id)
                .values(active=False, disabled_at=now, disabled_reason=reason[:200])
            )
            connection.execute(
                update(WebhookDelivery)
                .where(
                    col(WebhookDelivery.subscription_id) == subscription_id,
                    col(WebhookDelivery.state) == PENDING,
                )
                .values(
                    state=WebhookDeliveryState.FAILED.value,
                    last_error="gone",
                    next_attempt_at=None,
                )
            )

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
        """A page of one subscriber's deliveries (`BadCursorError` for a foreign cursor)."""
        query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
        if state is not None:
            query = query.where(WebhookDelivery.state == state)
        if event_type is not None:
            query = query.where(WebhookDelivery.event_type == event_type)
        with Session(self._engine) as session:
            return keyset_page(
                session,
                query,
                sort=sort,
                columns={"created_at": col(WebhookDelivery.created_at)},
                id_column=col(WebhookDelivery.id),
                cursor=cursor,
                limit=limit,
            )

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[WebhookDelivery]:
        """Lease up to `limit` due pending deliveries, oldest first."""
        with Session(self._engine) as session:
            due: Sequence[WebhookDelivery] = session.exec(
                select(WebhookDelivery)
                .where(
                    WebhookDelivery.state == PENDING, col(WebhookDelivery.next_attempt_at) <= now
                )
                .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
                .limit(limit)
            ).all()
        claimed = []
        for delivery in due:
            with self._engine.begin() as connection:
                won = connection.execute(
                    update(WebhookDelivery)
                    .where(
                        col(WebhookDelivery.id) == delivery.id,
                        col(WebhookDelivery.state) == PENDING,
                        col(WebhookDelivery.attempts) == delivery.attempts,
                    )
                    .values(next_attempt_at=now + lease, attempts=delivery.attempts + 1)
                ).rowcount
            if won == 1:
                delivery.attempts += 1
                claimed.append(delivery)
        return claimed

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
        # A delivery that is over (delivered or failed) has no next attempt: null, not the
        # time of the last lease, so nobody reads a finished delivery as still scheduled.
        values: dict[str, object] = {
            "state": state.value,
            "last_status": status,
            "last_error": error,
            "next_attempt_at": next_attempt_at,
        }
        if state is WebhookDeliveryState.DELIVERED:
            values["delivered_at"] = now
        with self._engine.begin() as connection:
            connection.execute(
                update(WebhookDelivery).where(col(WebhookDelivery.id) == delivery_id).values(values)
            )
