"""Churn risk from the model trained on the CRM's own outcomes (the `churn-train` job's model).

The job decides whether scoring may use it (only where it beat the label-free model on the same
out-of-time test); this module applies it: probabilities for many customers at once from the
same features it learnt from, drivers for the flagged ones, and a flag that says in its drivers
which model judged and how well it did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from service.domain import (
    Case,
    ChurnFlag,
    ChurnModelKind,
    ChurnSegment,
    ContractKind,
    Customer,
    Interaction,
    RiskDriver,
    SurveyResponse,
    Transaction,
)
from service.scoring.churn.classifier import ChurnClassifier
from service.scoring.churn.features import FeatureSpec, History, profile_features
from service.scoring.churn.no_estimate import purchase_segment
from service.scoring.churn.risk import flag_context
from service.scoring.columns import F64


class LabelledChurn(BaseModel):
    """A trained classifier scoring may use, with what the flag says about it."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    classifier: ChurnClassifier
    trained_at: datetime
    threshold: float = Field(gt=0, le=1)
    roc_auc: float
    label_free_auc: float | None = None

    def judged_by(self) -> RiskDriver:
        """The driver naming the model, so staff and automation know what the number rests on."""
        versus = (
            f" against {self.label_free_auc:.2f} for the purchase-pattern model"
            if self.label_free_auc is not None
            else ""
        )
        return RiskDriver(
            name="judged_by_labelled_model",
            text=(
                f"Judged by the model trained on this CRM's churn outcomes "
                f"({self.classifier.card.model_kind}, trained {self.trained_at:%Y-%m-%d}; "
                f"out-of-time AUC {self.roc_auc:.2f}{versus})"
            ),
            impact=0.0,
        )


@dataclass(frozen=True)
class Verdict:
    """The labelled model's word on one customer, and which model said it (a person with records
    in several CRMs is judged by one CRM's model, whichever connection scores them)."""

    probability: float
    drivers: tuple[RiskDriver, ...]
    model: LabelledChurn | None = None


def feature_frame(
    classifier: ChurnClassifier,
    customers: Sequence[Customer],
    as_of: datetime,
    history: History,
    spec: FeatureSpec,
) -> pd.DataFrame:
    """The classifier's feature columns for `customers` at `as_of`, in its column order."""
    frame = profile_features(customers, as_of, history, spec)
    # A field the CRM stopped sending is missing, not an error: the model's own preparation
    # treats it as unknown.
    return frame.reindex(columns=list(classifier.card.features))


def probabilities(
    classifier: ChurnClassifier,
    customers: Sequence[Customer],
    as_of: datetime,
    history: History,
    spec: FeatureSpec,
) -> F64:
    """Calibrated churn probabilities of `customers` at `as_of`."""
    if not customers:
        return np.zeros(0)
    return classifier.predict_proba(feature_frame(classifier, customers, as_of, history, spec))


def judge(
    model: LabelledChurn,
    customers: Sequence[Customer],
    as_of: datetime,
    history: History,
    spec: FeatureSpec,
) -> dict[str, Verdict]:
    """Verdicts for many customers in one prediction; drivers only for those over the
    threshold (explaining costs one prediction per feature)."""
    if not customers:
        return {}
    frame = feature_frame(model.classifier, customers, as_of, history, spec)
    p = model.classifier.predict_proba(frame)
    risky = np.flatnonzero(p >= model.threshold)
    explained = model.classifier.drivers(frame.iloc[risky]) if len(risky) else []
    drivers = {int(i): d for i, d in zip(risky, explained, strict=True)}
    return {c.id: Verdict(float(p[i]), drivers.get(i, ()), model) for i, c in enumerate(customers)}


def labelled_flag(
    customer: Customer,
    as_of: datetime,
    verdict: Verdict,
    model: LabelledChurn,
    *,
    horizon_days: int,
    surveys: Sequence[SurveyResponse] = (),
    interactions: Sequence[Interaction] = (),
    cases: Sequence[Case] = (),
    transactions: Sequence[Transaction] = (),
    base_rate: float | None = None,
) -> ChurnFlag:
    """The churn flag from the labelled model's verdict; a fresh complaint still flags. A
    customer the CRM already records as gone is not flagged: there is nobody left to keep."""
    gone = bool(customer.churned) or (
        customer.cancelled_at is not None and customer.cancelled_at <= as_of
    )
    common, complaint = flag_context(
        customer, as_of, horizon_days, model.threshold, base_rate,
        transactions, surveys, interactions, cases,
    )  # fmt: skip
    first = () if gone else complaint
    return ChurnFlag(
        **common,
        probability=verdict.probability,
        model=ChurnModelKind.CLASSIFIER,
        segment=_segment(customer, transactions, as_of),
        flagged=not gone and (verdict.probability >= model.threshold or bool(first)),
        drivers=(*first, model.judged_by(), *verdict.drivers),
    )


def _segment(
    customer: Customer, transactions: Sequence[Transaction], as_of: datetime
) -> ChurnSegment:
    """The population the customer belongs to (the same segments the label-free model uses)."""
    if customer.contract is ContractKind.SUBSCRIPTION:
        return ChurnSegment.SUBSCRIPTION
    return purchase_segment(customer.id, transactions, as_of)[0]
