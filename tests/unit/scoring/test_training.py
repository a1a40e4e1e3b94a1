"""Snapshot training tables from CRM history, and the classifier trained on them end to end."""

from __future__ import annotations

import pytest

from service.domain import ContractKind, Customer, TransactionKind, TransactionStatus
from service.scoring.churn.classifier import train_churn_classifier
from service.scoring.churn.features import History
from service.scoring.churn.training import LabelRule, crm_outcomes, dated_status, snapshot_table
from tests.unit.scoring.builders import AS_OF, ago, purchase, unhappy_stop_buying


def test_no_purchase_labels_and_features_hand_checked() -> None:
    customers = [Customer(id="a"), Customer(id="b")]
    buys = [
        purchase(70, customer="a"),
        purchase(56, customer="a"),
        purchase(10, customer="a"),
        purchase(70, customer="b"),
    ]
    table = snapshot_table(
        customers,
        [ago(50)],
        horizon_days=45,
        label=LabelRule.NO_PURCHASE,
        history=History(transactions=buys),
    )
    a, b = table.iloc[0], table.iloc[1]
    # At the snapshot (50 days ago) a had bought twice (70, 56 days ago) and buys again 10 days ago.
    assert a["repeat_purchases"] == 1
    assert a["weeks_since_purchase"] == pytest.approx(6 / 7)
    assert not a["churned"]
    assert b["churned"]
    assert table["snapshot_at"].iloc[0] == ago(50)


def test_crm_cancellations_label_the_window_and_drop_the_departed() -> None:
    customers = [
        Customer(id="a", contract=ContractKind.SUBSCRIPTION, cancelled_at=ago(20)),
        Customer(id="b", contract=ContractKind.SUBSCRIPTION, cancelled_at=ago(200)),
        Customer(id="c", contract=ContractKind.SUBSCRIPTION),
    ]
    table = snapshot_table(customers, [ago(40)], horizon_days=30, label=LabelRule.CRM_CANCELLATION)
    assert table["customer_id"].tolist() == ["a", "c"]
    assert table["churned"].tolist() == [True, False]
    assert set(table["contract"]) == {"subscription"}


def test_a_dated_churn_status_labels_its_window_and_drops_the_departed_and_the_unborn() -> None:
    customers = [
        Customer(id="a", churned=True, churn_label_at=ago(20)),  # churns within the window
        Customer(id="b", churned=True, churn_label_at=ago(200)),  # gone before the snapshot
        Customer(id="c", churned=False),  # retained: the CRM gives no date
        Customer(id="d", churned=False, created_at=ago(10)),  # not a customer yet
        Customer(id="e", churned=True, cancelled_at=ago(35)),  # the cancellation dates it
    ]
    table = snapshot_table(customers, [ago(40)], horizon_days=30, label=LabelRule.CRM_STATUS)
    assert table["customer_id"].tolist() == ["a", "c", "e"]
    assert table["churned"].tolist() == [True, False, True]


def test_undated_retained_customers_switch_the_status_to_snapshots() -> None:
    dated = [Customer(id=f"x{i}", churned=True, churn_label_at=ago(10 * i + 1)) for i in range(5)]
    retained = [Customer(id=f"r{i}", churned=False) for i in range(5)]
    assert dated_status(dated + retained)
    # Read as one outcome each, every retained customer sits at as_of, after every churner:
    # an out-of-time test period would hold no churner at all.
    last = crm_outcomes(dated + retained, [], AS_OF)[-5:]
    assert {o.customer.id for o in last} == {r.id for r in retained}
    # Every status dated (a status-review date on the retained too): one outcome per customer.
    reviewed = [c.model_copy(update={"churn_label_at": ago(3)}) for c in retained]
    assert not dated_status(dated + reviewed)
    assert not dated_status(retained)  # no dated churn: nothing to place in time


def test_classifier_learns_from_history_tables_end_to_end() -> None:
    """Simulated ground truth: unhappy customers (low NPS, negative chats) stop buying."""
    customers, history, snaps = unhappy_stop_buying()
    table = snapshot_table(
        customers, snaps, horizon_days=60, label=LabelRule.NO_PURCHASE, history=history
    )
    assert len(table) == 900
    features = table.drop(columns=["customer_id", "snapshot_at", "churned"])
    outcome = train_churn_classifier(features, table["churned"].to_numpy(), table["snapshot_at"])
    assert outcome.classifier is not None, outcome.reason
    card = outcome.classifier.card
    assert card.metrics["roc_auc"] > 0.8
    assert card.train_window[1] < card.test_window[0]


def test_closed_lost_renewals_label_churn() -> None:
    customers = [Customer(id="a"), Customer(id="b")]
    renewals = [
        purchase(5, customer="a").model_copy(
            update={"kind": TransactionKind.RENEWAL, "status": TransactionStatus.LOST}
        ),
        purchase(5, customer="b").model_copy(update={"kind": TransactionKind.RENEWAL}),
        purchase(100, customer="a"),
    ]
    table = snapshot_table(
        customers,
        [ago(30)],
        horizon_days=60,
        label=LabelRule.LOST_RENEWAL,
        history=History(transactions=renewals),
    )
    assert table["churned"].tolist() == [True, False]
