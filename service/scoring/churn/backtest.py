"""Fitting the label-free churn models from a connection's purchases: BG/NBD and its recalibration.

The recalibration is self-labelled: the connection's own history is cut at as_of - horizon,
BG/NBD is fitted on what was known at the cut, every buyer of then is labelled "no purchase in
(cut, as_of]", and a logistic regression learns P(no purchase) from `selflabel.FEATURES`. A
seeded 30 % of those buyers is held out first: the map is kept only when it beats plain BG/NBD's
log-loss there. Otherwise, or when the history is too short, scoring falls back to plain BG/NBD
and the returned note says why. Pure: columns in, parameters out, `as_of_day` explicit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from service.scoring.churn.bgnbd import BgNbdParams, fit_bgnbd
from service.scoring.churn.risk import population_risk
from service.scoring.churn.selflabel import RiskMap, apply_risk_map, risk_features
from service.scoring.churn.summary import PurchaseSummary, purchase_summary
from service.scoring.columns import F64, PurchaseColumns

MIN_REPEAT_BUYERS = 30  # below this BG/NBD's dropout process is not identified
# The backtest needs enough buyers at the cut, and enough of both outcomes after it, for seven
# coefficients and a held-out check that can tell the map from plain BG/NBD.
MIN_BACKTEST_BUYERS = 200
MIN_PER_OUTCOME = 30
# Beyond this the coefficients no longer move; a seeded sample bounds the fit's time at 1M.
MAX_EXAMPLES = 200_000
HOLDOUT_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class Fitted:
    """The models (None where not fitted), the summary at as_of they score, and a sentence
    saying what was done or why not."""

    summary: PurchaseSummary
    bgnbd: BgNbdParams | None
    risk_map: RiskMap | None
    note: str


def fit_buyers(s: PurchaseSummary) -> tuple[BgNbdParams | None, str]:
    """BG/NBD on the buyers of `s`, or None and the reason."""
    buyers = s.buyer
    repeat = int((s.x[buyers] > 0).sum())
    if repeat < MIN_REPEAT_BUYERS:
        return None, f"too few repeat buyers for a purchase model ({repeat} < {MIN_REPEAT_BUYERS})"
    try:
        params = fit_bgnbd(s.x[buyers], s.t_x[buyers], s.age[buyers], unit_days=s.unit_days)
    except (ValueError, ArithmeticError) as error:
        return None, f"purchase model did not fit ({error})"
    return params, f"BG/NBD fitted on {int(buyers.sum())} buyers"


def quiet_between(cols: PurchaseColumns, n: int, start_day: int, end_day: int) -> np.ndarray:
    """Per customer 0..n-1: no purchase on a day in (start_day, end_day]."""
    inside = (cols.day > start_day) & (cols.day <= end_day)
    return np.asarray(np.bincount(cols.cust[inside], minlength=n) == 0, dtype=bool)


def _logistic(x: F64, y: np.ndarray) -> tuple[F64, F64, F64, float]:
    """(mean, scale, coef, intercept) of an L2 logistic regression on standardised `x`."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)  # a constant feature (no one-time buyers) stays 0
    # One thread: the service shares its cores (OpenMP oversubscription, docs/scoring.md).
    with threadpool_limits(limits=1):
        model = LogisticRegression(C=1.0, max_iter=1000).fit((x - mean) / scale, y)
    return mean, scale, model.coef_[0], float(model.intercept_[0])


def _risk_map(
    x: F64, y: np.ndarray, horizon_days: int, cut_day: int, holdout: dict[str, float]
) -> RiskMap:
    mean, scale, coef, intercept = _logistic(x, y)
    return RiskMap(
        horizon_days=horizon_days,
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        coef=tuple(float(v) for v in coef),
        intercept=intercept,
        cut_day=cut_day,
        n_examples=len(y),
        observed_rate=float(y.mean()),
        holdout=holdout,
    )


def fit_risk_map(
    cols: PurchaseColumns, n: int, as_of_day: int, horizon_days: int, *, seed: int = 0
) -> tuple[RiskMap | None, str]:
    """The self-labelled recalibration for `horizon_days` at `as_of_day`, or None and why."""
    cut = as_of_day - horizon_days
    s = purchase_summary(cols, n, cut)
    buyers = np.flatnonzero(s.buyer)
    if len(buyers) < MIN_BACKTEST_BUYERS:
        return None, (
            f"history too short to recalibrate: {len(buyers)} customers had bought "
            f"{horizon_days} days before as_of (need {MIN_BACKTEST_BUYERS})"
        )
    params, why = fit_buyers(s)
    if params is None:
        return None, f"no purchase model at the backtest cut: {why}"
    quiet = quiet_between(cols, n, cut, as_of_day)[buyers]
    outcomes = min(int(quiet.sum()), int((~quiet).sum()))
    if outcomes < MIN_PER_OUTCOME:
        return None, (
            f"too few buyers with each outcome in the backtest ({outcomes} < {MIN_PER_OUTCOME})"
        )
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(buyers))[:MAX_EXAMPLES]
    risk = population_risk(params, s, horizon_days)
    x = risk_features(s, risk.p_quiet, risk.expected)[buyers][rows]
    y = quiet[rows]
    plain = risk.p_quiet[buyers][rows]
    held = int(HOLDOUT_SHARE * len(rows))
    test, train = slice(0, held), slice(held, None)
    if len(np.unique(y[train])) < 2 or len(np.unique(y[test])) < 2:
        return None, "the backtest's held-out part lacks one of the outcomes"
    trial = _risk_map(x[train], y[train], horizon_days, cut, {})
    p_map = apply_risk_map(trial, x[test])
    holdout = {
        "log_loss_recalibrated": float(log_loss(y[test], p_map, labels=[False, True])),
        "log_loss_bgnbd": float(
            log_loss(y[test], np.clip(plain[test], 1e-6, 1 - 1e-6), labels=[False, True])
        ),
        "roc_auc_recalibrated": float(roc_auc_score(y[test], p_map)),
        "roc_auc_bgnbd": float(roc_auc_score(y[test], plain[test])),
    }
    if holdout["log_loss_recalibrated"] >= holdout["log_loss_bgnbd"]:
        return None, (
            "backtest: recalibration no better than plain BG/NBD (held-out log-loss "
            f"{holdout['log_loss_recalibrated']:.4f} vs {holdout['log_loss_bgnbd']:.4f})"
        )
    fitted = _risk_map(x, y, horizon_days, cut, holdout)
    return fitted, (
        f"recalibrated on {len(y)} buyers of {horizon_days} days before as_of "
        f"(held-out log-loss {holdout['log_loss_recalibrated']:.4f} vs BG/NBD "
        f"{holdout['log_loss_bgnbd']:.4f})"
    )


def fit_label_free(
    cols: PurchaseColumns, n: int, as_of_day: int, horizon_days: int, *, seed: int = 0
) -> Fitted:
    """BG/NBD at `as_of_day` and, when the history allows it, its recalibration."""
    s = purchase_summary(cols, n, as_of_day)
    params, why = fit_buyers(s)
    if params is None:
        return Fitted(s, None, None, why)
    risk_map, note = fit_risk_map(cols, n, as_of_day, horizon_days, seed=seed)
    if risk_map is None:
        note = f"plain BG/NBD: {note}"
    return Fitted(s, params, risk_map, note)
