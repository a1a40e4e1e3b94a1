"""Zalo OpenAPI's error table: its answers mapped onto the `Crm*Error` family.

Zalo answers errors with HTTP 200 and a non-zero `error` in the envelope
`{"data", "error", "message"}`, so most rows are keyed (200, code); the codes are negative
numbers kept as strings (docs/zalo.md "Errors"). HTTP errors proper only come from the edge
(gateways, proxies) and fall back by status class. The OAuth endpoint answers the same way
(`error` and `error_name`/`error_description`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.errors import ErrorRow, ErrorTable
from service.ports import (
    CrmConfigError,
    CrmError,
    CrmNotFoundError,
    CrmRateLimitedError,
    CrmUnavailableError,
)

OK = 200  # the HTTP status of every Zalo answer, errors included

# The codes the client acts on besides mapping them (docs/zalo.md "Errors").
INVALID_TOKEN = "-216"  # noqa: S105  (an error code, not a secret)
OUTSIDE_WINDOW = "-230"
NOT_FOLLOWER = "-213"
# Our key for any refusal of the OAuth token endpoint (not a Zalo code).
OAUTH = "oauth"

ERROR_TABLE = ErrorTable(
    "Zalo",
    [
        ErrorRow(
            OK,
            INVALID_TOKEN,
            CrmConfigError,
            "the OA access token is invalid or expired and a refresh did not help: reconnect "
            "the OA (new REFRESH_TOKEN)",
        ),
        ErrorRow(
            OK,
            OAUTH,
            CrmConfigError,
            # Whatever its number: the sources name no token-endpoint codes (docs/zalo.md).
            "the token endpoint refused the refresh (refresh token used, expired or revoked, or "
            "a wrong CLIENT_ID / CLIENT_SECRET): reconnect the OA",
        ),
        ErrorRow(
            OK,
            "-32",
            CrmRateLimitedError,
            # Zalo states no wait; the retry layer backs off.
            "the app's request rate limit was exceeded: slowed down and retried",
        ),
        ErrorRow(
            OK,
            OUTSIDE_WINDOW,
            CrmConfigError,
            # A send outside the interaction window: a person must reach the customer another
            # way (docs/zalo.md "Interaction window").
            "the user has not interacted with the OA in the past 7 days: a consultation "
            "message cannot be sent",
        ),
        ErrorRow(
            OK,
            NOT_FOLLOWER,
            CrmNotFoundError,
            "no such user for this OA (unknown id, or the user never interacted with it)",
        ),
        ErrorRow(
            OK,
            "-224",
            CrmConfigError,
            "the OA's tier does not include this API: upgrade the OA or drop the mapping",
        ),
        ErrorRow(
            OK,
            "-201",
            CrmConfigError,
            "a parameter is invalid (our request as made): the mapping or settings need a fix",
        ),
        ErrorRow(
            OK,
            "-500",
            CrmUnavailableError,
            "Zalo failed on its side (an unknown or internal error): retried later",
        ),
        ErrorRow(
            OK,
            None,
            CrmConfigError,
            "an error code this connector does not know: see the message and docs/zalo.md",
        ),
        ErrorRow(429, None, CrmRateLimitedError, "the edge throttled the app: wait and retry"),
        ErrorRow(502, None, CrmUnavailableError, "a gateway in front of Zalo failed: retried"),
        ErrorRow(504, None, CrmUnavailableError, "a gateway in front of Zalo timed out: retried"),
    ],
)


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds the edge asks us to wait (Retry-After), when it says."""
    value = (headers or {}).get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def map_answer(
    status: int,
    code: str | None,
    message: str,
    headers: Mapping[str, Any] | None,
    connection: str,
    *,
    prefix: str = "",
) -> CrmError:
    """The `CrmError` for a refused call: HTTP status, Zalo's `error` code and `message`."""
    what = f"Zalo {prefix}".strip()
    shown = f" error {code}" if code else ""
    summary = f"{what} answered HTTP {status}{shown}: {message[:200]}".rstrip(": ")
    lowered = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    return ERROR_TABLE.classify(
        status, code, summary, connection=connection, retry_after=retry_after(lowered)
    )
