"""Zendesk's request limits on the sandbox clock: the account's requests per minute (stated in
`X-Rate-Limit` / `X-Rate-Limit-Remaining` on every answer) and the incremental exports' own
10 a minute; past either, 429 with a whole-second `Retry-After` (docs/zendesk.md)."""

from __future__ import annotations

import math
import threading
from collections import deque

from sandbox.core.clock import SandboxClock
from sandbox.zendesk.config import RateLimits

WINDOW = 60.0


class Limiter:
    """Moving one-minute windows: the account's and the incremental exports'."""

    def __init__(self, limits: RateLimits, clock: SandboxClock) -> None:
        self.limits = limits
        self.clock = clock
        self._lock = threading.Lock()
        self._account: deque[float] = deque()
        self._incremental: deque[float] = deque()

    def configure(self, limits: RateLimits) -> None:
        with self._lock:
            self.limits = limits

    def reset(self) -> None:
        with self._lock:
            self._account.clear()
            self._incremental.clear()

    def _admit(self, window: deque[float], limit: int, now: float) -> int | None:
        while window and window[0] <= now - WINDOW:
            window.popleft()
        if len(window) >= limit:
            return max(1, math.ceil(window[0] + WINDOW - now))
        window.append(now)
        return None

    def admit(self, incremental: bool) -> tuple[int | None, int]:
        """(Retry-After seconds when refused, else None; account calls left this minute)."""
        with self._lock:
            limits = self.limits
            now = self.clock.monotonic()
            if not limits.enabled:
                return None, limits.per_minute
            wait = self._admit(self._account, limits.per_minute, now)
            if wait is None and incremental:
                wait = self._admit(self._incremental, limits.incremental_per_minute, now)
            return wait, max(0, limits.per_minute - len(self._account))
