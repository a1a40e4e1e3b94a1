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


def test_rate_limit_waits_go_to_the_progress_line_not_to_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 16: the demo printed 16 "CRM call failed … retrying" lines inside its progress."""
    from service.progress import CounterLine, progress_bar
    from service.waits import listening_for_waits

    heard: list[tuple[str, float]] = []
    flaky = Flaky(CrmRateLimitedError("429", retry_after=1), CrmUnavailableError("502"))
    with (
        caplog.at_level("INFO", logger="adapters.retry"),
        listening_for_waits(lambda crm, seconds: heard.append((crm, seconds))),
    ):
        call_with_retry(flaky, sleep=lambda _s: None, rng=random.Random(7), crm="HubSpot")
    assert heard == [("HubSpot", 1.0)]
    levels = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert levels[0] == ("INFO", "waiting 1 s for HubSpot's rate limit (attempt 1)")
    assert [lvl for lvl, _ in levels[1:]] == ["WARNING"]  # a 5xx retry still warns

    with progress_bar() as bar:
        line = CounterLine(bar, "hubspot-demo")
        line("pulled", 200)
        line.waiting("HubSpot", 0.4)
        shown = bar.tasks[0].description
        assert shown == "hubspot-demo: pulled 200  (waiting 1 s for HubSpot's rate limit)"
        line("pulled", 100)
        assert bar.tasks[0].description == "hubspot-demo: pulled 300"


def test_tls_errors_are_config_errors_and_not_retried() -> None:
    from service.ports import CrmTlsError

    flaky = Flaky(CrmTlsError("TLS certificate could not be verified for x: y"))
    with pytest.raises(CrmTlsError):
        run(flaky)
    assert flaky.calls == 1
    assert issubclass(CrmTlsError, CrmConfigError)
