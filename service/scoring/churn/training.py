"""Training tables for the labelled churn classifier, built from the CRM's own history.

One row per (customer, snapshot date): features use only data up to the snapshot, the label
comes from the following `horizon_days` (docs/churn.md, "Training tables"). Labels:
- the CRM's own: the customer was cancelled (`cancelled_at`) within the window, or its churn
  status says churned with a date within the window (`LabelRule.CRM_STATUS`);
- a renewal closed as lost within the window;
- or, where the CRM has none, inactivity by rule: no won purchase within the window.
Features reuse the scoring formulas (experience factors, purchase summary, BG/NBD), so the
model learns from exactly the numbers the service shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from service.domain import (
    Customer,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from service.scoring.churn.bgnbd import BgNbdParams
from service.scoring.churn.features import FeatureSpec, History, profile_features
from service.scoring.weights import ExperienceWeights


class LabelRule(StrEnum):
    """Where the churn label comes from."""

    CRM_CANCELLATION = "crm_cancellation"
    # The CRM's churn status (`churned`) dated by `churn_label_at` (else `cancelled_at`): for
    # CRMs that date a churn but not a retained customer's status.
    CRM_STATUS = "crm_status"
    LOST_RENEWAL = "lost_renewal"
    NO_PURCHASE = "no_purchase"


class TrainingPolicy(BaseModel):
    """How the `churn-train` job learns from a connection's outcomes (`CEM_CHURN_TRAINING__*`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Fewer churned (or retained) outcomes than this and no model is trained: its metrics
    # would be noise.
    min_outcomes: int = Field(default=50, ge=10)
    # The labelled model must beat the label-free one's out-of-time ROC-AUC by this much.
    min_auc_gain: float = Field(default=0.0, ge=0.0, le=0.5)
    # The customer attribute (a mapped CRM field) whose values get their own survival curve.
    plan_attribute: str = "plan"
    min_subscribers: int = Field(default=30, ge=5)
    # How often the scheduler retrains each connection.
    every_hours: float = Field(default=24.0, gt=0)


def snapshot_table(
    customers: Sequence[Customer],
    snapshots: Sequence[datetime],
    *,
    horizon_days: int,
    label: LabelRule,
    history: History = History(),
    bgnbd: BgNbdParams | None = None,
    weights: ExperienceWeights | None = None,
) -> pd.DataFrame:
    """Features and label per (customer, snapshot); columns `customer_id`, `snapshot_at`,
    `churned` plus the features. Customers already gone at a snapshot are left out of it, and
    with `LabelRule.CRM_STATUS` also those the CRM did not know yet (created later)."""
    ids = [c.id for c in customers]
    spec = FeatureSpec(bgnbd, horizon_days, weights)
    frames = []
    for at in sorted(snapshots):
        alive = [c for c in customers if _alive(c, at, label)]
        if not alive:
            continue
        alive_ids = [c.id for c in alive]
        frame = profile_features(alive, at, history, spec)
        frame.insert(0, "snapshot_at", at)
        frame.insert(0, "customer_id", alive_ids)
        end = at + timedelta(days=horizon_days)
        if label in (LabelRule.CRM_CANCELLATION, LabelRule.CRM_STATUS):
            ended = [ended_at(c, label) for c in alive]
            frame["churned"] = [e is not None and at < e <= end for e in ended]
        elif label is LabelRule.LOST_RENEWAL:
            lost = {
                t_.customer_id
                for t_ in history.transactions
                if t_.kind is TransactionKind.RENEWAL
                and t_.status is TransactionStatus.LOST
                and at < t_.occurred_at <= end
            }
            frame["churned"] = [cid in lost for cid in alive_ids]
        else:
            buyers = {
                t_.customer_id
                for t_ in history.transactions
                if t_.status is TransactionStatus.WON and at < t_.occurred_at <= end
            }
            frame["churned"] = [cid not in buyers for cid in alive_ids]
        frames.append(frame)
    if not frames:
        raise ValueError(f"no customer of {len(ids)} was active at any snapshot")
    return pd.concat(frames, ignore_index=True)


def ended_at(customer: Customer, label: LabelRule) -> datetime | None:
    """When the customer was gone by `label`'s reading of the CRM (None: still a customer)."""
    if label is LabelRule.CRM_STATUS:
        return (customer.churn_label_at or customer.cancelled_at) if customer.churned else None
    return customer.cancelled_at


