"""How the API answers a CRM failure: one status and problem `type` per `Crm*Error` kind.

Routes do not catch CRM errors; the exception handler installed by
`service.api.problems.install_problem_handlers` answers every one of them from `CRM_PROBLEMS`
(docs/errors.md has the same table for API users). The choice of status, kind by kind:

- The CRM is down, throttling us or out of daily quota: **503** with Retry-After when known.
  Nothing is wrong with the caller's request, and the same request later should work. 429
  would tell the caller *it* sent too many requests to *us*, which is not what happened. The
  CRMs' webhook senders retry deliveries answered with a 5xx, which is what such a failure needs.
- TLS or configuration (credentials, permissions, a mapping the CRM refuses): **502**. We are
  the gateway and the upstream cannot be used as configured; a person must fix the connection,
  and no caller-side change helps. Retrying senders get through once it is fixed.
- The record is not in the CRM: **404**, as for any resource the request names and that is not
  there.
- The CRM refused one record (a validation rule): **422**, the request was understood but the
  CRM will not take the value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from service.ports import (
    CrmConfigError,
    CrmError,
    CrmNotFoundError,
    CrmQuotaExhaustedError,
    CrmRateLimitedError,
    CrmRejectedError,
    CrmTlsError,
    CrmUnavailableError,
)


@dataclass(frozen=True)
class CrmProblem:
    """The answer to one kind of CRM failure: status, problem kind, and the detail's lead."""

    status: int
    kind: str
    lead: str


# Most specific class first: the first row the error is an instance of decides.
CRM_PROBLEMS: tuple[tuple[type[CrmError], CrmProblem], ...] = (
    (CrmTlsError, CrmProblem(502, "crm-tls", "the CRM's TLS certificate could not be verified")),
    (CrmConfigError, CrmProblem(502, "crm-misconfigured", "the CRM connection needs a fix")),
    (CrmRateLimitedError, CrmProblem(503, "crm-rate-limited", "the CRM is throttling us")),
    (CrmQuotaExhaustedError, CrmProblem(503, "crm-quota-exhausted", "the CRM quota is spent")),
    (CrmUnavailableError, CrmProblem(503, "crm-unavailable", "the CRM failed")),
    (CrmNotFoundError, CrmProblem(404, "crm-not-found", "the CRM has no such record")),
    (CrmRejectedError, CrmProblem(422, "crm-rejected", "the CRM refused the record")),
    # A kind added to service/ports.py without a row here: the CRM failed in a way we cannot
    # name, and the request may well be fine.
    (CrmError, CrmProblem(502, "crm-error", "the CRM refused or failed")),
)


def crm_problem(error: CrmError) -> CrmProblem:
    """The row deciding how `error` is answered."""
    return next(problem for kind, problem in CRM_PROBLEMS if isinstance(error, kind))


def retry_after(error: CrmError, now: datetime) -> str | None:
    """A Retry-After value (whole seconds) when the CRM said how long to wait, else None."""
    seconds: float | None = None
    if isinstance(error, CrmRateLimitedError):
        seconds = error.retry_after
    elif isinstance(error, CrmQuotaExhaustedError) and error.resets_at is not None:
        seconds = (error.resets_at - now.astimezone(UTC)).total_seconds()
    if seconds is None:
        return None
    return str(max(1, math.ceil(seconds)))


def _kinds(status: int) -> str:
    return ", ".join(p.kind for _, p in CRM_PROBLEMS if p.status == status)


# For the `responses` of a route that calls a CRM (its own 404 and 422 say more than these).
CRM_RESPONSES: dict[int | str, dict[str, str]] = {
    502: {"description": f"The CRM connection needs a fix ({_kinds(502)})"},
    503: {
        "description": f"The CRM failed, throttles us or is out of quota ({_kinds(503)}): "
        "try again later (Retry-After when the CRM said how long)"
    },
}
