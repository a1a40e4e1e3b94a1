"""HubSpot's error table: its answers mapped onto the `Crm*Error` family (service/ports.py).

Error bodies carry `category` (`errorType` on some 429s) and `message`
(docs/crm-api-facts.md §3.10); rate-limit answers name their `policyName` (§3.9); the OAuth token
endpoint answers RFC 6749 bodies (`error`, `error_description`). The client (client.py, the only
module that sees hubspot-api-client) hands `map_answer` the status, body and headers of every
refused call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.errors import ErrorRow, ErrorTable, error_body
from service.ports import (
    CrmConfigError,
    CrmError,
    CrmNotFoundError,
    CrmQuotaExhaustedError,
    CrmRateLimitedError,
    CrmUnavailableError,
)

# Without a Retry-After, wait as HubSpot's own SDKs do per policy (docs/crm-api-facts.md §3.9).
_POLICY_WAIT = {"TEN_SECONDLY_ROLLING": 10.0, "SECONDLY": 1.0}
# 502/504: HubSpot's gateways time out on heavy calls and the next try often passes (§3.9).
_GATEWAY = "a gateway timed out on a heavy call: retried later"

ERROR_TABLE = ErrorTable(
    "HubSpot",
    [
        ErrorRow(
            400,
            None,
            CrmConfigError,
            "VALIDATION_ERROR for the whole call: the mapping or a property name is wrong",
        ),
        # The token endpoint's RFC 6749 errors: a person must reconnect; never retried.
        ErrorRow(
            400,
            "invalid_grant",
            CrmConfigError,
            "the refresh token was revoked or the app uninstalled: reconnect the portal "
            "(new REFRESH_TOKEN)",
        ),
        ErrorRow(400, "invalid_client", CrmConfigError, "check CLIENT_ID and CLIENT_SECRET"),
        ErrorRow(
            401,
            "EXPIRED_AUTHENTICATION",
            CrmConfigError,
            "the OAuth access token expired and a refresh did not help",
        ),
        ErrorRow(
            401,
            None,
            CrmConfigError,
            "INVALID_AUTHENTICATION: the token is wrong or revoked, or the client is refused",
        ),
        ErrorRow(
            403, None, CrmConfigError, "MISSING_SCOPES: the app lacks a scope this call needs"
        ),
        ErrorRow(404, None, CrmNotFoundError, "OBJECT_NOT_FOUND: no such record or object type"),
        ErrorRow(
            409,
            None,
            CrmConfigError,
            "CONFLICT: a unique property value is already held by another record",
        ),
        ErrorRow(
            423,
            None,
            CrmUnavailableError,
            # Vendor quirk: HubSpot answers 423 Locked while a record is busy during heavy
            # syncs, and it clears in about 2 s (docs/crm-api-facts.md §3.9).
            "Locked: the record is busy in a heavy sync; retried after a pause",
        ),
        ErrorRow(
            429,
            None,
            CrmRateLimitedError,
            "the burst (TEN_SECONDLY_ROLLING) or search (SECONDLY) limit: wait and retry",
        ),
        ErrorRow(
            429,
            "DAILY",
            CrmQuotaExhaustedError,
            "the portal's daily API limit is spent: stop, resume after its midnight reset",
        ),
        ErrorRow(502, None, CrmUnavailableError, _GATEWAY),
        ErrorRow(504, None, CrmUnavailableError, _GATEWAY),
        ErrorRow(
            524,
            None,
            CrmUnavailableError,
            # Vendor quirk: 524 is Cloudflare's "origin timed out" (HubSpot's API sits behind
            # Cloudflare): the call ran too long at HubSpot, which may pass
            # (docs/crm-api-facts.md §3.9).
            "Cloudflare's origin timeout in front of HubSpot: retried later",
        ),
    ],
)


def retry_after(headers: Mapping[str, str] | None, body: Mapping[str, Any]) -> float | None:
    """Seconds to wait before another try: Retry-After, else the policy's usual window."""
    value = None
    if headers is not None:
        value = headers.get("Retry-After") or headers.get("retry-after")
    if value is not None:
        try:
            return float(value)
        except ValueError:
            pass
    return _POLICY_WAIT.get(str(body.get("policyName", "")))


def vendor_code(status: int, body: Mapping[str, Any]) -> str:
    """The table's key for an answer: a 429's policy (DAILY is a spent quota, the others a
    wait), else the token endpoint's `error` or the API's `category` / `errorType`."""
    if status == 429 and body.get("policyName"):
        return str(body["policyName"])
    return str(body.get("error") or body.get("category") or body.get("errorType") or "")


def map_answer(
    status: int,
    body: Any,
    headers: Mapping[str, str] | None,
    connection: str,
    *,
    prefix: str = "",
) -> CrmError:
    """The `CrmError` for a refused call: its status, body (raw or parsed) and headers;
    `prefix` says which step failed ("token refresh failed")."""
    parsed = error_body(body)
    code = vendor_code(status, parsed)
    message = str(parsed.get("error_description") or parsed.get("message") or "").strip()
    what = f"HubSpot {prefix}".strip()
    summary = f"{what} {status} {code}: {message}".strip().rstrip(":")
    return ERROR_TABLE.classify(
        status,
        code,
        summary,
        connection=connection,
        retry_after=retry_after(headers, parsed),
    )


# Per-input refusals of a batch that mean the record is gone (archived or merged away): an
# erasure has nothing left to clear on it.
GONE_RECORD_CODES = frozenset({"OBJECT_NOT_FOUND"})
