"""Batch scoring of a whole population, vectorised and streamed chunk by chunk.

Each chunk is the columnar events of a disjoint set of customers (so no customer spans two
chunks); memory is bounded by the chunk, and the cost grows linearly with the population.
The formulas are the same functions the single-customer path uses (experience_matrix,
purchase_summary, population_risk, loyalty_stage_codes): nothing is re-implemented here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from service.scoring.churn.bgnbd import BgNbdParams
from service.scoring.churn.risk import population_risk
from service.scoring.churn.selflabel import RiskMap
from service.scoring.churn.summary import purchase_summary
from service.scoring.columns import F64, I64, EventColumns
from service.scoring.experience import experience_matrix
from service.scoring.segments import LadderRules, loyalty_stage_codes
from service.scoring.version import SCORING_VERSION
from service.scoring.weights import ExperienceWeights


@dataclass(frozen=True, slots=True)
class ScoreTable:
    """Scores of one chunk, one row per customer (NaN = not enough data)."""

    customer_ids: npt.NDArray[np.str_] | npt.NDArray[np.object_]
    experience: F64
    confidence: F64
    points: F64  # (n, len(FACTORS)) contributions
    churn_probability: F64
    expected_purchases: F64
    p_alive: F64
    churn_segment: npt.NDArray[np.int8]  # index into churn.risk.SEGMENT_CODES
    flagged: npt.NDArray[np.bool_]
    last_nps: F64
    loyalty_stage: npt.NDArray[np.int8]  # index into segments.STAGE_ORDER
    scoring_version: str = SCORING_VERSION

    def __len__(self) -> int:
        return len(self.experience)


def _last_per_customer(cust: I64, age: F64, values: F64, n: int) -> F64:
    """The value of each customer's most recent row (smallest age); NaN without rows."""
    out = np.full(n, np.nan)
    if len(cust):
        order = np.lexsort((age, cust))
        first = np.ones(len(order), dtype=bool)
        first[1:] = cust[order][1:] != cust[order][:-1]
        rows = order[first]
        out[cust[rows]] = values[rows]
    return out


def _activity_span(cols: EventColumns) -> tuple[F64, F64]:
    """(days since first event, days since last event) per customer over all event kinds."""
    n = cols.n
    purchase_age = (cols.as_of_day - cols.purchases.day).astype(np.float64)
    ages = [
        (cols.surveys.cust, cols.surveys.age_days),
        (cols.interactions.cust, cols.interactions.age_days),
        (cols.cases.cust, cols.cases.age_days),
        (cols.purchases.cust, purchase_age),
    ]
    oldest = np.full(n, -np.inf)
    newest = np.full(n, np.inf)
    for cust, age in ages:
        np.maximum.at(oldest, cust, age)
        np.minimum.at(newest, cust, age)
    return np.where(np.isfinite(oldest), oldest, np.nan), np.where(
        np.isfinite(newest), newest, np.nan
    )


def score_chunk(
    customer_ids: npt.NDArray[np.str_] | npt.NDArray[np.object_],
    cols: EventColumns,
    *,
    weights: ExperienceWeights,
    churn_model: BgNbdParams,
    horizon_days: float,
    threshold: float,
    ladder: LadderRules | None = None,
    risk_map: RiskMap | None = None,
) -> ScoreTable:
    """Score every customer of one chunk."""
    if len(customer_ids) != cols.n:
        raise ValueError(f"{len(customer_ids)} ids for {cols.n} customers")
    exp = experience_matrix(cols, weights)
    summary = purchase_summary(
        cols.purchases, cols.n, cols.as_of_day, unit_days=churn_model.unit_days
    )
    risk = population_risk(churn_model, summary, horizon_days, risk_map)
    s = cols.surveys
    is_nps = ~np.isnan(s.nps)
    last_nps = _last_per_customer(s.cust[is_nps], s.age_days[is_nps], s.nps[is_nps], cols.n)
    tenure, since = _activity_span(cols)
    with np.errstate(invalid="ignore"):
        flagged = risk.p_quiet >= threshold
    stage = loyalty_stage_codes(
        tenure_days=tenure,
        purchase_days=(summary.x + summary.buyer).astype(np.int64),
        days_since_activity=since,
        experience=exp.score,
        last_nps=last_nps,
        flagged=flagged,
        churned=np.zeros(cols.n, dtype=bool),
        rules=ladder or LadderRules(),
    )
    return ScoreTable(
        customer_ids=customer_ids,
        experience=exp.score,
        confidence=exp.confidence,
        points=exp.points,
        churn_probability=risk.p_quiet,
        expected_purchases=risk.expected,
        p_alive=risk.p_alive,
        churn_segment=risk.segment,
        flagged=flagged,
        last_nps=last_nps,
        loyalty_stage=stage,
    )


def score_population(
    chunks: Iterable[tuple[npt.NDArray[np.str_] | npt.NDArray[np.object_], EventColumns]],
    *,
    weights: ExperienceWeights,
    churn_model: BgNbdParams,
    horizon_days: float = 90.0,
    threshold: float = 0.5,
    ladder: LadderRules | None = None,
    risk_map: RiskMap | None = None,
) -> Iterator[ScoreTable]:
    """Stream score tables, one per input chunk (consume them as they come)."""
    for ids, cols in chunks:
        yield score_chunk(
            ids,
            cols,
            weights=weights,
            churn_model=churn_model,
            horizon_days=horizon_days,
            threshold=threshold,
            ladder=ladder,
            risk_map=risk_map,
        )
