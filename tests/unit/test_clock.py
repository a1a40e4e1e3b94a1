"""The `Clock` port: the system clock, the fixed one, and the fault suites' scoring instant
(`CEM_TESTING_AS_OF`) chosen once, in the composition root."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service import testing_hooks
from service.clock import SYSTEM_CLOCK, FixedClock, SystemClock
from service.ports import Clock

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_the_system_clock_tells_aware_utc_time() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(UTC)


def test_a_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(T0)
    assert clock.now() == clock.now() == T0
    clock.advance(timedelta(minutes=5))
    assert clock.now() == T0 + timedelta(minutes=5)
    clock.set(datetime(2027, 1, 1))  # naive: taken as UTC
    assert clock.now() == datetime(2027, 1, 1, tzinfo=UTC)


def test_both_are_clocks() -> None:
    assert isinstance(SYSTEM_CLOCK, Clock)
    assert isinstance(FixedClock(T0), Clock)


def test_the_scoring_clock_is_the_given_one_unless_a_suite_fixed_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = FixedClock(T0)
    monkeypatch.delenv(testing_hooks.AS_OF_VARIABLE, raising=False)
    assert testing_hooks.scoring_clock(default) is default
    monkeypatch.setenv(testing_hooks.AS_OF_VARIABLE, "2026-11-01T12:00:00+07:00")
    fixed = testing_hooks.scoring_clock(default)
    assert fixed.now() == datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
    monkeypatch.setenv(testing_hooks.AS_OF_VARIABLE, "2026-11-01T12:00:00")
    assert testing_hooks.scoring_clock(default).now() == datetime(2026, 11, 1, 12, tzinfo=UTC)


def test_the_sync_and_churn_jobs_score_at_the_fixed_instant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The composition root hands the jobs `scoring_clock(clock)`: what the env variable fixes
    is the instant they score at, and only that."""
    from service.config import Settings
    from service.main import job_kinds

    seen: list[datetime] = []
    monkeypatch.setenv(testing_hooks.AS_OF_VARIABLE, T0.isoformat())
    monkeypatch.setattr("service.jobs.churn_job.train_churn", _record_as_of(seen))
    registry = job_kinds(Settings(), engine=None, analyzer=lambda: None)  # type: ignore[arg-type]
    registry.get("churn-train").function(_Context(), {})  # type: ignore[arg-type]
    assert seen == [T0]


def _record_as_of(seen: list[datetime]) -> object:
    def train(
        _records: object, _models: object, _name: str, as_of: datetime, **_: object
    ) -> object:
        seen.append(as_of)

        class Report:
            in_use = False

        return Report()

    return train


class _Context:
    connection = "acme"

    def progress(self, **_: object) -> None:
        return None
