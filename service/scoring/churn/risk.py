"""Label-free churn risk per customer: BG/NBD for buyers, Kaplan-Meier for subscribers.

Outputs a ChurnFlag with the probability of no purchase (or of cancelling) in the next
`horizon_days`, the customer's segment, the drivers in words ("usually buys every ~6 weeks;
last purchase 20 weeks ago, 3.3x longer than usual") and the experience warnings beside it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from service.domain import (
    Case,
    ChurnFlag,
    ChurnModelKind,
    ChurnSegment,
    ContractKind,
    Customer,
    Interaction,
    RiskDriver,
    SurveyResponse,
    Transaction,
    TransactionStatus,
)
from service.scoring.churn.bgnbd import (
    BgNbdParams,
    death_odds,
    expected_purchases,
    p_alive,
    p_no_purchase,
)
from service.scoring.churn.no_estimate import (
    NO_PURCHASES,
    NO_SUBSCRIPTION_START,
    NO_SURVIVAL_CURVE,
    complaint_only_flag,
    purchase_segment,
)
from service.scoring.churn.selflabel import RiskMap, apply_risk_map, risk_features
from service.scoring.churn.signals import experience_warnings, recent_complaint
from service.scoring.churn.summary import PurchaseSummary, purchase_summary
from service.scoring.churn.survival import SurvivalCurve, p_cancel_within
from service.scoring.columns import F64, PurchaseColumns, days_before, epoch_day
from service.scoring.version import SCORING_VERSION

SEGMENT_CODES: tuple[ChurnSegment, ...] = tuple(ChurnSegment)


@dataclass(frozen=True, slots=True)
class PopulationRisk:
    """BG/NBD risk for many customers at once (NaN where a value is not meaningful)."""

    p_quiet: F64  # P(no purchase in horizon), recalibrated when a map is given; NaN: never bought
    expected: F64
    p_alive: F64  # NaN for one-time buyers: P(alive) = 1 for them says nothing
    segment: np.ndarray  # index into SEGMENT_CODES


def population_risk(
    params: BgNbdParams,
    s: PurchaseSummary,
    horizon_days: float,
    risk_map: RiskMap | None = None,
) -> PopulationRisk:
    """Vectorised BG/NBD risk for a purchase summary (same units as the fit).

    With `risk_map` (fitted for this horizon on the connection's own backtest) the probability
    is the recalibrated one; expected purchases and P(alive) stay BG/NBD's."""
    if abs(s.unit_days - params.unit_days) > 1e-9:
        raise ValueError(f"summary in {s.unit_days}-day units, model in {params.unit_days}")
    if risk_map is not None and risk_map.horizon_days != horizon_days:
        raise ValueError(f"risk map made for {risk_map.horizon_days} days, asked {horizon_days}")
    t = horizon_days / params.unit_days
    # The three share the odds of having dropped out: worked out once, not three times.
    odds = death_odds(params, s.x, s.t_x, s.age)
    quiet = p_no_purchase(params, t, s.x, s.t_x, s.age, odds=odds)
    exp = expected_purchases(params, t, s.x, s.t_x, s.age, odds=odds)
    alive = p_alive(params, s.x, s.t_x, s.age, odds=odds)
    if risk_map is not None:
        quiet = apply_risk_map(risk_map, risk_features(s, quiet, exp))
    segment = np.where(
        ~s.buyer,
        SEGMENT_CODES.index(ChurnSegment.NO_PURCHASE),
        np.where(
            s.x > 0,
            SEGMENT_CODES.index(ChurnSegment.REPEAT),
            SEGMENT_CODES.index(ChurnSegment.ONE_TIME),
        ),
    ).astype(np.int8)
    return PopulationRisk(
        p_quiet=np.where(s.buyer, quiet, np.nan),
        expected=np.where(s.buyer, exp, np.nan),
        p_alive=np.where(s.x > 0, alive, np.nan),
        segment=segment,
    )


@dataclass(frozen=True, slots=True)
class PurchaseRisk:
    """One customer's row of `population_risk`, with the purchase summary it came from."""

    p_quiet: float
    expected: float
    p_alive: float | None  # None for one-time buyers (see PopulationRisk)
    segment: ChurnSegment
    x: float
    t_x: float
    age: float


def purchase_risks(
    params: BgNbdParams, s: PurchaseSummary, horizon_days: float, risk_map: RiskMap | None = None
) -> list[PurchaseRisk]:
    """`population_risk` as one `PurchaseRisk` per customer: how a batch of customers hands
    `churn_flag` the rows worked out for all of them in one vectorised pass."""
    risk = population_risk(params, s, horizon_days, risk_map)
    # As Python numbers at once (tolist gives the values float() of each element gives).
    columns = (risk.p_quiet, risk.expected, risk.p_alive, risk.segment, s.x, s.t_x, s.age)
    return [
        PurchaseRisk(
            p_quiet=quiet,
            expected=expected,
            p_alive=None if alive != alive else alive,  # NaN is the only value unequal to itself
            segment=SEGMENT_CODES[segment],
            x=x,
            t_x=t_x,
            age=age,
        )
        for quiet, expected, alive, segment, x, t_x, age in zip(
            *(c.tolist() for c in columns), strict=True
        )
    ]


def _rhythm_driver(x: float, t_x: float, age: float, unit_days: float) -> RiskDriver:
    weeks = unit_days / 7.0
    since = (age - t_x) * weeks
    if x <= 0:
        return RiskDriver(
            name="one_time_buyer",
            text=f"Bought once, {since:.0f} weeks ago, and has not come back",
            impact=0.0,
        )
    gap = t_x / x * weeks
    ratio = since / gap if gap > 0 else float("inf")
    return RiskDriver(
        name="purchase_rhythm",
        text=(
            f"Usually buys every ~{gap:.0f} weeks; last purchase {since:.0f} weeks ago "
            f"({ratio:.1f}x longer than usual)"
        ),
        impact=ratio,
    )


def flag_context(
    customer: Customer,
    as_of: datetime,
    horizon_days: int,
    threshold: float,
    base_rate: float | None,
    transactions: Sequence[Transaction],
    surveys: Sequence[SurveyResponse],
    interactions: Sequence[Interaction],
    cases: Sequence[Case],
) -> tuple[dict[str, Any], tuple[RiskDriver, ...]]:
    """The fields every flag shares, and the leading drivers: the fresh complaint, if any.

    Worked out only once it is known which model judges the customer, or that none does (then
    only a fresh complaint flags them, see no_estimate.py)."""
    warnings = experience_warnings(as_of, surveys=surveys, interactions=interactions, cases=cases)
    # A fresh complaint flags the customer whatever the probability says; it leads the drivers.
    complaint = recent_complaint(as_of, surveys=surveys, interactions=interactions)
    counts = {
        "transactions": len(transactions),
        "surveys": len(surveys),
        "interactions": len(interactions),
        "cases": len(cases),
    }
    common = {
        "customer_id": customer.id,
        "as_of": as_of,
        "horizon_days": horizon_days,
        "threshold": threshold,
        "warnings": warnings,
        "base_rate": base_rate,
        "input_counts": counts,
        "scoring_version": SCORING_VERSION,
    }
    return common, (complaint,) if complaint is not None else ()


def churn_flag(
    customer: Customer,
    as_of: datetime,
    *,
    horizon_days: int,
    threshold: float,
    params: BgNbdParams | None = None,
    curve: SurvivalCurve | None = None,
    risk_map: RiskMap | None = None,
    transactions: Sequence[Transaction] = (),
    surveys: Sequence[SurveyResponse] = (),
    interactions: Sequence[Interaction] = (),
    cases: Sequence[Case] = (),
    base_rate: float | None = None,
    purchase_risk: PurchaseRisk | None = None,
) -> ChurnFlag | None:
    """Label-free churn risk of one customer; None when there is nothing to judge it by.

    Subscribers get the survival estimate (needs `curve`); buyers get BG/NBD (needs `params`).
    A customer no model can judge still gets a flag, without a probability, when their latest
    word is a fresh complaint (`no_estimate.complaint_only_flag`).

    `purchase_risk` is this customer's BG/NBD row when a batch worked it out for many customers
    at once (`purchase_risks` over their won purchases, `params` and `risk_map`); without it
    the row is worked out here.
    """
    # Worked out lazily, on the paths that build a flag (a complaint-only one included).
    judge = functools.partial(
        flag_context, customer, as_of, horizon_days, threshold, base_rate,
        transactions, surveys, interactions, cases,
    )  # fmt: skip
    if customer.contract is ContractKind.SUBSCRIPTION:
        if curve is None or customer.subscribed_at is None:
            # No estimate; a fresh complaint still raises the flag (no_estimate.py).
            why = NO_SURVIVAL_CURVE if curve is None else NO_SUBSCRIPTION_START
            return complaint_only_flag(*judge(), ChurnSegment.SUBSCRIPTION, why)
        common, first = judge()
        tenure = max(0.0, days_before(customer.subscribed_at, as_of))
        p = float(p_cancel_within(curve, np.array([tenure]), horizon_days)[0])
        driver = RiskDriver(
            name="tenure",
            text=(
                f"Subscribed {tenure:.0f} days; {p:.0%} of subscribers at this tenure cancel "
                f"within {horizon_days} days"
            ),
            impact=p,
        )
        return ChurnFlag(
            **common,
            probability=p,
            model=ChurnModelKind.SURVIVAL,
            segment=ChurnSegment.SUBSCRIPTION,
            flagged=p >= threshold or bool(first),
            drivers=(*first, driver),
        )
    if params is None:
        # No estimate; a fresh complaint still raises the flag (no_estimate.py).
        return complaint_only_flag(*judge(), *purchase_segment(customer.id, transactions, as_of))
    won = [
        t
        for t in transactions
        if t.customer_id == customer.id
        and t.status is TransactionStatus.WON
        and t.occurred_at <= as_of
    ]
    if not won:
        return complaint_only_flag(*judge(), ChurnSegment.NO_PURCHASE, NO_PURCHASES)
    common, first = judge()
    if purchase_risk is None:
        cols = PurchaseColumns(
            cust=np.zeros(len(won), dtype=np.int64),
            day=np.array([epoch_day(t.occurred_at) for t in won], dtype=np.int64),
            amount=np.array([t.amount for t in won]),
        )
        s = purchase_summary(cols, 1, epoch_day(as_of), unit_days=params.unit_days)
        [purchase_risk] = purchase_risks(params, s, horizon_days, risk_map)
    r = purchase_risk
    p = r.p_quiet
    drivers = [_rhythm_driver(r.x, r.t_x, r.age, params.unit_days)]
    drivers.append(
        RiskDriver(
            name="no_purchase_chance",
            text=f"Chance of no purchase in the next {horizon_days} days: {p:.0%}"
            + (f" (average customer: {base_rate:.0%})" if base_rate is not None else ""),
            impact=p - (base_rate or 0.0),
        )
    )
    return ChurnFlag(
        **common,
        probability=p,
        model=ChurnModelKind.BG_NBD,
        segment=r.segment,
        flagged=p >= threshold or bool(first),
        expected_purchases=r.expected,
        p_alive=r.p_alive,
        drivers=(*first, *drivers),
    )
