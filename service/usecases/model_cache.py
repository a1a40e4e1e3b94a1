"""The real-time paths' scoring models per connection: fitted on first use, refitted at most
hourly (a fit reads every customer of the connection; one message must not pay for that)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from service.ports import Clock
from service.scoring.churn.thresholds import FlagPolicy
from service.scoring.customer import ScoringModels
from service.usecases.models import scoring_models
from service.usecases.repositories import RecordRepository

MODEL_TTL_SECONDS = 3600.0


class PurchaseModels:
    """One process's fitted models per connection, shared by `POST /v1/interactions` and the
    CRM webhooks (both score one customer at a time)."""

    def __init__(
        self,
        policy: FlagPolicy,
        clock: Clock,
        *,
        ttl_seconds: float = MODEL_TTL_SECONDS,
        ticks: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._ttl = ttl_seconds
        # Age is measured on a monotonic counter, not the clock: a fixed clock (tests, the
        # fault suites) would otherwise keep a model forever, and a wall-clock step would
        # refit everything at once.
        self._ticks = ticks
        self._fitted: dict[str, tuple[float, ScoringModels]] = {}
        self._lock = threading.Lock()

    def get(self, connection: str, records: RecordRepository) -> ScoringModels:
        """The connection's models, fitted now when there are none or they are too old."""
        with self._lock:
            cached = self._fitted.get(connection)
            if cached is None or self._ticks() - cached[0] > self._ttl:
                models = scoring_models(records, connection, self._clock.now(), self._policy)
                cached = self._fitted[connection] = (self._ticks(), models)
        return cached[1]
