"""HubSpot's rate limits: a rolling burst window and a daily budget per portal, and the separate
search limit (docs/crm-api-facts.md §3.9).

Normal answers carry ``X-HubSpot-RateLimit-*`` headers (the daily pair only for static-token
apps); search answers carry none. A request over a limit gets a 429 whose body names the policy
(``TEN_SECONDLY_ROLLING``, ``DAILY``, ``SECONDLY``), the field clients use to pick a wait, since
HubSpot does not reliably send ``Retry-After``. All windows run on the sandbox clock.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from datetime import date
from zoneinfo import ZoneInfo

from sandbox.core.clock import SandboxClock
from sandbox.hubspot.config import RateLimits
from sandbox.hubspot.errors import HubSpotError

_MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "DAILY": "You have reached your daily limit.",
    "SECONDLY": "You have reached your secondly limit.",
}


def rate_limit_error(policy: str, portal_id: int, retry_after: float | None = None) -> HubSpotError:
    """The 429 of a policy, in the shape of the body quoted in hubspot-api-python issue #117."""
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return HubSpotError(
        429,
        "RATE_LIMITS",
        _MESSAGES[policy],
        headers=headers,
        extra={
            "errorType": "RATE_LIMIT",
            "policyName": policy,
            "groupName": f"publicapi:private-app:{portal_id}",
        },
    )


class RateLimiter:
    """Counts requests per portal; thread-safe."""

    def __init__(self, limits: RateLimits, clock: SandboxClock, portal_id: int) -> None:
        self.limits = limits
        self._clock = clock
        self._portal_id = portal_id
        self._zone = ZoneInfo(limits.timezone)
        self._lock = threading.Lock()
        self._burst: deque[float] = deque()
        self._search: deque[float] = deque()
        self._day: date | None = None
        self._daily_used = 0

    def configure(self, limits: RateLimits) -> None:
        """Switch to new limits at run time (counters are kept)."""
        with self._lock:
            self.limits = limits
            self._zone = ZoneInfo(limits.timezone)

    def reset(self) -> None:
        """Empty every window and the daily counter."""
        with self._lock:
            self._burst.clear()
            self._search.clear()
            self._day = None
            self._daily_used = 0

    def spend_daily(self, count: int) -> None:
        """Use up part of today's budget (tests of the DAILY policy)."""
        with self._lock:
            self._roll_day()
            self._daily_used = min(self.limits.daily, self._daily_used + count)

    def admit(self, *, search: bool, static_token: bool) -> dict[str, str]:
        """Count one request or raise the 429; the headers to add to the answer."""
        if not self.limits.enabled:
            return {}
        now = self._clock.monotonic()
        limits = self.limits
        with self._lock:
            self._roll_day()
            if self._daily_used >= limits.daily:
                raise rate_limit_error("DAILY", self._portal_id, self._seconds_to_midnight())
            if search:
                window = self._search
                _expire(window, now - 1.0)
                if len(window) >= limits.search_per_second:
                    wait = window[0] + 1.0 - now
                    raise rate_limit_error("SECONDLY", self._portal_id, self._after(wait))
                window.append(now)
                self._daily_used += 1
                return {}  # search answers carry no rate-limit headers
            window = self._burst
            _expire(window, now - limits.window_seconds)
            if len(window) >= limits.burst:
                wait = window[0] + limits.window_seconds - now
                raise rate_limit_error("TEN_SECONDLY_ROLLING", self._portal_id, self._after(wait))
            window.append(now)
            self._daily_used += 1
            remaining = limits.burst - len(window)
            secondly = max(1, round(limits.burst / limits.window_seconds))
            recent = sum(1 for t in window if t > now - 1.0)
            headers = {
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(limits.window_seconds * 1000)),
                "X-HubSpot-RateLimit-Max": str(limits.burst),
                "X-HubSpot-RateLimit-Remaining": str(remaining),
                "X-HubSpot-RateLimit-Secondly": str(secondly),
                "X-HubSpot-RateLimit-Secondly-Remaining": str(max(0, secondly - recent)),
            }
            if static_token:  # OAuth calls omit the daily pair (docs/crm-api-facts.md §3.9)
                headers["X-HubSpot-RateLimit-Daily"] = str(limits.daily)
                headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
                    limits.daily - self._daily_used
                )
            return headers

    def _after(self, wait: float) -> float | None:
        return max(wait, 0.0) if self.limits.retry_after_header else None

    def _roll_day(self) -> None:
        today = self._clock.now().astimezone(self._zone).date()
        if today != self._day:
            self._day = today
            self._daily_used = 0

    def _seconds_to_midnight(self) -> float | None:
        if not self.limits.retry_after_header:
            return None
        local = self._clock.now().astimezone(self._zone)
        seconds_today = local.hour * 3600 + local.minute * 60 + local.second
        return float(86_400 - seconds_today)


def _expire(window: deque[float], before: float) -> None:
    while window and window[0] <= before:
        window.popleft()
