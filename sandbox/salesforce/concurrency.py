"""The org-wide cap on concurrent long-running requests (docs/crm-api-facts.md §2.9).

Salesforce refuses a request with 403 REQUEST_LIMIT_EXCEEDED "ConcurrentPerOrgLongTxn Limit
exceeded." when too many long requests (>= 20 s) are already running: 25 in production orgs,
5 in Developer Edition. The sandbox counts every API request in flight (slow-response faults
are how tests make them long) and refuses the one past `limit`.
"""

from __future__ import annotations

import threading

from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.salesforce.errors import SalesforceApiError

API_PREFIX = "/services/data/"


def concurrent_limit_exceeded() -> SalesforceApiError:
    """The concurrency flavour of REQUEST_LIMIT_EXCEEDED (no Retry-After, no 429)."""
    return SalesforceApiError(
        403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."
    )


class ConcurrencyCap:
    """Pure ASGI middleware counting in-flight API requests."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._lock = threading.Lock()
        self._in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        with self._lock:
            refused = self._in_flight >= self.limit
            if not refused:
                self._in_flight += 1
        if refused:
            await concurrent_limit_exceeded().response()(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            with self._lock:
                self._in_flight -= 1
