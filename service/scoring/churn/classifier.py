"""Churn classifier trained on the CRM's own labels, with an out-of-time test and a model card.

Protocol (docs/scoring.md, "Labelled churn classifier"):
- rows are snapshots (features as of a date, label from the following window), ordered by
  snapshot time. The latest ~20 % (cut on a snapshot-time boundary) is the out-of-time test:
  it is never used to fit, choose or calibrate anything;
- the earlier 80 % (development) is cut into 5 consecutive time blocks. Each candidate (L2
  logistic regression on one-hot categoricals and spline-expanded numerics; histogram gradient
  boosting with native categoricals and target-encoded high-cardinality ones) scores every block
  with a model fitted on the other blocks (cross-fitting). Platt and isotonic calibration are
  each cross-fitted on those scores the same way; the (model, calibration) pair with the lowest
  cross-fitted log-loss wins;
- the winner is fitted on all development rows, calibrated on its cross-fitted scores and
  measured on the test period: those are the card's metrics;
- then the winner is refitted on all labelled rows (development + test) and its calibration on
  every row's out-of-sample score; that refit is the model the service uses. Its quality is the
  one measured before the refit (the card says so);
- too few labelled churners -> no model, and the reason says so (use the label-free model);
- all fitting and prediction run single-threaded: OpenMP busy-waiting on a shared 2-core VM
  made multi-threaded fits 10-400x slower.

One function, `prepare_features`, turns a frame into model input for fitting and for predicting
(bool columns and categoricals to strings, missing and unseen categories to "missing").
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import joblib  # type: ignore[import-untyped]
import numpy as np
import pandas as pd
import sklearn
from pydantic import BaseModel, ConfigDict, Field
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    OneHotEncoder,
    OrdinalEncoder,
    SplineTransformer,
    StandardScaler,
    TargetEncoder,
)
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from service.domain import RiskDriver
from service.scoring.churn.thresholds import ThresholdChoice, threshold_for_precision
from service.scoring.columns import F64
from service.scoring.version import SCORING_VERSION

EPS = 1e-6
# Calibrated probabilities never claim certainty: an isotonic step at 0 or 1 would.
P_FLOOR = 1e-3
TIE_BREAK = 1e-6
MISSING = "missing"
# A categorical with more training levels than this is target-encoded for boosting (native
# categorical splits over dozens of levels overfit a few thousand rows).
MAX_NATIVE_LEVELS = 10
FOLDS = 5
TEST_SHARE = 0.2
CALIBRATIONS = ("platt", "isotonic")
TIME_SPLIT = (
    "time: the latest 20% of snapshots is the out-of-time test; model and calibration chosen by "
    "cross-fitting over 5 consecutive time blocks of the earlier 80%"
)
REFIT_NOTE = (
    "metrics measured on the out-of-time test by the model fitted on the earlier rows; the model "
    "in use was then refitted on all labelled rows"
)
FORMAT_VERSION = 1


class GlobalDriver(BaseModel):
    """A feature's average influence: mean |log-odds change| when set to its typical value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    mean_abs_impact: float


