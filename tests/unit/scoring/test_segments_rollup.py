"""Segments (NPS class, loyalty ladder, RFM) and the account roll-up."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain import ContactRole, Customer
from service.scoring.profile import experience_profile, explain_change
from service.scoring.rollup import account_profile
from service.scoring.segments import LoyaltyStage, NpsClass, loyalty_stage, nps_class, rfm_scores
from tests.unit.scoring.builders import AS_OF, ago, survey


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (10, NpsClass.PROMOTER),
        (9, NpsClass.PROMOTER),
        (8, NpsClass.PASSIVE),
        (7, NpsClass.PASSIVE),
        (6, NpsClass.DETRACTOR),
        (0, NpsClass.DETRACTOR),
    ],
)
def test_nps_class_boundaries(value: int, expected: NpsClass) -> None:
    assert nps_class(value) is expected


def test_nps_class_rejects_off_scale() -> None:
    with pytest.raises(ValueError, match="outside 0-10"):
        nps_class(11)


BASE = {
    "tenure_days": 400.0,
    "purchase_days": 5,
    "days_since_activity": 10.0,
    "experience": 70.0,
    "last_nps": 8.0,
    "flagged": False,
}


@pytest.mark.parametrize(
    ("changes", "stage"),
    [
        ({}, LoyaltyStage.LOYAL),
        ({"last_nps": 10.0}, LoyaltyStage.ADVOCATE),
        ({"purchase_days": 1}, LoyaltyStage.SATISFIED),
        ({"tenure_days": 20.0, "purchase_days": 1}, LoyaltyStage.NEW),
        # Unhappy but not picked by the flag policy: dissatisfied, not at_risk.
        ({"experience": 45.0}, LoyaltyStage.DISSATISFIED),
        ({"last_nps": 3.0}, LoyaltyStage.DISSATISFIED),
        ({"experience": 45.0, "tenure_days": 20.0}, LoyaltyStage.DISSATISFIED),
        # at_risk is exactly the flag, whatever else is true.
        ({"flagged": True, "last_nps": 10.0}, LoyaltyStage.AT_RISK),
        ({"flagged": True, "experience": 30.0}, LoyaltyStage.AT_RISK),
        ({"days_since_activity": 500.0}, LoyaltyStage.LOST),
        ({"days_since_activity": 500.0, "flagged": True}, LoyaltyStage.LOST),
        ({"churned": True, "experience": 90.0}, LoyaltyStage.LOST),
        ({"experience": None, "last_nps": None}, LoyaltyStage.LOYAL),
    ],
)
def test_loyalty_ladder_rules(changes: dict[str, object], stage: LoyaltyStage) -> None:
    assert loyalty_stage(**{**BASE, **changes}) is stage  # type: ignore[arg-type]


def test_rfm_quintiles_hand_computed() -> None:
    r, f, m = rfm_scores(
        np.array([1.0, 10, 100, 200, 300]), np.array([9.0, 5, 3, 1, 1]), np.array([5.0, 4, 3, 2, 1])
    )
    assert r.tolist() == [5, 4, 3, 2, 1]
    # Frequency ties (1, 1) share the average rank 1.5 -> ceil(5 * 1.5 / 5) = 2.
    assert f.tolist() == [5, 4, 3, 2, 2]
    assert m.tolist() == [5, 4, 3, 2, 1]


@given(st.lists(st.floats(0, 1000), min_size=1, max_size=50), st.randoms(use_true_random=False))
def test_rfm_is_order_independent(values: list[float], rnd: object) -> None:
    arr = np.array(values)
    perm = np.array(rnd.sample(range(len(values)), len(values)))  # type: ignore[attr-defined]
    r1, _, _ = rfm_scores(arr, arr, arr)
    r2, _, _ = rfm_scores(arr[perm], arr[perm], arr[perm])
    assert r1[perm].tolist() == r2.tolist()
    assert set(r1.tolist()) <= {1, 2, 3, 4, 5}


def _contact(cid: str, role: ContactRole, nps: int) -> tuple[Customer, object]:
    customer = Customer(id=cid, account_id="acme", role=role)
    return customer, experience_profile(cid, AS_OF, surveys=[survey(nps, customer=cid)])


def test_rollup_weights_roles_and_sums_contributions() -> None:
    boss = _contact("boss", ContactRole.DECISION_MAKER, 0)  # score 0
    user = _contact("user", ContactRole.USER, 10)  # score 100
    p = account_profile("acme", AS_OF, [boss, user])  # type: ignore[list-item]
    # Equal confidence and recency: weights 3 and 1 -> 100 * 1/4 = 25.
    assert p.score == pytest.approx(25.0)
    assert p.baseline + sum(c.points for c in p.contributions) == pytest.approx(p.score)
    assert p.contributions[0].factor == "contact:boss"
    assert "decision_maker" in p.contributions[0].evidence


def test_rollup_decays_stale_contacts_and_weights_revenue() -> None:
    boss = _contact("boss", ContactRole.USER, 0)
    user = _contact("user", ContactRole.USER, 10)
    stale = account_profile(
        "acme",
        AS_OF,
        [boss, user],
        last_active={"boss": ago(90)},  # type: ignore[list-item]
    )
    # boss weight halves: 100 * 1 / 1.5.
    assert stale.score == pytest.approx(100 / 1.5)
    rich = account_profile("acme", AS_OF, [boss, user], revenue={"boss": 999})  # type: ignore[list-item]
    # boss weight 1 + log10(1000) = 4: 100 * 1 / 5.
    assert rich.score == pytest.approx(20.0)
    change = explain_change(stale, rich)
    assert change.factors[0].factor == "contact:boss"
    assert sum(f.delta for f in change.factors) == pytest.approx(change.delta)


def test_rollup_rejects_contacts_of_other_accounts_and_handles_no_scores() -> None:
    other = Customer(id="x", account_id="globex")
    with pytest.raises(ValueError, match="belongs to account globex"):
        account_profile(
            "acme",
            AS_OF,
            [(other, experience_profile("x", AS_OF, surveys=[survey(9, customer="x")]))],
        )
    empty = account_profile("acme", AS_OF, [(Customer(id="y"), experience_profile("y", AS_OF))])
    assert empty.score is None
    assert empty.input_counts == {"contacts": 1, "scored_contacts": 0}
