"""HubSpot failures mapped onto the `Crm*Error` family (see service/ports.py).

hubspot-api-client raises each module's own `ApiException` subclass (401 Unauthorized, 403
Forbidden, 404 NotFound, 5xx Service, anything else incl. 429 plain ApiException) with `status`,
`headers` and `body` (a JSON string); transport failures surface as urllib3 exceptions.
"""

from __future__ import annotations

import json
from typing import Any

import urllib3.exceptions

from adapters.tls import tls_error
from service.ports import (
    CrmConfigError,
    CrmError,
    CrmNotFoundError,
    CrmQuotaExhaustedError,
    CrmRateLimitedError,
    CrmUnavailableError,
)

# Without a Retry-After, wait as HubSpot's own SDKs do per policy (crm-api-facts §3.9).
_POLICY_WAIT = {"TEN_SECONDLY_ROLLING": 10.0, "SECONDLY": 1.0}


def error_body(body: Any) -> dict[str, Any]:
    """The parsed error body (empty when absent or not JSON)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            parsed = json.loads(body)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return body if isinstance(body, dict) else {}


def _retry_after(headers: Any, body: dict[str, Any]) -> float | None:
    value = None
    if headers is not None:
        value = headers.get("Retry-After") or headers.get("retry-after")
    if value is not None:
        try:
            return float(value)
        except ValueError:
            pass
    return _POLICY_WAIT.get(str(body.get("policyName", "")))


def map_error(error: Exception, connection: str, base_url: str = "") -> CrmError:
    """The `CrmError` for an SDK or transport exception (a TLS failure is a config error)."""
    status = getattr(error, "status", None)
    if status is None:
        tls = tls_error(error, base_url or "HubSpot", connection)
        if tls is not None:
            return tls
        if isinstance(error, urllib3.exceptions.HTTPError | OSError):
            return CrmUnavailableError(
                f"cannot reach HubSpot ({type(error).__name__})", connection=connection
            )
        return CrmUnavailableError(
            f"HubSpot call failed ({type(error).__name__})", connection=connection
        )
    body = error_body(getattr(error, "body", None))
    category = str(body.get("category") or body.get("errorType") or "")
    summary = f"HubSpot {status} {category}: {body.get('message', '')}".strip()
    return map_status(int(status), body, summary, getattr(error, "headers", None), connection)


def map_status(
    status: int, body: dict[str, Any], summary: str, headers: Any, connection: str
) -> CrmError:
    """The `CrmError` for an HTTP status and HubSpot error body."""
    mapped = _by_status(status, body, summary, headers, connection)
    mapped.http_status = status
    return mapped


def _by_status(
    status: int, body: dict[str, Any], summary: str, headers: Any, connection: str
) -> CrmError:
    if status == 429:
        if body.get("policyName") == "DAILY":
            return CrmQuotaExhaustedError(summary, connection=connection)
        return CrmRateLimitedError(
            summary, retry_after=_retry_after(headers, body), connection=connection
        )
    if status in (401, 403):
        return CrmConfigError(summary, connection=connection)
    if status == 404:
        return CrmNotFoundError(summary, connection=connection)
    if status in (423, 502, 503, 504, 524) or status >= 500:
        return CrmUnavailableError(summary, connection=connection)
    # 400 VALIDATION_ERROR and friends for a whole call: our request (mapping) is wrong.
    return CrmConfigError(summary, connection=connection)