class ModelCard(BaseModel):
    """What a trained churn model is: data window, features, metrics, chosen threshold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_kind: str
    features: tuple[str, ...]
    categorical: tuple[str, ...]
    split: str
    train_window: tuple[str, str]
    test_window: tuple[str, str]
    n_train: int  # development rows: the model behind the metrics was fitted on these
    n_calibration: int  # rows whose cross-fitted scores calibrated that model
    n_test: int
    base_rate_train: float
    base_rate_test: float
    metrics: dict[str, float]  # on the out-of-time test, before the refit
    candidates: dict[str, dict[str, float]] = Field(default_factory=dict)
    dropped_features: tuple[str, ...] = ()
    calibration: str = "platt"
    threshold: ThresholdChoice | None = None
    scoring_version: str = SCORING_VERSION
    numeric: tuple[str, ...] = ()
    n_rows: int = 0  # all labelled rows: the model in use was refitted on these
    base_rate: float = 0.0  # over all labelled rows
    top_drivers: tuple[GlobalDriver, ...] = ()  # on the test period
    trained_at: datetime | None = None
    metrics_note: str = REFIT_NOTE


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


# --- one preparation for fit and predict -------------------------------------------------------


@dataclass(frozen=True)
class FeatureSchema:
    """Which columns the model reads, how, and the categories seen in training."""

    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    levels: dict[str, frozenset[str]]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.categorical + self.numeric


def _is_categorical(column: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)


def _as_category(column: pd.Series) -> pd.Series:
    """Strings; bools as "True"/"False" whatever their dtype; missing -> "missing"."""
    out = column.astype(object).map(lambda v: MISSING if v is None or v is pd.NA else str(v))
    return out.where(column.notna(), MISSING).astype(object)


def infer_schema(frame: pd.DataFrame) -> FeatureSchema:
    """Categorical = non-numeric or bool columns; numeric = the rest (counts stay plain)."""
    categorical = tuple(c for c in frame.columns if _is_categorical(frame[c]))
    numeric = tuple(c for c in frame.columns if c not in categorical)
    levels = {c: frozenset(_as_category(frame[c]).unique()) for c in categorical}
    return FeatureSchema(categorical, numeric, levels)


def prepare_features(frame: pd.DataFrame, schema: FeatureSchema) -> pd.DataFrame:
    """The model input for `frame`, identical for training and prediction.

    Categoricals (bools included) become strings, missing values "missing", and a category not
    seen in training is treated as missing; numerics become float64 with NaN for missing.
    """
    absent = [c for c in schema.columns if c not in frame.columns]
    if absent:
        raise ValueError(f"missing feature columns: {', '.join(absent)}")
    out = {}
    for c in schema.categorical:
        values = _as_category(frame[c])
        out[c] = values.where(values.isin(schema.levels[c]), MISSING).to_numpy(dtype=object)
    for c in schema.numeric:
        out[c] = pd.to_numeric(frame[c]).astype("float64").to_numpy()
    prepared = pd.DataFrame(out, index=frame.index, columns=list(schema.columns))
    # Plain object columns (pandas would infer its string dtype) for the encoders.
    return prepared.astype(dict.fromkeys(schema.categorical, object))


# --- candidates ----------------------------------------------------------------------------


def _linear(schema: FeatureSchema, x: pd.DataFrame) -> Pipeline:
    """L2 logistic regression; numerics with more than two values are spline-expanded."""
    numeric = list(schema.numeric)
    curved = [c for c in numeric if x[c].nunique() > 2]
    flat = [c for c in numeric if c not in curved]
    gaps = [c for c in numeric if x[c].isna().any()]
    parts: list[tuple[str, Any, list[str]]] = [
        ("cat", OneHotEncoder(handle_unknown="ignore"), list(schema.categorical)),
        (
            "curved",
            make_pipeline(
                SimpleImputer(strategy="median"),
                SplineTransformer(n_knots=5, degree=3, knots="quantile", extrapolation="linear"),
                StandardScaler(),
            ),
            curved,
        ),
        ("flat", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), flat),
    ]
    if gaps:
        parts.append(("gaps", MissingIndicator(error_on_new=False), gaps))
    return make_pipeline(ColumnTransformer(parts), LogisticRegression(C=0.1, max_iter=5000))


def _boosted(schema: FeatureSchema, seed: int, max_iter: int | None) -> Pipeline:
    """Histogram gradient boosting; early stopping only while the iteration count is unknown."""
    native = [c for c in schema.categorical if len(schema.levels[c]) <= MAX_NATIVE_LEVELS]
    encoded = [c for c in schema.categorical if c not in native]
    parts: list[tuple[str, Any, list[str]]] = [
        ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan), native),
        ("num", "passthrough", list(schema.numeric)),
    ]
    if encoded:
        cv = StratifiedKFold(5, shuffle=True, random_state=seed)
        parts.append(("target", TargetEncoder(cv=cv), encoded))
    return make_pipeline(
        ColumnTransformer(parts),
        HistGradientBoostingClassifier(
            max_iter=max_iter or 500,
            early_stopping=max_iter is None,
            categorical_features=[True] * len(native)
            + [False] * (len(schema.numeric) + len(encoded)),
            random_state=seed,
        ),
    )


def _candidate(
    name: str, schema: FeatureSchema, x: pd.DataFrame, seed: int, max_iter: int | None = None
) -> Pipeline:
    if name == "logistic_regression":
        return _linear(schema, x)
    if name == "gradient_boosting":
        return _boosted(schema, seed, max_iter)
    raise ValueError(f"unknown candidate model: {name}")


def _iterations(pipe: Pipeline) -> int | None:
    model = pipe[-1]
    return int(model.n_iter_) if isinstance(model, HistGradientBoostingClassifier) else None


# --- calibration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibrator:
    """Maps a model's raw probability to a calibrated one (Platt: on the logit; isotonic)."""

    method: str
    platt: tuple[float, float] = (1.0, 0.0)
    isotonic: IsotonicRegression | None = None

    def __call__(self, raw: F64) -> F64:
        if self.isotonic is not None:
            # Ties broken by the model's own score (adds < TIE_BREAK): a flat isotonic step
            # would otherwise throw away the model's ranking inside it.
            p = self.isotonic.predict(raw) + TIE_BREAK * raw
        else:
            a, b = self.platt
            p = 1.0 / (1.0 + np.exp(-(a * _logit(raw) + b)))
        return np.asarray(np.clip(p, P_FLOOR, 1 - P_FLOOR), dtype=np.float64)


