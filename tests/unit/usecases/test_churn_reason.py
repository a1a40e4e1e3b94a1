"""The pushed `churn_reason`: why the flag is up, from stable facts only (no "3 hours ago")."""

from __future__ import annotations

from datetime import timedelta

from service.domain import Customer
from service.scoring.churn.bgnbd import BgNbdParams
from service.scoring.customer import ScoringModels, score_customer
from service.store.records import Customers
from service.usecases.fields import churn_reason, owned_fields
from tests.unit.scoring.builders import AS_OF, message, purchase, survey

CDNOW = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=-1, n_customers=1)


def reason(history: Customers, models: ScoringModels | None = None, later: float = 0) -> str | None:
    as_of = AS_OF + timedelta(hours=later)
    score = score_customer(
        history.customer,
        as_of,
        models=models,
        surveys=history.surveys,
        interactions=history.interactions,
        transactions=history.transactions,
    )
    return churn_reason(score.churn, history, as_of)


def test_a_complaint_without_an_estimate_says_so_and_stays_the_same_later() -> None:
    history = Customers(
        Customer(id="c1"), interactions=[message(-0.8, aspects=("billing_payment",))]
    )
    expected = "complaint about billing_payment, no churn estimate: no purchases yet"
    assert reason(history) == expected
    assert reason(history, later=30) == expected  # a rescore later pushes the same value


def test_reasons_with_a_model_and_without_a_complaint() -> None:
    lapsed = [purchase(400), purchase(370), purchase(340), purchase(300)]
    models = ScoringModels(bgnbd=CDNOW)
    risky = Customers(Customer(id="c1"), transactions=lapsed)
    assert (reason(risky, models) or "").startswith("churn risk ")
    unhappy = Customers(Customer(id="c1"), transactions=lapsed, surveys=[survey(3, days=1)])
    assert (reason(unhappy, models) or "").startswith("complaint: NPS 3, churn risk ")
    happy = Customers(Customer(id="c1"), interactions=[message(0.8)])
    assert reason(happy) is None
    score = score_customer(happy.customer, AS_OF, interactions=happy.interactions)
    fields = owned_fields(score, happy, AS_OF)
    assert (fields["churn_flag"], fields["churn_reason"], fields["churn_risk"]) == (
        False,
        None,
        None,
    )
