"""The recalibration map of label-free churn risk, learnt from the connection's own purchases.

Plain BG/NBD P(no purchase) ranks one-time buyers by their age alone and over-predicts lapsed
repeat buyers (docs/churn.md has the numbers). `backtest.fit_risk_map` therefore replays the
connection's history: at cut = as_of - horizon it takes what was known then, labels each buyer
"no purchase in (cut, as_of]", and fits a small logistic regression on these features. This
module holds the fitted map and the features, computed by one function for fitting and scoring
alike, so the single-customer and the batch paths apply exactly the same formula.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.scoring.churn.summary import PurchaseSummary
from service.scoring.columns import F64
from service.scoring.version import SCORING_VERSION

FEATURES: tuple[str, ...] = (
    "logit_bgnbd_p_no_purchase",
    "log_bgnbd_expected_purchases",
    "log1p_repeat_purchase_days",
    "log1p_days_since_last_purchase",
    "log1p_days_since_first_purchase",
    "one_time_buyer",
    "log1p_mean_spend",
)
# Keeps the logit and the log finite: BG/NBD gives exact 0s and 1s for extreme customers.
_EPS = 1e-6
_EXPECTED_FLOOR = 1e-3  # purchases; below this the difference means nothing to a ranking


class RiskMap(BaseModel):
    """Logistic regression from `FEATURES` (standardised) to P(no purchase in horizon_days)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    horizon_days: int = Field(gt=0)
    features: tuple[str, ...] = FEATURES
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    # What it was learnt from and how it did on the backtest's held-out part, for the record.
    cut_day: int
    n_examples: int = Field(gt=0)
    observed_rate: float = Field(ge=0, le=1)
    holdout: dict[str, float] = Field(default_factory=dict)
    scoring_version: str = SCORING_VERSION

    @model_validator(mode="after")
    def _shapes(self) -> RiskMap:
        if self.features != FEATURES:
            raise ValueError(f"risk map made for features {self.features}, scoring has {FEATURES}")
        if not len(self.mean) == len(self.scale) == len(self.coef) == len(FEATURES):
            raise ValueError("mean, scale and coef need one value per feature")
        return self


def _logit(p: F64) -> F64:
    q = np.clip(p, _EPS, 1 - _EPS)
    return np.asarray(np.log(q / (1 - q)), dtype=np.float64)


def risk_features(s: PurchaseSummary, p_quiet: F64, expected: F64) -> F64:
    """(n, len(FEATURES)) matrix; rows of customers who never bought are NaN.

    `p_quiet` and `expected` are BG/NBD's for the same horizon the map is made for. Durations
    are in days and counts are logged, so nothing depends on the shop's units or scale."""
    days = s.unit_days
    rows = np.column_stack(
        [
            _logit(np.where(s.buyer, p_quiet, 0.5)),
            np.log(np.maximum(np.where(s.buyer, expected, 1.0), _EXPECTED_FLOOR)),
            np.log1p(s.x),
            np.log1p((s.age - s.t_x) * days),
            np.log1p(s.age * days),
            (s.x == 0).astype(np.float64),
            np.log1p(np.maximum(s.monetary, 0.0)),
        ]
    )
    return np.where(s.buyer[:, None], rows, np.nan)


def apply_risk_map(m: RiskMap, features: F64) -> F64:
    """P(no purchase in m.horizon_days) per row (NaN rows stay NaN)."""
    z = (features - np.asarray(m.mean)) / np.asarray(m.scale)
    logit = z @ np.asarray(m.coef) + m.intercept
    return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float64)
