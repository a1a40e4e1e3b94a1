"""Salesforce's error table: its answers mapped onto the `Crm*Error` family (service/ports.py).

Error bodies are a JSON array of `{"message", "errorCode", "fields"}` (docs/crm-api-facts.md §2.9);
the token endpoint answers RFC 6749 bodies (`error`, `error_description`, §2.1). The client
(client.py, the only module that sees simple-salesforce) hands `map_answer` the status and the
parsed body of every refused call; the table below decides what it is.
"""

from __future__ import annotations

from typing import Any

from adapters.errors import ErrorRow, ErrorTable
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

# Vendor quirk: both flavours of REQUEST_LIMIT_EXCEEDED are 403 with the same errorCode, told
# apart only by the limit named in the message (docs/crm-api-facts.md §2.9). `vendor_code` appends
# the concurrency limit's name so the table can key on it.
CONCURRENT_LIMIT = "ConcurrentPerOrgLongTxn"
_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"

ERROR_TABLE = ErrorTable(
    "Salesforce",
    [
        ErrorRow(
            300,
            None,
            CrmConfigError,
            "an external id matched more than one record: the external-id field is not unique",
        ),
        *(
            # Vendor quirk: a whole call can fail with a per-record code (a row lock held by
            # another transaction, a busy server); another try usually gets through.
            ErrorRow(400, code, CrmUnavailableError, f"{code}: transient on Salesforce's side")
            for code in sorted(TRANSIENT_RECORD_CODES)
        ),
        ErrorRow(
            400,
            None,
            CrmConfigError,
            "a malformed query or an unknown field: the mapping does not fit this org",
        ),
        # The token endpoint's RFC 6749 errors (docs/crm-api-facts.md §2.1): the credentials are
        # wrong.
        ErrorRow(
            400,
            "invalid_grant",
            CrmConfigError,
            "the refresh token, password or authorization was refused: reconnect the org",
        ),
        ErrorRow(400, "invalid_client", CrmConfigError, "check CLIENT_ID and CLIENT_SECRET"),
        ErrorRow(400, "invalid_client_id", CrmConfigError, "the org does not know CLIENT_ID"),
        ErrorRow(
            400,
            "unsupported_grant_type",
            CrmConfigError,
            "the connected app does not allow this login flow",
        ),
        ErrorRow(
            401,
            "INVALID_SESSION_ID",
            CrmConfigError,
            "the session expired or was revoked and a new login did not help (or a static "
            "ACCESS_TOKEN cannot log in again): check the credentials",
        ),
        ErrorRow(401, None, CrmConfigError, "Salesforce refused the credentials"),
        ErrorRow(
            403,
            _LIMIT_EXCEEDED,
            CrmQuotaExhaustedError,
            "the org's daily API allocation is spent (TotalRequests): stop, resume after reset",
        ),
        ErrorRow(
            403,
            f"{_LIMIT_EXCEEDED} {CONCURRENT_LIMIT}",
            CrmRateLimitedError,
            "too many concurrent long requests in the org: wait and retry",
        ),
        ErrorRow(
            403, None, CrmConfigError, "the integration user lacks a permission for this call"
        ),
        ErrorRow(
            404,
            None,
            CrmNotFoundError,
            "the record does not exist or the integration user cannot see it",
        ),
        ErrorRow(
            420,
            None,
            CrmUnavailableError,
            # Vendor quirk: Salesforce's edge answers 420 with an HTML page (docs/crm-api-facts.md
            # §2.9), a throttle in front of the org rather than a verdict on our request.
            "Salesforce's edge turned the call away: retried later",
        ),
        ErrorRow(
            429,
            None,
            CrmRateLimitedError,
            # Salesforce itself sends no 429 (docs/crm-api-facts.md §2.9); a proxy in front of it
            # may.
            "throttled on the way to Salesforce: wait and retry",
        ),
        ErrorRow(
            500,
            None,
            CrmUnavailableError,
            "UNKNOWN_EXCEPTION on Salesforce's side: retried later",
        ),
        ErrorRow(
            503,
            None,
            CrmUnavailableError,
            "Salesforce is unavailable or in maintenance: retried later",
        ),
    ],
)


def first_error(content: Any) -> tuple[str, str]:
    """(errorCode, message) of the first error in a Salesforce error body (REST or OAuth)."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        item = content[0]
        return str(item.get("errorCode") or item.get("statusCode") or ""), str(
            item.get("message", "")
        )
    if isinstance(content, dict):
        return str(content.get("error", "")), str(content.get("error_description", ""))
    return "", ""


def vendor_code(code: str, message: str) -> str:
    """The table's key for an errorCode: itself, or REQUEST_LIMIT_EXCEEDED with the limit."""
    if code == _LIMIT_EXCEEDED and CONCURRENT_LIMIT in message:
        return f"{code} {CONCURRENT_LIMIT}"
    return code


def map_answer(status: int, content: Any, connection: str, *, prefix: str = "") -> CrmError:
    """The `CrmError` for a refused call: its status and (parsed) error body; `prefix` says
    which step failed ("login failed")."""
    code, message = first_error(content)
    what = f"Salesforce {prefix}".strip()
    summary = f"{what} {status} {code}: {message}".strip().rstrip(":")
    return ERROR_TABLE.classify(status, vendor_code(code, message), summary, connection=connection)


# Per-record refusals that mean the record is gone (deleted to the recycle bin, or an id that no
# longer resolves after a merge): an erasure has nothing left to clear on it.
GONE_RECORD_CODES = frozenset({"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"})
