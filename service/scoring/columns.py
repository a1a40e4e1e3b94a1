"""Columnar events: the one representation every score is computed from.

A single customer's history (explained scoring, real time) and a chunk of a million customers
(batch scoring) go through the same vectorised formulas; only how the columns are filled
differs. Times are stored relative to `as_of` so no formula ever needs a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from service.domain import (
    Case,
    Direction,
    Interaction,
    Polarity,
    SurveyKind,
    SurveyResponse,
    Transaction,
    TransactionStatus,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

SECONDS_PER_DAY = 86_400.0
# The int64 extremes, taken once: np.iinfo costs microseconds a call, which shows when scoring
# one customer.
I64_MAX = int(np.iinfo(np.int64).max)
I64_MIN = int(np.iinfo(np.int64).min)


_NAN = float("nan")


def _f(values: Sequence[float]) -> F64:
    return np.array(values, dtype=np.float64)


def _i(values: Sequence[int]) -> I64:
    return np.array(values, dtype=np.int64)


def _unzip(rows: Sequence[tuple[Any, ...]], width: int) -> list[tuple[Any, ...]]:
    """Rows to `width` columns (empty columns when there are no rows)."""
    return list(zip(*rows, strict=True)) if rows else [()] * width


def epoch_day(moment: datetime) -> int:
    """Whole UTC calendar days since 1970-01-01 (purchase days are counted on the UTC calendar)."""
    return int(moment.astimezone(UTC).timestamp() // SECONDS_PER_DAY)


def days_before(moment: datetime, as_of: datetime) -> float:
    """How many days before `as_of` a moment is (negative if after)."""
    return (as_of - moment).total_seconds() / SECONDS_PER_DAY


@dataclass(frozen=True, slots=True)
class SurveyColumns:
    """Survey answers: customer index, age in days, answer normalised to 0..1 (1 = best), and
    the raw 0-10 answer for NPS questions (NaN for CSAT/CES)."""

    cust: I64
    age_days: F64
    value01: F64
    nps: F64


@dataclass(frozen=True, slots=True)
class InteractionColumns:
    """Interactions: age, whether inbound, sentiment score (NaN = none) and its confidence."""

    cust: I64
    age_days: F64
    inbound: Bool
    sentiment: F64
    confidence: F64


@dataclass(frozen=True, slots=True)
class AspectColumns:
    """Negative aspect mentions: customer index, age in days, aspect code (index in `names`)."""

    cust: I64
    age_days: F64
    code: I64


@dataclass(frozen=True, slots=True)
class CaseColumns:
    """Cases: age since opening, open flag, hours to first response / resolution, targets."""

    cust: I64
    age_days: F64
    is_open: Bool
    response_hours: F64
    resolution_hours: F64
    target_hours: F64


@dataclass(frozen=True, slots=True)
class PurchaseColumns:
    """Won transactions: customer index, UTC epoch day of the purchase, amount."""

    cust: I64
    day: I64
    amount: F64


@dataclass(frozen=True, slots=True)
class EventColumns:
    """All events of `n` customers (indices 0..n-1), relative to one `as_of`."""

    n: int
    as_of_day: int
    surveys: SurveyColumns
    interactions: InteractionColumns
    aspects: AspectColumns
    cases: CaseColumns
    purchases: PurchaseColumns
    aspect_names: tuple[str, ...] = field(default=())


def _survey01(r: SurveyResponse) -> float:
    low, high = r.bounds
    return (r.value - low) / (high - low)


def _hours(start: datetime, end: datetime | None) -> float:
    return float("nan") if end is None else (end - start).total_seconds() / 3600.0


def columns_from_records(
    customer_ids: Sequence[str],
    as_of: datetime,
    *,
    surveys: Iterable[SurveyResponse] = (),
    interactions: Iterable[Interaction] = (),
    cases: Iterable[Case] = (),
    transactions: Iterable[Transaction] = (),
    default_target_hours: float = 72.0,
) -> EventColumns:
    """Build columns from domain records; records after `as_of` or of unknown customers are
    left out (scoring a past `as_of` must not see the future)."""
    known = set(customer_ids)

    def keep(cid: str, moment: datetime) -> bool:
        return cid in known and moment <= as_of

    return columns_from_kept(
        customer_ids,
        as_of,
        surveys=[r for r in surveys if keep(r.customer_id, r.occurred_at)],
        interactions=[r for r in interactions if keep(r.customer_id, r.occurred_at)],
        cases=[r for r in cases if keep(r.customer_id, r.opened_at)],
        purchases=[
            r
            for r in transactions
            if keep(r.customer_id, r.occurred_at) and r.status is TransactionStatus.WON
        ],
        default_target_hours=default_target_hours,
    )


def columns_from_kept(
    customer_ids: Sequence[str],
    as_of: datetime,
    *,
    surveys: Sequence[SurveyResponse],
    interactions: Sequence[Interaction],
    cases: Sequence[Case],
    purchases: Sequence[Transaction],
    default_target_hours: float,
) -> EventColumns:
    """columns_from_records for records already kept: all of `customer_ids`, none after
    `as_of`, and won transactions only (a caller that filtered them need not pay twice)."""
    index = {cid: i for i, cid in enumerate(customer_ids)}
    sv, it, cs, tx = surveys, interactions, cases, purchases
    it_age = [days_before(r.occurred_at, as_of) for r in it]
    aspect_names: list[str] = []
    aspect_rows: list[tuple[int, float, int]] = []
    for r, age in zip(it, it_age, strict=True):
        if r.sentiment is None:
            continue
        for a in r.sentiment.aspects:
            if a.polarity is not Polarity.NEGATIVE:
                continue
            if a.aspect not in aspect_names:
                aspect_names.append(a.aspect)
            aspect_rows.append((index[r.customer_id], age, aspect_names.index(a.aspect)))

    def by_as_of(moment: datetime | None) -> datetime | None:
        # A case closed (or first answered) after as_of was still open (unanswered) at as_of.
        return moment if moment is not None and moment <= as_of else None

    # One pass per kind of record builds its rows; each column is then one np.array of a tuple
    # (cheaper than a generator through np.fromiter per column, which shows for one customer).
    sv_cols = _unzip(
        [
            (
                index[r.customer_id],
                days_before(r.occurred_at, as_of),
                _survey01(r),
                r.value if r.kind is SurveyKind.NPS else _NAN,
            )
            for r in sv
        ],
        4,
    )
    it_cols = _unzip(
        [
            (
                index[r.customer_id],
                age,
                r.direction is Direction.INBOUND,
                r.sentiment.score if r.sentiment else _NAN,
                r.sentiment.confidence if r.sentiment else 0.0,
            )
            for r, age in zip(it, it_age, strict=True)
        ],
        5,
    )
    aspect_cols = _unzip(aspect_rows, 3)
    cs_cols = _unzip(
        [
            (
                index[c.customer_id],
                days_before(c.opened_at, as_of),
                by_as_of(c.closed_at) is None,
                _hours(c.opened_at, by_as_of(c.first_response_at)),
                _hours(c.opened_at, by_as_of(c.closed_at)),
                c.target_resolution_hours or default_target_hours,
            )
            for c in cs
        ],
        6,
    )
    tx_cols = _unzip([(index[t.customer_id], epoch_day(t.occurred_at), t.amount) for t in tx], 3)
    return EventColumns(
        n=len(customer_ids),
        as_of_day=epoch_day(as_of),
        surveys=SurveyColumns(
            cust=_i(sv_cols[0]), age_days=_f(sv_cols[1]), value01=_f(sv_cols[2]), nps=_f(sv_cols[3])
        ),
        interactions=InteractionColumns(
            cust=_i(it_cols[0]),
            age_days=_f(it_cols[1]),
            inbound=np.array(it_cols[2], dtype=np.bool_),
            sentiment=_f(it_cols[3]),
            confidence=_f(it_cols[4]),
        ),
        aspects=AspectColumns(
            cust=_i(aspect_cols[0]), age_days=_f(aspect_cols[1]), code=_i(aspect_cols[2])
        ),
        cases=CaseColumns(
            cust=_i(cs_cols[0]),
            age_days=_f(cs_cols[1]),
            is_open=np.array(cs_cols[2], dtype=np.bool_),
            response_hours=_f(cs_cols[3]),
            resolution_hours=_f(cs_cols[4]),
            target_hours=_f(cs_cols[5]),
        ),
        purchases=PurchaseColumns(cust=_i(tx_cols[0]), day=_i(tx_cols[1]), amount=_f(tx_cols[2])),
        aspect_names=tuple(aspect_names),
    )
