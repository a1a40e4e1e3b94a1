"""The one retry policy for every CRM call (no retries stacked inside the SDKs).

Retries only what can succeed later — `CrmRateLimitedError` (honouring Retry-After) and
`CrmUnavailableError` (exponential back-off with full jitter) — bounded by attempts and by total
elapsed time. Config (TLS included), rejected, not-found and quota errors go straight to the
caller.

Every attempt is counted in `cem_crm_calls_total{crm, status}`. A rate-limit wait is normal
operation: it is logged at INFO, counted in `cem_crm_rate_limit_wait_seconds_total` and
announced to the progress display (service/waits.py), not printed as a warning; other retries
(5xx, timeouts) stay warnings.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
)
from tenacity.stop import stop_base

from service.metrics import CRM_CALLS, CRM_RATE_LIMIT_WAIT
from service.ports import CrmError, CrmRateLimitedError, CrmTlsError, CrmUnavailableError
from service.waits import announce_wait, describe_wait

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of the retry loop. Defaults suit interactive syncs; jobs may allow more."""

    max_attempts: int = 6
    max_elapsed_seconds: float = 120.0
    base_delay: float = 0.5
    max_delay: float = 30.0
    # Never wait longer than this for a Retry-After, even when the CRM asks for more.
    max_retry_after: float = 60.0


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, CrmError) and error.retryable


class _Wait:
    """Retry-After when the CRM gives one, else exponential back-off with full jitter."""

    def __init__(self, policy: RetryPolicy, rng: random.Random) -> None:
        self.policy = policy
        self.rng = rng

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, CrmRateLimitedError) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.policy.max_retry_after)
        ceiling = min(
            self.policy.max_delay, self.policy.base_delay * 2 ** (state.attempt_number - 1)
        )
        return self.rng.uniform(0, ceiling)


class _OutOfTime(stop_base):
    """Stop once the time budget is spent, on an injectable clock."""

    def __init__(self, clock: Callable[[], float], started: float, budget: float) -> None:
        self.clock = clock
        self.started = started
        self.budget = budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.clock() - self.started >= self.budget


def status_label(error: BaseException | None) -> str:
    """The `status` label of one attempt: ok, the HTTP status, or why no answer came."""
    if error is None:
        return "ok"
    if isinstance(error, CrmRateLimitedError):
        # One series to alert on: Salesforce's concurrent-request 403 is a rate limit too.
        return "429"
    status = getattr(error, "http_status", None)
    if status is not None:
        return str(status)
    if isinstance(error, CrmTlsError):
        return "tls"
    if isinstance(error, CrmUnavailableError):
        return "unreachable"
    return "error"


def note_rate_limit_wait(crm: str, seconds: float, *, announce: bool = True) -> None:
    """Count a wait for `crm`'s rate limit (a 429's back-off or pacing) and tell the progress
    display; `announce=False` for routine spacing too short to show."""
    CRM_RATE_LIMIT_WAIT.labels(crm.lower()).inc(seconds)
    if announce:
        announce_wait(crm, seconds)


def _before_sleep(crm: str) -> Callable[[RetryCallState], None]:
    def log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        if isinstance(error, CrmRateLimitedError):
            note_rate_limit_wait(crm, wait)
            log.info("%s (attempt %d)", describe_wait(crm, wait), state.attempt_number)
            return
        log.warning(
            "CRM call failed (%s: %s); attempt %d, retrying in %.2fs",
            type(error).__name__,
            error,
            state.attempt_number,
            wait,
        )

    return log_retry


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    clock: Callable[[], float] = time.monotonic,
    crm: str = "CRM",
) -> T:
    """Call `fn`, retrying retryable CRM errors within `policy`; re-raises the last error.

    `crm` names the CRM in metrics and wait messages ("HubSpot", "Salesforce"). `sleep`, `rng`
    and `clock` are injectable so the policy can be tested without waiting.
    """
    chosen = policy or RetryPolicy()
    started = clock()

    def counted() -> T:
        try:
            result = fn()
        except BaseException as error:
            CRM_CALLS.labels(crm.lower(), status_label(error)).inc()
            raise
        CRM_CALLS.labels(crm.lower(), "ok").inc()
        return result

    retrying = Retrying(
        retry=retry_if_exception(_is_retryable),
        stop=stop_any(
            stop_after_attempt(chosen.max_attempts),
            _OutOfTime(clock, started, chosen.max_elapsed_seconds),
        ),
        wait=_Wait(chosen, rng or random.Random()),  # noqa: S311  (jitter, not cryptography)
        sleep=sleep,
        before_sleep=_before_sleep(crm),
        reraise=True,
    )
    return retrying(counted)
