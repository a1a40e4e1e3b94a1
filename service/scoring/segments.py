"""Segments: NPS class, the loyalty ladder and RFM scores (vectorised, with scalar wrappers).

Loyalty ladder rules (first match wins, documented in docs/scoring.md):
1. lost         - churned per the CRM, or no purchase and no contact for `lost_after_days`;
2. at_risk      - the churn flag is raised: exactly the customers the flag policy picked (the
                  riskiest share, the labelled model's threshold, or a fresh complaint), so the
                  segment pushed to the CRM and the flag its automation reacts to agree;
3. dissatisfied - not flagged, but the experience score is below 50 (the neutral point) or the
                  latest NPS answer is a detractor (0-6): unhappy, yet not among those to call now;
4. new          - first seen less than `new_for_days` ago;
5. advocate     - latest NPS answer is a promoter (9-10) and at least `loyal_purchases` purchase
                  days;
6. loyal        - at least `loyal_purchases` purchase days and a customer for `loyal_after_days`;
7. satisfied    - everyone else (experience score at least neutral, no risk signal).

at_risk used to be "probability >= 0.5 or experience < 50 or a detractor", which put most
customers of a shop with occasional buyers in it (they rarely buy within any 90 days) while the
flag, chosen by policy, marked a tenth: a segment that disagrees with the flag is noise to sales.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats

from service.scoring.columns import F64, I64


class NpsClass(StrEnum):
    """Bain's three NPS classes."""

    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


def nps_class(value: float) -> NpsClass:
    """Promoter 9-10, passive 7-8, detractor 0-6."""
    if not 0 <= value <= 10:
        raise ValueError(f"NPS answer {value} is outside 0-10")
    if value >= 9:
        return NpsClass.PROMOTER
    return NpsClass.PASSIVE if value >= 7 else NpsClass.DETRACTOR


class LoyaltyStage(StrEnum):
    """The loyalty ladder: new -> satisfied -> loyal -> advocate, plus at-risk and lost."""

    NEW = "new"
    SATISFIED = "satisfied"
    LOYAL = "loyal"
    ADVOCATE = "advocate"
    AT_RISK = "at_risk"
    LOST = "lost"
    DISSATISFIED = "dissatisfied"


STAGE_ORDER: tuple[LoyaltyStage, ...] = tuple(LoyaltyStage)
"""Stage codes used by the vectorised function (index into this tuple)."""

# The stage codes as int8 scalars, so the vectorised selection stays in int8.
_LOST, _AT_RISK, _DISSATISFIED, _NEW, _ADVOCATE, _LOYAL, _SATISFIED = (
    np.int8(STAGE_ORDER.index(stage))
    for stage in (
        LoyaltyStage.LOST,
        LoyaltyStage.AT_RISK,
        LoyaltyStage.DISSATISFIED,
        LoyaltyStage.NEW,
        LoyaltyStage.ADVOCATE,
        LoyaltyStage.LOYAL,
        LoyaltyStage.SATISFIED,
    )
)


class LadderRules(BaseModel):
    """Thresholds of the loyalty ladder."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lost_after_days: float = Field(default=365, gt=0)
    new_for_days: float = Field(default=90, gt=0)
    loyal_purchases: int = Field(default=3, ge=1)
    loyal_after_days: float = Field(default=180, gt=0)


def loyalty_stage_codes(
    *,
    tenure_days: F64 | np.float64,
    purchase_days: I64 | np.int64,
    days_since_activity: F64 | np.float64,
    experience: F64 | np.float64,
    last_nps: F64 | np.float64,
    flagged: npt.NDArray[np.bool_] | np.bool_,
    churned: npt.NDArray[np.bool_] | np.bool_,
    rules: LadderRules,
) -> npt.NDArray[np.int8]:
    """Stage index (into STAGE_ORDER) per customer; NaN inputs mean "unknown" and never match.

    `flagged` is the churn flag as the flag policy set it (not a probability: the threshold is
    the policy's, chosen per connection).

    Numpy scalars in (one customer) give a 0-d array out."""
    with np.errstate(invalid="ignore"):
        lost = churned | (days_since_activity >= rules.lost_after_days)
        unhappy = (experience < 50.0) | (last_nps <= 6)
        new = tenure_days < rules.new_for_days
        repeat = purchase_days >= rules.loyal_purchases
        advocate = (last_nps >= 9) & repeat
        loyal = repeat & (tenure_days >= rules.loyal_after_days)
    # First matching rule wins, in the documented order: start from the default and let each
    # rule overwrite, from the last rule to the first (np.select's own method, whose overhead
    # of tens of microseconds dominated for one customer). int8 codes keep every step in int8.
    codes = np.where(loyal, _LOYAL, _SATISFIED)
    for mask, code in (
        (advocate, _ADVOCATE),
        (new, _NEW),
        (unhappy, _DISSATISFIED),
        (flagged, _AT_RISK),
        (lost, _LOST),
    ):
        codes = np.where(mask, code, codes)
    return codes


def loyalty_stage(
    *,
    tenure_days: float,
    purchase_days: int,
    days_since_activity: float,
    experience: float | None,
    last_nps: float | None,
    flagged: bool,
    churned: bool = False,
    rules: LadderRules | None = None,
) -> LoyaltyStage:
    """The ladder stage of one customer (None = unknown, which never triggers a rule).

    The vectorised rules get numpy scalars, not one-element arrays: every step is elementwise,
    so the values are the same, and an operation on numpy scalars costs a tenth of one on
    arrays (numpy's per-call overhead is all there is to it for one customer).
    """

    def num(v: float | None) -> np.float64:
        return np.float64(np.nan if v is None else v)

    code = loyalty_stage_codes(
        tenure_days=num(tenure_days),
        purchase_days=np.int64(purchase_days),
        days_since_activity=num(days_since_activity),
        experience=num(experience),
        last_nps=num(last_nps),
        flagged=np.bool_(flagged),
        churned=np.bool_(churned),
        rules=rules or LadderRules(),
    )
    return STAGE_ORDER[int(code)]


def rfm_scores(
    recency_days: F64, frequency: F64, monetary: F64, *, bins: int = 5
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """RFM quantile scores 1..bins over the population (bins = best: recent, frequent, big).

    Ties share a score (average ranks), so the result does not depend on input order.
    """
    if not (len(recency_days) == len(frequency) == len(monetary)):
        raise ValueError("recency, frequency and monetary must have the same length")

    def score(values: F64) -> npt.NDArray[np.int8]:
        if len(values) == 0:
            return np.zeros(0, dtype=np.int8)
        ranks: F64 = np.asarray(stats.rankdata(values, method="average"), dtype=np.float64)
        pct = ranks / len(values)
        return np.clip(np.ceil(pct * bins), 1, bins).astype(np.int8)

    return score(-recency_days), score(frequency), score(monetary)
