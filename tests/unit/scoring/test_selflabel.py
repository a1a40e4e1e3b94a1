"""The self-labelled recalibration of the label-free churn risk, on real CDNOW purchases.

Fit on the first 39 weeks (to 1997-09-30) exactly as `scoring_models` does per connection, then
checked on what CDNOW customers did next. Baselines and the Pareto/NBD oracle are in
`python -m bench.scoring.churn_eval`; here the properties that must hold.
"""

from __future__ import annotations

from datetime import date

import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from service.scoring.churn.backtest import Fitted, fit_label_free, quiet_between
from service.scoring.churn.bgnbd import expected_purchases
from service.scoring.churn.classifier import expected_calibration_error
from service.scoring.churn.risk import population_risk
from service.scoring.columns import PurchaseColumns
from service.scoring.customer import ScoringModels
from tests.unit.scoring.cdnow import epoch_day, load_purchases

CUT = epoch_day(date(1997, 9, 30))


@pytest.fixture(scope="module")
def cdnow() -> tuple[PurchaseColumns, int, Fitted]:
    cols, n = load_purchases("CDNOW_master.txt", id_column=0, date_column=1, amount_column=3)
    return cols, n, fit_label_free(cols, n, CUT, 90)


def test_recalibrated_risk_beats_the_simple_rules_and_is_calibrated(cdnow) -> None:
    cols, n, fitted = cdnow
    assert fitted.bgnbd is not None
    assert fitted.risk_map is not None, fitted.note
    s = fitted.summary
    p = population_risk(fitted.bgnbd, s, 90, fitted.risk_map).p_quiet
    quiet_39w = quiet_between(cols, n, CUT, CUT + 273)
    recency = s.age - s.t_x
    minus_expected = -expected_purchases(fitted.bgnbd, 39.0, s.x, s.t_x, s.age)
    for rule in (recency, minus_expected):
        assert roc_auc_score(quiet_39w, p) > roc_auc_score(quiet_39w, rule) + 0.005
        assert average_precision_score(quiet_39w, p) > average_precision_score(quiet_39w, rule)
    quiet_90d = quiet_between(cols, n, CUT, CUT + 90)
    assert expected_calibration_error(quiet_90d, p) <= 0.03
    plain = population_risk(fitted.bgnbd, s, 90).p_quiet
    repeat = s.x > 0
    # Plain BG/NBD over-predicts repeat buyers' silence; the recalibration removes most of it.
    assert expected_calibration_error(quiet_90d[repeat], p[repeat]) < 0.5 * (
        expected_calibration_error(quiet_90d[repeat], plain[repeat])
    )


def test_lapsed_repeat_buyers_rank_below_one_time_buyers_of_the_same_age(cdnow) -> None:
    """Customers who came back once early and then lapsed return more often than one-time
    buyers of the same age; plain BG/NBD scores them as risky or riskier."""
    cols, n, fitted = cdnow
    s = fitted.summary
    assert fitted.bgnbd is not None
    p = population_risk(fitted.bgnbd, s, 90, fitted.risk_map).p_quiet
    plain = population_risk(fitted.bgnbd, s, 90).p_quiet
    quiet = quiet_between(cols, n, CUT, CUT + 90)
    same_age = (s.age >= 30) & (s.age < 36)
    one_time = same_age & (s.x == 0)
    lapsed = same_age & (s.x == 1) & (s.t_x < 2)
    assert quiet[lapsed].mean() < quiet[one_time].mean() - 0.03  # what history says
    assert plain[lapsed].mean() >= plain[one_time].mean()  # the old ranking had it backwards
    assert p[lapsed].mean() < p[one_time].mean() - 0.03
    for group in (lapsed, one_time):
        assert p[group].mean() == pytest.approx(quiet[group].mean(), abs=0.02)


def test_a_horizon_longer_than_the_history_falls_back_to_plain_bgnbd(cdnow) -> None:
    cols, n, _ = cdnow
    fitted = fit_label_free(cols, n, CUT, 273)
    assert fitted.bgnbd is not None
    assert fitted.risk_map is None
    assert fitted.note.startswith("plain BG/NBD: history too short")


def test_a_shop_with_few_buyers_before_the_cut_falls_back(cdnow) -> None:
    cols, _, _ = cdnow
    few = cols.cust < 150  # 150 customers: too few to learn a map from
    small = PurchaseColumns(cust=cols.cust[few], day=cols.day[few], amount=cols.amount[few])
    fitted = fit_label_free(small, 150, CUT, 90)
    assert fitted.risk_map is None
    assert "history too short" in fitted.note or "repeat buyers" in fitted.note


def test_a_map_is_only_applied_at_the_horizon_it_was_fitted_for(cdnow) -> None:
    _, _, fitted = cdnow
    assert fitted.bgnbd is not None
    assert fitted.risk_map is not None
    with pytest.raises(ValueError, match="risk map made for 90 days"):
        population_risk(fitted.bgnbd, fitted.summary, 60, fitted.risk_map)
    with pytest.raises(ValueError, match="horizon_days"):
        ScoringModels(bgnbd=fitted.bgnbd, risk_map=fitted.risk_map, horizon_days=60)
