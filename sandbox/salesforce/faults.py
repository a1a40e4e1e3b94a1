"""Injected faults rendered the way Salesforce fails (docs/crm-api-facts.md §2.9, §6).

Salesforce has no 429: "rate limited" is the concurrent-request flavour of 403
REQUEST_LIMIT_EXCEEDED; an expired token is 401 INVALID_SESSION_ID *and* the token really stops
working, so a client that logs in again gets a fresh, valid one.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Scope

from sandbox.core.faults import Fault, FaultKind
from sandbox.core.middleware import FaultRenderer
from sandbox.salesforce.concurrency import concurrent_limit_exceeded
from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.errors import SalesforceApiError, invalid_session
from sandbox.salesforce.limits import total_requests_exceeded

_5XX = {
    500: (
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you "
        "contact support: 1364311209-66434 (-1226406357)",
    ),
    502: ("BAD_GATEWAY", "Bad Gateway"),
    503: ("SERVER_UNAVAILABLE", "Server is temporarily unavailable. Please try again later."),
    504: ("GATEWAY_TIMEOUT", "Gateway Timeout"),
}


def sforce_fault_renderer(emu: SalesforceEmulator) -> FaultRenderer:
    """A renderer bound to the emulator (so expired_token can revoke the caller's token)."""

    def render(fault: Fault, scope: Scope) -> Response | None:
        kind = fault.kind
        if kind is FaultKind.ERROR_5XX:
            code, message = _5XX.get(fault.status_5xx, ("SERVER_UNAVAILABLE", "Server error"))
            return SalesforceApiError(fault.status_5xx, code, message).response()
        if kind is FaultKind.RATE_LIMITED:
            return concurrent_limit_exceeded().response()
        if kind is FaultKind.QUOTA_EXHAUSTED:
            return total_requests_exceeded().response()
        if kind is FaultKind.UNABLE_TO_LOCK_ROW:
            return SalesforceApiError(
                400,
                "UNABLE_TO_LOCK_ROW",
                "unable to obtain exclusive access to this record or 1 records",
            ).response()
        if kind is FaultKind.EXPIRED_TOKEN:
            for name, value in scope.get("headers", []):
                if name == b"authorization":
                    _, _, token = value.decode("latin-1").partition(" ")
                    emu.sessions.revoke(token.strip())
            return invalid_session().response()
        return None

    return render
