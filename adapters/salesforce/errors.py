"""Salesforce failures mapped onto the `Crm*Error` family (see service/ports.py).

simple-salesforce raises by status code (300 MoreThanOneRecord, 400 MalformedRequest, 401
ExpiredSession, 403 RefusedRequest, 404 ResourceNotFound, else GeneralError) with the parsed JSON
error array in `.content`; requests raises its own errors for timeouts and dropped connections.
"""

from __future__ import annotations

from typing import Any

import requests
from simple_salesforce.exceptions import SalesforceError

from adapters.tls import tls_error
from service.ports import (
    CrmConfigError,
    CrmError,
    CrmNotFoundError,
    CrmQuotaExhaustedError,
    CrmRateLimitedError,
    CrmUnavailableError,
)

# Per-record status codes worth another try: the row was locked by a concurrent transaction.
TRANSIENT_RECORD_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"})


def first_error(content: Any) -> tuple[str, str]:
    """(errorCode, message) of the first error in a Salesforce error body."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        item = content[0]
        return str(item.get("errorCode") or item.get("statusCode") or ""), str(
            item.get("message", "")
        )
    if isinstance(content, dict):
        return str(content.get("error", "")), str(content.get("error_description", ""))
    return "", ""


def map_error(error: Exception, connection: str, base_url: str = "") -> CrmError:
    """The `CrmError` for an SDK or transport exception (a TLS failure is a config error)."""
    tls = tls_error(error, base_url or "Salesforce", connection)
    if tls is not None:
        return tls
    if isinstance(error, requests.Timeout):
        return CrmUnavailableError("Salesforce did not answer in time", connection=connection)
    if isinstance(error, requests.ConnectionError):
        return CrmUnavailableError(
            "cannot reach Salesforce (connection failed)", connection=connection
        )
    if not isinstance(error, SalesforceError):
        return CrmUnavailableError(
            f"Salesforce call failed ({type(error).__name__})", connection=connection
        )
    code, message = first_error(error.content)
    summary = f"Salesforce {error.status} {code}: {message}".strip()
    return map_status(int(error.status), code, summary, connection)


def map_status(status: int, code: str, summary: str, connection: str) -> CrmError:
    """The `CrmError` for an HTTP status and Salesforce error code."""
    mapped = _by_status(status, code, summary, connection)
    mapped.http_status = status
    return mapped


def _by_status(status: int, code: str, summary: str, connection: str) -> CrmError:
    message = summary
    if status == 403 and code == "REQUEST_LIMIT_EXCEEDED":
        # Two flavours share the code (crm-api-facts §2.9): the daily allocation is gone
        # (stop the run) or too many concurrent long requests (wait and retry).
        if "ConcurrentPerOrgLongTxn" in message:
            return CrmRateLimitedError(summary, retry_after=None, connection=connection)
        return CrmQuotaExhaustedError(summary, connection=connection)
    if status in (401, 403):
        return CrmConfigError(summary, connection=connection)
    if status == 404:
        return CrmNotFoundError(summary, connection=connection)
    if status in (400, 300):
        if code in TRANSIENT_RECORD_CODES:
            return CrmUnavailableError(summary, connection=connection)
        # A malformed query or unknown field is our configuration (mapping) being wrong.
        return CrmConfigError(summary, connection=connection)
    if status == 429:
        return CrmRateLimitedError(summary, retry_after=None, connection=connection)
    return CrmUnavailableError(summary, connection=connection)
