"""The org's daily API request allocation, `/limits/`, and the `Sforce-Limit-Info` header.

Salesforce has no 429: when the 24-hour allocation is spent every call gets 403
`REQUEST_LIMIT_EXCEEDED` "TotalRequests Limit exceeded." and the only running signal is
`Sforce-Limit-Info: api-usage=used/max` on each response (docs/crm-api-facts.md §2.9). The window
here is a fixed 24 h on the sandbox clock starting at the first counted call (the real one rolls).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.core.clock import SandboxClock
from sandbox.core.state import ADMIN_PREFIX
from sandbox.salesforce.errors import SalesforceApiError

_WINDOW = timedelta(hours=24)


def total_requests_exceeded() -> SalesforceApiError:
    """The daily-allocation flavour of REQUEST_LIMIT_EXCEEDED."""
    return SalesforceApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")


class ApiLimits:
    """Counts API requests against the daily maximum."""

    def __init__(self, clock: SandboxClock, daily_max: int) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.daily_max = daily_max
        self._used = 0
        self._window_start: datetime | None = None

    def _roll(self) -> None:
        now = self._clock.now()
        if self._window_start is None or now - self._window_start >= _WINDOW:
            self._window_start = now
            self._used = 0

    def consume(self) -> None:
        """Count one request; raises REQUEST_LIMIT_EXCEEDED when the allocation is spent."""
        with self._lock:
            self._roll()
            if self._used >= self.daily_max:
                raise total_requests_exceeded()
            self._used += 1

    def usage(self) -> tuple[int, int]:
        """(used, max) in the current window."""
        with self._lock:
            if self._window_start is not None and self._clock.now() - self._window_start >= _WINDOW:
                return 0, self.daily_max
            return self._used, self.daily_max

    def set(self, daily_max: int | None = None, used: int | None = None) -> None:
        """Admin: change the allocation and/or the spent count (starts a window if none)."""
        with self._lock:
            self._roll()
            if daily_max is not None:
                self.daily_max = daily_max
            if used is not None:
                self._used = used

    def reset(self) -> None:
        """A fresh, empty window."""
        with self._lock:
            self._window_start = None
            self._used = 0

    def header(self) -> str:
        """The `Sforce-Limit-Info` value."""
        used, maximum = self.usage()
        return f"api-usage={used}/{maximum}"

    def body(self) -> dict[str, Any]:
        """`GET /limits/`: the daily API allocation plus the other limits clients look at."""
        used, maximum = self.usage()

        def pair(limit: int, remaining: int | None = None) -> dict[str, int]:
            return {"Max": limit, "Remaining": limit if remaining is None else remaining}

        return {
            "DailyApiRequests": pair(maximum, max(0, maximum - used)),
            "DailyAsyncApexExecutions": pair(250000),
            "DailyBulkApiBatches": pair(15000),
            "DailyBulkV2QueryFileStorageMB": pair(976562),
            "DailyBulkV2QueryJobs": pair(10000),
            "DailyDurableStreamingApiEvents": pair(10000),
            "DailyStreamingApiEvents": pair(10000),
            "DataStorageMB": pair(5),
            "FileStorageMB": pair(20),
            "HourlyTimeBasedWorkflow": pair(1000),
            "SingleEmail": pair(5000),
            "ConcurrentAsyncGetReportInstances": pair(200),
        }


class LimitInfoMiddleware:
    """Adds `Sforce-Limit-Info` to every API response (errors included), not to admin pages."""

    def __init__(self, app: ASGIApp, limits: ApiLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"sforce-limit-info", self.limits.header().encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_header)
