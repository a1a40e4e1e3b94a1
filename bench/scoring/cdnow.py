"""CDNOW (lifetimes wheel): the BG/NBD reproduction and the label-free churn risk against baselines.

1. The 1/10 sample: our BG/NBD fit against Fader, Hardie & Lee (2005).
2. The full file (23,570 customers), fit on the first 39 weeks (to 1997-09-30), checked on the
   next 39: the shipped label-free risk (`churn.backtest.fit_label_free`, exactly what
   `scoring_models` runs per connection) at the default 90-day horizon and at 273 days, against
   the recency rule, -E[purchases] of BG/NBD, -E[purchases] of Pareto/NBD (lifetimes, an oracle
   that never ships) and a gradient-boosting classifier on RFM trained on 70 % of the *labels*
   (which a label-free model never sees). Ranking is against "no purchase in the 39 weeks";
   calibration (ECE) against "no purchase in the first 90 days" and "... in the 273 days".
"""

from __future__ import annotations

import time
import warnings
from datetime import date

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split

from bench.scoring.datasets import cdnow_purchases
from service.scoring.churn.backtest import fit_label_free, quiet_between
from service.scoring.churn.bgnbd import expected_purchases, fit_bgnbd, p_alive
from service.scoring.churn.classifier import expected_calibration_error
from service.scoring.churn.risk import population_risk
from service.scoring.churn.summary import PurchaseSummary, purchase_summary
from service.scoring.columns import F64

CAL_END = (date(1997, 9, 30) - date(1970, 1, 1)).days
CHECK_DAYS = 273  # 39 weeks: 1997-10-01 to 1998-06-30
HORIZON_DAYS = 90  # FlagPolicy's default horizon
SEED = 0


def _round(d: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in d.items()}


def _ranking(y: np.ndarray, score: F64) -> dict[str, float]:
    return {
        "roc_auc": float(roc_auc_score(y, score)),
        "pr_auc": float(average_precision_score(y, score)),
    }


def _scored(
    score: F64, y: np.ndarray, one_time: np.ndarray, *, calibration: dict[str, np.ndarray]
) -> dict[str, object]:
    """Ranking overall and inside one-time / repeat buyers; ECE and mean per label if a
    probability (`calibration`: label name -> label)."""
    out: dict[str, object] = {
        **_round(_ranking(y, score)),
        "one_time_buyers_roc_auc": round(float(roc_auc_score(y[one_time], score[one_time])), 4),
        "repeat_buyers_roc_auc": round(float(roc_auc_score(y[~one_time], score[~one_time])), 4),
    }
    for name, label in calibration.items():
        out[name] = _round(
            {
                "ece": expected_calibration_error(label, score),
                "brier": float(brier_score_loss(label, score)),
                "mean_predicted": float(score.mean()),
                "observed": float(label.mean()),
                "ece_repeat_buyers": expected_calibration_error(label[~one_time], score[~one_time]),
            }
        )
    return out


def reproduction() -> dict[str, object]:
    """BG/NBD on the 1/10 sample against the published estimates."""
    cols, n = cdnow_purchases("CDNOW_sample.txt", id_column=1, date_column=2, amount_column=4)
    s = purchase_summary(cols, n, CAL_END)
    t0 = time.perf_counter()
    fit = fit_bgnbd(s.x, s.t_x, s.age)
    return {
        "published": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "ll": -9582.4},
        "ours": {
            "r": round(fit.r, 4),
            "alpha": round(fit.alpha, 4),
            "a": round(fit.a, 4),
            "b": round(fit.b, 4),
            "ll": round(fit.log_likelihood, 2),
        },
        "fit_seconds": round(time.perf_counter() - t0, 3),
    }


def _pareto_nbd_expected(s: PurchaseSummary, weeks: float) -> F64:
    # Bench-only oracle: lifetimes is a dev dependency and never imported by shipped code.
    from lifetimes import ParetoNBDFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter = ParetoNBDFitter().fit(s.x, s.t_x, s.age)
        e = fitter.conditional_expected_number_of_purchases_up_to_time(weeks, s.x, s.t_x, s.age)
    return np.asarray(e, dtype=np.float64)