def _alive(customer: Customer, at: datetime, label: LabelRule) -> bool:
    end = ended_at(customer, label)
    if end is not None and end <= at:
        return False
    if label is LabelRule.CRM_STATUS:
        # A contact created after the snapshot was nobody's customer then.
        return customer.created_at is None or customer.created_at <= at
    return True


def dated_status(customers: Sequence[Customer]) -> bool:
    """Whether the CRM dates its churned customers but not (all of) its retained ones.

    Then the status cannot be read as one outcome per customer at its date: every retained
    customer would sit at `as_of`, after every churner, and an out-of-time split would test on
    retained customers only. Such a CRM is read as monthly snapshots instead (`CRM_STATUS`)."""
    with_status = [c for c in customers if c.churned is not None]
    dated_churn = any(c.churned and (c.churn_label_at or c.cancelled_at) for c in with_status)
    undated_retained = any(
        not c.churned and c.churn_label_at is None and c.cancelled_at is None for c in with_status
    )
    return dated_churn and undated_retained


@dataclass(frozen=True)
class Outcome:
    """One labelled outcome: the customer, the date the label counts from, churned or not."""

    customer: Customer
    at: datetime
    churned: bool


def crm_outcomes(
    customers: Sequence[Customer], transactions: Sequence[Transaction], as_of: datetime
) -> list[Outcome]:
    """The outcomes the CRM records, through the mappings:

    - a churn status on the customer (`churned`), dated by `churn_label_at`, else by
      `cancelled_at`, else `as_of` (a status without a date counts as current);
    - each closed renewal: lost = churned, won = renewed, dated by its close date.
    Outcomes after `as_of` are left out; the list is in time order. Ties (a date field puts
    many outcomes on one day) go by the CRM's record id, then ours: the same CRM data gives the
    same order, and so the same out-of-time split, on every pull into any database (our ids are
    random, so ordering by them alone reshuffled each day's outcomes from one pull to the next)."""
    by_id = {c.id: c for c in customers}
    out = [
        Outcome(c, min(as_of, c.churn_label_at or c.cancelled_at or as_of), bool(c.churned))
        for c in customers
        if c.churned is not None
    ]
    out += [
        Outcome(by_id[t.customer_id], t.occurred_at, t.status is TransactionStatus.LOST)
        for t in transactions
        if t.kind is TransactionKind.RENEWAL
        and t.status in (TransactionStatus.WON, TransactionStatus.LOST)
        and t.customer_id in by_id
        and t.occurred_at <= as_of
    ]
    return sorted(out, key=lambda o: (o.at, _crm_id(o.customer), o.customer.id))


def _crm_id(customer: Customer) -> str:
    return customer.source.crm_id if customer.source is not None else ""


def outcome_table(
    outcomes: Sequence[Outcome],
    *,
    horizon_days: int,
    history: History = History(),
    bgnbd: BgNbdParams | None = None,
    weights: ExperienceWeights | None = None,
) -> pd.DataFrame:
    """Features `horizon_days` before each outcome (what a prediction then could have known),
    the label, and `snapshot_at` = the outcome's date; rows in the order of `outcomes`.

    Outcomes are grouped by the day their features are taken, and each group reads only its own
    customers' records, so the cost grows with the records, not records x dates. The CRM's own
    fields (`attributes`) are today's values: the CRM keeps no history of them."""
    spec = FeatureSpec(bgnbd, horizon_days, weights)
    per_customer = history.by_customer()
    groups: dict[datetime, list[int]] = defaultdict(list)
    for i, o in enumerate(outcomes):
        cut = o.at - timedelta(days=horizon_days)
        groups[cut.replace(hour=23, minute=59, second=59, microsecond=0)].append(i)
    parts = []
    for at, rows in groups.items():
        members = [outcomes[i].customer for i in rows]
        own = History.join(per_customer[c] for c in {m.id for m in members} if c in per_customer)
        frame = profile_features(members, at, own, spec)
        frame.index = pd.Index(rows)
        parts.append(frame)
    if not parts:
        raise ValueError("no outcomes to learn from")
    table = pd.concat(parts).sort_index()
    table.insert(0, "snapshot_at", [o.at for o in outcomes])
    table.insert(0, "customer_id", [o.customer.id for o in outcomes])
    table["churned"] = [o.churned for o in outcomes]
    return table.reset_index(drop=True)
