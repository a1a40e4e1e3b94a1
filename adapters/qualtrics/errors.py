"""Qualtrics' error table: its answers mapped onto the `Crm*Error` family (service/ports.py).

Every answer is an envelope `{"result", "meta": {"httpStatus": "401 - Unauthorized",
"requestId", "error": {"errorCode", "errorMessage"}}}` (docs/qualtrics.md "Envelope and
errors"); the vendor code is `meta.error.errorCode`. The OAuth token endpoint answers RFC 6749
bodies (`error`, `error_description`). The client (client.py) hands `map_answer` the status,
body and headers of every refused call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.errors import ErrorRow, ErrorTable, error_body
from service.ports import (
    CrmConfigError,
    CrmError,
    CrmNotFoundError,
    CrmRateLimitedError,
    CrmUnavailableError,
)

ERROR_TABLE = ErrorTable(
    "Qualtrics",
    [
        ErrorRow(
            400,
            None,
            CrmConfigError,
            # Parameter names are case-sensitive: "Format" instead of "format" is a 400.
            "Missing or invalid parameter: the request or the survey mapping is wrong",
        ),
        ErrorRow(
            400,
            "invalid_client",
            CrmConfigError,
            "the OAuth client was refused: check CLIENT_ID and CLIENT_SECRET",
        ),
        ErrorRow(
            401,
            None,
            CrmConfigError,
            "the API token or OAuth token is wrong, expired or revoked: check API_TOKEN",
        ),
        ErrorRow(
            403,
            None,
            CrmConfigError,
            "the user lacks a permission (event subscriptions need a brand administrator)",
        ),
        ErrorRow(404, None, CrmNotFoundError, "no such survey, response or export"),
        ErrorRow(
            429,
            None,
            CrmRateLimitedError,
            "the brand's request limit (3,000 a minute, shared by all its users): wait and retry",
        ),
        ErrorRow(
            503,
            None,
            CrmUnavailableError,
            "Qualtrics is temporarily unavailable; retried later",
        ),
        ErrorRow(
            504,
            None,
            CrmUnavailableError,
            "a Qualtrics gateway timed out; retried later",
        ),
    ],
)


def _error(body: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = body.get("meta")
    error = meta.get("error") if isinstance(meta, Mapping) else None
    return error if isinstance(error, Mapping) else {}


def vendor_code(body: Mapping[str, Any]) -> str:
    """`meta.error.errorCode`, else the token endpoint's `error`."""
    return str(_error(body).get("errorCode") or body.get("error") or "")


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Retry-After in seconds when an answer carries it (Qualtrics documents none)."""
    if headers is None:
        return None
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def map_answer(
    status: int,
    body: Any,
    headers: Mapping[str, str] | None,
    connection: str,
    *,
    prefix: str = "",
) -> CrmError:
    """The `CrmError` for a refused call; `prefix` names the failed step ("token request")."""
    parsed = error_body(body)
    code = vendor_code(parsed)
    message = str(
        _error(parsed).get("errorMessage") or parsed.get("error_description") or ""
    ).strip()
    meta = parsed.get("meta")
    request_id = meta.get("requestId") if isinstance(meta, Mapping) else None
    what = f"Qualtrics {prefix}".strip()
    summary = f"{what} {status} {code}: {message}".strip().rstrip(":")
    if request_id:
        # Qualtrics support asks for the requestId of a failed call.
        summary += f" [requestId {request_id}]"
    return ERROR_TABLE.classify(
        status, code, summary, connection=connection, retry_after=retry_after(headers)
    )
