"""The one retry policy: what it retries, how long it waits, when it gives up."""

from __future__ import annotations

import random

import pytest

from adapters.retry import RetryPolicy, call_with_retry
from service.ports import (
    CrmConfigError,
    CrmError,
    CrmNotFoundError,
    CrmQuotaExhaustedError,
    CrmRateLimitedError,
    CrmRejectedError,
    CrmUnavailableError,
)


class Flaky:
    """Fails with the given errors in turn, then returns 'ok'."""

    def __init__(self, *errors: CrmError) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def run(fn: Flaky, policy: RetryPolicy | None = None) -> tuple[str, list[float]]:
    waits: list[float] = []
    result = call_with_retry(fn, policy, sleep=waits.append, rng=random.Random(7))
    return result, waits


def test_unavailable_is_retried_with_growing_jittered_backoff() -> None:
    fn = Flaky(*(CrmUnavailableError("503") for _ in range(4)))
    result, waits = run(fn, RetryPolicy(base_delay=1.0, max_delay=100.0))
    assert result == "ok"
    assert fn.calls == 5
    for attempt, wait in enumerate(waits, start=1):
        assert 0 <= wait <= 2 ** (attempt - 1)  # full jitter under the exponential ceiling


def test_backoff_is_capped() -> None:
    fn = Flaky(*(CrmUnavailableError("timeout") for _ in range(5)))
    _, waits = run(fn, RetryPolicy(max_attempts=10, base_delay=10.0, max_delay=3.0))
    assert max(waits) <= 3.0


def test_retry_after_is_honoured_and_bounded() -> None:
    fn = Flaky(
        CrmRateLimitedError("429", retry_after=7), CrmRateLimitedError("429", retry_after=900)
    )
    _, waits = run(fn, RetryPolicy(max_retry_after=60))
    assert waits == [7, 60]


def test_rate_limited_without_retry_after_backs_off() -> None:
    fn = Flaky(CrmRateLimitedError("429"))
    _, waits = run(fn, RetryPolicy(base_delay=2.0))
    assert len(waits) == 1
    assert 0 <= waits[0] <= 2.0


@pytest.mark.parametrize(
    "error",
    [
        CrmConfigError("INVALID_SESSION_ID after refresh"),
        CrmQuotaExhaustedError("REQUEST_LIMIT_EXCEEDED"),
        CrmRejectedError("bad value", record_id="003x", code="FIELD_CUSTOM_VALIDATION_EXCEPTION"),
        CrmNotFoundError("gone"),
    ],
)
def test_final_errors_are_not_retried(error: CrmError) -> None:
    fn = Flaky(error)
    with pytest.raises(type(error)):
        run(fn)
    assert fn.calls == 1


def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    fn = Flaky(*(CrmUnavailableError(f"503 #{i}") for i in range(10)))
    with pytest.raises(CrmUnavailableError, match="503 #2"):
        run(fn, RetryPolicy(max_attempts=3))
    assert fn.calls == 3


def test_gives_up_when_elapsed_time_is_spent() -> None:
    now = [1000.0]  # a fake clock that the fake sleep advances

    def sleep(seconds: float) -> None:
        now[0] += seconds

    fn = Flaky(*(CrmRateLimitedError("429", retry_after=30) for _ in range(10)))
    policy = RetryPolicy(max_attempts=50, max_elapsed_seconds=100)
    with pytest.raises(CrmRateLimitedError):
        call_with_retry(fn, policy, sleep=sleep, clock=lambda: now[0])
    assert fn.calls == 5  # attempts at 0, 30, 60, 90 and 120 s; 120 s is past the budget


def test_other_exceptions_pass_straight_through() -> None:
    def broken() -> str:
        raise KeyError("programming error")

    with pytest.raises(KeyError):
        call_with_retry(broken, sleep=lambda _s: None)
