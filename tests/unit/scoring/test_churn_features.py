"""The churn model's features: counts stay counts, mapped CRM fields keep their type, and an
outcome's features are taken a horizon before it (nothing the model could not have known)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.domain import (
    Channel,
    Customer,
    Direction,
    Interaction,
    SourceRef,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from service.scoring.churn.features import History, profile_features
from service.scoring.churn.training import crm_outcomes, outcome_table

AS_OF = datetime(2026, 12, 1, tzinfo=UTC)


def _src(crm_id: str) -> SourceRef:
    return SourceRef(connection="sf", crm_object="Contact", crm_id=crm_id)


def _customer(cid: str, **extra: object) -> Customer:
    return Customer(id=cid, display_name=cid, source=_src(cid), **extra)  # type: ignore[arg-type]


def _call(cid: str, k: int, when: datetime) -> Interaction:
    return Interaction(
        id=f"{cid}-{k}",
        customer_id=cid,
        channel=Channel.CALL,
        direction=Direction.INBOUND,
        occurred_at=when,
        source=_src(f"{cid}-{k}"),
    )


def test_contact_counts_are_not_capped_and_attributes_keep_their_type() -> None:
    customers = [
        _customer("a", attributes={"plan": "basic", "calls": 7, "paperless": True}),
        _customer("b", attributes={"plan": "pro", "calls": 0.5}),
    ]
    calls = [_call("a", k, AS_OF - timedelta(days=k + 1)) for k in range(6)]
    frame = profile_features(customers, AS_OF, History(interactions=calls))
    # The experience score caps contact frequency at its target (3); the feature does not.
    assert frame["contacts_30d"].tolist() == [6.0, 0.0]
    assert frame["n_contact_frequency"].tolist()[0] == 6.0
    assert frame["crm_calls"].dtype.kind == "f"
    assert frame["crm_calls"].tolist() == [7.0, 0.5]
    assert frame["crm_plan"].tolist() == ["basic", "pro"]
    # A bool is a category, not the number 1, and a missing value stays missing.
    assert frame["crm_paperless"].tolist() == ["True", None]


def test_outcomes_from_status_and_renewals_in_time_order() -> None:
    gone = _customer("a", churned=True, churn_label_at=AS_OF - timedelta(days=10))
    kept = _customer("b", churned=False, churn_label_at=AS_OF - timedelta(days=50))
    unknown = _customer("c")
    future = _customer("d", churned=True, churn_label_at=AS_OF + timedelta(days=5))
    renewal = Transaction(
        id="r1",
        customer_id="c",
        kind=TransactionKind.RENEWAL,
        status=TransactionStatus.LOST,
        amount=10.0,
        occurred_at=AS_OF - timedelta(days=30),
        source=_src("r1"),
    )
    outcomes = crm_outcomes([gone, kept, unknown, future], [renewal], AS_OF)
    assert [(o.customer.id, o.churned) for o in outcomes] == [
        ("b", False),
        ("c", True),
        ("a", True),
        # A status dated after as_of counts as known today (dated as_of), not in the future.
        ("d", True),
    ]
    assert outcomes[-1].at == AS_OF


def test_outcome_features_are_taken_a_horizon_before_the_outcome() -> None:
    when = AS_OF - timedelta(days=10)
    customer = _customer("a", churned=True, churn_label_at=when)
    calls = [
        _call("a", 0, when - timedelta(days=95)),  # before the cut: counted
        _call("a", 1, when - timedelta(days=20)),  # after the cut: unknown at prediction time
    ]
    outcomes = crm_outcomes([customer], [], AS_OF)
    table = outcome_table(outcomes, horizon_days=90, history=History(interactions=calls))
    assert table["churned"].tolist() == [True]
    assert table["contacts_90d"].tolist() == [1.0]