def _rfm_boosting(s: PurchaseSummary, y: np.ndarray, ours: F64) -> dict[str, object]:
    """Gradient boosting on RFM trained on 70 % of the 39-week labels; ours on the same 30 %."""
    rfm = np.column_stack([s.x, s.t_x, s.age, s.age - s.t_x, s.monetary])
    idx = np.arange(len(y))
    train, test = train_test_split(idx, test_size=0.3, random_state=SEED, stratify=y)
    model = HistGradientBoostingClassifier(random_state=SEED).fit(rfm[train], y[train])
    p = model.predict_proba(rfm[test])[:, 1]
    return {
        "protocol": "HistGradientBoosting defaults on x, t_x, T, T - t_x, mean spend; "
        "stratified 70/30 split (seed 0); test part only",
        "test_customers": len(test),
        "rfm_boosting": _round(
            {**_ranking(y[test], p), "ece": expected_calibration_error(y[test], p)}
        ),
        "our_risk_same_test_part": _round(_ranking(y[test], ours[test])),
    }


def backtest() -> dict[str, object]:
    """The full file: our label-free risk against the baselines, one run."""
    cols, n = cdnow_purchases("CDNOW_master.txt", id_column=0, date_column=1, amount_column=3)
    quiet_check = quiet_between(cols, n, CAL_END, CAL_END + CHECK_DAYS)
    quiet_90 = quiet_between(cols, n, CAL_END, CAL_END + HORIZON_DAYS)
    risks: dict[int, dict[str, object]] = {}
    t0 = time.perf_counter()
    for horizon in (HORIZON_DAYS, CHECK_DAYS):
        fitted = fit_label_free(cols, n, CAL_END, horizon, seed=SEED)
        assert fitted.bgnbd is not None, fitted.note
        s, params = fitted.summary, fitted.bgnbd
        risks[horizon] = {
            "ours": population_risk(params, s, horizon, fitted.risk_map).p_quiet,
            "plain": population_risk(params, s, horizon).p_quiet,
            "note": fitted.note,
            "holdout": fitted.risk_map.holdout if fitted.risk_map else None,
        }
    fit_seconds = time.perf_counter() - t0
    one_time = s.x == 0
    weeks = CHECK_DAYS / 7.0
    cal = {"at_90_days": quiet_90, "at_273_days": quiet_check}

    def prob(p: object, label: str) -> dict[str, object]:
        return _scored(np.asarray(p), quiet_check, one_time, calibration={label: cal[label]})

    ours_90 = np.asarray(risks[HORIZON_DAYS]["ours"])
    baselines = {
        "recency_rule": _scored(s.age - s.t_x, quiet_check, one_time, calibration={}),
        "minus_expected_purchases_bgnbd": _scored(
            -expected_purchases(params, weeks, s.x, s.t_x, s.age),
            quiet_check,
            one_time,
            calibration={},
        ),
        "minus_expected_purchases_pareto_nbd": _scored(
            -_pareto_nbd_expected(s, weeks), quiet_check, one_time, calibration={}
        ),
    }
    best = {
        k: max(float(b[k]) for b in baselines.values())  # type: ignore[arg-type]
        for k in ("roc_auc", "pr_auc")
    }
    return {
        "customers": n,
        "one_time_buyers": int(one_time.sum()),
        "observed_no_purchase_rate_39w": round(float(quiet_check.mean()), 4),
        "observed_no_purchase_rate_90d": round(float(quiet_90.mean()), 4),
        "ranking_label": "no purchase in the 39 weeks after 1997-09-30",
        "our_risk_90d": {
            **prob(ours_90, "at_90_days"),
            "ranking_against_90_day_label": _round(_ranking(quiet_90, ours_90)),
            "fit": risks[HORIZON_DAYS]["note"],
            "backtest_holdout": risks[HORIZON_DAYS]["holdout"],
            "fit_seconds_both_horizons": round(fit_seconds, 2),
        },
        "our_risk_273d": {
            **prob(risks[CHECK_DAYS]["ours"], "at_273_days"),
            "fit": risks[CHECK_DAYS]["note"],
        },
        "plain_bgnbd_p_no_purchase_90d": prob(risks[HORIZON_DAYS]["plain"], "at_90_days"),
        "plain_bgnbd_p_no_purchase_273d": prob(risks[CHECK_DAYS]["plain"], "at_273_days"),
        **baselines,
        "best_label_free_baseline": best,
        "labelled_baseline": _rfm_boosting(s, quiet_check, ours_90),
        "one_minus_p_alive": _round(_ranking(quiet_check, 1 - p_alive(params, s.x, s.t_x, s.age))),
    }


def report() -> dict[str, object]:
    return {"reproduction_sample": reproduction(), "backtest_full_file": backtest()}
