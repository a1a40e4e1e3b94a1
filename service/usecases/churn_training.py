"""The `churn-train` job: learn churn from the CRM's own outcomes, per connection.

1. Outcomes from the CRM through the mappings (`training.crm_outcomes`): a churn status on the
   customer with the date that counts, closed renewals; where the CRM dates churned customers
   but not retained ones (the usual status field), monthly snapshots labelled by a churn date
   in the next horizon (alive = not churned yet); or, for subscribers with cancellation dates
   and no status field, monthly snapshots labelled by cancellation in the next horizon.
2. Features from our profile plus the CRM fields the mappings name (`features.py`), taken a
   horizon before each outcome.
3. The classifier's own protocol (`classifier.py`): out-of-time split, model choice,
   calibration, refit; its card is kept whatever happens.
4. The label-free model is scored on the same out-of-time test rows; scoring uses the labelled
   model only where it ranks better there, and every flag names the model that judged.
5. Kaplan-Meier survival, overall and per plan, where the CRM has subscriptions.
The flag threshold for the labelled model follows the same `FlagPolicy` as the label-free one
(the riskiest share of today's customers), so the flagged share does not jump when the model
changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from service.domain import ContractKind, Customer
from service.scoring.churn.bgnbd import BgNbdParams
from service.scoring.churn.classifier import train_churn_classifier
from service.scoring.churn.features import FeatureSpec, History
from service.scoring.churn.labelled import probabilities
from service.scoring.churn.survival import SurvivalCurve, kaplan_meier
from service.scoring.churn.thresholds import FlagPolicy, threshold_for_share
from service.scoring.churn.training import (
    LabelRule,
    TrainingPolicy,
    crm_outcomes,
    dated_status,
    outcome_table,
    snapshot_table,
)
from service.scoring.columns import days_before
from service.store.churn_models import ChurnModelRepository
from service.store.records import RecordStore
from service.usecases.models import joined_history, purchase_model

log = logging.getLogger(__name__)

Progress = Callable[[str, int], None]


def _ignore(_name: str, _count: int) -> None:
    return None


@dataclass(frozen=True)
class TrainingReport:
    """What one run did: whether scoring now uses a labelled model, and why."""

    connection: str
    trained_at: datetime
    in_use: bool
    reason: str
    card: dict[str, Any]


def _survival(
    customers: Sequence[Customer], as_of: datetime, policy: TrainingPolicy
) -> dict[str, Any]:
    """Kaplan-Meier over the subscribers, overall and per plan with enough subscribers."""
    subs = [
        c
        for c in customers
        if c.contract is ContractKind.SUBSCRIPTION
        and c.subscribed_at is not None
        and c.subscribed_at <= as_of
    ]
    if len(subs) < policy.min_subscribers:
        return {}

    def curve(group: Sequence[Customer]) -> SurvivalCurve:
        ends = [min(c.cancelled_at or as_of, as_of) for c in group]
        tenure = np.array(
            [days_before(c.subscribed_at or end, end) for c, end in zip(group, ends, strict=True)]
        )
        cancelled = np.array([end < as_of for end in ends])
        return kaplan_meier(np.maximum(tenure, 0.0), cancelled)

    plans: dict[str, list[Customer]] = {}
    for c in subs:
        plan = c.attributes.get(policy.plan_attribute)
        if plan is not None:
            plans.setdefault(str(plan), []).append(c)
    return {
        "overall": curve(subs).model_dump(mode="json"),
        "by_plan": {
            plan: curve(group).model_dump(mode="json")
            for plan, group in sorted(plans.items())
            if len(group) >= policy.min_subscribers
        },
        "plan_attribute": policy.plan_attribute,
    }


def _monthly(as_of: datetime, horizon_days: int) -> list[datetime]:
    """Month-spaced snapshots over the last two years; the last horizon is left out (its
    outcome is not known yet)."""
    last = as_of - timedelta(days=horizon_days)
    return [last - timedelta(days=30 * k) for k in range(24)]


def _table(
    customers: Sequence[Customer],
    history: History,
    as_of: datetime,
    horizon_days: int,
    bgnbd: BgNbdParams | None,
) -> tuple[pd.DataFrame | None, str]:
    """The training table and where its labels came from (None: the CRM gave no outcomes)."""
    if dated_status(customers):
        # Churners dated, retained customers not: monthly snapshots of the customers with a
        # status, alive = not churned yet, labelled by a churn date within the horizon (the
        # cancellation protocol with the churn date standing in for the cancellation).
        table = snapshot_table(
            [c for c in customers if c.churned is not None],
            _monthly(as_of, horizon_days),
            horizon_days=horizon_days,
            label=LabelRule.CRM_STATUS,
            history=history,
            bgnbd=bgnbd,
        )
        return table, "the CRM's churn status, dated churns (monthly snapshots)"
    outcomes = crm_outcomes(customers, history.transactions, as_of)
    if outcomes:
        table = outcome_table(outcomes, horizon_days=horizon_days, history=history, bgnbd=bgnbd)
        return table, "the CRM's churn status and closed renewals"
    subscribers = [c for c in customers if c.subscribed_at is not None]
    if any(c.cancelled_at is not None for c in subscribers):
        table = snapshot_table(
            subscribers,
            _monthly(as_of, horizon_days),
            horizon_days=horizon_days,
            label=LabelRule.CRM_CANCELLATION,
            history=history,
            bgnbd=bgnbd,
        )
        return table, "subscription cancellations (monthly snapshots)"
    return None, "the CRM records no churn outcome (no status field, renewal or cancellation)"


def _label_free_auc(table: pd.DataFrame, test_window: tuple[str, str]) -> float | None:
    """ROC-AUC of the purchase-pattern model on the classifier's out-of-time test rows."""
    if "bgnbd_p_no_purchase" not in table:
        return None
    when = table["snapshot_at"].astype(str)
    test = table[(when >= test_window[0]) & (when <= test_window[1])]
    y = test["churned"].to_numpy(dtype=bool)
    score = test["bgnbd_p_no_purchase"].to_numpy(dtype=np.float64)
    if y.all() or not y.any() or np.isnan(score).all():
        return None
    # Customers the purchase model cannot judge (no purchase) get the average: no ranking.
    filled = np.where(np.isnan(score), np.nanmean(score), score)
    return float(roc_auc_score(y, filled))


