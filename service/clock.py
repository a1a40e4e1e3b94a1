"""The `Clock` port's implementations: the system clock, and a fixed one that moves only when
told to (tests, and the fault suites' fixed scoring instant, `service.testing_hooks`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """An instant that stays put until `set` or `advance` moves it (not thread-safe to move
    while others read: tests move it between steps)."""

    def __init__(self, instant: datetime) -> None:
        self._instant = _aware(instant)

    def now(self) -> datetime:
        return self._instant

    def set(self, instant: datetime) -> None:
        self._instant = _aware(instant)

    def advance(self, by: timedelta) -> None:
        self._instant += by

    def __repr__(self) -> str:
        return f"FixedClock({self._instant.isoformat()})"


def _aware(instant: datetime) -> datetime:
    # A naive instant is taken as UTC, the zone every stored time is in.
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


SYSTEM_CLOCK = SystemClock()
