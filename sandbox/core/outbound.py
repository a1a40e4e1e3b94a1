"""Outbound event delivery shared by the emulators' senders (HubSpot webhooks, Salesforce change
events): a queue filled by record listeners, batches POSTed from a background thread, retries
with exponential back-off, and on demand duplicates and reordering, since real deliveries are
neither unique nor ordered and receivers must cope.

Each CRM's sender supplies only what differs: its settings model (the common fields below plus
its secret) and `render`, which turns a batch into the body and signed headers. Retry delays
are seconds of real time (scaled down from the CRMs' hours-long spreads) and signature
timestamps are real time too: receivers check them against their own wall clock.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr


class OutboundSettings(BaseModel):
    """The delivery controls every sender's settings model has (each CRM adds its own)."""

    model_config = ConfigDict(extra="forbid")

    target_url: str | None = None
    max_batch: int = Field(default=100, ge=1, le=100)
    linger_seconds: float = Field(default=0.05, ge=0, description="wait to fill a batch")
    max_attempts: int = Field(default=10, ge=1, le=10)
    retry_base_seconds: float = Field(default=0.5, ge=0)
    timeout_seconds: float = Field(default=5.0, gt=0)
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    reorder: bool = False
    seed: int = 0


S = TypeVar("S", bound=OutboundSettings)
# (settings, events, attempt number) -> (body, headers); the body is what gets signed.
Render = Callable[[Any, list[dict[str, Any]], int], tuple[str, dict[str, str]]]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST attempt, for tests and the admin view."""

    attempt: int
    event_ids: tuple[int, ...]
    status: int | None
    error: str | None
    body_bytes: int
    sent_at: float = 0.0  # wall clock (epoch seconds) when the POST started
    record_ids: tuple[str, ...] = ()  # the records the events are about

    def to_json(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "attempt": self.attempt,
            "eventIds": list(self.event_ids),
            "recordIds": list(self.record_ids),
            "sentAt": self.sent_at,
            "status": self.status,
            "error": self.error,
            "bodyBytes": self.body_bytes,
        }


@dataclass(slots=True)
class _Batch:
    events: list[dict[str, Any]]
    attempt: int = 0
    due: float = field(default_factory=time.monotonic)


class OutboundSender(Generic[S]):
    """Queues events and delivers them in batches from one background thread."""

    def __init__(
        self,
        settings: S,
        render: Render,
        event_id: Callable[[dict[str, Any]], int],
        name: str,
        record_ids: Callable[[dict[str, Any]], list[str]] = lambda _: [],
    ) -> None:
        self._settings = settings
        self._record_ids = record_ids
        self._initial = settings
        self._render = render
        self._event_id = event_id
        self._name = name
        self._cond = threading.Condition()
        self._queue: list[dict[str, Any]] = []
        self._retries: list[_Batch] = []
        self._in_flight = 0
        self._deliveries: list[Delivery] = []
        self._next_id = 1
        self._rng = random.Random(self._settings.seed)  # noqa: S311 - reproducible, not secret
        self._thread: threading.Thread | None = None
        self._stopping = False

    @property
    def settings(self) -> S:
        """The active settings."""
        with self._cond:
            return self._settings

    def configure(self, **changes: Any) -> S:
        """Change settings at run time; secrets not named in `changes` are kept."""
        with self._cond:
            merged = self._settings.model_dump() | changes
            for name, value in merged.items():
                if isinstance(value, SecretStr) and name not in changes:
                    merged[name] = value.get_secret_value()
            self._settings = type(self._settings).model_validate(merged)
            self._rng = random.Random(self._settings.seed)  # noqa: S311 - reproducible
            self._cond.notify_all()
            return self._settings

    def enqueue(self, build: Callable[[S, int], dict[str, Any] | None]) -> None:
        """Queue the event `build(settings, next id)` makes, unless it returns None or no target
        is set; the id is spent only when the event is queued."""
        with self._cond:
            if self._settings.target_url is None:
                return
            event = build(self._settings, self._next_id)
            if event is None:
                return
            self._next_id += 1
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
            self._next_id = 1
            self._settings = self._initial
            self._rng = random.Random(self._settings.seed)  # noqa: S311 - reproducible

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
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
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
                    if self._settings.linger_seconds:
                        self._cond.wait(self._settings.linger_seconds)
                    events = self._queue[: self._settings.max_batch]
                    del self._queue[: len(events)]
                    batch = _Batch(self._mangle(events))
                    self._in_flight += len(batch.events)
                    return batch
                waits = [b.due - now for b in self._retries]
                self._cond.wait(min(waits) if waits else 1.0)

    def _mangle(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        controls = self._settings
        out = list(events)
        if controls.duplicate_rate:
            extra = [dict(e) for e in events if self._rng.random() < controls.duplicate_rate]
            out = (out + extra)[: controls.max_batch]
        if controls.reorder:
            self._rng.shuffle(out)
        return out

    def _deliver(self, client: httpx.Client, batch: _Batch) -> None:
        settings = self.settings
        url = settings.target_url
        status: int | None = None
        error: str | None = None
        body, headers = self._render(settings, batch.events, batch.attempt)
        sent_at = time.time()
        if url is not None:
            try:
                answer = client.post(
                    url, content=body.encode(), headers=headers, timeout=settings.timeout_seconds
                )
                status = answer.status_code
            except httpx.HTTPError as exc:
                error = type(exc).__name__
        # Other 4xx answers are final: the receiver refused the delivery for good.
        retry = status is None or status >= 500 or status == 429
        with self._cond:
            self._in_flight -= len(batch.events)
            ids = tuple(self._event_id(e) for e in batch.events)
            records = tuple(dict.fromkeys(r for e in batch.events for r in self._record_ids(e)))
            self._deliveries.append(
                Delivery(batch.attempt, ids, status, error, len(body), sent_at, records)
            )
            if retry and url is not None and batch.attempt + 1 < settings.max_attempts:
                delay = settings.retry_base_seconds * (2**batch.attempt)
                self._retries.append(
                    _Batch(batch.events, batch.attempt + 1, time.monotonic() + delay)
                )
            self._cond.notify_all()


class Relay(Generic[S]):
    """What a CRM's event sender shows its admin routes and tests: the shared controls of its
    `OutboundSender` (subclasses build `_out` and turn store changes into events)."""

    _out: OutboundSender[S]

    @property
    def settings(self) -> S:
        """The active settings."""
        return self._out.settings

    def configure(self, **changes: Any) -> S:
        """Change settings at run time (target URL, secret, duplicates, reordering, ...)."""
        return self._out.configure(**changes)

    def deliveries(self) -> list[Delivery]:
        """Every attempt so far, oldest first."""
        return self._out.deliveries()

    def pending(self) -> int:
        """Events not yet delivered or given up on."""
        return self._out.pending()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is pending (retries included); whether that happened in time."""
        return self._out.flush(timeout)

    def clear(self) -> None:
        """Back to the start-up settings; drop queued events and the delivery record."""
        self._out.clear()

    def stop(self) -> None:
        """Stop the delivery thread (queued events are dropped)."""
        self._out.stop()
