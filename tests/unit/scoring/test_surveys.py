"""Survey metrics pinned to hand-computed cases and to their published definitions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain import SurveyKind
from service.scoring.groupings import Period, by_customer, by_lookup, by_period, by_touchpoint
from service.scoring.intervals import mean_interval, nps_interval, wilson_interval, z_value
from service.scoring.surveys import (
    MetricName,
    ces_easy,
    ces_mean,
    csat,
    metric_by_group,
    nps,
    trend,
)
from tests.unit.scoring.builders import survey


def test_z_value_is_the_normal_quantile() -> None:
    assert z_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    with pytest.raises(ValueError, match="confidence"):
        z_value(1.0)


def test_wilson_matches_published_values() -> None:
    # 8 of 10 at 95%: centre (0.8 + 1.96^2/20) / (1 + 1.96^2/10), Newcombe (1998) method 3.
    low, high = wilson_interval(8, 10)
    assert (low, high) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    # 0 of 5: the upper bound is z^2 / (n + z^2) = 3.8415 / 8.8415.
    assert wilson_interval(0, 5) == pytest.approx((0.0, 0.43448), abs=1e-5)


def test_nps_hand_computed() -> None:
    m = nps([10, 9, 8, 7, 6, 0], min_answers=1)
    assert m.value == 0.0
    assert m.counts == {"promoters": 2, "passives": 2, "detractors": 2}
    # p = 3/4, d = 1/4: NPS 50, var = (1 - 0.5^2)/4 = 0.1875, se = 43.30 points.
    m = nps([10, 10, 9, 0], min_answers=1)
    assert m.value == 50.0
    assert m.std_error == pytest.approx(43.3013, abs=1e-4)
    assert (m.ci_low, m.ci_high) == pytest.approx((50 - 1.959964 * 43.3013, 100.0), abs=1e-3)
    assert nps_interval(3, 1, 4) == pytest.approx((m.ci_low, m.ci_high))


def test_small_samples_say_so_instead_of_giving_a_number() -> None:
    m = nps([10, 10, 0])
    assert m.value is None
    assert not m.sufficient
    assert "too few answers: 3 < 30" in m.note


def test_csat_top_two_box_and_custom_scales() -> None:
    m = csat([5, 4, 3, 2, 1], min_answers=1)
    assert m.value == pytest.approx(40.0)
    lo, hi = wilson_interval(2, 5)
    assert (m.ci_low, m.ci_high) == pytest.approx((100 * lo, 100 * hi))
    m10 = csat([10, 9, 8, 3], scale=(1, 10), satisfied_from=8, min_answers=1)
    assert m10.value == 75.0
    with pytest.raises(ValueError, match="outside 1-5"):
        csat([6], min_answers=1)


def test_ces_mean_and_share_easy() -> None:
    values = [7, 6, 5, 4, 3]
    m = ces_mean(values, min_answers=2)
    assert m.value == 5.0
    sd = math.sqrt(2.5)
    assert (m.ci_low, m.ci_high) == pytest.approx(mean_interval(5.0, sd, 5, 1, 7))
    assert ces_easy(values, min_answers=1).value == pytest.approx(60.0)


def test_metric_by_group_groups_and_filters_by_kind() -> None:
    answers = [
        survey(10, customer="a", touchpoint="onboarding"),
        survey(0, customer="a", touchpoint="support"),
        survey(9, customer="b", touchpoint="support"),
        survey(5, customer="b", kind=SurveyKind.CSAT),
    ]
    by_cust = metric_by_group(answers, MetricName.NPS, by_customer, min_answers=1)
    assert by_cust["a"].value == 0.0
    assert by_cust["a"].n == 2
    assert by_cust["b"].value == 100.0
    assert by_cust["b"].n == 1
    by_tp = metric_by_group(answers, MetricName.NPS, by_touchpoint, min_answers=1)
    assert by_tp["support"].value == 0.0
    accounts = by_lookup({"a": "acme", "b": "acme"})
    assert metric_by_group(answers, MetricName.NPS, accounts, min_answers=1)["acme"].n == 3
    months = metric_by_group(answers, MetricName.NPS, by_period(Period.QUARTER), min_answers=1)
    assert list(months) == ["2026-Q2"]


def test_metric_by_group_refuses_mixed_scales() -> None:
    answers = [survey(4, kind=SurveyKind.CSAT), survey(9, kind=SurveyKind.CSAT, scale=(1, 10))]
    with pytest.raises(ValueError, match="mix answer scales"):
        metric_by_group(answers, MetricName.CSAT, by_customer, min_answers=1)


def test_trend_flags_a_significant_change_and_not_noise() -> None:
    before = nps([10] * 40 + [0] * 60)  # NPS -20
    after = nps([10] * 70 + [0] * 30)  # NPS +40
    t = trend(before, after)
    assert t.delta == pytest.approx(60.0)
    assert t.significant
    assert t.p_value is not None
    assert t.p_value < 0.001
    same = trend(nps([10] * 50 + [0] * 50), nps([10] * 52 + [0] * 48))
    assert not same.significant
    assert trend(nps([10]), after).delta is None


scores = st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=200)


@given(scores)
def test_nps_is_bounded_and_its_interval_contains_it(values: list[int]) -> None:
    m = nps(values, min_answers=1)
    assert m.value is not None
    assert m.ci_low is not None
    assert m.ci_high is not None
    assert -100.0 <= m.ci_low <= m.value <= m.ci_high <= 100.0


@given(scores, st.randoms(use_true_random=False))
def test_nps_does_not_depend_on_order(values: list[int], rnd: object) -> None:
    shuffled = list(values)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert nps(values, min_answers=1) == nps(shuffled, min_answers=1)


@given(scores, st.integers(min_value=9, max_value=10))
def test_adding_a_promoter_never_lowers_nps(values: list[int], promoter: int) -> None:
    before = nps(values, min_answers=1).value
    after = nps([*values, promoter], min_answers=1).value
    assert before is not None
    assert after is not None
    assert after >= before - 1e-12


@given(st.integers(min_value=1, max_value=500), st.data())
def test_wilson_contains_the_proportion(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=0, max_value=n))
    low, high = wilson_interval(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0


@given(st.lists(st.integers(min_value=1, max_value=5), min_size=2, max_size=100))
def test_csat_and_ces_intervals_contain_their_estimates(values: list[int]) -> None:
    for m in (
        csat(values, min_answers=1),
        ces_easy(values, min_answers=1),
        ces_mean(values, min_answers=2),
    ):
        assert m.value is not None
        assert m.ci_low is not None
        assert m.ci_high is not None
        assert m.ci_low <= m.value <= m.ci_high
