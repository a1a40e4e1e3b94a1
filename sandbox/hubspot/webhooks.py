"""The webhook sender: batches subscribed change events and POSTs them, signed, to a URL.

Behaviour from crm-api-facts §3.11: a JSON array of at most 100 events per request, headers
``X-HubSpot-Signature-v3`` + ``X-HubSpot-Request-Timestamp`` (and the v1 pair), retries with
``attemptNumber`` on connection errors, timeouts, 5xx and 429 (other 4xx answers are final), at
most 10 attempts. On demand it duplicates events (same ``eventId``) and shuffles a batch, since
real deliveries are neither unique nor ordered and receivers must cope.

Retry delays are seconds of real time (scaled down from HubSpot's ~24 h spread) and the
signature timestamp is real time too: receivers check it against their own wall clock.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from sandbox.hubspot.associations import AssociationChange
from sandbox.hubspot.config import WebhookSettings
from sandbox.hubspot.objects import ChangeEvent
from sandbox.hubspot.objecttypes import ObjectType
from sandbox.hubspot.signature import sign_v1, sign_v3
from sandbox.hubspot.timefmt import ms

# Object types classic webhook subscriptions exist for.
_SUBSCRIBABLE = frozenset({"contact", "company", "deal", "ticket", "line_item", "product"})


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST attempt, for tests and the admin view."""

    attempt: int
    event_ids: tuple[int, ...]
    status: int | None
    error: str | None
    body_bytes: int

    def to_json(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "attempt": self.attempt,
            "eventIds": list(self.event_ids),
            "status": self.status,
            "error": self.error,
            "bodyBytes": self.body_bytes,
        }


@dataclass(slots=True)
class _Batch:
    events: list[dict[str, Any]]
    attempt: int = 0
    due: float = field(default_factory=time.monotonic)


