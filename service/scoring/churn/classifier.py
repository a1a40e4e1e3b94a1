"""Churn classifier trained on the CRM's own labels, with a time-based split and a model card.

Protocol (docs/churn-resources.md sections 3 and 5B):
- rows are snapshots (features as of a date, label from the following window); they are
  ordered by snapshot time and split 60/20/20 into train, calibration and test, so every
  metric is measured on a later period than the model learnt from;
- candidates: L2 logistic regression (one-hot + standardised) and histogram gradient
  boosting (native categoricals); the one with the lower calibration-slice log-loss wins;
- Platt scaling is fitted on the calibration slice; ROC-AUC, PR-AUC, Brier, log-loss and
  ECE are reported on the test slice and saved in the model card;
- too few labelled churners -> no model, and the reason says so (use the label-free model);
- all fitting and prediction run single-threaded: OpenMP busy-waiting on a shared 2-core VM
  made multi-threaded fits 10-400x slower (churn-resources section 3, "threads").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from service.domain import RiskDriver
from service.scoring.churn.thresholds import ThresholdChoice, threshold_for_precision
from service.scoring.columns import F64
from service.scoring.version import SCORING_VERSION

EPS = 1e-6
TIME_SPLIT = "time: train on the earliest 60%, calibrate on the next 20%, test on the last 20%"


class ModelCard(BaseModel):
    """What a trained churn model is: data window, features, metrics, chosen threshold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_kind: str
    features: tuple[str, ...]
    categorical: tuple[str, ...]
    split: str
    train_window: tuple[str, str]
    test_window: tuple[str, str]
    n_train: int
    n_calibration: int
    n_test: int
    base_rate_train: float
    base_rate_test: float
    metrics: dict[str, float]
    candidates: dict[str, dict[str, float]] = Field(default_factory=dict)
    dropped_features: tuple[str, ...] = ()
    calibration: str = "platt"
    threshold: ThresholdChoice | None = None
    scoring_version: str = SCORING_VERSION


def expected_calibration_error(y: np.ndarray, p: F64, bins: int = 10) -> float:
    """Mean |observed - predicted| over equal-count bins, weighted by bin size."""
    order = np.argsort(p, kind="stable")
    total = 0.0
    for chunk in np.array_split(order, bins):
        if len(chunk):
            total += len(chunk) * abs(float(np.mean(y[chunk])) - float(np.mean(p[chunk])))
    return total / len(p)


def evaluate(y: np.ndarray, p: F64) -> dict[str, float]:
    """ROC-AUC, PR-AUC (average precision), Brier, log-loss and ECE of probabilities."""
    y = np.asarray(y, dtype=bool)
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, np.clip(p, EPS, 1 - EPS), labels=[False, True])),
        "ece": expected_calibration_error(y, p),
        "base_rate": float(y.mean()),
    }


def _logit(p: F64) -> F64:
    q = np.clip(p, EPS, 1 - EPS)
    return np.asarray(np.log(q / (1 - q)), dtype=np.float64)


def _candidates(numeric: list[str], categorical: list[str], seed: int) -> dict[str, Pipeline]:
    linear = make_pipeline(
        ColumnTransformer(
            [
                ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
                ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ]
        ),
        LogisticRegression(C=1.0, max_iter=2000),
    )
    boosted = make_pipeline(
        ColumnTransformer(
            [
                (
                    "cat",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=np.nan,
                        encoded_missing_value=np.nan,
                    ),
                    categorical,
                ),
                ("num", "passthrough", numeric),
            ]
        ),
        HistGradientBoostingClassifier(
            learning_rate=0.05,
            max_leaf_nodes=15,
            l2_regularization=1.0,
            max_iter=300,
            early_stopping=True,
            categorical_features=[True] * len(categorical) + [False] * len(numeric),
            random_state=seed,
        ),
    )
    return {"logistic_regression": linear, "gradient_boosting": boosted}


@dataclass(frozen=True)
class ChurnClassifier:
    """A fitted, calibrated churn classifier; pure in use (predict, explain)."""

    pipeline: Any
    platt: tuple[float, float]
    reference: dict[str, Any]
    card: ModelCard

    def predict_proba(self, features: pd.DataFrame) -> F64:
        """Calibrated churn probabilities for rows with the card's feature columns."""
        missing = [f for f in self.card.features if f not in features.columns]
        if missing:
            raise ValueError(f"missing feature columns: {', '.join(missing)}")
        with threadpool_limits(limits=1):
            raw = self.pipeline.predict_proba(features[list(self.card.features)])[:, 1]
        a, b = self.platt
        return np.asarray(1.0 / (1.0 + np.exp(-(a * _logit(raw) + b))), dtype=np.float64)

    def drivers(self, features: pd.DataFrame, top: int = 3) -> list[tuple[RiskDriver, ...]]:
        """Top risk drivers per row: the log-odds a feature adds over its typical value.

        Occlusion (set one feature to its training median/mode, re-predict) works the same for
        the linear and the boosted model; costs len(features) predictions per row, so call it
        for flagged customers only.
        """
        names = list(self.card.features)
        n = len(features)
        base = _logit(self.predict_proba(features))
        stacked = pd.concat([features[names]] * len(names), ignore_index=True)
        for j, name in enumerate(names):
            stacked.loc[j * n : (j + 1) * n - 1, name] = self.reference[name]
        occluded = _logit(self.predict_proba(stacked)).reshape(len(names), n)
        impact = base[None, :] - occluded
        out = []
        for i in range(n):
            order = np.argsort(-impact[:, i])[:top]
            row = features.iloc[i]
            out.append(
                tuple(
                    RiskDriver(
                        name=names[j],
                        text=(
                            f"{names[j]} = {_fmt(row[names[j]])} "
                            f"(typical {_fmt(self.reference[names[j]])})"
                        ),
                        impact=float(impact[j, i]),
                    )
                    for j in order
                    if impact[j, i] > 0.01
                )
            )
        return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else "unknown"
    return str(value)