def fit_calibrator(method: str, raw: F64, y: np.ndarray) -> Calibrator:
    """Platt scaling (logistic on the logit) or isotonic regression on out-of-sample scores."""
    if method == "platt":
        lr = LogisticRegression(C=1e6).fit(_logit(raw)[:, None], y)
        return Calibrator("platt", platt=(float(lr.coef_[0, 0]), float(lr.intercept_[0])))
    if method == "isotonic":
        iso = IsotonicRegression(y_min=P_FLOOR, y_max=1 - P_FLOOR, out_of_bounds="clip")
        return Calibrator("isotonic", isotonic=iso.fit(raw, y.astype(float)))
    raise ValueError(f"unknown calibration: {method}")


def _blocks(n: int, folds: int) -> list[np.ndarray]:
    return [b for b in np.array_split(np.arange(n), folds) if len(b)]


def _cross_calibrated(method: str, raw: F64, y: np.ndarray, folds: int) -> F64:
    """Each block calibrated by a calibrator fitted on the other blocks' scores."""
    out = np.empty_like(raw)
    for block in _blocks(len(raw), folds):
        rest = np.setdiff1d(np.arange(len(raw)), block)
        out[block] = fit_calibrator(method, raw[rest], y[rest])(raw[block])
    return out


# --- the classifier ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChurnClassifier:
    """A fitted, calibrated churn classifier; pure in use (predict, explain, serialise)."""

    pipeline: Any
    calibrator: Calibrator
    schema: FeatureSchema
    reference: dict[str, Any]
    card: ModelCard

    def predict_proba(self, features: pd.DataFrame) -> F64:
        """Calibrated churn probabilities for rows with the card's feature columns."""
        return self._predict(prepare_features(features, self.schema))

    def _predict(self, prepared: pd.DataFrame) -> F64:
        with threadpool_limits(limits=1):
            raw = self.pipeline.predict_proba(prepared)[:, 1]
        return self.calibrator(np.asarray(raw, dtype=np.float64))

    def _impacts(self, prepared: pd.DataFrame) -> F64:
        """(features x rows) log-odds each feature adds over its typical value (occlusion)."""
        names = list(self.schema.columns)
        n = len(prepared)
        base = _logit(self._predict(prepared))
        stacked = pd.concat([prepared] * len(names), ignore_index=True)
        for j, name in enumerate(names):
            stacked.loc[j * n : (j + 1) * n - 1, name] = self.reference[name]
        occluded = _logit(self._predict(stacked)).reshape(len(names), n)
        return np.asarray(base[None, :] - occluded, dtype=np.float64)

    def drivers(self, features: pd.DataFrame, top: int = 3) -> list[tuple[RiskDriver, ...]]:
        """Top risk drivers per row: the log-odds a feature adds over its typical value.

        Occlusion (set one feature to its training median/mode, re-predict) works the same for
        the linear and the boosted model; costs len(features) predictions per row, so call it
        for flagged customers only.
        """
        names = list(self.schema.columns)
        prepared = prepare_features(features, self.schema)
        impact = self._impacts(prepared)
        out = []
        for i in range(len(prepared)):
            order = np.argsort(-impact[:, i])[:top]
            row = prepared.iloc[i]
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

    def to_bytes(self) -> bytes:
        """The fitted model for storage: joblib (pickle) of the sklearn objects plus the card.

        Trust boundary: `from_bytes` unpickles, which can run code. Load only bytes this service
        wrote itself into its own store (a model trained per connection), never bytes from an
        API request, a CRM or a user upload.
        """
        buffer = io.BytesIO()
        joblib.dump(
            {
                "format": FORMAT_VERSION,
                "sklearn": sklearn.__version__,
                "pipeline": self.pipeline,
                "calibrator": self.calibrator,
                "schema": self.schema,
                "reference": self.reference,
                "card": self.card.model_dump_json(),
            },
            buffer,
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ChurnClassifier:
        """A classifier stored by `to_bytes` (our own stored bytes only: see `to_bytes`)."""
        doc = joblib.load(io.BytesIO(data))
        if doc.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown churn model format {doc.get('format')!r}: retrain")
        if doc.get("sklearn") != sklearn.__version__:
            raise ValueError(
                f"churn model stored with scikit-learn {doc.get('sklearn')}, running "
                f"{sklearn.__version__}: retrain"
            )
        return cls(
            pipeline=doc["pipeline"],
            calibrator=doc["calibrator"],
            schema=doc["schema"],
            reference=doc["reference"],
            card=ModelCard.model_validate_json(doc["card"]),
        )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else "unknown"
    return str(value)


class TrainingOutcome(BaseModel):
    """A trained classifier, or the reason there is none (then use the label-free model)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    classifier: ChurnClassifier | None
    reason: str
    # The model in use's probabilities for the training rows, as computed during training (in
    # the input's row order); `classifier.predict_proba(features)` returns the same.
    training_probabilities: Any = None


def _window(times: pd.Series) -> tuple[str, str]:
    return (str(times.min()), str(times.max()))


def _time_cut(sorted_times: np.ndarray, share: float) -> int:
    """Start of the test period: the snapshot-time boundary nearest to the last `share`."""
    n = len(sorted_times)
    target = round(n * (1 - share))
    starts = np.flatnonzero(np.r_[True, sorted_times[1:] != sorted_times[:-1]])
    starts = starts[starts > 0]
    if not len(starts):
        return n
    return int(starts[np.argmin(np.abs(starts - target))])


def _reference(x: pd.DataFrame, schema: FeatureSchema) -> dict[str, Any]:
    reference: dict[str, Any] = {c: x[c].mode().iloc[0] for c in schema.categorical}
    reference.update({c: float(x[c].median()) for c in schema.numeric})
    return reference


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
    trained_at: datetime | None = None,
    calibrations: tuple[str, ...] = CALIBRATIONS,
    folds: int = FOLDS,
    test_share: float = TEST_SHARE,
    driver_rows: int = 500,
) -> TrainingOutcome:
    """Choose, calibrate and measure a churn classifier out of time, then refit it on all rows.

    `trained_at` is stamped on the card (the scoring layer has no clock). `driver_rows` test
    rows (a seeded sample) give the card's global drivers.
    """
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
    cut = _time_cut(times.to_numpy()[order], test_share)
    idx_dev, idx_test = order[:cut], order[cut:]
    for name, idx in (("development", idx_dev), ("test", idx_test)):
        if y[idx].sum() < 10 or (~y[idx]).sum() < 10:
            return TrainingOutcome(
                classifier=None,
                reason=f"the {name} period has fewer than 10 churned or retained customers",
            )
    # A feature with no value in the development period cannot be learnt (and breaks histogram
    # binning); it is dropped and named in the model card.
    empty = [c for c in features.columns if features[c].iloc[idx_dev].isna().all()]
    kept = features.drop(columns=empty)
    schema = infer_schema(kept)
    x = prepare_features(kept, schema)
    x_dev, y_dev = x.iloc[idx_dev], y[idx_dev]
    blocks = _blocks(len(idx_dev), folds)

    scores: dict[str, dict[str, float]] = {}
    raw_dev: dict[str, F64] = {}
    iterations: dict[str, int | None] = {}
    with threadpool_limits(limits=1):
        for name in candidates:
            raw = np.empty(len(idx_dev))
            iters = []
            for block in blocks:
                rest = np.setdiff1d(np.arange(len(idx_dev)), block)
                pipe = _candidate(name, schema, x_dev, seed).fit(x_dev.iloc[rest], y_dev[rest])
                raw[block] = pipe.predict_proba(x_dev.iloc[block])[:, 1]
                iters.append(_iterations(pipe))
            raw_dev[name] = raw
            known = [i for i in iters if i is not None]
            iterations[name] = int(np.median(known)) if known else None
            for method in calibrations:
                cal = _cross_calibrated(method, raw, y_dev, folds)
                scores[f"{name}+{method}"] = evaluate(y_dev, cal)
    chosen = min(scores, key=lambda k: scores[k]["log_loss"])
    best, method = chosen.split("+")

    def fit(rows: np.ndarray, raw: F64) -> tuple[Any, Calibrator]:
        pipe = _candidate(best, schema, x.iloc[rows], seed, iterations[best])
        with threadpool_limits(limits=1):
            pipe.fit(x.iloc[rows], y[rows])
        return pipe, fit_calibrator(method, raw, y[rows])

    # 1. The model behind the metrics: development rows only, measured on the test period.
    pipe, calibrator = fit(idx_dev, raw_dev[best])
    reference = _reference(x.iloc[idx_dev], schema)
    card_base: dict[str, Any] = {
        "model_kind": best,
        "features": schema.columns,
        "categorical": schema.categorical,
        "numeric": schema.numeric,
        "split": split_note,
        "train_window": _window(times.iloc[idx_dev]),
        "test_window": _window(times.iloc[idx_test]),
        "n_train": len(idx_dev),
        "n_calibration": len(idx_dev),
        "n_test": len(idx_test),
        "n_rows": len(y),
        "base_rate_train": float(y_dev.mean()),
        "base_rate_test": float(y[idx_test].mean()),
        "base_rate": float(y.mean()),
        "candidates": scores,
        "dropped_features": tuple(empty),
        "calibration": method,
        "trained_at": trained_at,
    }
    measured = ChurnClassifier(
        pipe, calibrator, schema, reference, ModelCard(**card_base, metrics={})
    )
    p_test = measured._predict(x.iloc[idx_test])
    sample = np.random.default_rng(seed).permutation(len(idx_test))[:driver_rows]
    impact = np.abs(measured._impacts(x.iloc[idx_test[np.sort(sample)]])).mean(axis=1)
    top_drivers = tuple(
        GlobalDriver(name=schema.columns[j], mean_abs_impact=round(float(impact[j]), 4))
        for j in np.argsort(-impact)
    )
    threshold = None
    if precision_target is not None:
        # Chosen on the development rows' cross-fitted calibrated scores, reported on the test.
        p_dev = _cross_calibrated(method, raw_dev[best], y_dev, folds)
        picked = threshold_for_precision(y_dev, p_dev, precision_target)
        flagged = p_test >= picked.threshold
        tp = int((flagged & y[idx_test]).sum())
        threshold = picked.model_copy(
            update={
                "precision": tp / max(1, int(flagged.sum())),
                "recall": tp / int(y[idx_test].sum()),
                "share_flagged": float(flagged.mean()),
                "note": (picked.note + " " if picked.note else "")
                + "chosen on the development period (cross-fitted); precision/recall on the "
                "out-of-time test",
            }
        )
    card = ModelCard(
        **card_base,
        metrics=evaluate(y[idx_test], p_test),
        threshold=threshold,
        top_drivers=top_drivers,
    )
    # 2. The model in use: refitted on every labelled row; calibrated on every row's
    # out-of-sample score (cross-fitted on development, the development model's on the test).
    raw_all = np.empty(len(y))
    raw_all[idx_dev] = raw_dev[best]
    with threadpool_limits(limits=1):
        raw_all[idx_test] = pipe.predict_proba(x.iloc[idx_test])[:, 1]
    final_pipe, final_calibrator = fit(np.arange(len(y)), raw_all)
    final = ChurnClassifier(final_pipe, final_calibrator, schema, _reference(x, schema), card)
    return TrainingOutcome(
        classifier=final,
        training_probabilities=final._predict(x),
        reason=(
            f"{best} with {method} calibration chosen on cross-fitted log-loss; refitted on all "
            f"{len(y)} labelled rows"
        ),
    )
