"""Bounds on numbers and times that come from outside: what no real record can exceed.

An amount of 1e400 parses as infinity, and one infinite or absurd value poisons every sum, mean
and model fitted over it; an event time of year 33658 makes every later real event look stale.
So amounts are finite and below `MAX_AMOUNT` (10^15: more than any single order, deal or
company's revenue, in any currency with a unit), event times are not before 1970, and times
that arrive in real time (webhooks, `POST /v1/interactions`) are at most `MAX_FUTURE` ahead of
the receiving clock (clocks drift, time zones are mislabelled; a day absorbs both).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, Field

from service.domain.base import AwareDatetime

MAX_AMOUNT = 1e15
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
MAX_FUTURE = timedelta(days=1)
MAX_FUTURE_MS = int(MAX_FUTURE.total_seconds() * 1000)

Amount = Annotated[float, Field(ge=0, lt=MAX_AMOUNT, allow_inf_nan=False)]
"""A money amount: finite, not negative, below 10^15."""


def _not_before_1970(value: datetime) -> datetime:
    if value < EARLIEST:
        raise ValueError("a time before 1970 is not an event time")
    return value


EventTime = Annotated[AwareDatetime, AfterValidator(_not_before_1970)]
"""When something happened: timezone-aware, not before 1970."""


def not_in_future(value: datetime, now: datetime) -> datetime:
    """`value`, unless it is more than `MAX_FUTURE` after `now` (ValueError)."""
    if value > now + MAX_FUTURE:
        raise ValueError("a time more than a day in the future is not an event time")
    return value


def epoch_ms_in_range(stamp: int, now_ms: int) -> bool:
    """An epoch-milliseconds event time from outside: 1970 onwards, at most a day ahead."""
    return 0 <= stamp <= now_ms + MAX_FUTURE_MS
