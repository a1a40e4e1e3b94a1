"""Zendesk's error table: its answers mapped onto the `Crm*Error` family (service/ports.py).

Zendesk writes errors as `{"error": "<Code>", "description": "...", "details": {...}}`
(404 `RecordNotFound`, 422 `RecordInvalid` with per-field `details`, 422 `InvalidValue`);
some answers carry a bare message (`{"error": "Couldn't authenticate you"}`) and search an
object (`{"error": {"title": ..., "message": ...}}`); a 429 may be `text/plain`. Every 429 and
a maintenance 503 say how long to wait in `Retry-After` (seconds). Facts and sources:
docs/zendesk.md.
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

# The incremental export's refusal of a start_time inside its floor (1 or 5 minutes before
# now, docs/zendesk.md "Incremental exports"): the same call passes once the time has aged.
TOO_RECENT = "InvalidValue"
TOO_RECENT_WAIT = 60.0

ERROR_TABLE = ErrorTable(
    "Zendesk",
    [
        ErrorRow(
            400,
            None,
            CrmConfigError,
            "the request is malformed, or offset paging went past 10,000 records: the client "
            "must page by cursor",
        ),
        ErrorRow(
            401,
            None,
            CrmConfigError,
            "Couldn't authenticate you: check EMAIL and API_TOKEN, or the OAuth ACCESS_TOKEN",
        ),
        ErrorRow(
            403,
            None,
            CrmConfigError,
            "Forbidden: the token's user or OAuth scope may not do this (an admin token is needed)",
        ),
        ErrorRow(404, None, CrmNotFoundError, "RecordNotFound: no such record (deleted or merged)"),
        ErrorRow(
            409,
            None,
            CrmUnavailableError,
            # Zendesk answers 409 when two updates of one record collide; its advice is to
            # retry the update (docs/zendesk.md "Errors").
            "Conflict: another update of the same record was in progress; retried later",
        ),
        ErrorRow(
            422,
            None,
            CrmConfigError,
            "RecordInvalid for the whole call: a field name or value the account refuses (see "
            "the details); check the push mapping and `cem setup`",
        ),
        ErrorRow(
            422,
            TOO_RECENT,
            CrmRateLimitedError,
            "Too recent start_time: the incremental export only starts a while before now; "
            "retried once the start time has aged",
        ),
        ErrorRow(
            429,
            None,
            CrmRateLimitedError,
            "the account's requests per minute or the 10 a minute of incremental exports are "
            "spent: wait Retry-After and retry",
        ),
        ErrorRow(
            503,
            None,
            CrmUnavailableError,
            "Zendesk is in maintenance or overloaded (it names a Retry-After): retried later",
        ),
    ],
)


def vendor_code(body: Mapping[str, Any]) -> str:
    """The table's key: `error` when it is a code word (`RecordNotFound`), the object form's
    `title` for search; a sentence (`Couldn't authenticate you`) is no code."""
    error = body.get("error")
    if isinstance(error, Mapping):
        error = error.get("title")
    text = str(error or "")
    return text if text.isalnum() else ""


def describe(body: Mapping[str, Any]) -> str:
    """The answer's own words: description, the object form's message, or a bare sentence;
    for RecordInvalid the fields named in `details` (their names only, never values)."""
    error = body.get("error")
    if isinstance(error, Mapping):
        return str(error.get("message") or "")
    text = str(body.get("description") or (error if isinstance(error, str) else "") or "")
    details = body.get("details")
    if isinstance(details, Mapping) and details:
        text = f"{text} (fields: {', '.join(sorted(str(k) for k in details))})"
    return text


def retry_after(headers: Mapping[str, str] | None, code: str) -> float | None:
    """Seconds to wait: Retry-After, else a minute for a too-recent start time."""
    value = None
    if headers is not None:
        value = headers.get("Retry-After") or headers.get("retry-after")
    if value is not None:
        try:
            return float(value)
        except ValueError:
            pass
    return TOO_RECENT_WAIT if code == TOO_RECENT else None


def map_answer(
    status: int, body: Any, headers: Mapping[str, str] | None, connection: str
) -> CrmError:
    """The `CrmError` for a refused call, from its status, body (raw or parsed) and headers."""
    parsed = error_body(body)
    code = vendor_code(parsed)
    if status == 422 and code == TOO_RECENT and "recent" not in describe(parsed).lower():
        code = ""  # another invalid value: the request is wrong, not early
    summary = f"Zendesk {status} {code}: {describe(parsed)}".replace("  ", " ").strip()
    return ERROR_TABLE.classify(
        status,
        code,
        summary.rstrip(":"),
        connection=connection,
        retry_after=retry_after(headers, code),
    )


# A per-record refusal that means the record is gone: an erasure has nothing left to clear.
GONE_CODES = frozenset({"RecordNotFound"})
