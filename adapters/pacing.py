"""Pacing: keep our calls inside a CRM's short-window rate limits, across every worker.

Some CRMs count an account's requests in a rolling window whose size they state in every answer
(each connector reads its own headers into a `Window`, e.g. 190 per 10 s), and may count
searches apart with no headers at all (docs/crm-api-facts.md §3.9). Without pacing a sync
learns the limit from 429s: each one costs a request and a wait of about the whole window. One
process could count its own calls; several workers syncing one portal cannot, unless they share
the count. The count is a moving window in `limits` storage: in this process by default, Redis
(`CEM_PACING__STORAGE_URL=redis://…`) when workers in several processes or machines share a
portal. A call that would overflow the window waits for the oldest request in it to leave.

A 429 that still comes (another integration on the same portal) goes to the retry layer as
before. If the shared storage stops answering, pacing falls back to this process's count rather
than stopping the sync (logged once).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from adapters.retry import note_rate_limit_wait

log = logging.getLogger(__name__)

BURST = "burst"
SEARCH = "search"
MEMORY = "memory://"

# Waits shorter than this are routine spacing, not worth a line on the progress display.
ANNOUNCE_AFTER_SECONDS = 1.0


# Windows of at least this many seconds are counted a second longer than stated. We count a
# call when we send it, the CRM when it arrives; latencies differ by a few to a few hundred ms,
# so a call that left our window just in time can still be inside the CRM's. The extra second
# keeps the two apart (about 9 % of a 10 s window). Shorter windows (search, 1 s) would
# lose too much to a whole second; their rate leaves the slack instead (`search_per_second`).
MARGIN_FROM_SECONDS = 5


@dataclass(frozen=True)
class Window:
    """At most `requests` calls in any `seconds`-long stretch."""

    requests: int
    seconds: int

    def item(self) -> RateLimitItem:
        counted = self.seconds + 1 if self.seconds >= MARGIN_FROM_SECONDS else self.seconds
        return RateLimitItemPerSecond(self.requests, counted)


_BUILDING = threading.Lock()


@lru_cache(maxsize=8)
def _storage(url: str) -> Storage:
    # One storage (one connection pool) per URL in a process, shared by every connection's
    # pacer. Built under a lock: `limits` checks its optional dependencies lazily, and two
    # threads doing it at once can see a half-imported redis.
    with _BUILDING:
        storage = storage_from_string(url)
    if not isinstance(storage, Storage):  # an async:// scheme; the settings refuse those
        raise ValueError("pacing needs a synchronous storage")
    return storage


class Pacer:
    """Named windows for one CRM connection; `acquire(bucket)` blocks until a call fits."""

    def __init__(
        self,
        crm: str,
        connection: str,
        windows: Mapping[str, Window] | None = None,
        *,
        storage_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_seconds: float = 60.0,
    ) -> None:
        self.crm = crm
        self.connection = connection
        self._windows: dict[str, Window] = dict(windows or {})
        self._storage_url = storage_url or MEMORY
        self._sleep = sleep
        self._max_wait = max_wait_seconds
        self._lock = threading.Lock()
        self._limiter = MovingWindowRateLimiter(_storage(self._storage_url))

    def __repr__(self) -> str:
        # The storage URL may hold a Redis password: name only where the count lives.
        shared = "memory" if self._storage_url == MEMORY else "shared"
        return f"Pacer(crm={self.crm!r}, connection={self.connection!r}, storage={shared})"

    def window(self, bucket: str) -> Window | None:
        return self._windows.get(bucket)

    def learn(self, bucket: str, window: Window | None, *, count_call: bool = False) -> None:
        """Use the window the CRM stated (None: it stated none, so this bucket is not paced).

        `count_call` counts the call that brought the answer, made before any window was known
        (so `acquire` did not count it): every call is counted once, also a worker's first."""
        with self._lock:
            if window is None:
                self._windows.pop(bucket, None)
                return
            if self._windows.get(bucket) != window:
                self._windows[bucket] = window
        if count_call:
            self._hit(window.item(), (self.crm, self.connection, bucket))

    def acquire(self, bucket: str = BURST) -> bool:
        """Take a slot in `bucket`'s window, waiting for one if it is full. False when the
        bucket has no known window: the call goes unpaced and uncounted (see `learn`)."""
        window = self._windows.get(bucket)
        if window is None:
            return False
        item = window.item()
        keys = (self.crm, self.connection, bucket)
        waited = 0.0
        while not self._hit(item, keys):
            # Moving window: a slot frees when the oldest call in it leaves. Sleep at most a
            # second at a time so a window learned anew (or a fallback) is picked up.
            reset = self._reset_time(item, keys)
            pause = min(max(reset - time.time(), 0.01), 1.0, max(self._max_wait - waited, 0.01))
            if waited >= self._max_wait:
                # Never block a sync forever on a count that looks stuck: let the CRM decide
                # (a 429 goes to the retry layer).
                log.warning("pacing gave up after %.0f s; sending to %s anyway", waited, self.crm)
                break
            self._sleep(pause)
            waited += pause
        if waited:
            note_rate_limit_wait(self.crm, waited, announce=waited >= ANNOUNCE_AFTER_SECONDS)
        return True

    def _hit(self, item: RateLimitItem, keys: tuple[str, str, str]) -> bool:
        try:
            return self._limiter.hit(item, *keys)
        except Exception as error:  # the shared store is down: pace alone rather than stop
            self._fall_back(error)
            return self._limiter.hit(item, *keys)

    def _reset_time(self, item: RateLimitItem, keys: tuple[str, str, str]) -> float:
        try:
            return self._limiter.get_window_stats(item, *keys).reset_time
        except Exception as error:
            self._fall_back(error)
            return time.time() + 0.05

    def _fall_back(self, error: Exception) -> None:
        with self._lock:
            if self._storage_url == MEMORY:
                raise error
            log.warning(
                "the shared rate-limit store does not answer (%s); %s pacing continues in this "
                "process only",
                type(error).__name__,
                self.crm,
            )
            self._storage_url = MEMORY
            self._limiter = MovingWindowRateLimiter(_storage(MEMORY))
