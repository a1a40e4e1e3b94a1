"""One error table per CRM boundary, and the one classifier that reads them (docs/errors.md).

A connector's `errors.py` holds its `ERROR_TABLE`: rows of (HTTP status, vendor error code or
None) -> a `Crm*Error` class, each row with the reason it is that class. `ErrorTable.classify`
looks an answer up — the exact (status, code) first, then (status, any code), then the fallback
of its status class (`FALLBACK_ROWS`, shared by every connector) — and builds the error with
the row's reason in its message. Transport failures (no HTTP answer at all) have no status to
look up; `transport_error` maps them, the same way for every connector.

Clients catch only `TRANSPORT_ERRORS` and their SDK's exceptions and raise the mapped error
`from` the original, so the cause (and its traceback) is kept; any other exception is a bug and
propagates unchanged instead of being retried as an outage.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import requests
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

StatusClass = Literal["3xx", "4xx", "5xx"]

# What may go wrong below an SDK before any HTTP answer: requests (simple-salesforce's
# transport), urllib3 (hubspot-api-client's) and the OS (a reset socket, a missing CA file).
# `requests.JSONDecodeError` (a 2xx body that is not JSON, e.g. a proxy's page) is a
# RequestException too, and so lands here as an unreadable answer.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    OSError,
)
_TIMEOUTS = (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)

# The kinds a table row may name: each is built from a message alone (a refused *record*,
# `CrmRejectedError`, needs the record and is reported per record, never by a table).
_TABLE_KINDS = (
    CrmConfigError,
    CrmNotFoundError,
    CrmQuotaExhaustedError,
    CrmRateLimitedError,
    CrmUnavailableError,
)


@dataclass(frozen=True)
class ErrorRow:
    """(status, code) -> error class, and why. `status` is an HTTP status or a status class
    ("4xx"); `code` None matches any vendor code of that status."""

    status: int | StatusClass
    code: str | None
    error: type[CrmError]
    why: str

    def __post_init__(self) -> None:
        if not issubclass(self.error, _TABLE_KINDS):
            raise TypeError(f"{self.error.__name__} cannot be a table row's error")
        if not self.why.strip():
            raise ValueError(f"row ({self.status}, {self.code}) needs a reason")


# When no row of a connector matches: the class of the status decides. A 4xx (or a 3xx the SDK
# did not follow) means our request is wrong for this CRM — mapping, permissions, configuration —
# which a retry cannot fix and a person must; a 5xx is the CRM failing, which may pass.
FALLBACK_ROWS: tuple[ErrorRow, ...] = (
    ErrorRow(
        "3xx",
        None,
        CrmConfigError,
        "a redirect or multiple choice the client does not follow: check the base URL and the "
        "mapping",
    ),
    ErrorRow(
        "4xx",
        None,
        CrmConfigError,
        "the CRM refused the request as made: the mapping or connection settings need a fix",
    ),
    ErrorRow("5xx", None, CrmUnavailableError, "the CRM failed on its side; retried later"),
)


def status_class(status: int) -> StatusClass:
    """The class whose fallback row applies to `status` (anything outside 3xx/4xx is read as
    a server failure: an SDK reporting no usable status is the CRM's answer going wrong)."""
    if 300 <= status < 400:
        return "3xx"
    if 400 <= status < 500:
        return "4xx"
    return "5xx"


class ErrorTable:
    """One CRM's rows, then the shared fallbacks; `rows` is everything a test must walk."""

    def __init__(self, crm: str, rows: Iterable[ErrorRow]) -> None:
        self.crm = crm
        own = tuple(rows)
        keys = [(r.status, r.code) for r in own]
        duplicated = {k for k in keys if keys.count(k) > 1}
        if duplicated:
            raise ValueError(f"{crm} error table repeats {sorted(map(str, duplicated))}")
        overridden = set(keys)
        self.rows = own + tuple(r for r in FALLBACK_ROWS if (r.status, r.code) not in overridden)
        self._by_key = {(r.status, r.code): r for r in self.rows}

    def row(self, status: int, code: str | None) -> ErrorRow:
        """The row deciding (status, code): exact, then any code, then the status class."""
        for key in ((status, code), (status, None), (status_class(status), None)):
            found = self._by_key.get(key)
            if found is not None:
                return found
        raise AssertionError("unreachable: every status class has a fallback row")

    def classify(
        self,
        status: int,
        code: str | None,
        summary: str,
        *,
        connection: str,
        retry_after: float | None = None,
        resets_at: datetime | None = None,
    ) -> CrmError:
        """The error for an answer: `summary` (the CRM's status, code and message, never a
        credential) followed by the deciding row's reason. `retry_after` / `resets_at` are what
        the connector read from the answer's headers or body, used by the kinds that carry them.
        """
        row = self.row(status, code or None)
        message = f"{summary} ({row.why})"
        error: CrmError
        if row.error is CrmRateLimitedError:
            error = CrmRateLimitedError(message, retry_after=retry_after, connection=connection)
        elif row.error is CrmQuotaExhaustedError:
            error = CrmQuotaExhaustedError(message, resets_at=resets_at, connection=connection)
        else:
            error = row.error(message, connection=connection)
        error.http_status = status
        return error


def transport_error(error: BaseException, crm: str, base_url: str, connection: str) -> CrmError:
    """The error for a failure before any HTTP answer: TLS (a config error naming host and
    reason, never retried), a timeout, or a connection that could not be made or was dropped."""
    tls = tls_error(error, base_url or crm, connection)
    if tls is not None:
        return tls
    if isinstance(error, _TIMEOUTS):
        return CrmUnavailableError(
            f"{crm} did not answer in time ({type(error).__name__}; retried later)",
            connection=connection,
        )
    return CrmUnavailableError(
        f"cannot reach {crm} ({type(error).__name__}: the connection failed or dropped; "
        "retried later)",
        connection=connection,
    )


def error_body(body: Any) -> dict[str, Any]:
    """An answer's body as a JSON object: empty when absent, not JSON (a 429 may be plain text)
    or not an object. Every connector's error table reads its codes from this."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            parsed = json.loads(body)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return body if isinstance(body, dict) else {}