def train_churn(
    records: RecordStore,
    repository: ChurnModelRepository,
    connection: str,
    as_of: datetime,
    *,
    flag_policy: FlagPolicy | None = None,
    policy: TrainingPolicy | None = None,
    progress: Progress = _ignore,
) -> TrainingReport:
    """Train, judge and store the connection's churn model (the card is kept either way)."""
    flags = flag_policy or FlagPolicy()
    policy = policy or TrainingPolicy()
    histories = records.history(records.customer_ids(connection), connection)
    progress("customers", len(histories))
    customers = [h.customer for h in histories.values()]
    history = joined_history(histories)
    bgnbd = purchase_model(records, connection, as_of, flags.horizon_days)
    survival = _survival(customers, as_of, policy)
    table, source = _table(customers, history, as_of, flags.horizon_days, bgnbd)
    card: dict[str, Any] = {"label_source": source, "horizon_days": flags.horizon_days}
    classifier = None
    in_use = False
    if table is None:
        reason = f"{source}: the label-free model judges"
    else:
        progress("outcomes", len(table))
        features = table.drop(columns=["customer_id", "snapshot_at", "churned"])
        # A feature with one value over every outcome carries nothing to learn (our activity
        # counts where the CRM holds only fields, say); it is left out and named on the card.
        constant = [c for c in features.columns if features[c].nunique(dropna=False) <= 1]
        features = features.drop(columns=constant)
        card["constant_features"] = constant
        outcome = train_churn_classifier(
            features,
            table["churned"].to_numpy(dtype=bool),
            table["snapshot_at"],
            min_positives=policy.min_outcomes,
            trained_at=as_of,
        )
        classifier = outcome.classifier
        reason = outcome.reason
        if classifier is not None:
            card.update(classifier.card.model_dump(mode="json"))
            auc = float(classifier.card.metrics["roc_auc"])
            free = _label_free_auc(table, classifier.card.test_window)
            card["label_free_roc_auc"] = free
            in_use = auc > (free if free is not None else 0.5) + policy.min_auc_gain
            # The flagged share is a share of today's customers, not of those already gone.
            current = [
                c
                for c in customers
                if not c.churned and (c.cancelled_at is None or c.cancelled_at > as_of)
            ] or customers
            p_now = probabilities(
                classifier, current, as_of, history, FeatureSpec(bgnbd, flags.horizon_days)
            )
            choice = threshold_for_share(p_now, flags.share)
            card["threshold"] = choice.model_dump(mode="json")
            versus = f"{free:.3f}" if free is not None else "none (no purchase model)"
            reason = (
                f"{reason}; out-of-time ROC-AUC {auc:.3f} against the label-free model's "
                f"{versus}: "
                + ("scoring uses it" if in_use else "the label-free model stays in use")
            )
    repository.save(
        connection,
        as_of,
        in_use=in_use,
        reason=reason,
        card=card,
        survival=survival,
        classifier=classifier,
    )
    log.info("%s: churn-train: %s", connection, reason)
    return TrainingReport(connection, as_of, in_use, reason, card)
