"""score_customer: the whole picture of one customer at one moment."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from service.domain import ChurnSegment, ContractKind, Customer, Owner
from service.scoring.churn.bgnbd import BgNbdParams
from service.scoring.churn.survival import kaplan_meier
from service.scoring.customer import ScoringModels, score_customer
from service.scoring.segments import LoyaltyStage, NpsClass
from tests.unit.scoring.builders import AS_OF, message, open_case, purchase, survey

MODELS = ScoringModels(
    bgnbd=BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=-1, n_customers=1),
    base_rate=0.3,
)


def test_unhappy_lapsing_customer_gets_a_full_explained_picture() -> None:
    customer = Customer(id="c1", display_name="Mai", owner_id="u1")
    score = score_customer(
        customer,
        AS_OF,
        models=MODELS,
        surveys=[survey(2, days=3)],
        interactions=[message(-0.8, days=2, aspects=("delivery",))],
        cases=[open_case(12)],
        transactions=[purchase(400), purchase(370), purchase(340), purchase(200)],
        owners={"u1": Owner(id="u1", language="zh")},
        customer_value=3000,
    )
    assert score.experience.score is not None
    assert score.experience.score < 30
    assert score.churn is not None
    assert score.churn.segment is ChurnSegment.REPEAT
    assert score.loyalty_stage is LoyaltyStage.AT_RISK
    assert score.nps_class is NpsClass.DETRACTOR
    playbooks = [t.playbook for t in score.actions.tasks]
    assert len(playbooks) == 2  # contact policy: at most 2 tasks per 30 days
    assert all(t.language == "zh" for t in score.actions.tasks)
    assert {s.playbook for s in score.actions.skipped} | set(playbooks) >= {
        "detractor_call",
        "delivery_apology",
        "case_escalation",
    }


def test_missing_churn_estimates_say_why() -> None:
    plain = score_customer(Customer(id="c1"), AS_OF, surveys=[survey(9)])
    assert plain.churn is None
    assert plain.churn_note == "no purchase history: no churn estimate"
    no_model = score_customer(Customer(id="c1"), AS_OF, transactions=[purchase(5)])
    assert no_model.churn_note == "no purchase model fitted yet for this CRM"
    sub = Customer(
        id="s", contract=ContractKind.SUBSCRIPTION, subscribed_at=AS_OF - timedelta(days=10)
    )
    assert score_customer(sub, AS_OF).churn_note == "subscriber: no survival curve fitted yet"
    curve = kaplan_meier(np.array([30.0, 400]), np.array([True, False]))
    with_curve = score_customer(sub, AS_OF, models=ScoringModels(survival=curve))
    assert with_curve.churn is not None
    assert with_curve.churn.segment is ChurnSegment.SUBSCRIPTION


def test_records_of_others_and_of_the_future_do_not_leak() -> None:
    base = score_customer(Customer(id="c1"), AS_OF, surveys=[survey(9, days=1)])
    noisy = score_customer(
        Customer(id="c1"),
        AS_OF,
        surveys=[survey(9, days=1), survey(0, days=1, customer="c2"), survey(0, days=-5)],
    )
    assert noisy.experience == base.experience
    assert noisy.loyalty_stage is base.loyalty_stage
