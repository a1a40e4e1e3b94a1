"""Survival, thresholds, warnings and label-free churn flags, against hand-computed cases."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain import ChurnModelKind, ChurnSegment, ContractKind, Customer, SurveyKind
from service.scoring.churn.bgnbd import (
    BgNbdParams,
    expected_purchases,
    log_likelihood,
    log_likelihood_and_gradient,
    p_alive,
    p_no_purchase,
)
from service.scoring.churn.risk import churn_flag
from service.scoring.churn.signals import experience_warnings, recent_complaint
from service.scoring.churn.survival import kaplan_meier, p_cancel_within, survival_at
from service.scoring.churn.thresholds import (
    apply_hysteresis,
    threshold_for_cost,
    threshold_for_precision,
    threshold_for_share,
    top_k_per_owner,
)
from tests.unit.scoring.builders import AS_OF, ago, message, open_case, purchase, survey

CDNOW = BgNbdParams(
    r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=-9582.4, n_customers=2357
)


def test_kaplan_meier_hand_computed() -> None:
    # Tenures 1,2,2,3,4 with events at 1, 2 (one of two), 4; the 3 is censored.
    curve = kaplan_meier(np.array([1.0, 2, 2, 3, 4]), np.array([True, True, False, False, True]))
    # S(1) = 4/5; S(2) = 4/5 * 3/4 = 0.6; S(4) = 0.6 * (1 - 1/1) = 0.
    assert curve.times == (1.0, 2.0, 4.0)
    assert curve.survival == pytest.approx((0.8, 0.6, 0.0))
    assert survival_at(curve, np.array([0.5, 1.0, 3.9])).tolist() == pytest.approx([1.0, 0.8, 0.6])
    # P(cancel within 2 | survived 1) = 1 - S(3)/S(1) = 1 - 0.6/0.8.
    assert p_cancel_within(curve, np.array([1.0]), 2.0)[0] == pytest.approx(0.25)
    with pytest.raises(ValueError, match="non-negative"):
        kaplan_meier(np.array([-1.0]), np.array([True]))


def test_bgnbd_closed_forms_on_published_parameters() -> None:
    x, t_x, age = np.array([0.0, 2, 2]), np.array([0.0, 30.43, 10.0]), np.array([38.86] * 3)
    alive = p_alive(CDNOW, x, t_x, age)
    assert alive[0] == 1.0  # one-time buyers: P(alive) says nothing
    assert alive[1] > alive[2]  # a recent repeat buyer is more likely alive than a lapsed one
    # Hand-computed for the lapsed buyer: odds a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x).
    odds = 0.793 / (2.426 + 1) * ((4.414 + 38.86) / (4.414 + 10.0)) ** (0.243 + 2)
    assert alive[2] == pytest.approx(1 / (1 + odds))
    quiet = p_no_purchase(CDNOW, 39.0, x, t_x, age)
    assert quiet[0] == pytest.approx(((4.414 + 38.86) / (4.414 + 38.86 + 39)) ** 0.243)
    assert np.all((quiet > 0) & (quiet < 1))
    assert np.all(expected_purchases(CDNOW, 39.0, x, t_x, age) >= 0)


def test_precision_threshold_hand_computed() -> None:
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    y = np.array([True, True, False, True, False, False])
    choice = threshold_for_precision(y, p, 0.75)
    # Top 4: 3 of 4 are churners -> precision 0.75, recall 1.0, threshold 0.6.
    assert (choice.threshold, choice.precision, choice.recall) == pytest.approx((0.6, 0.75, 1.0))
    assert choice.met_target
    impossible = threshold_for_precision(np.array([False, True]), np.array([0.9, 0.1]), 0.99)
    assert not impossible.met_target
    assert "no threshold reaches" in impossible.note


def test_cost_rule_matches_the_worked_example() -> None:
    # Value 500, save rate 25 %, contact cost 20 -> 0.16 (docs/churn.md, "The cost rule").
    assert threshold_for_cost(20, 0.25, 500).threshold == pytest.approx(0.16)
    assert not threshold_for_cost(1000, 0.1, 10).met_target


def test_top_k_per_owner_and_hysteresis() -> None:
    p = np.array([0.9, 0.2, 0.8, 0.7, 0.1])
    flags = top_k_per_owner(p, ["ann", "ann", "bob", "bob", None], 1)
    assert flags.tolist() == [True, False, True, False, True]
    kept = apply_hysteresis(
        np.array([0.65, 0.65, 0.5]), np.array([True, False, True]), high=0.7, low=0.6
    )
    assert kept.tolist() == [True, False, False]


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.data())
def test_hysteresis_never_flags_below_low_or_misses_above_high(
    p: list[float], data: st.DataObject
) -> None:
    prev = np.array(data.draw(st.lists(st.booleans(), min_size=len(p), max_size=len(p))))
    arr = np.array(p)
    out = apply_hysteresis(arr, prev, high=0.7, low=0.5)
    assert not np.any(out & (arr < 0.5))
    assert np.all(out[arr >= 0.7])


def test_warnings_describe_drops_stale_cases_and_negative_runs() -> None:
    w = experience_warnings(
        AS_OF,
        surveys=[survey(5, days=40, kind=SurveyKind.CSAT), survey(2, days=1, kind=SurveyKind.CSAT)],
        interactions=[message(0.5, days=10), message(-0.6, days=2), message(-0.9, days=1)],
        cases=[open_case(9), open_case(8), open_case(1)],
    )
    assert w == (
        "CSAT fell from 5 to 2",
        "2 open cases older than 7 days",
        "negative sentiment in the last 2 messages",
    )


def test_churn_flag_for_a_lapsed_repeat_buyer() -> None:
    customer = Customer(id="c1")
    history = [purchase(300), purchase(260), purchase(230), purchase(200)]
    flag = churn_flag(
        customer,
        AS_OF,
        horizon_days=90,
        threshold=0.5,
        params=CDNOW,
        transactions=history,
        interactions=[message(-0.8, days=1)],
        base_rate=0.3,
    )
    assert flag is not None
    assert flag.model is ChurnModelKind.BG_NBD
    assert flag.segment is ChurnSegment.REPEAT
    assert flag.flagged
    assert flag.p_alive is not None
    # The day-old complaint leads; the purchase rhythm follows.
    assert flag.drivers[0].text == "Complained 24 hours ago: a negative chat"
    assert (
        flag.drivers[1].text
        == "Usually buys every ~5 weeks; last purchase 29 weeks ago (6.0x longer than usual)"
    )
    assert "average customer: 30%" in flag.drivers[2].text
    assert flag.warnings == ("the last message was negative",)


def test_one_time_buyers_and_subscribers_get_their_own_treatment() -> None:
    once = churn_flag(
        Customer(id="c1"),
        AS_OF,
        horizon_days=90,
        threshold=0.5,
        params=CDNOW,
        transactions=[purchase(100)],
    )
    assert once is not None
    assert once.segment is ChurnSegment.ONE_TIME
    assert once.p_alive is None  # not shown: it would call them safe
    assert "Bought once" in once.drivers[0].text
    assert (
        churn_flag(Customer(id="c1"), AS_OF, horizon_days=90, threshold=0.5, params=CDNOW) is None
    )
    curve = kaplan_meier(np.array([30.0, 60, 400, 500]), np.array([True, True, False, False]))
    sub = Customer(
        id="s1", contract=ContractKind.SUBSCRIPTION, subscribed_at=AS_OF - timedelta(days=20)
    )
    flag = churn_flag(sub, AS_OF, horizon_days=90, threshold=0.4, curve=curve)
    assert flag is not None
    assert flag.model is ChurnModelKind.SURVIVAL
    assert flag.probability == pytest.approx(0.5)  # 1 - S(110)/S(20) = 1 - 0.5/1
    assert flag.flagged
    assert ago(0) == AS_OF


@pytest.mark.parametrize("params", [(0.243, 4.414, 0.793, 2.426), (1.5, 12.0, 3.0, 0.7)])
def test_bgnbd_gradient_matches_finite_differences(
    params: tuple[float, float, float, float],
) -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 6, 200).astype(float)
    age = rng.uniform(1, 40, 200)
    t_x = np.where(x > 0, age * rng.uniform(0.05, 1, 200), 0.0)
    _, grad = log_likelihood_and_gradient(*params, x, t_x, age)
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-6 * params[k]
        up = log_likelihood(*(np.array(params) + step), x, t_x, age).sum()
        down = log_likelihood(*(np.array(params) - step), x, t_x, age).sum()
        assert grad[:, k].sum() == pytest.approx((up - down) / (2 * step[k]), rel=1e-5)


def test_share_rule_flags_the_riskiest_share_and_ignores_non_buyers() -> None:
    p = np.array([0.9, np.nan, 0.2, 0.7, 0.4, np.nan, 0.8, 0.1, 0.3, 0.6, 0.5, 0.05])
    choice = threshold_for_share(p, 0.2)  # 10 buyers: the riskiest 2
    assert choice.threshold == 0.8
    assert choice.share_flagged == 0.2
    assert int((p >= choice.threshold).sum()) == 2


def test_share_rule_flags_ties_together_and_says_when_nobody_bought() -> None:
    tied = threshold_for_share(np.array([0.5, 0.5, 0.5, 0.1]), 0.25)
    assert tied.threshold == 0.5
    assert tied.share_flagged == 0.75  # the three tied customers, not an arbitrary one of them
    nobody = threshold_for_share(np.array([np.nan, np.nan]), 0.1)
    assert nobody.met_target is False
    assert nobody.threshold == 1.0
    with pytest.raises(ValueError, match="share"):
        threshold_for_share(np.array([0.5]), 0.0)


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=200), st.floats(0.01, 1.0))
def test_share_rule_never_flags_fewer_than_asked(values: list[float], share: float) -> None:
    p = np.array(values)
    choice = threshold_for_share(p, share)
    flagged = int((p >= choice.threshold).sum())
    # Customers with no risk at all are never flagged, whatever the share.
    assert flagged >= min(int((p > 0).sum()), int(np.ceil(share * len(p))))


def test_a_fresh_complaint_is_named_and_a_later_happy_word_or_age_clears_it() -> None:
    complaint = recent_complaint(AS_OF, interactions=[message(-0.8, 0.2, aspects=("delivery",))])
    assert complaint is not None
    assert complaint.text == "Complained 5 hours ago: a negative chat about delivery"
    # Dealt with: the customer wrote happily afterwards.
    assert recent_complaint(AS_OF, interactions=[message(-0.8, 2), message(0.7, 1)]) is None
    # Too old to act on now.
    assert recent_complaint(AS_OF, interactions=[message(-0.8, 20)]) is None
    # A detractor's answer counts; a promoter's answer after the complaint settles it.
    detractor = recent_complaint(AS_OF, surveys=[survey(3, 1)])
    assert detractor is not None
    assert "NPS 3" in detractor.text
    assert recent_complaint(AS_OF, interactions=[message(-0.8, 3)], surveys=[survey(9, 1)]) is None


def test_a_complaint_raises_the_flag_whatever_the_purchase_model_says() -> None:
    params = CDNOW
    customer = Customer(id="c1")
    buys = [purchase(days) for days in (300, 200, 100, 10)]
    calm = churn_flag(
        customer, AS_OF, horizon_days=90, threshold=0.99, params=params, transactions=buys
    )
    assert calm is not None
    assert not calm.flagged
    upset = churn_flag(
        customer,
        AS_OF,
        horizon_days=90,
        threshold=0.99,
        params=params,
        transactions=buys,
        interactions=[message(-0.9, 0.1, aspects=("delivery",))],
    )
    assert upset is not None
    assert upset.flagged
    assert upset.probability == calm.probability  # the number is not bent by the complaint
    assert upset.drivers[0].name == "recent_complaint"