class TrainingOutcome(BaseModel):
    """A trained classifier, or the reason there is none (then use the label-free model)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    classifier: ChurnClassifier | None
    reason: str


def _window(times: pd.Series) -> tuple[str, str]:
    return (str(times.min()), str(times.max()))


def train_churn_classifier(
    features: pd.DataFrame,
    churned: np.ndarray,
    snapshot_time: pd.Series | np.ndarray,
    *,
    min_positives: int = 50,
    precision_target: float | None = None,
    candidates: tuple[str, ...] = ("logistic_regression", "gradient_boosting"),
    split_note: str = TIME_SPLIT,
    seed: int = 0,
) -> TrainingOutcome:
    """Train, select, calibrate and evaluate a churn classifier on time-ordered snapshots."""
    y = np.asarray(churned, dtype=bool)
    times = pd.Series(np.asarray(snapshot_time))
    if not (len(features) == len(y) == len(times)):
        raise ValueError("features, labels and snapshot times must have the same length")
    if int(y.sum()) < min_positives or int((~y).sum()) < min_positives:
        return TrainingOutcome(
            classifier=None,
            reason=(
                f"too few labels ({int(y.sum())} churned, {int((~y).sum())} retained; need "
                f"{min_positives} of each): using the label-free model instead"
            ),
        )
    order = np.argsort(times.to_numpy(), kind="stable")
    n = len(order)
    cut1, cut2 = int(n * 0.6), int(n * 0.8)
    idx_train, idx_cal, idx_test = order[:cut1], order[cut1:cut2], order[cut2:]
    for name, idx in (("calibration", idx_cal), ("test", idx_test)):
        if y[idx].sum() < 10 or (~y[idx]).sum() < 10:
            return TrainingOutcome(
                classifier=None,
                reason=f"the {name} period has fewer than 10 churned or retained customers",
            )
    # A feature with no value in the training period cannot be learnt (and breaks histogram
    # binning); it is dropped and named in the model card.
    empty = [c for c in features.columns if features[c].iloc[idx_train].isna().all()]
    features = features.drop(columns=empty)
    categorical = [
        c
        for c in features.columns
        if not pd.api.types.is_numeric_dtype(features[c]) or pd.api.types.is_bool_dtype(features[c])
    ]
    numeric = [c for c in features.columns if c not in categorical]
    X = features[categorical + numeric].copy()  # noqa: N806 - scikit-learn convention
    for c in categorical:
        X[c] = X[c].astype("string").fillna("missing").astype(object)
    pipes = _candidates(numeric, categorical, seed)
    scores: dict[str, dict[str, float]] = {}
    fitted: dict[str, tuple[Any, tuple[float, float]]] = {}
    with threadpool_limits(limits=1):
        for name in candidates:
            pipe = pipes[name].fit(X.iloc[idx_train], y[idx_train])
            raw_cal = pipe.predict_proba(X.iloc[idx_cal])[:, 1]
            platt = LogisticRegression(C=1e6).fit(_logit(raw_cal)[:, None], y[idx_cal])
            ab = (float(platt.coef_[0, 0]), float(platt.intercept_[0]))
            cal = 1.0 / (1.0 + np.exp(-(ab[0] * _logit(raw_cal) + ab[1])))
            scores[name] = evaluate(y[idx_cal], cal)
            fitted[name] = (pipe, ab)
    best = min(scores, key=lambda k: scores[k]["log_loss"])
    pipe, ab = fitted[best]
    reference = {c: X[c].iloc[idx_train].mode().iloc[0] for c in categorical}
    reference.update({c: float(X[c].iloc[idx_train].median()) for c in numeric})
    card_base = {
        "model_kind": best,
        "features": tuple(categorical + numeric),
        "categorical": tuple(categorical),
        "split": split_note,
        "train_window": _window(times.iloc[idx_train]),
        "test_window": _window(times.iloc[idx_test]),
        "n_train": len(idx_train),
        "n_calibration": len(idx_cal),
        "n_test": len(idx_test),
        "base_rate_train": float(y[idx_train].mean()),
        "base_rate_test": float(y[idx_test].mean()),
        "candidates": scores,
        "dropped_features": tuple(empty),
    }
    provisional = ChurnClassifier(pipe, ab, reference, ModelCard(**card_base, metrics={}))
    p_test = provisional.predict_proba(X.iloc[idx_test])
    threshold = None
    if precision_target is not None:
        # Chosen on the calibration slice, reported as achieved on the test slice.
        p_cal = provisional.predict_proba(X.iloc[idx_cal])
        chosen = threshold_for_precision(y[idx_cal], p_cal, precision_target)
        flagged = p_test >= chosen.threshold
        tp = int((flagged & y[idx_test]).sum())
        threshold = chosen.model_copy(
            update={
                "precision": tp / max(1, int(flagged.sum())),
                "recall": tp / int(y[idx_test].sum()),
                "share_flagged": float(flagged.mean()),
                "note": (chosen.note + " " if chosen.note else "")
                + "chosen on the calibration period; precision/recall on the test period",
            }
        )
    card = ModelCard(**card_base, metrics=evaluate(y[idx_test], p_test), threshold=threshold)
    return TrainingOutcome(
        classifier=ChurnClassifier(pipe, ab, reference, card),
        reason=f"{best} chosen on calibration log-loss",
    )
