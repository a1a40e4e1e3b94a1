"""Uplift per playbook: hand-computed stratified difference in differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from service.scoring.uplift import Episode, Outcome, before_bucket, playbook_uplift, ranking_uplift


def _ep(playbook: str, treated: bool, before: float, after: float, stratum: str = "all") -> Episode:
    return Episode(
        customer_id="c",
        playbook=playbook,
        treated=treated,
        stratum=stratum,
        before=before,
        after=after,
    )


def test_hand_computed_two_strata() -> None:
    eps = [
        # stratum low: treated change +10, +12; control +2, +4 -> effect 8, 2 treated
        _ep("call", True, 30, 40, "low"),
        _ep("call", True, 30, 42, "low"),
        _ep("call", False, 30, 32, "low"),
        _ep("call", False, 30, 34, "low"),
        # stratum high: treated change 0; control -2 -> effect 2, 1 treated
        _ep("call", True, 70, 70, "high"),
        _ep("call", False, 70, 68, "high"),
        # stratum with treated only: dropped
        _ep("call", True, 90, 99, "top"),
    ]
    est = playbook_uplift(eps, Outcome.EXPERIENCE_SCORE, min_per_arm=1)["call"]
    assert est.uplift == pytest.approx((2 * 8 + 1 * 2) / 3)
    assert (est.n_treated, est.n_control, est.strata_used, est.strata_dropped) == (3, 3, 2, 1)
    # var: (2/3)^2 (2/2 + 2/2) + (1/3)^2 (0 + 0) = 8/9
    assert est.std_error == pytest.approx(math.sqrt(8 / 9))
    assert est.ci_low < est.uplift < est.ci_high


def test_too_few_comparable_customers_say_so() -> None:
    est = playbook_uplift(
        [_ep("call", True, 1, 2), _ep("call", False, 1, 1)], Outcome.EXPERIENCE_SCORE
    )["call"]
    assert est.uplift is None
    assert not est.sufficient
    assert "too few comparable customers (1 treated, 1 control; need 20 each)" in est.note


def test_recovers_a_known_effect_on_simulated_episodes() -> None:
    rng = np.random.default_rng(3)
    eps = []
    for i in range(4000):
        before = rng.uniform(0.2, 0.9)
        treated = bool(i % 2)
        # Risk drifts up by 0.05; the task removes 0.08 of it; noise sd 0.1.
        after = before + 0.05 - (0.08 if treated else 0.0) + rng.normal(0, 0.1)
        eps.append(_ep("retain", treated, before, after, before_bucket(before, width=0.1)))
    est = playbook_uplift(eps, Outcome.CHURN_PROBABILITY)["retain"]
    assert est.ci_low is not None
    assert est.ci_high is not None
    assert est.ci_low < -0.08 < est.ci_high
    assert ranking_uplift({"retain": est})["retain"] == pytest.approx(-est.uplift)


def test_harmful_playbooks_rank_at_zero_and_buckets() -> None:
    harmful = playbook_uplift(
        [_ep("spam", True, 0.3, 0.5)] * 20 + [_ep("spam", False, 0.3, 0.3)] * 20,
        Outcome.CHURN_PROBABILITY,
    )
    assert ranking_uplift(harmful) == {"spam": 0.0}
    assert before_bucket(47.0, width=10) == "40-50"
    with pytest.raises(ValueError, match="non-finite"):
        playbook_uplift([_ep("x", True, float("nan"), 1)], Outcome.EXPERIENCE_SCORE)
