"""`WebhookStore`: what the subscription routes and the dispatcher need of where subscriptions
and deliveries are kept. `service.store.webhooks.WebhookRepository` is the real one (leases by
conditional UPDATE, so two dispatchers never send the same attempt); `tests/fakes/webhooks.py`
is an in-memory one, held to it by `tests/service/test_webhook_store_contract.py`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from service.store.paging import Page, Sort
from service.store.tables import WebhookDelivery, WebhookDeliveryState, WebhookSubscription
from service.store.webhooks import NEWEST_FIRST, OLDEST_FIRST


@runtime_checkable
class WebhookStore(Protocol):
    """Subscriptions (add, read, page, remove, disable) and deliveries (page, lease, record)."""

    def add(self, subscription: WebhookSubscription) -> WebhookSubscription: ...

    def subscription(self, subscription_id: str) -> WebhookSubscription | None: ...

    def subscription_page(
        self,
        *,
        active: bool | None = None,
        sort: Sort = OLDEST_FIRST,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[WebhookSubscription]: ...

    def remove(self, subscription_id: str) -> bool:
        """Delete a subscription and its undelivered events; False when there is none."""
        ...

    def disable(self, subscription_id: str, now: datetime, reason: str) -> None: ...

    def delivery_page(
        self,
        subscription_id: str,
        *,
        state: str | None = None,
        event_type: str | None = None,
        sort: Sort = NEWEST_FIRST,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[WebhookDelivery]: ...

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[WebhookDelivery]:
        """Lease up to `limit` due pending deliveries, oldest first (attempts counted)."""
        ...

    def record(
        self,
        delivery_id: str,
        *,
        state: WebhookDeliveryState,
        status: int | None,
        error: str | None,
        next_attempt_at: datetime | None,
        now: datetime,
    ) -> None: ...
