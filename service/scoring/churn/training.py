"""Training tables for the labelled churn classifier, built from the CRM's own history.

One row per (customer, snapshot date): features use only data up to the snapshot, the label
comes from the following `horizon_days` (docs/churn-resources.md section 5B). Labels:
- the CRM's own: the customer was cancelled (`cancelled_at`) within the window;
- a renewal closed as lost within the window;
- or, where the CRM has none, inactivity by rule: no won purchase within the window.
Features reuse the scoring formulas (experience factors, purchase summary, BG/NBD), so the
model learns from exactly the numbers the service shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

import numpy as np
import pandas as pd

from service.domain import (
    Case,
    Customer,
    Interaction,
    SurveyResponse,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from service.scoring.churn.bgnbd import BgNbdParams, expected_purchases, p_no_purchase
from service.scoring.churn.summary import purchase_summary
from service.scoring.columns import columns_from_records
from service.scoring.experience import experience_matrix
from service.scoring.weights import FACTORS, ExperienceWeights, default_weights


class LabelRule(StrEnum):
    """Where the churn label comes from."""

    CRM_CANCELLATION = "crm_cancellation"
    LOST_RENEWAL = "lost_renewal"
    NO_PURCHASE = "no_purchase"


def snapshot_table(
    customers: Sequence[Customer],
    snapshots: Sequence[datetime],
    *,
    horizon_days: int,
    label: LabelRule,
    surveys: Sequence[SurveyResponse] = (),
    interactions: Sequence[Interaction] = (),
    cases: Sequence[Case] = (),
    transactions: Sequence[Transaction] = (),
    bgnbd: BgNbdParams | None = None,
    weights: ExperienceWeights | None = None,
) -> pd.DataFrame:
    """Features and label per (customer, snapshot); columns `customer_id`, `snapshot_at`,
    `churned` plus the features. Customers already gone at a snapshot are left out of it."""
    w = weights or default_weights()
    ids = [c.id for c in customers]
    frames = []
    for at in sorted(snapshots):
        alive = [c for c in customers if c.cancelled_at is None or c.cancelled_at > at]
        if not alive:
            continue
        alive_ids = [c.id for c in alive]
        cols = columns_from_records(
            alive_ids,
            at,
            surveys=surveys,
            interactions=interactions,
            cases=cases,
            transactions=transactions,
            default_target_hours=w.default_case_target_hours,
        )
        exp = experience_matrix(cols, w)
        s = purchase_summary(cols.purchases, cols.n, cols.as_of_day)
        frame = pd.DataFrame(
            {
                "customer_id": alive_ids,
                "snapshot_at": at,
                "experience_score": exp.score,
                **{f"sub_{name}": exp.subscores[:, k] for k, name in enumerate(FACTORS)},
                "open_cases": exp.counts[:, FACTORS.index("open_cases")],
                "repeat_purchases": s.x,
                "weeks_since_purchase": np.where(s.buyer, s.age - s.t_x, np.nan),
                "weeks_as_buyer": np.where(s.buyer, s.age, np.nan),
                "mean_spend": np.where(s.buyer, s.monetary, np.nan),
                "contract": [c.contract.value for c in alive],
            }
        )
        if bgnbd is not None:
            t = horizon_days / bgnbd.unit_days
            frame["bgnbd_p_no_purchase"] = np.where(
                s.buyer, p_no_purchase(bgnbd, t, s.x, s.t_x, s.age), np.nan
            )
            frame["bgnbd_expected"] = np.where(
                s.buyer, expected_purchases(bgnbd, t, s.x, s.t_x, s.age), np.nan
            )
        end = at + timedelta(days=horizon_days)
        if label is LabelRule.CRM_CANCELLATION:
            frame["churned"] = [
                c.cancelled_at is not None and at < c.cancelled_at <= end for c in alive
            ]
        elif label is LabelRule.LOST_RENEWAL:
            lost = {
                t_.customer_id
                for t_ in transactions
                if t_.kind is TransactionKind.RENEWAL
                and t_.status is TransactionStatus.LOST
                and at < t_.occurred_at <= end
            }
            frame["churned"] = [cid in lost for cid in alive_ids]
        else:
            buyers = {
                t_.customer_id
                for t_ in transactions
                if t_.status is TransactionStatus.WON and at < t_.occurred_at <= end
            }
            frame["churned"] = [cid not in buyers for cid in alive_ids]
        frames.append(frame)
    if not frames:
        raise ValueError(f"no customer of {len(ids)} was active at any snapshot")
    return pd.concat(frames, ignore_index=True)
