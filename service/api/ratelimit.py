"""Per-key rate limit: a token bucket per API key, kept in this process.

Each replica limits on its own, so N replicas allow up to N times the configured rate; that is
the usual trade-off for a stateless service without a shared store on the hot path.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until one request is allowed again (0 when allowed)


class RateLimiter:
    """`per_minute` requests a minute per key, with bursts up to the same number."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> Decision:
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.per_minute), now)
            bucket.tokens = min(
                float(self.per_minute), bucket.tokens + (now - bucket.updated) * self._rate
            )
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return Decision(True, self.per_minute, int(bucket.tokens), 0)
            wait = math.ceil((1.0 - bucket.tokens) / self._rate)
            return Decision(False, self.per_minute, 0, max(wait, 1))