class WebhookSender:
    """Collects events from the object service and delivers them from a background thread."""

    def __init__(self, settings: WebhookSettings, portal_id: int) -> None:
        self._settings = settings
        self._initial = settings
        self._portal_id = portal_id
        self._cond = threading.Condition()
        self._queue: list[dict[str, Any]] = []
        self._retries: list[_Batch] = []
        self._in_flight = 0
        self._deliveries: list[Delivery] = []
        self._next_event_id = 1
        self._rng = random.Random(settings.seed)  # noqa: S311 - reproducible, not secret
        self._thread: threading.Thread | None = None
        self._stopping = False
        names = sorted(settings.subscriptions)
        self._subscription_ids = {name: 100_000 + i for i, name in enumerate(names)}

    @property
    def settings(self) -> WebhookSettings:
        """The active settings."""
        with self._cond:
            return self._settings

    def configure(self, **changes: Any) -> WebhookSettings:
        """Change settings at run time (target URL, duplicate rate, reorder, ...)."""
        with self._cond:
            merged = self._settings.model_dump() | changes
            if "client_secret" not in changes:
                merged["client_secret"] = self._settings.client_secret.get_secret_value()
            self._settings = WebhookSettings.model_validate(merged)
            self._rng = random.Random(self._settings.seed)  # noqa: S311 - reproducible, not secret
            names = sorted(self._settings.subscriptions)
            self._subscription_ids = {name: 100_000 + i for i, name in enumerate(names)}
            self._cond.notify_all()
            return self._settings

    def listen(self, change: ChangeEvent) -> None:
        """Object-service listener: queue the event when a subscription covers it."""
        extra: dict[str, Any]
        if change.kind == "creation":
            extra = {"changeFlag": "NEW"}
        elif change.kind in ("deletion", "privacyDeletion"):
            extra = {"changeFlag": "DELETED"}
        elif change.kind == "merge":
            extra = {
                "primaryObjectId": change.object_id,
                "mergedObjectIds": list(change.merged_ids),
                "newObjectId": change.object_id,
            }
        else:
            extra = {"propertyName": change.property_name, "propertyValue": change.property_value}
        self._queue_event(
            change.object_type, change.kind, change.object_id, change.occurred_at, extra
        )

    def listen_association(self, change: AssociationChange) -> None:
        """Association-store listener: one ``associationChange`` event per side."""
        sides = (
            (change.from_type, change.from_id, change.to_type, change.to_id),
            (change.to_type, change.to_id, change.from_type, change.from_id),
        )
        for a, a_id, b, b_id in sides:
            extra = {
                "associationType": f"{a.singular.upper()}_TO_{b.singular.upper()}",
                "fromObjectId": a_id,
                "toObjectId": b_id,
                "associationRemoved": change.removed,
                "isPrimaryAssociation": change.kind.label == "Primary",
            }
            self._queue_event(a, "associationChange", a_id, change.at, extra)

    def _queue_event(
        self,
        otype: ObjectType,
        kind: str,
        object_id: int,
        at: datetime,
        extra: dict[str, Any],
    ) -> None:
        if otype.singular not in _SUBSCRIBABLE:
            return
        name = f"{otype.singular}.{kind}"
        with self._cond:
            settings = self._settings
            if settings.target_url is None or name not in self._subscription_ids:
                return
            wanted = settings.property_filter.get(name)
            if wanted and extra.get("propertyName") not in wanted:
                return
            event: dict[str, Any] = {
                "eventId": self._next_event_id,
                "subscriptionId": self._subscription_ids[name],
                "portalId": self._portal_id,
                "appId": settings.app_id,
                "occurredAt": ms(at),
                "subscriptionType": name,
                "attemptNumber": 0,
                "objectId": object_id,
                "changeSource": "API",
                **extra,
            }
            self._next_event_id += 1
            self._queue.append(event)
            self._ensure_thread()
            self._cond.notify_all()

    def deliveries(self) -> list[Delivery]:
        """Every attempt so far, oldest first."""
        with self._cond:
            return list(self._deliveries)

    def pending(self) -> int:
        """Events not yet delivered or given up on."""
        with self._cond:
            return len(self._queue) + sum(len(b.events) for b in self._retries) + self._in_flight

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is pending (retries included); whether that happened in time."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._cond.notify_all()
            while self._queue or self._retries or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def clear(self) -> None:
        """Back to the start-up settings; drop queued events and the delivery record."""
        with self._cond:
            self._queue.clear()
            self._retries.clear()
            self._deliveries.clear()
            self._next_event_id = 1
        self.configure(**self._initial.model_dump())

    def stop(self) -> None:
        """Stop the delivery thread (queued events are dropped)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # ---- the delivery thread -----------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="hubspot-webhooks", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        with httpx.Client() as client:
            while True:
                batch = self._next_batch()
                if batch is None:
                    return
                self._deliver(client, batch)

    def _next_batch(self) -> _Batch | None:
        with self._cond:
            while True:
                if self._stopping:
                    return None
                now = time.monotonic()
                due = [b for b in self._retries if b.due <= now]
                if due:
                    self._retries.remove(due[0])
                    self._in_flight += len(due[0].events)
                    return due[0]
                if self._queue:
                    # Linger briefly so events written together travel together.
                    self._cond.wait(self._settings.linger_seconds)
                    events = self._queue[: self._settings.max_batch]
                    del self._queue[: len(events)]
                    batch = _Batch(self._mangle(events))
                    self._in_flight += len(batch.events)
                    return batch
                waits = [b.due - now for b in self._retries]
                self._cond.wait(min(waits) if waits else 1.0)

    def _mangle(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        settings = self._settings
        out = list(events)
        if settings.duplicate_rate:
            extra = [dict(e) for e in events if self._rng.random() < settings.duplicate_rate]
            out = (out + extra)[: settings.max_batch]
        if settings.reorder:
            self._rng.shuffle(out)
        return out

    def _deliver(self, client: httpx.Client, batch: _Batch) -> None:
        settings = self.settings
        events = [{**e, "attemptNumber": batch.attempt} for e in batch.events]
        body = json.dumps(events, separators=(",", ":"))
        url = settings.target_url
        status: int | None = None
        error: str | None = None
        if url is not None:
            secret = settings.client_secret.get_secret_value()
            timestamp = int(time.time() * 1000)
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/) (sandbox)",
                "X-HubSpot-Signature": sign_v1(secret, body),
                "X-HubSpot-Signature-Version": "v1",
                "X-HubSpot-Signature-v3": sign_v3(secret, "POST", url, body, timestamp),
                "X-HubSpot-Request-Timestamp": str(timestamp),
            }
            try:
                answer = client.post(
                    url, content=body.encode(), headers=headers, timeout=settings.timeout_seconds
                )
                status = answer.status_code
            except httpx.HTTPError as exc:
                error = type(exc).__name__
        retry = status is None or status >= 500 or status == 429
        with self._cond:
            self._in_flight -= len(batch.events)
            self._deliveries.append(
                Delivery(
                    batch.attempt,
                    tuple(int(e["eventId"]) for e in events),
                    status,
                    error,
                    len(body),
                )
            )
            if retry and url is not None and batch.attempt + 1 < settings.max_attempts:
                delay = settings.retry_base_seconds * (2**batch.attempt)
                self._retries.append(
                    _Batch(batch.events, batch.attempt + 1, time.monotonic() + delay)
                )
            self._cond.notify_all()
